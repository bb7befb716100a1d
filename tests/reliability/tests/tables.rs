//! After 100 000 calls that pass references and caches both ways, both
//! brokers' tables are empty again, while the connection is still open.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use spread::{
    BoxFuture, BrokerOptions, Cacheable, Call, LocalReferenceable, Observer, Perspective,
    Referenceable, RemoteCache, RemoteCacheRef, RemoteError, RemoteReference, SecurityOptions,
    Stats, Value, allow_remote_cache, cache, connect, reference, remote, serve_with,
};
use tokio::net::TcpListener;

use crate::{runtime, within};

const CALLS: u64 = 100_000;
const IN_FLIGHT: usize = 64;

/// The server's root: `swap(theirs)` answers the caller's own reference
/// back, a new child of its own, and the shared board as a cache; every
/// tenth time it first calls the caller's reference, and posts to the
/// board so every cache of it is told.
struct Swapper {
    board: Arc<Board>,
}

#[remote]
impl Swapper {
    async fn swap(&self, n: i64, theirs: RemoteReference) -> Result<Value, RemoteError> {
        if n % 10 == 0 {
            let pong = theirs.call_remote("ping", vec![Value::from(n)]).await?;
            if pong != Value::from(n) {
                return Err(RemoteError::value_error(format!("ping {n} gave {pong:?}")));
            }
            self.board.post(n);
        }
        Ok(Value::List(vec![
            Value::from(theirs),
            reference(Arc::new(Child)),
            cache(self.board.clone()),
        ]))
    }
}

/// A child the server makes for one call.
struct Child;

#[remote]
impl Child {
    async fn ping(&self, x: Value) -> Value {
        x
    }
}

/// The server's Cacheable: the last number posted.
#[derive(Default)]
struct Board {
    observers: Mutex<Vec<Observer>>,
    last: AtomicU64,
}

impl Board {
    fn post(&self, n: i64) {
        self.last.store(n as u64, Ordering::SeqCst);
        for observer in self.observers.lock().unwrap().iter() {
            drop(observer.call_remote("post", vec![Value::from(n)]));
        }
    }
}

impl Cacheable for Board {
    fn type_to_copy(&self) -> &str {
        "reliability.Board"
    }

    fn state_to_cache_and_observe_for(
        &self,
        _perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, spread::jelly::Error> {
        self.observers.lock().unwrap().push(observer);
        Ok(Value::from(self.last.load(Ordering::SeqCst) as i64))
    }

    fn stopped_observing(&self, _perspective: Option<&Perspective>, observer: &Observer) {
        self.observers.lock().unwrap().retain(|o| o != observer);
    }
}

/// The client's cache of the board.
struct Seen(AtomicU64);

impl RemoteCache for Seen {
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            self.0.store(call.arg_as::<u64>(0)?, Ordering::SeqCst);
            Ok(Value::None)
        })
    }
}

/// What the client passes: it answers the server's pings.
struct Pinger;

impl Referenceable for Pinger {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Ok(call.arg(0)?.clone()) })
    }
}

#[test]
fn tables_are_empty_after_100k_calls_passing_references_and_caches() {
    let runtime = runtime();
    let board = Arc::new(Board::default());
    let (server, port, brokers) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let brokers = Arc::new(Mutex::new(Vec::new()));
        let kept = brokers.clone();
        let board = board.clone();
        let server = serve_with(listener, BrokerOptions::default(), move |broker| {
            kept.lock().unwrap().push(broker.clone());
            Some(Arc::new(Swapper {
                board: board.clone(),
            }))
        });
        (server, port, brokers)
    });
    let mut security = SecurityOptions::new();
    allow_remote_cache(&mut security, "reliability.Board", |state: Value| {
        Ok(Seen(AtomicU64::new(state.as_i64().unwrap_or(0) as u64)))
    })
    .unwrap();
    let client = runtime.block_on(async {
        let client = connect(
            ("127.0.0.1", port),
            BrokerOptions::default().with_security(security),
        )
        .await
        .unwrap();
        let root = client.root_object().await.unwrap();
        let next = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let (root, next) = (root.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= CALLS {
                            break;
                        }
                        let ours: Arc<Pinger> = Arc::new(Pinger);
                        let args = vec![Value::from(n as i64), reference(ours.clone())];
                        let answer = root.call_remote("swap", args).await.unwrap();
                        let Value::List(items) = answer else {
                            panic!("{answer:?}")
                        };
                        // Our own object, back as itself.
                        let back = items[0].downcast_ref::<LocalReferenceable>().unwrap();
                        let ours: Arc<dyn Referenceable> = ours;
                        assert!(Arc::ptr_eq(back.object(), &ours));
                        let child = items[1].downcast_ref::<RemoteReference>().unwrap();
                        if n % 100 == 0 {
                            let pong = child.call_remote("ping", vec![Value::from(1)]).await;
                            assert_eq!(pong.unwrap(), Value::from(1));
                        }
                        assert!(items[2].downcast_ref::<RemoteCacheRef>().is_some());
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.unwrap();
        }
        client
    });
    let server_broker = brokers.lock().unwrap()[0].clone();
    let empty = |s: &Stats| *s == Stats::default();
    assert_eq!(
        within(&runtime, client.wait_for_stats(empty)),
        Stats::default()
    );
    assert_eq!(
        within(&runtime, server_broker.wait_for_stats(empty)),
        Stats::default()
    );
    assert!(!client.is_closed() && !server_broker.is_closed());
    assert!(board.observers.lock().unwrap().is_empty());
    client.close();
    runtime.block_on(server.shutdown());
}
