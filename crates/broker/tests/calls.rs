use std::sync::Arc;
use std::time::Duration;

use spread_broker::{Broker, BrokerOptions, CallError, ConnectionError, RemoteReference, Role};
use spread_flavors::{FromValue, LocalReferenceable, Referenceable, reference};
use spread_jelly::{BigInt, Dict, Instance, Shared, Value};
use spread_security::SecurityOptions;

use crate::support::{Pinged, pair_in, per_dialect, tables};

fn assert_handles_are_shareable<T: Send + Sync + Clone + 'static>() {}

#[test]
fn handles_are_send_sync_clone() {
    assert_handles_are_shareable::<Broker>();
    assert_handles_are_shareable::<RemoteReference>();
}

per_dialect! {
    /// On a paused clock the sleeps are virtual: the answers' order is fixed.
    #[tokio::test(start_paused = true)]
    async fn pipelined_calls_are_answered_by_request_id(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        // Later calls sleep less, so answers arrive in reverse order.
        let calls: Vec<_> = (0..40u64)
            .map(|i| {
                let root = root.clone();
                tokio::spawn(async move {
                    (
                        i,
                        root.call_remote("sleepy", vec![Value::from(80 - 2 * i)])
                            .await,
                    )
                })
            })
            .collect();
        for call in calls {
            let (i, answer) = call.await.unwrap();
            assert_eq!(answer.unwrap(), Value::from(80 - 2 * i));
        }
    }
}

per_dialect! {
    #[tokio::test]
    async fn remote_errors_arrive_typed(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        match root.call_remote("fail", vec![]).await {
            Err(CallError::Remote(e)) => {
                assert_eq!(
                    (e.remote_type.as_str(), e.value.as_str()),
                    ("builtins.ValueError", "boom")
                );
                assert!(e.is("builtins.Exception"));
            }
            other => panic!("{other:?}"),
        }
        match root.call_remote("nope", vec![]).await {
            Err(CallError::Remote(e)) => {
                assert_eq!(e.remote_type, "twisted.spread.flavors.NoSuchMethod")
            }
            other => panic!("{other:?}"),
        }
    }
}

per_dialect! {
    #[tokio::test]
    async fn references_travel_both_ways_and_are_released(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        let pinged: Arc<dyn Referenceable> = Arc::new(Pinged);
        let mine = reference(pinged.clone());

        // The server calls our object back.
        assert_eq!(
            root.call_remote("callBack", vec![mine.clone()])
                .await
                .unwrap(),
            Value::from("pong")
        );
        // Sent back to us, it is our own object.
        let back = root.call_remote("echo", vec![mine.clone()]).await.unwrap();
        assert!(Arc::ptr_eq(
            back.downcast_ref::<LocalReferenceable>().unwrap().object(),
            &pinged
        ));

        // A child on the server: one reference here, one object there.
        let child = root.call_remote("child", vec![]).await.unwrap();
        tables(&p.client, |s| s.remote_references == 1).await;
        assert_eq!(p.server.stats().local_objects, 1);
        let child_ref = RemoteReference::from_value(&child).unwrap();
        assert_eq!(
            child_ref
                .call_remote("echo", vec![Value::from(1)])
                .await
                .unwrap(),
            Value::from(1)
        );
        drop((child, child_ref));
        tables(&p.client, |s| {
            s.remote_references == 0 && s.local_objects == 0
        })
        .await;
        tables(&p.server, |s| {
            s.local_objects == 0 && s.remote_references == 0
        })
        .await;
    }
}

per_dialect! {
    #[tokio::test]
    async fn a_reference_cannot_be_forwarded_to_another_connection(dialect: Dialect) {
        let first = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let second = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let child = first
            .client
            .root_object()
            .await
            .unwrap()
            .call_remote("child", vec![])
            .await
            .unwrap();
        let other_root = second.client.root_object().await.unwrap();
        match other_root.call_remote("echo", vec![child]).await {
            Err(CallError::Jelly(e)) => {
                assert!(e.to_string().contains("connection it came from"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        // Nothing was sent; the connection still works.
        assert_eq!(
            other_root
                .call_remote("echo", vec![Value::from(2)])
                .await
                .unwrap(),
            Value::from(2)
        );
    }
}

per_dialect! {
    #[tokio::test]
    async fn too_many_calls_in_flight_fail_at_once(dialect: Dialect) {
        let p = pair_in(dialect,
            BrokerOptions::default().with_max_calls_in_flight(2),
            BrokerOptions::default(),
        );
        let root = p.root().await;
        for _ in 0..2 {
            tokio::spawn({
                let root = root.clone();
                async move { root.call_remote("hang", vec![]).await }
            });
        }
        tables(&p.client, |s| s.calls_in_flight == 2).await;
        assert!(matches!(
            root.call_remote("echo", vec![]).await,
            Err(CallError::TooManyCalls { limit: 2 })
        ));
    }
}

per_dialect! {
    #[tokio::test]
    async fn a_lost_connection_fails_every_pending_call_and_runs_callbacks(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        p.client.notify_on_disconnect(move || {
            let _ = tx.send(());
        });
        let pending: Vec<_> = (0..5)
            .map(|_| {
                let root = root.clone();
                tokio::spawn(async move { root.call_remote("hang", vec![]).await })
            })
            .collect();
        tables(&p.server, |s| s.calls_serving == 5).await;
        p.server.abort();
        // The calls it was serving are dropped with the connection: its tables
        // are empty once it is closed.
        p.server.closed().await;
        assert_eq!(p.server.stats(), Default::default());
        for call in pending {
            let result = tokio::time::timeout(Duration::from_secs(5), call)
                .await
                .expect("a call hung")
                .unwrap();
            assert!(
                matches!(result, Err(CallError::ConnectionLost)),
                "{result:?}"
            );
        }
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(
            root.call_remote("echo", vec![]).await,
            Err(CallError::DeadReference)
        ));
    }
}

per_dialect! {
    /// Tracebacks travel only where the serving side opts in, as with Twisted's
    /// `unsafeTracebacks`.
    #[tokio::test]
    async fn tracebacks_are_sent_only_when_the_server_opts_in(dialect: Dialect) {
        for unsafe_tracebacks in [false, true] {
            let p = pair_in(dialect,
                BrokerOptions::default(),
                BrokerOptions::default().with_unsafe_tracebacks(unsafe_tracebacks),
            );
            let root = p.root().await;
            match root.call_remote("failWithTraceback", vec![]).await {
                Err(CallError::Remote(e)) => {
                    assert_eq!(e.traceback.is_some(), unsafe_tracebacks, "{e:?}");
                    if let Some(tb) = e.traceback {
                        assert!(tb.contains("in failWithTraceback"));
                    }
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

per_dialect! {
    /// Twisted's MAX_BROKER_REFS: past the limit, new local objects are refused
    /// with an error reply, and the table stays bounded.
    #[tokio::test]
    async fn the_local_object_table_is_bounded(dialect: Dialect) {
        let p = pair_in(dialect,
            BrokerOptions::default(),
            BrokerOptions::default().with_max_local_objects(3),
        );
        let root = p.root().await;
        let mut children = Vec::new();
        for _ in 0..3 {
            children.push(root.call_remote("child", vec![]).await.unwrap());
        }
        match root.call_remote("child", vec![]).await {
            Err(CallError::Remote(e)) => assert!(
                e.value.contains("Maximum PB reference count exceeded"),
                "{e:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(p.server.stats().local_objects, 3);
        // Released references make room again.
        children.clear();
        tables(&p.server, |s| s.local_objects == 0).await;
        assert!(root.call_remote("child", vec![]).await.is_ok());
    }
}

per_dialect! {
    /// The references to the peer's objects this side holds are bounded too:
    /// a call that would pass the bound is refused, and nothing of it stays.
    #[tokio::test]
    async fn the_remote_reference_table_is_bounded(dialect: Dialect) {
        let p = pair_in(dialect,
            BrokerOptions::default(),
            BrokerOptions::default().with_max_remote_references(3),
        );
        let root = p.root().await;
        let refs = |n: usize| -> Vec<Value> {
            let list = (0..n)
                .map(|_| reference(Arc::new(crate::support::TestRoot::default())))
                .collect();
            vec![Value::List(list)]
        };
        match root.call_remote("echo", refs(4)).await {
            Err(CallError::Remote(e)) => assert!(
                e.value.contains("Maximum PB reference count exceeded"),
                "{e:?}"
            ),
            other => panic!("{other:?}"),
        }
        tables(&p.server, |s| s.remote_references == 0).await;
        tables(&p.client, |s| s.local_objects == 0).await;
        // Within the bound, the same call goes through.
        let Value::List(back) = root.call_remote("echo", refs(3)).await.unwrap() else {
            panic!("not a list");
        };
        assert_eq!(back.len(), 3);
    }
}

per_dialect! {
    /// Calls start in the order they arrive, as in Twisted: fire-and-forget
    /// calls followed by a question see every one of them, in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_start_in_arrival_order(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        for i in 0..50 {
            root.call_remote_no_answer("record", vec![Value::from(i)])
                .unwrap();
        }
        let recorded = root.call_remote("recorded", vec![]).await.unwrap();
        assert_eq!(recorded, Value::List((0..50).map(Value::from).collect()));
    }
}

per_dialect! {
    /// A remote method that panics is one call's error, not the connection's
    /// end, whether it panics at once or after it waited.
    #[tokio::test]
    async fn a_panicking_method_fails_its_call_and_the_connection_stays(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        for method in ["panic", "panicLater"] {
            match root.call_remote(method, vec![]).await {
                Err(CallError::Remote(e)) => assert_eq!(e.remote_type, "builtins.Exception"),
                other => panic!("{method}: {other:?}"),
            }
        }
        assert_eq!(
            root.call_remote("echo", vec![Value::from(1)])
                .await
                .unwrap(),
            Value::from(1)
        );
        assert_eq!(p.server.stats().calls_serving, 0);
    }
}

/// A driver dropped before it ever ran still marks its connection closed:
/// nothing waits for it.
#[tokio::test]
async fn a_driver_dropped_unpolled_closes_its_connection() {
    let (a, _b) = tokio::io::duplex(1024);
    let (broker, driver) = Broker::new(a, Role::Client, BrokerOptions::default());
    drop(driver);
    assert!(broker.is_closed());
    assert!(broker.closed().await.is_none());
    assert!(matches!(
        broker.root_object().await,
        Err(CallError::Handshake(_))
    ));
}

/// A stream that buffers writes (as TLS does) is flushed: without that,
/// the dialect choice would wait in the buffer for ever.
#[tokio::test]
async fn a_buffered_stream_is_flushed() {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (client, c) = Broker::new(
        tokio::io::BufStream::new(a),
        Role::Client,
        BrokerOptions::default(),
    );
    let root = Arc::new(crate::support::TestRoot::default());
    let (_server, s) = Broker::new(
        tokio::io::BufStream::new(b),
        Role::Server,
        BrokerOptions::default().with_root(root),
    );
    tokio::spawn(c);
    tokio::spawn(s);
    let root = client.root_object().await.unwrap();
    assert_eq!(
        root.call_remote("echo", vec![Value::from(3)])
            .await
            .unwrap(),
        Value::from(3)
    );
}

/// A peer that goes away during the handshake: the reason is kept.
#[tokio::test]
async fn a_peer_gone_during_the_handshake_is_a_handshake_error() {
    let (a, b) = tokio::io::duplex(1024);
    let (client, c) = Broker::new(a, Role::Client, BrokerOptions::default());
    let task = tokio::spawn(c);
    drop(b);
    assert!(matches!(
        client.root_object().await,
        Err(CallError::Handshake(ConnectionError::ClosedDuringHandshake))
    ));
    assert!(matches!(
        task.await.unwrap(),
        Err(ConnectionError::ClosedDuringHandshake)
    ));
}

per_dialect! {
    /// After `close`, new calls fail at once while what was queued is written;
    /// `abort` ends a connection whose peer does not read.
    #[tokio::test]
    async fn close_refuses_new_calls_and_abort_ends_at_once(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        let hanging = tokio::spawn({
            let root = root.clone();
            async move { root.call_remote("hang", vec![]).await }
        });
        tables(&p.server, |s| s.calls_serving == 1).await;
        p.client.close();
        assert!(matches!(
            root.call_remote("echo", vec![]).await,
            Err(CallError::ConnectionLost | CallError::DeadReference)
        ));
        assert!(matches!(
            hanging.await.unwrap(),
            Err(CallError::ConnectionLost)
        ));
        p.client.closed().await;

        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        p.root().await;
        p.server.abort();
        assert!(p.server.closed().await.is_none());
        p.client.closed().await;
    }
}

per_dialect! {
    /// A graceful close answers the peer's calls in progress, refuses the ones
    /// that arrive after it began (with Twisted's `PBConnectionLost`), and
    /// closes once the answers are written.
    #[tokio::test]
    async fn a_graceful_close_answers_the_calls_in_progress(dialect: Dialect) {
        let p = pair_in(dialect, BrokerOptions::default(), BrokerOptions::default());
        let root = p.root().await;
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let root = root.clone();
                tokio::spawn(async move { root.call_remote("waitGate", vec![]).await })
            })
            .collect();
        tables(&p.server, |s| s.calls_serving == 3).await;
        p.server.close();
        // The gate is shut, so the connection is still open: this call arrives
        // while the server closes.
        match root.call_remote("echo", vec![Value::from(1)]).await {
            Err(CallError::Remote(e)) => assert!(e.is("twisted.spread.pb.PBConnectionLost"), "{e:?}"),
            other => panic!("{other:?}"),
        }
        p.root.gate.notify_waiters();
        for call in waiting {
            let answer = call.await.unwrap().unwrap();
            assert_eq!(answer, Value::from("through"));
        }
        assert!(p.server.closed().await.is_none());
        p.client.closed().await;
    }
}

per_dialect! {
    /// A call that never finishes holds a graceful close only as long as the
    /// close timeout; then the connection closes at once, with the reason.
    #[tokio::test(start_paused = true)]
    async fn a_graceful_close_gives_up_after_its_timeout(dialect: Dialect) {
        let p = pair_in(dialect,
            BrokerOptions::default(),
            BrokerOptions::default().with_close_timeout(Duration::from_secs(3)),
        );
        let root = p.root().await;
        let hanging = tokio::spawn(async move { root.call_remote("hang", vec![]).await });
        tables(&p.server, |s| s.calls_serving == 1).await;
        p.server.close();
        assert!(matches!(
            p.server.closed().await,
            Some(ConnectionError::CloseTimeout(d)) if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            hanging.await.unwrap(),
            Err(CallError::ConnectionLost)
        ));
    }
}

per_dialect! {
    /// Every kind of value Jelly carries comes back as it went, whatever
    /// the encoding under it: sharing and cycles, instances, integers past
    /// 64 bits, floats bit for bit, bytes and text.
    #[tokio::test]
    async fn values_of_every_kind_come_back_unchanged(dialect: Dialect) {
        let security = || {
            let mut security = SecurityOptions::new();
            security.allow_instances("test.Thing").unwrap();
            security
        };
        let p = pair_in(
            dialect,
            BrokerOptions::default().with_security(security()),
            BrokerOptions::default().with_security(security()),
        );
        let root = p.root().await;
        let shared = Value::List(vec![Value::from("x")]).shared();
        let cycle = Value::Shared(Shared::cyclic(|me| {
            Value::List(vec![Value::from(1), Value::Shared(me)])
        }));
        let mut dict = Dict::new();
        dict.insert(Value::from("key"), Value::from(2));
        dict.insert(Value::from(3), Value::Tuple(vec![Value::None]));
        let big: BigInt = BigInt::from(1) << 300;
        let value = Value::List(vec![
            Value::None,
            Value::from(true),
            Value::from(i64::MIN),
            Value::from(u64::MAX),
            Value::from(big.clone()),
            Value::from(-big),
            Value::from(1.5),
            Value::from(-0.0),
            Value::from(f64::INFINITY),
            Value::from("text, and not only ascii: \u{e9}\u{1f34c}"),
            Value::from(vec![0u8, 0xff, 0x80]),
            Value::from(vec![b'x'; 70_000]),
            Value::from(dict),
            Value::Set(vec![Value::from(1)]),
            Value::from(Instance::new("test.Thing", Value::from("state"))),
            shared.clone(),
            shared,
            cycle,
            Value::from("list"),
            Value::from("message"),
        ]);
        let back = root.call_remote("echo", vec![value.clone()]).await.unwrap();
        assert_eq!(back, value);
        let Value::List(items) = &back else { panic!("{back:?}") };
        let (Value::Shared(a), Value::Shared(b)) = (&items[15], &items[16]) else {
            panic!("{back:?}")
        };
        assert!(a.ptr_eq(b), "the sharing survived");
        let Value::Float(negative_zero) = items[7] else { panic!() };
        assert!(negative_zero.is_sign_negative());
    }
}
