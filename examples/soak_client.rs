//! `soak_client PORT SECONDS [CONNECTIONS [IN_FLIGHT]]`: the client of
//! `cargo xtask soak`, against `soak_server`. For SECONDS, IN_FLIGHT
//! workers on each of CONNECTIONS connections (default 4 × 8) create and
//! drop references and caches without pause: a fresh reference from the
//! server, called then dropped; one of ours, which the server keeps a while
//! then drops; a cache of one of the server's ever-changing Cacheables, and
//! a cache of a fresh one, each dropped at once.
//!
//! Every 5 s it prints a `progress` line: the operations done, the errors,
//! and both sides' table sizes. At the end it stops the workers, waits (a
//! bounded time) for both sides' tables to empty, prints them on a
//! `settled` line, then `ok`, or `FAIL: WHY` and exits 1: any failed
//! operation, any table or count not back to zero.
//!
//! `cargo run --release -p spread-examples --example soak_client -- PORT 60`

mod common;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use spread::{
    Broker, BrokerOptions, FromValue, RemoteCacheRef, RemoteReference, SecurityOptions, Stats,
    Value, allow_remote_cache, connect, reference, remote,
};

/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How long each side may take to empty its tables at the end.
const SETTLE: Duration = Duration::from_secs(15);

/// Our objects the server holds references to now.
static LIVE_THINGS: AtomicI64 = AtomicI64::new(0);

/// One of our objects, passed to the server's `hold`.
struct Thing;

impl Thing {
    fn new() -> Thing {
        LIVE_THINGS.fetch_add(1, Ordering::Relaxed);
        Thing
    }
}

impl Drop for Thing {
    fn drop(&mut self) {
        LIVE_THINGS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[remote]
impl Thing {
    async fn ping(&self) -> i64 {
        0
    }
}

/// Our cache of the server's `soak.Counter`.
struct CounterCopy {
    value: Mutex<Value>,
}

impl CounterCopy {
    fn from_state(state: Value) -> Result<CounterCopy, spread::jelly::Error> {
        Ok(CounterCopy {
            value: Mutex::new(state),
        })
    }
}

#[remote(cache)]
impl CounterCopy {
    async fn set(&self, value: Value) {
        *self.value.lock().unwrap() = value;
    }
}

/// What the workers count.
#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

/// Operation number `i`: one of four ways to make and drop a reference or
/// a cache.
async fn operation(root: &RemoteReference, i: u64) -> Result<()> {
    match i % 4 {
        0 => {
            let fresh = root.call_remote("fresh", vec![]).await?;
            let fresh = RemoteReference::from_value(&fresh)?;
            fresh.call_remote("ping", vec![]).await?;
        }
        1 => {
            let ours = reference(Arc::new(Thing::new()));
            // Kept 0 to 99 ms by the server.
            let millis = Value::from(i % 100);
            root.call_remote("hold", vec![ours, millis]).await?;
        }
        kind => {
            let got = if kind == 2 {
                root.call_remote("sharedCache", vec![Value::from(i / 4)])
                    .await?
            } else {
                root.call_remote("freshCache", vec![]).await?
            };
            let got = RemoteCacheRef::from_value(&got)?;
            let copy = got.get::<CounterCopy>().context("not a CounterCopy")?;
            let _value = copy.value.lock().unwrap().clone();
        }
    }
    Ok(())
}

/// Operations `first`, `first + 1`, ... until stopped: each worker goes
/// through every kind of operation and every shared Cacheable in turn.
async fn worker(root: RemoteReference, first: u64, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let mut i = first;
    while !stop.load(Ordering::Relaxed) {
        match operation(&root, i).await {
            Ok(()) => tally.ops.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                tally
                    .first_error
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| format!("operation {i}: {e:#}"));
                tally.errors.fetch_add(1, Ordering::Relaxed)
            }
        };
        i += 1;
    }
}

/// Our tables, summed over the connections, as `key=value` fields.
fn client_tables(brokers: &[Broker]) -> String {
    let mut sum = [0; 5];
    for stats in brokers.iter().map(Broker::stats) {
        for (total, n) in sum.iter_mut().zip(table_sizes(&stats)) {
            *total += n;
        }
    }
    format!(
        "local_objects={} caches={} remote_references={} remote_caches={} calls_in_flight={} live_things={}",
        sum[0],
        sum[1],
        sum[2],
        sum[3],
        sum[4],
        LIVE_THINGS.load(Ordering::Relaxed)
    )
}

fn table_sizes(stats: &Stats) -> [usize; 5] {
    [
        stats.local_objects,
        stats.caches,
        stats.remote_references,
        stats.remote_caches,
        stats.calls_in_flight,
    ]
}

/// The server's report from each connection (`stats` or `settle`), its
/// tables summed, its process-wide counts as the last connection saw them.
async fn server_tables(
    roots: &[RemoteReference],
    method: &str,
    args: Vec<Value>,
) -> Result<Vec<(String, i64)>> {
    let mut fields: Vec<(String, i64)> = Vec::new();
    for root in roots {
        let report = root.call_remote(method, args.clone()).await?;
        let Value::Dict(report) = report else {
            bail!("{method} answered {report:?}")
        };
        for (key, value) in report.iter() {
            let (Some(key), Value::Int(n)) = (key.as_str(), value) else {
                bail!("{method}: {key:?}")
            };
            let per_connection = !matches!(
                key,
                "live_things" | "live_fresh_caches" | "held" | "shared_observers"
            );
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some((_, total)) if per_connection => *total += n,
                Some((_, total)) => *total = *n,
                None => fields.push((key.to_owned(), *n)),
            }
        }
    }
    Ok(fields)
}

fn show(fields: &[(String, i64)]) -> String {
    let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    fields.join(" ")
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> Result<u64> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse().with_context(|| format!("{a:?} is not a number"))
        })
    };
    let usage = "usage: soak_client PORT SECONDS [CONNECTIONS [IN_FLIGHT]]";
    let port = u16::try_from(number(0, 0)?).context(usage)?;
    let seconds = number(1, 0)?;
    let (connections, in_flight) = (number(2, 4)?, number(3, 8)?);
    if port == 0 || seconds == 0 || connections == 0 || in_flight == 0 {
        bail!(usage);
    }

    let mut security = SecurityOptions::new();
    allow_remote_cache(&mut security, "soak.Counter", CounterCopy::from_state)?;
    let options = BrokerOptions::default().with_security(security);
    let mut brokers = Vec::new();
    let mut roots = Vec::new();
    for _ in 0..connections {
        let broker = connect(("127.0.0.1", port), options.clone()).await?;
        roots.push(broker.root_object().await?);
        brokers.push(broker);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut workers = Vec::new();
    for (c, root) in roots.iter().enumerate() {
        for k in 0..in_flight {
            let first = c as u64 * in_flight + k;
            let (root, stop, tally) = (root.clone(), stop.clone(), tally.clone());
            workers.push(tokio::spawn(worker(root, first, stop, tally)));
        }
    }
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut tick = tokio::time::interval_at((started + PROGRESS_EVERY).into(), PROGRESS_EVERY);
    while Instant::now() < end {
        tokio::select! {
            _ = tick.tick() => {}
            () = tokio::time::sleep_until(end.into()) => break,
        }
        let server = show(&server_tables(&roots, "stats", vec![]).await?);
        println!(
            "progress t={:.0} ops={} errors={} | client {} | server {server}",
            started.elapsed().as_secs_f64(),
            tally.ops.load(Ordering::Relaxed),
            tally.errors.load(Ordering::Relaxed),
            client_tables(&brokers),
        );
    }

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    let empty = |s: &Stats| table_sizes(s) == [0; 5];
    let settle = async |brokers: &[Broker]| {
        for broker in brokers {
            let _ = tokio::time::timeout(SETTLE, broker.wait_for_stats(empty)).await;
        }
    };
    settle(&brokers).await;
    let server = server_tables(&roots, "settle", vec![Value::from(SETTLE.as_secs_f64())]).await?;
    // The process-wide counts, once every connection has settled.
    let counts = server_tables(&roots[..1], "stats", vec![]).await?;
    // Our tables are published by each connection's task after it handed
    // over the answer, so the last calls' may not be yet.
    settle(&brokers).await;
    let client = client_tables(&brokers);
    println!(
        "settled ops={} errors={} | client {client} | server {}",
        tally.ops.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed),
        show(&server),
    );
    let _ = roots[0].call_remote("shutdown", vec![]).await;

    let mut failures = Vec::new();
    if let Some(first) = tally.first_error.lock().unwrap().take() {
        failures.push(format!(
            "{} operations failed, the first {first}",
            tally.errors.load(Ordering::Relaxed)
        ));
    }
    if !brokers.iter().all(|b| empty(&b.stats())) || LIVE_THINGS.load(Ordering::Relaxed) != 0 {
        failures.push(format!("the client's tables are not empty: {client}"));
    }
    let counted = |fields: &[(String, i64)], key: &str| {
        fields.iter().find(|(k, _)| k == key).map(|(_, n)| *n)
    };
    let server_tables_empty = [
        "local_objects",
        "caches",
        "remote_references",
        "remote_caches",
        "calls_in_flight",
    ]
    .iter()
    .all(|key| counted(&server, key) == Some(0));
    let server_counts_zero = [
        "live_things",
        "live_fresh_caches",
        "held",
        "shared_observers",
    ]
    .iter()
    .all(|key| counted(&counts, key) == Some(0));
    if !server_tables_empty || !server_counts_zero {
        failures.push(format!(
            "the server's tables are not empty: {} / {}",
            show(&server),
            show(&counts)
        ));
    }
    if failures.is_empty() {
        println!("ok");
        Ok(())
    } else {
        for failure in &failures {
            println!("FAIL: {failure}");
        }
        std::process::exit(1)
    }
}
