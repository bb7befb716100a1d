//! `spread bench`: a load generator for any PB server, Rust or Twisted. C
//! connections each keep K calls in flight until N calls were made or the
//! time is up; every answer is checked, and the rate and the latency
//! percentiles are printed.

mod check;
mod connection;
mod histogram;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use spread::Value;
use spread::banana::Dialect;
use tokio::sync::{Semaphore, mpsc, watch};

use self::check::Plan;
use self::connection::Run;
use self::histogram::Histogram;
use crate::call::{Address, Login, parse_address, parse_literal, parse_login};
use crate::exit;

const AFTER_HELP: &str = "\
Every answer is checked. With the method `echo` (the default), each call
sends its own argument: its sequence number N, or the list [N, ARG] when
--arg is given; the answer must equal what was sent (a set may come back in
another order). Any other method is called with the --arg values as given,
every time, and every answer must equal the first one. A call counts as an
error when its answer differs, when the method raised, or when the answer is
lost: the connection closed, or no answer came on it for 30 s. A connection
or login that fails counts as one error. Calls are counted when answered,
errors or not; the latencies are from sending a call to its answer.

The run starts once every connection is set up (at most 32 at a time, which
suits Twisted's listen backlog of 50) and stops after --calls calls in all
or after --duration seconds, whichever comes first; with neither, it runs
for 10 seconds. A progress line goes to stderr every second. The last line
on stdout is

  calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E

Exit status: 0 no errors; 1 errors (the first of each kind on stderr);
2 no connection could be set up; 64 bad arguments.

Examples:
  spread bench 127.0.0.1:8800
  spread bench 127.0.0.1:8800 --connections 100 --concurrency 10 --duration 30
  spread bench 127.0.0.1:8800 --calls 100000 --arg \"{'k': [1, 2.5, b'x']}\"
  spread bench 127.0.0.1:8800 --method add --arg 2 --arg 3
  spread bench 127.0.0.1:8800 --login alice:wonderland --method whoami
  spread bench 127.0.0.1:8800 --dialect msgpack";

/// With neither `--calls` nor `--duration`, a run this long.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Connections set up at once (see [`Run::connecting`]).
const CONNECTING_AT_ONCE: usize = 32;

/// `spread bench`'s arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// The server's address.
    #[arg(value_name = "HOST:PORT", value_parser = parse_address)]
    address: Address,
    /// The remote method to call.
    #[arg(long, value_name = "NAME", default_value = "echo")]
    method: String,
    /// An argument, as a Python literal (as `spread call` takes them);
    /// repeat for several (`echo` takes one).
    #[arg(long = "arg", value_name = "LITERAL", value_parser = parse_literal, allow_hyphen_values = true)]
    args: Vec<Value>,
    /// Stop after this many calls in all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    calls: Option<u64>,
    /// Calls in flight on each connection (pipelined).
    #[arg(long, value_name = "K", default_value = "1", value_parser = positive_usize)]
    concurrency: usize,
    /// Connections to open.
    #[arg(long, value_name = "C", default_value = "1", value_parser = positive_usize)]
    connections: usize,
    /// Stop after this many seconds of calls.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// Log in to the server's cred portal and call the perspective.
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_login)]
    login: Option<Login>,
    /// Speak only this dialect (a server that does not offer it is a
    /// connection error). Without it, the best the server offers: msgpack
    /// from a spread server that offers it, pb from Twisted.
    #[arg(long, value_enum, value_name = "DIALECT")]
    dialect: Option<BenchDialect>,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BenchDialect {
    /// Banana with the pb vocabulary, as Twisted speaks it.
    Pb,
    /// Spread's own `spread-msgpack`.
    Msgpack,
}

impl BenchDialect {
    /// The connection options that speak only this dialect.
    fn options(dialect: Option<BenchDialect>) -> Result<spread::BrokerOptions, String> {
        let options = spread::BrokerOptions::default();
        let dialects: &[Dialect] = match dialect {
            None => return Ok(options),
            Some(BenchDialect::Pb) => &[Dialect::Pb],
            Some(BenchDialect::Msgpack) => &[Dialect::Msgpack],
        };
        options.with_dialects(dialects).map_err(|e| e.to_string())
    }
}

fn positive_usize(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("expected a positive whole number, got {text:?}"))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("expected a positive number of seconds, got {text:?}"))
}

/// The kinds of error a bench counts, reported one line each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ErrorKind {
    /// Connecting or logging in failed.
    Connect,
    /// The answer was not the one the call had to get.
    Mismatch,
    /// The method raised.
    Remote,
    /// No answer: the connection closed, or went silent.
    Lost,
    /// Anything else a call failed with (an answer that could not be read).
    Other,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Connect => "connections failed",
            ErrorKind::Mismatch => "wrong answers",
            ErrorKind::Remote => "remote errors",
            ErrorKind::Lost => "calls lost",
            ErrorKind::Other => "calls failed",
        })
    }
}

/// Errors by kind: how many, and the first one's description (made only
/// for the first, so that a flood of errors costs no formatting).
#[derive(Debug, Default)]
pub(crate) struct Errors {
    kinds: Vec<(ErrorKind, u64, String)>,
}

impl Errors {
    pub(crate) fn add(&mut self, kind: ErrorKind, n: u64, detail: impl FnOnce() -> String) {
        match self.kinds.iter_mut().find(|(k, ..)| *k == kind) {
            Some((_, count, _)) => *count += n,
            None => self.kinds.push((kind, n, detail())),
        }
    }

    fn merge(&mut self, other: Errors) {
        for (kind, n, detail) in other.kinds {
            self.add(kind, n, || detail);
        }
    }

    fn total(&self) -> u64 {
        self.kinds.iter().map(|(_, n, _)| n).sum()
    }
}

/// What a whole run measured.
#[derive(Debug)]
struct Outcome {
    latency_us: Histogram,
    errors: Errors,
    connected: usize,
    seconds: f64,
}

/// Runs `spread bench`.
pub(crate) fn run(args: Args) -> ExitCode {
    let connections = args.connections;
    let run = match Run::from_args(args) {
        Ok(run) => Arc::new(run),
        Err(message) => {
            eprintln!("spread bench: {message}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("spread bench: cannot start tokio: {e}");
            return ExitCode::from(exit::CONNECTION);
        }
    };
    let outcome = runtime.block_on(bench(run.clone(), connections));
    // Connections still closing are not waited for.
    runtime.shutdown_background();
    summarize(&run, connections, &outcome)
}

impl Run {
    /// The run the arguments ask for, or why they make none.
    fn from_args(args: Args) -> Result<Run, String> {
        if args.method == "echo" && args.args.len() > 1 {
            return Err("echo takes one argument; give --arg once".into());
        }
        let duration = match (args.calls, args.duration) {
            (None, None) => Some(DEFAULT_DURATION),
            (_, duration) => duration,
        };
        Ok(Run {
            options: BenchDialect::options(args.dialect)?,
            address: args.address,
            login: args.login,
            plan: Plan::new(&args.method, args.args),
            concurrency: args.concurrency,
            calls: args.calls,
            duration,
            answer_timeout: connection::ANSWER_TIMEOUT,
            issued: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            connected: AtomicU64::new(0),
            connecting: Semaphore::new(CONNECTING_AT_ONCE),
        })
    }
}

/// Sets up every connection, starts them together, prints progress, and
/// gathers what they measured.
async fn bench(run: Arc<Run>, connections: usize) -> Outcome {
    let (start_tx, start_rx) = watch::channel(None);
    let (ready_tx, mut ready_rx) = mpsc::channel(connections);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(connection::run(
            run.clone(),
            start_rx.clone(),
            ready_tx.clone(),
        ));
    }
    drop(ready_tx);
    let set_up = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.reset();
    let mut ready = 0;
    while ready < connections {
        tokio::select! {
            got = ready_rx.recv() => match got {
                Some(()) => ready += 1,
                None => break,
            },
            _ = tick.tick() => eprintln!(
                "spread bench: setting up connections: {ready}/{connections}"
            ),
        }
    }
    let connected = run.connected.load(Ordering::Relaxed);
    eprintln!(
        "spread bench: {connected} of {connections} connections set up in {:.1} s; calling",
        set_up.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let _ = start_tx.send(Some(started));
    tick.reset();
    let mut last = (started, 0);
    let mut latency_us = Histogram::default();
    let mut errors = Errors::default();
    let mut up = 0;
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(report)) => {
                    latency_us.merge(&report.latency_us);
                    errors.merge(report.errors);
                    up += usize::from(report.connected);
                }
                Some(Err(e)) => errors.add(ErrorKind::Other, 1, || format!("a connection's task failed: {e}")),
                None => break,
            },
            _ = tick.tick() => {
                let (now, answered) = (Instant::now(), run.answered.load(Ordering::Relaxed));
                let rate = (answered - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
                eprintln!(
                    "spread bench: {:.0} s, {answered} calls, {rate:.0} calls/s, {} errors",
                    now.duration_since(started).as_secs_f64(),
                    run.failed.load(Ordering::Relaxed),
                );
                last = (now, answered);
            }
        }
    }
    Outcome {
        latency_us,
        errors,
        connected: up,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Prints the errors (stderr) and the figures (stdout), the summary line
/// last; gives the exit status.
fn summarize(run: &Run, connections: usize, outcome: &Outcome) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    for (kind, n, first) in &outcome.errors.kinds {
        let _ = writeln!(stderr, "spread bench: {n} {kind}; the first: {first}");
    }
    let h = &outcome.latency_us;
    let calls = h.count();
    let rate = calls as f64 / outcome.seconds.max(f64::MIN_POSITIVE);
    let (p50, p99, max) = (h.percentile(0.5), h.percentile(0.99), h.max());
    let errors = outcome.errors.total();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{} connections, {} in flight each, method {}: {calls} calls in {:.3} s, {rate:.1} calls/s",
        outcome.connected,
        run.concurrency,
        run.plan.method(),
        outcome.seconds,
    );
    let _ = writeln!(
        stdout,
        "latency: p50 {p50} µs, p99 {p99} µs, max {max} µs; errors: {errors}"
    );
    let _ = writeln!(
        stdout,
        "calls={calls} seconds={:.3} calls_per_sec={rate:.1} p50_us={p50} p99_us={p99} max_us={max} errors={errors}",
        outcome.seconds
    );
    let _ = stdout.flush();
    if outcome.connected == 0 && connections > 0 {
        ExitCode::from(exit::CONNECTION)
    } else if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
