//! `bench_client PORT SCENARIO [--in-flight K] [--connections C] [--seconds S] [--dialect pb|msgpack]`:
//! the Rust client of `cargo xtask bench`'s end-to-end scenarios that
//! `spread bench` cannot run, against `bench_server` or
//! `tests/interop/python/bench_peer.py server` (same protocol; see
//! `bench_server.rs`). Uses the `spread` facade only. Defaults: K 1, C 1, S 3.
//!
//! - `copy`: K calls in flight on one connection, each
//!   `takePond(BenchPond)` with a Copyable pond sent by copy; the answer must
//!   be its `numFrogs`.
//! - `cache`: C connections each `subscribe()` to the server's Counter, so
//!   the client holds C caches of it. Then, in rounds, `pump(100)` on the
//!   first connection, and wait until every cache has seen the round's 100
//!   `observe_tick` updates. A "call" is one update run on one cache: the
//!   rate is updates delivered per second, summed over the caches; the
//!   latencies are the rounds' (from asking to the last update arriving).
//! - `idle`: C connections, one after another, each with the handshake and
//!   one `echo` call; then the summary line (a "call" per connection), and
//!   the connections stay open, idle, until stdin closes (at most 300 s) so
//!   that the server's memory can be read.
//!
//! `--dialect` makes the client speak only that dialect, so a server that
//! does not offer it fails the run instead of a silent fallback; without
//! it the client takes the best the server offers (msgpack from
//! `bench_server --dialect msgpack`, pb from Twisted). The dialect spoken is
//! printed to stderr.
//!
//! The last line on stdout is `spread bench`'s summary line:
//! `calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E`.

mod common;

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use spread::banana::Dialect;
use spread::{
    Broker, BrokerOptions, Copyable, FromValue, RemoteCacheRef, RemoteReference, SecurityOptions,
    Value, allow_remote_cache, connect, copy, remote,
};
use tokio::sync::Notify;

/// Updates `pump` is asked for in one round of the `cache` scenario.
const ROUND: u64 = 100;
/// How long a round, or a call, may take before the run gives up.
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copyable)]
#[pb(class = "bench_peer.BenchPond")]
struct BenchPond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
    depth: f64,
}

/// Updates seen by every cache, and a wake-up for the round that waits.
#[derive(Default)]
struct Delivered {
    count: AtomicU64,
    arrived: Notify,
}

/// One cache of the server's Counter.
struct CounterCopy {
    delivered: Arc<Delivered>,
}

#[remote(cache)]
impl CounterCopy {
    async fn tick(&self, _count: Value) {
        self.delivered.count.fetch_add(1, Ordering::Relaxed);
        self.delivered.arrived.notify_one();
    }
}

struct Options {
    port: u16,
    scenario: String,
    in_flight: usize,
    connections: usize,
    seconds: f64,
    /// The dialects the client speaks.
    dialects: &'static [Dialect],
}

impl Options {
    /// The options of every connection.
    fn broker_options(&self, security: SecurityOptions) -> Result<BrokerOptions> {
        Ok(BrokerOptions::default()
            .with_security(security)
            .with_dialects(self.dialects)?)
    }
}

fn options() -> Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, scenario, rest @ ..] = args.as_slice() else {
        bail!(
            "usage: bench_client PORT copy|cache|idle [--in-flight K] [--connections C] [--seconds S] [--dialect pb|msgpack]"
        );
    };
    let mut options = Options {
        port: port.parse().context("PORT")?,
        scenario: scenario.clone(),
        in_flight: 1,
        connections: 1,
        seconds: 3.0,
        dialects: &Dialect::DEFAULT_OFFER,
    };
    let mut rest = rest.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--in-flight" => options.in_flight = value.parse().context("--in-flight")?,
            "--connections" => options.connections = value.parse().context("--connections")?,
            "--seconds" => options.seconds = value.parse().context("--seconds")?,
            "--dialect" => {
                options.dialects = match value.as_str() {
                    "pb" => &[Dialect::Pb],
                    "msgpack" => &[Dialect::Msgpack],
                    other => bail!("--dialect takes pb or msgpack, not {other:?}"),
                }
            }
            _ => bail!("unknown option {flag}"),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    common::init_logging();
    let options = options()?;
    let line = match options.scenario.as_str() {
        "copy" => copy_scenario(&options).await?,
        "cache" => cache_scenario(&options).await?,
        "idle" => return idle_scenario(&options).await,
        other => bail!("unknown scenario {other:?} (copy, cache, idle)"),
    };
    println!("{line}");
    Ok(())
}

async fn connect_root(
    options: &Options,
    security: SecurityOptions,
) -> Result<(Broker, RemoteReference)> {
    let broker = connect(
        ("127.0.0.1", options.port),
        options.broker_options(security)?,
    )
    .await?;
    let root = broker.root_object().await?;
    static SHOWN: std::sync::Once = std::sync::Once::new();
    SHOWN.call_once(|| {
        let dialect = broker.dialect().map_or(&b"?"[..], Dialect::name);
        eprintln!("bench_client: dialect {}", String::from_utf8_lossy(dialect));
    });
    Ok((broker, root))
}

async fn copy_scenario(options: &Options) -> Result<String> {
    let (_broker, root) = connect_root(options, SecurityOptions::new()).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let pond = BenchPond {
        color: "green".into(),
        num_frogs: 7,
        depth: 1.5,
    };
    let workers: Vec<_> = (0..options.in_flight)
        .map(|_| {
            let (root, pond) = (root.clone(), pond.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                let mut sent = Instant::now();
                while sent < deadline {
                    // No timer per call: the whole run has one (below).
                    match root.call_remote("takePond", vec![copy(pond.clone())]).await {
                        Ok(answer) if answer == Value::from(pond.num_frogs) => {}
                        _ => errors += 1,
                    }
                    let now = Instant::now();
                    latencies.push(now.duration_since(sent).as_micros() as u64);
                    sent = now;
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    let joined = async {
        let mut all = Vec::with_capacity(workers.len());
        for worker in workers {
            all.push(worker.await?);
        }
        Ok::<_, tokio::task::JoinError>(all)
    };
    let patience = Duration::from_secs_f64(options.seconds) + PATIENCE;
    let finished = tokio::time::timeout(patience, joined)
        .await
        .context("calls still unanswered long after the run")??;
    for (l, e) in finished {
        latencies.extend(l);
        errors += e;
    }
    let calls = latencies.len() as u64;
    Ok(common::summary_line(
        latencies,
        calls,
        started.elapsed().as_secs_f64(),
        errors,
    ))
}

async fn cache_scenario(options: &Options) -> Result<String> {
    let delivered = Arc::new(Delivered::default());
    let mut connections = Vec::new();
    for _ in 0..options.connections.max(1) {
        let mut security = SecurityOptions::new();
        let d = delivered.clone();
        allow_remote_cache(&mut security, "bench_peer.Counter", move |_state| {
            Ok(CounterCopy {
                delivered: d.clone(),
            })
        })?;
        let (broker, root) = connect_root(options, security).await?;
        let got = root.call_remote("subscribe", vec![]).await?;
        // Held to the end: a dropped cache stops being observed.
        let cache = RemoteCacheRef::from_value(&got)?;
        connections.push((broker, root, cache));
    }
    let caches = connections.len() as u64;
    let pump = connections[0].1.clone();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let (mut latencies, mut expected, mut errors) = (Vec::new(), 0u64, 0u64);
    while Instant::now() < deadline {
        let asked = Instant::now();
        expected += ROUND * caches;
        let round = async {
            pump.call_remote("pump", vec![Value::from(ROUND as i64)])
                .await?;
            while delivered.count.load(Ordering::Relaxed) < expected {
                delivered.arrived.notified().await;
            }
            anyhow::Ok(())
        };
        match tokio::time::timeout(PATIENCE, round).await {
            Ok(Ok(())) => latencies.push(asked.elapsed().as_micros() as u64),
            Ok(Err(_)) | Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let updates = delivered.count.load(Ordering::Relaxed);
    Ok(common::summary_line(latencies, updates, seconds, errors))
}

async fn idle_scenario(options: &Options) -> Result<()> {
    let started = Instant::now();
    let (mut held, mut latencies, mut errors) = (Vec::new(), Vec::new(), 0u64);
    for _ in 0..options.connections {
        let began = Instant::now();
        let made = async {
            let (broker, root) = connect_root(options, SecurityOptions::new()).await?;
            root.call_remote("echo", vec![Value::from(1)]).await?;
            anyhow::Ok((broker, root))
        };
        match tokio::time::timeout(PATIENCE, made).await {
            Ok(Ok(connection)) => held.push(connection),
            _ => errors += 1,
        }
        latencies.push(began.elapsed().as_micros() as u64);
    }
    let calls = held.len() as u64;
    println!(
        "{}",
        common::summary_line(latencies, calls, started.elapsed().as_secs_f64(), errors)
    );
    // Idle until told to stop: the reader of our stdout measures meanwhile.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    });
    let _ = tokio::time::timeout(Duration::from_secs(300), stdin_closed).await;
    drop(held);
    Ok(())
}
