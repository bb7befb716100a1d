//! `bench_server [PORT]`: the Rust server of `cargo xtask bench`'s
//! end-to-end scenarios, using the `spread` facade only. Its root speaks
//! the same protocol as `tests/interop/python/bench_peer.py server`, so
//! either client can drive either server:
//!
//! - `echo(x)` → `x`
//! - `takePond(pond)` → `pond.numFrogs`, where `pond` is a Copyable sent as
//!   `bench_peer.BenchPond` (`color`, `numFrogs`, `depth`)
//! - `subscribe()` → the server's one `bench_peer.Counter` Cacheable (state:
//!   its count); every connection that subscribes gets a cache of it
//! - `pump(n)` → `n`, after the counter changed `n` times: each change is
//!   sent as `observe_tick(count)` to every cache, before the answer
//! - `shutdown()` → stops the server
//!
//! Port 0 picks a free port; `listening on 127.0.0.1:PORT` is printed first.
//!
//! `--dialect pb|msgpack` chooses what the server offers. `pb`, the
//! default, offers Twisted's two dialects only, so every client speaks
//! Banana and the numbers compare with earlier runs. `msgpack` offers
//! spread's own dialect first (then `pb` and `none`, so a Twisted client
//! still connects, in `pb`): what a spread server offers by default.
//!
//! `cargo run --release -p spread-examples --example bench_server -- 0 --dialect msgpack`

mod common;

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use spread::banana::Dialect;
use spread::{
    BrokerOptions, Cacheable, Observer, Perspective, RemoteCopy, SecurityOptions, Value,
    allow_remote_copy, cache, remote,
};

use crate::common::Shutdown;

/// The Copyable argument of `takePond`, as it arrives.
#[derive(Debug, Clone, RemoteCopy)]
struct BenchPond {
    #[allow(
        dead_code,
        reason = "part of the state sent, which is what is measured"
    )]
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
    #[allow(
        dead_code,
        reason = "part of the state sent, which is what is measured"
    )]
    depth: f64,
}

/// The Cacheable every subscriber observes.
#[derive(Default)]
struct Counter {
    state: Mutex<CounterState>,
}

#[derive(Default)]
struct CounterState {
    count: i64,
    observers: Vec<Observer>,
}

impl Counter {
    fn tick(&self, times: i64) {
        let mut state = self.state.lock().unwrap();
        for _ in 0..times {
            state.count += 1;
            let count = Value::from(state.count);
            for observer in &state.observers {
                observer.notify("tick", vec![count.clone()]);
            }
        }
    }
}

impl Cacheable for Counter {
    fn type_to_copy(&self) -> &str {
        "bench_peer.Counter"
    }

    fn state_to_cache_and_observe_for(
        &self,
        _perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, spread::jelly::Error> {
        let mut state = self.state.lock().unwrap();
        state.observers.push(observer);
        Ok(Value::from(state.count))
    }

    fn stopped_observing(&self, _perspective: Option<&Perspective>, observer: &Observer) {
        self.state
            .lock()
            .unwrap()
            .observers
            .retain(|o| o != observer);
    }
}

struct Bench {
    counter: Arc<Counter>,
    shutdown: Shutdown,
}

#[remote]
impl Bench {
    async fn echo(&self, x: Value) -> Value {
        x
    }

    async fn take_pond(&self, pond: BenchPond) -> i64 {
        pond.num_frogs
    }

    async fn subscribe(&self) -> Value {
        cache(self.counter.clone())
    }

    async fn pump(&self, n: i64) -> i64 {
        self.counter.tick(n);
        n
    }

    async fn shutdown(&self) {
        self.shutdown.request();
    }
}

/// `[PORT] [--dialect pb|msgpack]`.
fn arguments() -> Result<(u16, &'static [Dialect])> {
    let mut port = 8800;
    let mut dialects: &'static [Dialect] = &Dialect::KNOWN;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dialect" => {
                dialects = match args.next().as_deref() {
                    Some("pb") => &Dialect::KNOWN,
                    Some("msgpack") => &Dialect::DEFAULT_OFFER,
                    other => bail!("--dialect takes pb or msgpack, not {other:?}"),
                }
            }
            _ => port = arg.parse().context("PORT must be a number")?,
        }
    }
    Ok((port, dialects))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, dialects) = arguments()?;
    let mut security = SecurityOptions::new();
    allow_remote_copy::<BenchPond>(&mut security, "bench_peer.BenchPond")?;
    let shutdown = Shutdown::default();
    let root = Arc::new(Bench {
        counter: Arc::default(),
        shutdown: shutdown.clone(),
    });
    common::serve_until(
        port,
        BrokerOptions::default()
            .with_security(security)
            .with_dialects(dialects)?,
        root,
        shutdown,
    )
    .await
}
