//! `soak_server [PORT]`: the server of `cargo xtask soak`. It hands out
//! references and caches for its client to drop, keeps the client's own
//! references a little while, keeps a few long-lived Cacheables changing,
//! and reports its tables so the client can check that they empty.
//!
//! Root methods (per connection): `fresh()` a new Referenceable (its
//! `ping()` answers its number); `hold(ref, millis)` pings the client's
//! object, keeps it `millis` ms, then drops it; `freshCache()` a new
//! Cacheable; `sharedCache(i)` one of four Cacheables a ticker changes every
//! 10 ms; `stats()` this connection's tables and the process's counts;
//! `settle(seconds)` waits, at most that long, for this connection's tables
//! to empty, then answers as `stats()`; `shutdown()`.
//!
//! `cargo run --release -p spread-examples --example soak_server -- 0`

mod common;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use spread::{
    Broker, BrokerOptions, Cacheable, Dict, Observer, Perspective, RemoteReference, Stats, Value,
    cache, reference, remote, serve_with,
};

use crate::common::Shutdown;

/// The wire class of the Cacheables (the client registers its cache for it).
const COUNTER_CLASS: &str = "soak.Counter";
/// How many long-lived Cacheables there are.
const SHARED: usize = 4;

/// Objects alive in this process, by kind: they must all come back to zero
/// once the client has dropped everything, or something leaked.
static LIVE_THINGS: AtomicI64 = AtomicI64::new(0);
static LIVE_FRESH_CACHES: AtomicI64 = AtomicI64::new(0);
static HELD_CLIENT_REFERENCES: AtomicI64 = AtomicI64::new(0);
static NEXT_THING: AtomicU64 = AtomicU64::new(0);

/// A Referenceable handed out fresh by `fresh()`.
struct Thing {
    id: u64,
}

impl Thing {
    fn new() -> Thing {
        LIVE_THINGS.fetch_add(1, Ordering::Relaxed);
        Thing {
            id: NEXT_THING.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Drop for Thing {
    fn drop(&mut self) {
        LIVE_THINGS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[remote]
impl Thing {
    async fn ping(&self) -> u64 {
        self.id
    }
}

/// A Cacheable whose value its observers follow.
struct Counter {
    value: Mutex<i64>,
    observers: Mutex<Vec<Observer>>,
    /// Handed out by `freshCache()` (and counted), or long-lived.
    fresh: bool,
}

impl Counter {
    fn new(fresh: bool) -> Counter {
        if fresh {
            LIVE_FRESH_CACHES.fetch_add(1, Ordering::Relaxed);
        }
        Counter {
            value: Mutex::new(0),
            observers: Mutex::new(Vec::new()),
            fresh,
        }
    }

    /// One more, told to every observer (without waiting for answers).
    fn bump(&self) {
        let mut value = self.value.lock().unwrap();
        *value += 1;
        for observer in self.observers.lock().unwrap().iter() {
            observer.notify("set", vec![Value::from(*value)]);
        }
    }

    fn observers(&self) -> usize {
        self.observers.lock().unwrap().len()
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if self.fresh {
            LIVE_FRESH_CACHES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Cacheable for Counter {
    fn type_to_copy(&self) -> &str {
        COUNTER_CLASS
    }

    fn state_to_cache_and_observe_for(
        &self,
        _perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, spread::jelly::Error> {
        // The value is read under the observers' lock, as `bump` changes
        // it, so no update falls between the state and the first `set`.
        let value = self.value.lock().unwrap();
        self.observers.lock().unwrap().push(observer);
        Ok(Value::from(*value))
    }

    fn stopped_observing(&self, _perspective: Option<&Perspective>, observer: &Observer) {
        self.observers.lock().unwrap().retain(|o| o != observer);
    }
}

/// One connection's root.
struct Root {
    broker: Broker,
    shared: Arc<[Arc<Counter>; SHARED]>,
    shutdown: Shutdown,
}

impl Root {
    fn report(&self, stats: Stats) -> Value {
        let observers: usize = self.shared.iter().map(|c| c.observers()).sum();
        let entries = [
            ("local_objects", stats.local_objects as i64),
            ("caches", stats.caches as i64),
            ("remote_references", stats.remote_references as i64),
            ("remote_caches", stats.remote_caches as i64),
            ("calls_in_flight", stats.calls_in_flight as i64),
            ("live_things", LIVE_THINGS.load(Ordering::Relaxed)),
            (
                "live_fresh_caches",
                LIVE_FRESH_CACHES.load(Ordering::Relaxed),
            ),
            ("held", HELD_CLIENT_REFERENCES.load(Ordering::Relaxed)),
            ("shared_observers", observers as i64),
        ];
        Value::Dict(Dict::from_iter(
            entries.map(|(k, v)| (Value::from(k), Value::from(v))),
        ))
    }
}

#[remote]
impl Root {
    async fn fresh(&self) -> Value {
        reference(Arc::new(Thing::new()))
    }

    async fn hold(&self, object: RemoteReference, millis: u64) {
        HELD_CLIENT_REFERENCES.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            // Answered or not (the connection may be closing), the
            // reference is kept its time, then dropped: the client hears
            // decref.
            let _ = object.call_remote("ping", vec![]).await;
            tokio::time::sleep(Duration::from_millis(millis.min(10_000))).await;
            drop(object);
            HELD_CLIENT_REFERENCES.fetch_sub(1, Ordering::Relaxed);
        });
    }

    async fn fresh_cache(&self) -> Value {
        cache(Arc::new(Counter::new(true)))
    }

    async fn shared_cache(&self, i: u64) -> Value {
        cache(self.shared[i as usize % SHARED].clone())
    }

    async fn stats(&self) -> Value {
        self.report(self.broker.stats())
    }

    async fn settle(&self, seconds: f64) -> Value {
        // This call itself is in progress (`calls_serving`); every table
        // the client's objects and ours sit in must empty.
        let empty = |s: &Stats| {
            s.local_objects == 0
                && s.caches == 0
                && s.remote_references == 0
                && s.remote_caches == 0
                && s.calls_in_flight == 0
        };
        let limit = Duration::from_secs_f64(seconds.clamp(0.0, 60.0));
        let stats = tokio::time::timeout(limit, self.broker.wait_for_stats(empty))
            .await
            .unwrap_or_else(|_| self.broker.stats());
        self.report(stats)
    }

    async fn shutdown(&self) {
        self.shutdown.request();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, _) = common::port_and_flag("")?;
    let shared: Arc<[Arc<Counter>; SHARED]> =
        Arc::new(std::array::from_fn(|_| Arc::new(Counter::new(false))));
    // The long-lived Cacheables change all the time, so that observers are
    // always being told something while caches come and go.
    let ticking = shared.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        loop {
            tick.tick().await;
            for counter in ticking.iter() {
                counter.bump();
            }
        }
    });
    let shutdown = Shutdown::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let stop = shutdown.clone();
    let server = serve_with(listener, BrokerOptions::default(), move |broker| {
        Some(Arc::new(Root {
            broker: broker.clone(),
            shared: shared.clone(),
            shutdown: stop.clone(),
        }))
    });
    shutdown.wait().await;
    server.shutdown().await;
    Ok(())
}
