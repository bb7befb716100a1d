//! Shared fixtures: a test root object, connected pairs of brokers (in
//! either dialect), a Cacheable and its cache, and a bounded wait on a
//! broker's tables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spread_banana::Dialect;
use spread_broker::{Broker, BrokerOptions, RemoteReference, Role, Stats};
use spread_flavors::{
    BoxFuture, Cacheable, Call, FromValue, Observer, Perspective, Referenceable, RemoteCache,
    RemoteError, allow_remote_cache, reference,
};
use spread_jelly::Value;
use spread_security::SecurityOptions;

/// A root with the methods the tests call.
#[derive(Default)]
pub(crate) struct TestRoot {
    pub(crate) calls: AtomicUsize,
    records: Mutex<Vec<Value>>,
    pub(crate) kept: Mutex<Vec<Value>>,
    /// Opened by the test: `waitGate` calls answer once it is.
    pub(crate) gate: tokio::sync::Notify,
}

impl Referenceable for TestRoot {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match call.method.as_str() {
                "echo" => Ok(call.arg(0)?.clone()),
                // Answers after `ms` milliseconds, so answers come out of order.
                "sleepy" => {
                    let ms = call.arg_as::<u64>(0)?;
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(Value::from(ms))
                }
                "record" => {
                    self.records.lock().unwrap().push(call.arg(0)?.clone());
                    Ok(Value::None)
                }
                "recorded" => Ok(Value::List(self.records.lock().unwrap().clone())),
                "keep" => {
                    let mut kept = self.kept.lock().unwrap();
                    kept.push(call.arg(0)?.clone());
                    Ok(Value::from(kept.len() as i64))
                }
                "dropKept" => {
                    self.kept.lock().unwrap().clear();
                    Ok(Value::None)
                }
                "firstKept" => Ok(self
                    .kept
                    .lock()
                    .unwrap()
                    .first()
                    .cloned()
                    .unwrap_or(Value::None)),
                "fail" => Err(RemoteError::value_error("boom")),
                "failWithTraceback" => {
                    let mut e = RemoteError::value_error("boom");
                    e.traceback =
                        Some("Traceback (most recent call last):\n  in failWithTraceback\n".into());
                    Err(e)
                }
                "hang" => std::future::pending().await,
                "waitGate" => {
                    self.gate.notified().await;
                    Ok(Value::from("through"))
                }
                "panic" => panic!("a bug in a remote method"),
                "panicLater" => {
                    tokio::task::yield_now().await;
                    panic!("a bug in a remote method, after it waited")
                }
                "callBack" => {
                    let target = RemoteReference::from_value(call.arg(0)?)?;
                    // A failed onward call is this call's error, as is.
                    Ok(target.call_remote("ping", vec![]).await?)
                }
                "child" => Ok(reference(Arc::new(TestRoot::default()))),
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// A local object the peer calls back.
pub(crate) struct Pinged;

impl Referenceable for Pinged {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "ping" => Ok(Value::from("pong")),
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

pub(crate) struct Pair {
    pub(crate) client: Broker,
    pub(crate) server: Broker,
    /// The server's root, to look at what it kept.
    pub(crate) root: Arc<TestRoot>,
    /// The dialect the two must agree on.
    pub(crate) dialect: Dialect,
}

impl Pair {
    /// The server's root object, once both sides are through the
    /// handshake, having checked that they speak the dialect expected.
    pub(crate) async fn root(&self) -> RemoteReference {
        let root = self.client.root_object().await.unwrap();
        self.server.root_object().await.unwrap();
        assert_eq!(
            self.client.dialect(),
            Some(self.dialect),
            "the client's dialect"
        );
        assert_eq!(
            self.server.dialect(),
            Some(self.dialect),
            "the server's dialect"
        );
        root
    }
}

/// A client and a server broker over an in-memory pipe, speaking
/// `dialect`; the server's root is a [`TestRoot`]. For [`Dialect::Msgpack`]
/// both keep their default dialects; for [`Dialect::Pb`] the client speaks
/// only what Twisted speaks, so the server, which still offers msgpack
/// first, falls back to pb as it does for a Twisted client.
pub(crate) fn pair_in(dialect: Dialect, client: BrokerOptions, server: BrokerOptions) -> Pair {
    let client = match dialect {
        Dialect::Msgpack => client,
        Dialect::Pb => client.with_dialects(&Dialect::KNOWN).unwrap(),
        Dialect::None => client.with_dialects(&[Dialect::None]).unwrap(),
    };
    let (a, b) = tokio::io::duplex(64 * 1024);
    let root = Arc::new(TestRoot::default());
    let (server, server_driver) = Broker::new(b, Role::Server, server.with_root(root.clone()));
    let (client, client_driver) = Broker::new(a, Role::Client, client);
    tokio::spawn(client_driver);
    tokio::spawn(server_driver);
    Pair {
        client,
        server,
        root,
        dialect,
    }
}

/// Makes a test run once in each dialect two spread brokers speak: a module
/// named after the test holds `msgpack` (both sides' default) and `pb` (a
/// client that speaks only Twisted's dialects). The body gets the dialect,
/// to pass to [`pair_in`].
macro_rules! per_dialect {
    ($(#[$meta:meta])* async fn $name:ident($dialect:ident: Dialect) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($dialect: spread_banana::Dialect) $body

            $(#[$meta])*
            async fn msgpack() {
                run(spread_banana::Dialect::Msgpack).await
            }

            $(#[$meta])*
            async fn pb() {
                run(spread_banana::Dialect::Pb).await
            }
        }
    };
}
pub(crate) use per_dialect;

/// Waits, at most 10 s, until `broker`'s tables satisfy `condition`. The
/// broker publishes every change, so this waits on events, not a clock;
/// the bound only turns a bug into a failure instead of a hang.
pub(crate) async fn tables(broker: &Broker, condition: impl FnMut(&Stats) -> bool) -> Stats {
    tokio::time::timeout(Duration::from_secs(10), broker.wait_for_stats(condition))
        .await
        .expect("the tables never reached the state waited for")
}

/// A Cacheable that records its observers' comings and goings.
#[derive(Default)]
pub(crate) struct Counter {
    pub(crate) observers: Mutex<Vec<Observer>>,
    pub(crate) stopped: AtomicUsize,
}

impl Cacheable for Counter {
    fn type_to_copy(&self) -> &str {
        "test.Counter"
    }
    fn state_to_cache_and_observe_for(
        &self,
        _perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, spread_jelly::Error> {
        self.observers.lock().unwrap().push(observer);
        Ok(Value::from(0))
    }
    fn stopped_observing(&self, _perspective: Option<&Perspective>, observer: &Observer) {
        self.stopped.fetch_add(1, Ordering::SeqCst);
        self.observers.lock().unwrap().retain(|o| o != observer);
    }
}

/// The holder's cache of a [`Counter`]: the last value the owner set.
pub(crate) struct Seen(pub(crate) AtomicUsize);

impl RemoteCache for Seen {
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            self.0.store(call.arg_as::<usize>(0)?, Ordering::SeqCst);
            Ok(Value::None)
        })
    }
}

/// Security options that hold `test.Counter`s as [`Seen`] caches.
pub(crate) fn counter_security() -> SecurityOptions {
    let mut security = SecurityOptions::new();
    allow_remote_cache(&mut security, "test.Counter", |state: Value| {
        Ok(Seen(AtomicUsize::new(state.as_i64().unwrap_or(0) as usize)))
    })
    .unwrap();
    security
}
