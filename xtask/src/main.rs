//! Project automation for spread, in the cargo-xtask style
//! (<https://github.com/matklad/cargo-xtask>): `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks, in order (format, clippy, tests, docs,
//!   layering, interop against real Twisted). `.ci/run` calls only this.
//! - `vectors [--check]`: regenerates `tests/vectors/twisted-vectors.json`
//!   from real Twisted, or checks that the committed file still matches.
//! - `layering`: fails when a crate depends on a layer above it.
//! - `bench [--quick | --end-to-end]`: the criterion benches with Twisted's
//!   timings beside them, then the end-to-end scenarios (client and server
//!   in separate processes: spread in both dialects, Twisted, the two mixes
//!   and a raw tokio ping-pong) in one table, and a plot in
//!   `target/bench/throughput.svg`.
//!   `--end-to-end` skips criterion; `--quick` too, with 1 s runs.
//! - `demo`: the howto's live-cache example, Rust and Twisted mixed.
//! - `docs`: builds the documentation site into `target/book` (the mdBook
//!   in `docs/book` with every crate's rustdoc under `api/`) and checks its
//!   links and how headless Chromium renders it.
//! - `fuzz [TARGET --secs N]`: lists the fuzz targets, or runs one with
//!   cargo-fuzz (installed into `target/tools` when missing); `fuzz --ci`
//!   builds them all and runs each briefly, as `ci` does.
//! - `venv`: installs Twisted into `target/interop-venv` (the others do it
//!   when they need it).
//! - `buildbot`: a stock Buildbot 4.3.0 master runs its scenarios on the
//!   Python worker (the control) and on `spread-buildbot-worker` (in `ci`).
//! - `load [--secs N] [--connections C]`: `spread bench` with a thousand
//!   connections against the Rust echo server and Twisted's, in a table.
//! - `soak [--secs N]`: references and caches made and dropped for minutes
//!   between two processes; tables empty and memory flat at the end.
//!
//! `load` and `soak` take minutes and are not part of `ci`, which builds
//! their programs all the same (clippy covers every target).

mod buildbot;
mod demo;
mod docs;
mod endtoend;
mod fuzz;
mod layering;
mod load;
mod measure;
mod process;
mod report;
mod soak;
mod venv;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::process::{cargo, run};

const USAGE: &str = "usage: cargo xtask <ci | vectors [--check] | layering | bench [--quick | --end-to-end] | demo | docs | \
     fuzz [TARGET --secs N | --ci] | venv | buildbot | load [--secs N] [--connections C] | soak [--secs N]>";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci(),
        ["vectors"] => vectors(false),
        ["vectors", "--check"] => vectors(true),
        ["layering"] => layering::check_workspace(),
        ["bench", rest @ ..] => bench(rest),
        ["demo"] => demo::run(),
        ["docs"] => docs::run_all(),
        ["fuzz", rest @ ..] => fuzz::main(rest),
        ["venv"] => venv::python().map(drop),
        ["load", rest @ ..] => load::run(rest),
        ["buildbot"] => buildbot::run_scenarios(),
        ["soak", rest @ ..] => soak::run(rest),
        _ => bail!("{USAGE}"),
    }
}

/// The workspace root, whatever directory xtask was started from.
pub(crate) fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

fn ci() -> Result<()> {
    step("format", || cargo(&["fmt", "--all", "--", "--check"]))?;
    step("clippy", || {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    step("tests", tests)?;
    step("docs", || {
        let mut cmd = process::cargo_cmd(&[
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--locked",
        ]);
        cmd.env("RUSTDOCFLAGS", "-D warnings");
        run(cmd)
    })?;
    step("layering", layering::check_workspace)?;
    step("fuzz: build every target, run each for 10 s", || {
        fuzz::main(&["--ci"])
    })?;
    step("interop: golden vectors against real Twisted", || {
        vectors(true)
    })?;
    step("interop: the Python peer against Twisted", peer_selfcheck)?;
    step("interop: Rust against real Twisted", interop_tests)?;
    step(
        "reliability: hostile peers, faults, tables",
        reliability_tests,
    )?;
    step(
        "buildbot: a stock master on the Python worker, then on spread's",
        buildbot::run_scenarios,
    )?;
    step("docs site: build, links, browser", docs::run_all)?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
    eprintln!("\n==> {name}");
    f().with_context(|| format!("ci step `{name}` failed"))
}

fn tests() -> Result<()> {
    if process::has_nextest() {
        cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--exclude",
            "spread-interop",
            "--exclude",
            "spread-reliability",
            "--all-features",
            "--locked",
            "--no-fail-fast",
        ])?;
    } else {
        eprintln!("cargo-nextest not found; using cargo test");
        cargo(&[
            "test",
            "--workspace",
            "--exclude",
            "spread-interop",
            "--exclude",
            "spread-reliability",
            "--all-features",
            "--locked",
            "--lib",
            "--bins",
            "--tests",
        ])?;
    }
    // Nextest does not run doc tests, and every public item's example is one.
    cargo(&["test", "--workspace", "--all-features", "--locked", "--doc"])
}

fn vectors(check: bool) -> Result<()> {
    let python = venv::python()?;
    let root = project_root();
    let script = root.join("tests/vectors/generate.py");
    let target = root.join("tests/vectors/twisted-vectors.json");
    let out = process::output(std::process::Command::new(&python).arg(&script))?;
    if check {
        let committed = std::fs::read_to_string(&target)
            .with_context(|| format!("reading {}", target.display()))?;
        if committed != out {
            bail!(
                "{} is not what Twisted produces now; run `cargo xtask vectors` and review the diff",
                target.display()
            );
        }
        eprintln!("vectors: {} matches real Twisted", target.display());
    } else {
        std::fs::write(&target, out)?;
        eprintln!("vectors: wrote {}", target.display());
    }
    Ok(())
}

/// The Python peer is the project's own code too: check it before trusting
/// what it says about Rust.
fn peer_selfcheck() -> Result<()> {
    let mut cmd = std::process::Command::new(venv::python()?);
    cmd.arg(project_root().join("tests/interop/python/selfcheck.py"));
    run(cmd)
}

/// The golden vectors at the value level, and random values through a live
/// Twisted (the interop crate is left out of the `tests` step so it runs
/// here, once, with the venv's Twisted).
fn interop_tests() -> Result<()> {
    let python = venv::python()?;
    // The echo examples are run by the tests, against Twisted's peers.
    cargo(&["build", "-p", "spread-examples", "--examples", "--locked"])?;
    // The CLI tests run the `spread` binary; they do not build it.
    cargo(&["build", "-p", "spread-cli", "--locked"])?;
    // Only the integration binary: the crate has no unit or doc tests, and
    // an empty run would be the last test summary CI prints.
    let mut cmd = process::cargo_cmd(&["test", "-p", "spread-interop", "--test", "it", "--locked"]);
    cmd.env("SPREAD_INTEROP_PYTHON", python);
    run(cmd)
}

/// The hostile-peer, fault and table suites: real processes (the echo
/// server, the `spread` command, Twisted's peers) over loopback. They run
/// after the interop step, which has built what they start.
fn reliability_tests() -> Result<()> {
    let python = venv::python()?;
    let mut cmd = process::cargo_cmd(&[
        "test",
        "-p",
        "spread-reliability",
        "--test",
        "it",
        "--locked",
    ]);
    cmd.env("SPREAD_INTEROP_PYTHON", python);
    run(cmd)
}

/// Criterion for every crate, then Twisted timed on the same workloads and
/// printed beside spread's numbers; then the end-to-end scenarios, where PB
/// calls are compared (client and server in separate processes, like for
/// like). Other arguments go to `cargo bench`.
fn bench(args: &[&str]) -> Result<()> {
    let (quick, end_to_end) = (args.contains(&"--quick"), args.contains(&"--end-to-end"));
    if quick || end_to_end {
        // A few seconds a run keeps the whole harness within minutes on two
        // cores; --quick is for trying the harness, not for figures.
        return endtoend::run(if quick { 1.0 } else { 3.0 });
    }
    micro_bench(args)?;
    endtoend::run(3.0)
}

fn micro_bench(extra: &[&str]) -> Result<()> {
    // Only the bench targets: `--workspace` alone would also build every
    // crate's unit tests in release, minutes of compiling for no figure.
    let mut args = vec![
        "bench",
        "--locked",
        "-p",
        "spread-banana",
        "-p",
        "spread-jelly",
        "-p",
        "spread-broker",
        "--benches",
    ];
    args.extend_from_slice(extra);
    cargo(&args)?;
    let python = venv::python()?;
    let script = project_root().join("tests/interop/python/bench_twisted.py");
    let twisted = process::output(std::process::Command::new(python).arg(script))?;
    println!("\nspread vs Twisted 26.10, jelly + Banana, mean time per value (lower is better)");
    println!(
        "{:<16} {:>12} {:>12} {:>8}   {:>12} {:>12} {:>8}",
        "workload", "spread enc", "Twisted enc", "speedup", "spread dec", "Twisted dec", "speedup"
    );
    for line in twisted.lines() {
        let row: serde_json::Value = serde_json::from_str(line)?;
        let name = row["workload"].as_str().context("workload")?;
        let ours = |op: &str| criterion_mean_ns("jelly", op, name);
        let (enc, dec) = (ours("encode")?, ours("decode")?);
        let (t_enc, t_dec) = (
            row["encode_ns"].as_f64().context("encode_ns")?,
            row["decode_ns"].as_f64().context("decode_ns")?,
        );
        println!(
            "{name:<16} {:>12} {:>12} {:>7.1}x   {:>12} {:>12} {:>7.1}x",
            human(enc),
            human(t_enc),
            t_enc / enc,
            human(dec),
            human(t_dec),
            t_dec / dec
        );
    }
    Ok(())
}

/// The mean of the last criterion run of `group/function/parameter`, in ns.
fn criterion_mean_ns(group: &str, function: &str, parameter: &str) -> Result<f64> {
    let path = project_root()
        .join("target/criterion")
        .join(group)
        .join(function)
        .join(parameter)
        .join("new/estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    estimates["mean"]["point_estimate"]
        .as_f64()
        .context("no mean in criterion estimates")
}

fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.1} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}
