//! `cargo xtask bench`'s end-to-end part: the same scenarios for spread
//! (Rust client, Rust server), Twisted (Python client, Python server), the
//! two halves of a migration (Rust client → Twisted server, Twisted client
//! → Rust server) and a raw tokio ping-pong, client and server always in
//! separate processes, all in one run; then one table with the ratios, and
//! an SVG of throughput against calls in flight.
//!
//! The programs: `spread bench` and the examples `bench_server`,
//! `bench_client` and `pingpong` (release builds), and
//! `tests/interop/python/bench_peer.py` (server and client). Every client
//! prints `spread bench`'s summary line last; see [`Summary`].
//!
//! Timings never fail the run: only a client that cannot run, or calls that
//! went wrong, do (after the table is printed).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::measure::{Server, cpus, release_dir, rss_kib, target_dir, with_open_files_raised};
use crate::process::{cargo, describe};
use crate::report::{Cells, Table};
use crate::{project_root, venv};

/// Calls in flight on one connection for the echo scenarios, and the
/// plot's x axis.
pub(crate) const IN_FLIGHT: [usize; 4] = [1, 10, 100, 1000];
/// Connections held open for the idle-memory scenarios: the issue's
/// thousand, and ten thousand to show one process holds that many.
pub(crate) const IDLE_CONNECTIONS: [usize; 2] = [1_000, 10_000];

/// A client's summary line:
/// `calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    pub(crate) calls: f64,
    pub(crate) calls_per_sec: f64,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) max_us: f64,
    pub(crate) errors: f64,
}

/// The summary in the last line of `stdout` that has one (the clients may
/// print more before it); `None` without one.
pub(crate) fn parse_summary(stdout: &str) -> Option<Summary> {
    stdout.lines().rev().find_map(|line| {
        let mut summary = Summary::default();
        let mut seen = 0;
        for field in line.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            let value: f64 = value.parse().ok()?;
            let slot = match key {
                "calls" => &mut summary.calls,
                "calls_per_sec" => &mut summary.calls_per_sec,
                "p50_us" => &mut summary.p50_us,
                "p99_us" => &mut summary.p99_us,
                "max_us" => &mut summary.max_us,
                "errors" => &mut summary.errors,
                "seconds" => continue,
                _ => return None,
            };
            *slot = value;
            seen += 1;
        }
        (seen == 6).then_some(summary)
    })
}

/// What a client is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// `echo(n)` with K calls in flight on one connection.
    Echo(usize),
    /// `takePond(BenchPond)` (a Copyable) with K calls in flight.
    Copy(usize),
    /// Counter updates to N caches (one per connection).
    Cache(usize),
}

impl Scenario {
    pub(crate) fn describe(self) -> String {
        match self {
            Scenario::Echo(k) => format!("echo, {k} in flight"),
            Scenario::Copy(k) => format!("Copyable, {k} in flight"),
            Scenario::Cache(1) => "Cacheable updates, 1 cache".into(),
            Scenario::Cache(n) => format!("Cacheable updates, {n} caches"),
        }
    }
}

/// The programs and their servers.
struct Bench {
    python: PathBuf,
    peer: PathBuf,
    seconds: f64,
    logs: PathBuf,
}

impl Bench {
    /// The Rust client of a scenario: `spread bench` where it fits, else
    /// `bench_client`; it speaks the best dialect the server offers.
    fn rust_client(&self, port: u16, scenario: Scenario) -> Command {
        let secs = self.seconds.to_string();
        let release = release_dir();
        match scenario {
            Scenario::Echo(k) => {
                let mut c = Command::new(release.join("spread"));
                c.arg("bench").arg(format!("127.0.0.1:{port}"));
                c.args(["--concurrency", &k.to_string(), "--connections", "1"]);
                c.args(["--duration", &secs]);
                c
            }
            Scenario::Copy(k) => self.bench_client(port, "copy", "--in-flight", k),
            Scenario::Cache(n) => self.bench_client(port, "cache", "--connections", n),
        }
    }

    /// [`Bench::rust_client`], speaking only Banana's `pb`, as with Twisted.
    fn rust_client_pb(&self, port: u16, scenario: Scenario) -> Command {
        let mut c = self.rust_client(port, scenario);
        c.args(["--dialect", "pb"]);
        c
    }

    fn bench_client(&self, port: u16, scenario: &str, flag: &str, n: usize) -> Command {
        let mut c = Command::new(release_dir().join("examples/bench_client"));
        c.arg(port.to_string())
            .arg(scenario)
            .args([flag, &n.to_string()]);
        c.args(["--seconds", &self.seconds.to_string()]);
        c
    }

    fn twisted_client(&self, port: u16, scenario: Scenario) -> Command {
        let mut c = Command::new(&self.python);
        c.arg(&self.peer).arg("client").arg(port.to_string());
        let (name, flag, n) = match scenario {
            Scenario::Echo(k) => ("echo", "--in-flight", k),
            Scenario::Copy(k) => ("copy", "--in-flight", k),
            Scenario::Cache(n) => ("cache", "--connections", n),
        };
        c.arg(name).args([flag, &n.to_string()]);
        c.args(["--seconds", &self.seconds.to_string()]);
        c
    }

    fn pingpong_client(&self, port: u16, in_flight: usize) -> Command {
        let mut c = Command::new(release_dir().join("examples/pingpong"));
        c.arg("client").arg(port.to_string());
        c.args(["--in-flight", &in_flight.to_string()]);
        c.args(["--seconds", &self.seconds.to_string()]);
        c
    }

    /// A server with its stderr (Twisted's log, for one) in a file.
    fn server(&self, name: &str, command: Command) -> Result<Server> {
        let mut command = with_open_files_raised(&command);
        command.stderr(File::create(self.logs.join(format!("{name}.log")))?);
        Server::start(command)
    }

    /// The Rust server, offering spread-msgpack first, then Twisted's two.
    fn rust_server(&self) -> Result<Server> {
        let mut c = Command::new(release_dir().join("examples/bench_server"));
        c.args(["0", "--dialect", "msgpack"]);
        self.server("bench_server", c)
    }

    fn twisted_server(&self) -> Result<Server> {
        let mut c = Command::new(&self.python);
        c.arg(&self.peer).args(["server", "0"]);
        self.server("bench_peer_server", c)
    }
}

/// Runs a client to the end; its summary. A client that prints none is an
/// error, with the end of its stderr.
fn run_client(mut command: Command) -> Result<Summary> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {}", describe(&command)))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    parse_summary(&stdout).with_context(|| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        format!(
            "{} ({}) printed no summary line; stderr ends: {}",
            describe(&command),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )
    })
}

/// Everything measured, for the table and the plot.
pub(crate) struct Measured {
    pub(crate) runs: Vec<(Scenario, Cells<Summary>)>,
    /// Server memory per idle connection, KiB, for each of
    /// [`IDLE_CONNECTIONS`]: (connections, Rust server, Twisted server).
    pub(crate) idle_kib: Vec<(usize, Option<f64>, Option<f64>)>,
    pub(crate) failures: Vec<String>,
}

/// Builds what is needed, runs every scenario, prints the table, writes the
/// plot; fails only if a client could not run or calls went wrong.
pub(crate) fn run(seconds: f64) -> Result<()> {
    cargo(&["build", "--release", "--locked", "-p", "spread-cli"])?;
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "spread-examples",
        "--example",
        "bench_server",
        "--example",
        "bench_client",
        "--example",
        "pingpong",
    ])?;
    let logs = target_dir().join("bench");
    std::fs::create_dir_all(&logs)?;
    let bench = Bench {
        python: venv::python()?,
        peer: project_root().join("tests/interop/python/bench_peer.py"),
        seconds,
        logs: logs.clone(),
    };
    let started = Instant::now();
    let measured = measure(&bench)?;
    let table = Table::new(&measured);
    println!(
        "\nspread vs Twisted 26.10, end to end: client and server in separate processes, \
         loopback, {} CPUs, {seconds} s per run",
        cpus()
    );
    print!("{}", table.markdown());
    let svg = logs.join("throughput.svg");
    std::fs::write(&svg, crate::report::throughput_svg(&measured))?;
    println!("\nplot: {}", svg.display());
    eprintln!(
        "end-to-end bench took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if !measured.failures.is_empty() {
        bail!(
            "some runs went wrong:\n  {}",
            measured.failures.join("\n  ")
        );
    }
    Ok(())
}

fn measure(bench: &Bench) -> Result<Measured> {
    let mut scenarios: Vec<Scenario> = IN_FLIGHT.iter().map(|&k| Scenario::Echo(k)).collect();
    scenarios.extend([Scenario::Copy(100), Scenario::Cache(1), Scenario::Cache(10)]);
    let total = scenarios.len() + IDLE_CONNECTIONS.len();
    let mut failures = Vec::new();
    let mut runs = Vec::new();
    {
        let rust = bench.rust_server()?;
        let twisted = bench.twisted_server()?;
        let pingpong = {
            let mut c = Command::new(release_dir().join("examples/pingpong"));
            c.args(["server", "0"]);
            bench.server("pingpong", c)?
        };
        for (i, &scenario) in scenarios.iter().enumerate() {
            let mut one = |command: Command| match run_client(command) {
                Ok(summary) if summary.errors > 0.0 => {
                    failures.push(format!(
                        "{}: {} errors",
                        scenario.describe(),
                        summary.errors
                    ));
                    Some(summary)
                }
                Ok(summary) => Some(summary),
                Err(e) => {
                    failures.push(format!("{}: {e:#}", scenario.describe()));
                    None
                }
            };
            let cells = Cells {
                spread: one(bench.rust_client(rust.port, scenario)),
                spread_pb: one(bench.rust_client_pb(rust.port, scenario)),
                twisted: one(bench.twisted_client(twisted.port, scenario)),
                rust_to_twisted: one(bench.rust_client(twisted.port, scenario)),
                twisted_to_rust: one(bench.twisted_client(rust.port, scenario)),
                pingpong: match scenario {
                    Scenario::Echo(k) => one(bench.pingpong_client(pingpong.port, k)),
                    _ => None,
                },
            };
            eprintln!(
                "bench [{}/{total}] {}: {}",
                i + 1,
                scenario.describe(),
                cells.describe(|s| format!("{:.0}/s", s.calls_per_sec))
            );
            runs.push((scenario, cells));
        }
    }
    let mut idle_kib = Vec::new();
    for (i, n) in IDLE_CONNECTIONS.into_iter().enumerate() {
        let mut idle = |name: &str, server: Result<Server>| match server
            .and_then(|s| idle_kib_per_connection(&s, n))
        {
            Ok(kib) => Some(kib),
            Err(e) => {
                failures.push(format!(
                    "idle memory, {n} connections, {name} server: {e:#}"
                ));
                None
            }
        };
        let row = (
            n,
            idle("Rust", bench.rust_server()),
            idle("Twisted", bench.twisted_server()),
        );
        let show = |k: Option<f64>| k.map_or("-".into(), |k| format!("{k:.1} KiB"));
        eprintln!(
            "bench [{}/{total}] idle memory per connection ({n}): spread {}, Twisted {}",
            scenarios.len() + 1 + i,
            show(row.1),
            show(row.2)
        );
        idle_kib.push(row);
    }
    Ok(Measured {
        runs,
        idle_kib,
        failures,
    })
}

/// The server's RSS growth per connection, in KiB, once `connections`
/// connections made the PB handshake and one call each and sit idle (held
/// by `bench_client idle`, a Rust client).
fn idle_kib_per_connection(server: &Server, connections: usize) -> Result<f64> {
    // Let the server finish starting (Python imports) before the baseline.
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kib(server.pid()).context("server gone")?;
    let mut client = Command::new(release_dir().join("examples/bench_client"));
    client.arg(server.port.to_string()).arg("idle");
    client.args(["--connections", &connections.to_string()]);
    let mut client = with_open_files_raised(&client);
    let mut child = client
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("could not start {}", describe(&client)))?;
    let stdout = child.stdout.take().context("client stdout")?;
    // The summary line comes once every connection is set up; the client
    // gives up on each after 30 s, so this read ends.
    let line = BufReader::new(stdout)
        .lines()
        .next()
        .transpose()?
        .unwrap_or_default();
    // Let the last answers be written and the server's buffers settle.
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib(server.pid()).context("server gone");
    drop(child.stdin.take());
    let _ = child.wait();
    let summary = parse_summary(&line).with_context(|| format!("idle client said {line:?}"))?;
    if summary.errors > 0.0 || summary.calls < 1.0 {
        bail!("{} of {connections} connections failed", summary.errors);
    }
    Ok((after? as f64 - before as f64) / summary.calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let out = "2 connections ...\ncalls=10 seconds=1.5 calls_per_sec=6.7 p50_us=12 p99_us=40 max_us=90 errors=0\n";
        let s = parse_summary(out).unwrap();
        assert_eq!(
            (s.calls, s.calls_per_sec, s.p50_us, s.p99_us, s.errors),
            (10.0, 6.7, 12.0, 40.0, 0.0)
        );
        // The last summary wins; other lines are skipped.
        let two = format!(
            "{out}calls=3 seconds=1 calls_per_sec=3 p50_us=1 p99_us=2 max_us=3 errors=1\nbye\n"
        );
        assert_eq!(parse_summary(&two).unwrap().errors, 1.0);
        assert!(parse_summary("calls=1 seconds=1").is_none());
        assert!(
            parse_summary("calls=x seconds=1 calls_per_sec=1 p50_us=1 p99_us=1 max_us=1 errors=0")
                .is_none()
        );
        assert!(parse_summary("").is_none());
    }

    #[test]
    fn scenario_names() {
        assert_eq!(Scenario::Echo(10).describe(), "echo, 10 in flight");
        assert_eq!(Scenario::Cache(1).describe(), "Cacheable updates, 1 cache");
        assert_eq!(
            Scenario::Cache(10).describe(),
            "Cacheable updates, 10 caches"
        );
    }
}
