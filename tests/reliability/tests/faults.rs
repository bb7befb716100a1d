//! Faults: a client killed in the middle of its calls, a server killed
//! under its clients and started again, a server shut down gracefully.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use spread::{
    Backoff, Broker, BrokerOptions, CallError, Reconnecting, Value, connect, remote, serve_with,
};
use spread_interop::peer::Process;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::{runtime, spread_command, twisted, within};

/// A root whose calls can be held: `hang` never answers, `waitGate`
/// answers once the test opens the gate.
#[derive(Default)]
struct Holding {
    gate: Notify,
}

#[remote]
impl Holding {
    async fn echo(&self, x: Value) -> Value {
        x
    }

    async fn hang(&self) {
        std::future::pending::<()>().await;
    }

    async fn wait_gate(&self) -> String {
        self.gate.notified().await;
        "through".to_owned()
    }
}

/// Serves `root` on loopback; every connection's broker is kept for the
/// test to look at.
async fn serve_keeping(
    options: BrokerOptions,
    root: impl Fn() -> Arc<dyn spread::Referenceable> + Send + Sync + 'static,
) -> (spread::Server, u16, Arc<Mutex<Vec<Broker>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let brokers = Arc::new(Mutex::new(Vec::new()));
    let kept = brokers.clone();
    let server = serve_with(listener, options, move |broker| {
        kept.lock().unwrap().push(broker.clone());
        Some(root())
    });
    (server, port, brokers)
}

/// The one connection a server has had.
fn only(brokers: &Mutex<Vec<Broker>>) -> Broker {
    let brokers = brokers.lock().unwrap();
    assert_eq!(brokers.len(), 1, "{brokers:?}");
    brokers[0].clone()
}

/// A Twisted client logged in with a mind, holding a cache and a view, one
/// call of its in progress on the server and one of the server's waiting on
/// it, is killed: the server forgets it all, stops observing for it and
/// logs it out.
#[test]
fn a_twisted_client_killed_mid_call_leaves_nothing_behind() {
    let runtime = runtime();
    let log: spread_interop::cred::Log = Default::default();
    let portal = spread_interop::cred::portal(log.clone());
    let (server, port, brokers) = runtime.block_on(serve_keeping(BrokerOptions::default(), {
        move || portal.root()
    }));
    let mut client = Process::spawn({
        let mut c = twisted("fault_client.py");
        c.arg(port.to_string());
        c
    });
    client.wait_for("ready");
    let broker = only(&brokers);
    let held = within(
        &runtime,
        broker.wait_for_stats(|s| s.calls_serving == 1 && s.calls_in_flight == 1),
    );
    assert!(held.local_objects >= 2 && held.caches == 1, "{held:?}");
    assert!(held.remote_references >= 1, "the mind: {held:?}");

    client.kill();
    within(&runtime, broker.closed());
    assert_eq!(broker.stats(), Default::default());
    let log = log.lock().unwrap().clone();
    for line in ["login alice", "stopped observing alice", "logout alice"] {
        assert_eq!(
            log.iter().filter(|l| *l == line).count(),
            1,
            "{line:?} once in {log:?}"
        );
    }
    runtime.block_on(server.shutdown());
}

/// The `spread` command killed while its call hangs: the Rust server's
/// tables for it empty.
#[test]
fn a_rust_client_killed_mid_call_leaves_nothing_behind() {
    let runtime = runtime();
    let (server, port, brokers) = runtime.block_on(serve_keeping(BrokerOptions::default(), || {
        Arc::new(Holding::default())
    }));
    let mut client = Process::spawn({
        let mut c = spread_command();
        c.args(["call", &format!("127.0.0.1:{port}"), "hang"]);
        c
    });
    // The connection is made by the child: wait for it to arrive.
    let broker = within(&runtime, async {
        loop {
            if let Some(broker) = brokers.lock().unwrap().first().cloned() {
                break broker;
            }
            tokio::task::yield_now().await;
        }
    });
    within(&runtime, broker.wait_for_stats(|s| s.calls_serving == 1));
    client.kill();
    within(&runtime, broker.closed());
    assert_eq!(broker.stats(), Default::default());
    runtime.block_on(server.shutdown());
}

/// Twisted's server killed under three clients with calls waiting: every
/// call fails at once with a lost connection; a reconnecting client comes
/// back when the server is started again on the same port.
#[test]
fn a_killed_server_fails_every_pending_call_and_a_reconnecting_client_comes_back() {
    let runtime = runtime();
    let start = |port: u16| {
        let server = Process::spawn({
            let mut c = twisted("pb_server.py");
            c.arg(port.to_string());
            c
        });
        let port = server.port();
        (server, port)
    };
    let (mut server, port) = start(0);
    let (plain, pending, reconnecting) = within(&runtime, async {
        let mut plain = Vec::new();
        let mut pending = Vec::new();
        for _ in 0..2 {
            let broker = connect(("127.0.0.1", port), BrokerOptions::default())
                .await
                .unwrap();
            let root = broker.root_object().await.unwrap();
            for _ in 0..20 {
                let root = root.clone();
                pending.push(tokio::spawn(async move {
                    root.call_remote("hang", vec![]).await
                }));
            }
            // Answered after the hanging calls were read: they are all there.
            let echoed = root.call_remote("echo", vec![Value::from(1)]).await;
            assert_eq!(echoed.unwrap(), Value::from(1));
            plain.push(broker);
        }
        let reconnecting = Reconnecting::new(
            move || connect(("127.0.0.1", port), BrokerOptions::default()),
            Backoff::new(Duration::from_millis(20), Duration::from_millis(500)),
        );
        let broker = reconnecting.broker().await.unwrap();
        let root = broker.root_object().await.unwrap();
        pending.push(tokio::spawn(async move {
            root.call_remote("hang", vec![]).await
        }));
        (plain, pending, reconnecting)
    });

    server.kill();
    within(&runtime, async {
        for call in pending {
            let result = call.await.unwrap();
            assert!(
                matches!(result, Err(CallError::ConnectionLost)),
                "{result:?}"
            );
        }
        for broker in &plain {
            broker.closed().await;
            assert_eq!(broker.stats(), Default::default());
        }
    });

    let (_server, again) = start(port);
    assert_eq!(again, port);
    within(&runtime, async {
        let broker = reconnecting.broker().await.unwrap();
        let root = broker.root_object().await.unwrap();
        let echoed = root.call_remote("echo", vec![Value::from("back")]).await;
        assert_eq!(echoed.unwrap(), Value::from("back"));
        reconnecting.stop();
        broker.closed().await;
    });
}

/// A server asked to stop refuses new connections and new calls, answers
/// the calls in progress, and closes once they are answered; a call that
/// never finishes holds it only for the close timeout.
#[test]
fn a_graceful_shutdown_finishes_the_calls_in_progress() {
    let runtime = runtime();
    let root = Arc::new(Holding::default());
    let options = BrokerOptions::default().with_close_timeout(Duration::from_secs(2));
    let (server, port, _) = runtime.block_on(serve_keeping(options, {
        let root = root.clone();
        move || root.clone()
    }));
    let (a, waiting, hanging, shutting_down) = within(&runtime, async {
        let a = connect(("127.0.0.1", port), BrokerOptions::default())
            .await
            .unwrap();
        let b = connect(("127.0.0.1", port), BrokerOptions::default())
            .await
            .unwrap();
        let (root_a, root_b) = (
            a.root_object().await.unwrap(),
            b.root_object().await.unwrap(),
        );
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let root = root_a.clone();
                tokio::spawn(async move { root.call_remote("waitGate", vec![]).await })
            })
            .collect();
        let hanging = tokio::spawn(async move { root_b.call_remote("hang", vec![]).await });
        // Both connections answer in order: once these come back, the calls
        // above are in progress.
        for broker in [&a, &b] {
            let root = broker.root_object().await.unwrap();
            root.call_remote("echo", vec![Value::None]).await.unwrap();
        }
        let shutting_down = tokio::spawn(server.shutdown());
        // New calls are refused once the connection is closing, and by then
        // the listener is gone.
        loop {
            match root_a.call_remote("echo", vec![Value::from(2)]).await {
                Ok(_) => tokio::task::yield_now().await,
                Err(CallError::Remote(e)) => {
                    assert!(e.is("twisted.spread.pb.PBConnectionLost"), "{e:?}");
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let refused = connect(("127.0.0.1", port), BrokerOptions::default()).await;
        assert!(refused.is_err(), "a new connection was accepted");
        (a, waiting, hanging, shutting_down)
    });
    root.gate.notify_waiters();
    within(&runtime, async {
        for call in waiting {
            assert_eq!(call.await.unwrap().unwrap(), Value::from("through"));
        }
        // The hanging call holds its connection for the close timeout.
        let hung = hanging.await.unwrap();
        assert!(matches!(hung, Err(CallError::ConnectionLost)), "{hung:?}");
        shutting_down.await.unwrap();
        a.closed().await;
    });
}
