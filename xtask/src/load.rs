//! `cargo xtask load [--secs N] [--connections C]`: `spread bench` with C
//! connections (default 1,000), one call in flight on each, for N seconds
//! (default 30), against the Rust echo server and then Twisted's, each in
//! its own process on loopback; every answer checked. Prints one table
//! with the throughput, the latencies, the errors and the servers' memory;
//! fails if any call went wrong.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::endtoend::{Summary, parse_summary};
use crate::measure::{RssSampler, Server, cpus, mib, release_dir};
use crate::process::{cargo, describe};
use crate::{project_root, venv};

/// The run's length and size.
struct Options {
    secs: u64,
    connections: u64,
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        secs: 30,
        connections: 1000,
    };
    let mut args = args.iter();
    while let Some(&flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"));
        let number = |v: &str| v.parse::<u64>().ok().filter(|&n| n > 0);
        match flag {
            "--secs" => options.secs = number(value?).context("--secs: a positive number")?,
            "--connections" => {
                options.connections = number(value?).context("--connections: a positive number")?;
            }
            _ => bail!("usage: cargo xtask load [--secs N] [--connections C]"),
        }
    }
    Ok(options)
}

/// One server's row of the table.
struct Row {
    server: &'static str,
    summary: Summary,
    rss_idle: u64,
    rss_peak: u64,
    ok: bool,
}

pub(crate) fn run(args: &[&str]) -> Result<()> {
    let options = parse(args)?;
    let python = venv::python()?;
    // Release builds: the figures are the programs', not the debug checks'.
    cargo(&["build", "--release", "--locked", "-p", "spread-cli"])?;
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "spread-examples",
        "--example",
        "echo_server",
    ])?;
    let release = release_dir();
    let mut rust = Command::new(release.join("examples/echo_server"));
    rust.arg("0");
    let mut twisted = Command::new(&python);
    twisted
        .arg(project_root().join("tests/interop/python/echo_server.py"))
        .args(["0", "--load"]);
    let mut rows = Vec::new();
    for (name, command) in [("Rust", rust), ("Twisted 26.10", twisted)] {
        eprintln!("\n==> {name} echo server");
        rows.push(load(name, command, &options)?);
    }

    println!(
        "\nload: `spread bench --connections {} --concurrency 1 --duration {}` against each \
         echo server, loopback, {} CPUs",
        options.connections,
        options.secs,
        cpus()
    );
    println!(
        "{:<14} {:>11} {:>10} {:>9} {:>8} {:>8} {:>9} {:>6}  server RSS (idle -> peak)",
        "server", "connections", "calls", "calls/s", "p50", "p99", "max", "errors"
    );
    for row in &rows {
        let ms = |us: f64| format!("{:.2} ms", us / 1000.0);
        println!(
            "{:<14} {:>11} {:>10} {:>9.0} {:>8} {:>8} {:>9} {:>6}  {} -> {}",
            row.server,
            options.connections,
            row.summary.calls,
            row.summary.calls_per_sec,
            ms(row.summary.p50_us),
            ms(row.summary.p99_us),
            ms(row.summary.max_us),
            row.summary.errors,
            mib(row.rss_idle),
            mib(row.rss_peak),
        );
    }
    let failed: Vec<&str> = rows.iter().filter(|r| !r.ok).map(|r| r.server).collect();
    if !failed.is_empty() {
        bail!("calls went wrong against: {}", failed.join(", "));
    }
    Ok(())
}

/// Starts the server, benches it, stops it.
fn load(name: &'static str, command: Command, options: &Options) -> Result<Row> {
    let server = Server::start(command)?;
    let rss_idle = crate::measure::rss_kib(server.pid()).unwrap_or(0);
    let sampler = RssSampler::start(server.pid(), Duration::from_millis(500));
    let mut bench = Command::new(release_dir().join("spread"));
    bench
        .arg("bench")
        .arg(format!("127.0.0.1:{}", server.port))
        .args(["--connections", &options.connections.to_string()])
        .args(["--concurrency", "1"])
        .args(["--duration", &options.secs.to_string()]);
    eprintln!("$ {}", describe(&bench));
    // The progress lines (stderr) pass through; the figures are read.
    let output = bench
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {}", describe(&bench)))?;
    let samples = sampler.finish();
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    let Some(summary) = parse_summary(&stdout) else {
        bail!("{name}: spread bench printed no summary line");
    };
    Ok(Row {
        server: name,
        ok: output.status.success() && summary.errors == 0.0,
        summary,
        rss_idle,
        rss_peak: samples.iter().copied().max().unwrap_or(rss_idle),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let default = parse(&[]).unwrap();
        assert_eq!((default.secs, default.connections), (30, 1000));
        let given = parse(&["--connections", "10", "--secs", "5"]).unwrap();
        assert_eq!((given.secs, given.connections), (5, 10));
        assert!(parse(&["--secs"]).is_err());
        assert!(parse(&["--secs", "x"]).is_err());
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--calls", "5"]).is_err());
    }
}
