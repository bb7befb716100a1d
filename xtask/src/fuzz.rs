//! `cargo xtask fuzz`: the libFuzzer targets in `fuzz/` (their logic is the
//! `spread-fuzz` crate), run with cargo-fuzz on the stable toolchain.
//!
//! - `cargo xtask fuzz`: lists the targets.
//! - `cargo xtask fuzz TARGET [--secs N]`: runs one for N seconds (default
//!   60) from the seed corpus; what it finds lands in
//!   `fuzz/artifacts/TARGET/`, the corpus it grows in `fuzz/corpus/TARGET/`.
//! - `cargo xtask fuzz --ci [--secs N]`: builds every target, then runs each
//!   for N seconds (default 10), as `cargo xtask ci` does.
//!
//! cargo-fuzz is installed into `target/tools` when it is missing, and its
//! nightly-only flags (`-Zsanitizer`, `-Cpasses`) are accepted by the stable
//! compiler through `RUSTC_BOOTSTRAP=1`, set for its commands only: no
//! nightly toolchain can be fetched on these machines.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::{self, run};
use crate::project_root;

/// The cargo-fuzz release the commands below are written for.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// A run longer than this on one input is a hang (libFuzzer's `-timeout`).
const TIMEOUT_SECS: u32 = 10;

/// One input may not make the process hold more than this (`-rss_limit_mb`;
/// libFuzzer's default, said here so that it is a decision).
const RSS_LIMIT_MB: u32 = 2048;

const USAGE: &str = "usage: cargo xtask fuzz [TARGET [--secs N] | --ci [--secs N]]";

pub(crate) fn main(args: &[&str]) -> Result<()> {
    match args {
        [] => list(),
        ["--ci"] => ci(10),
        ["--ci", "--secs", secs] => ci(parse_secs(secs)?),
        [target] => fuzz_one(target, 60),
        [target, "--secs", secs] => fuzz_one(target, parse_secs(secs)?),
        _ => bail!("{USAGE}"),
    }
}

fn parse_secs(secs: &str) -> Result<u32> {
    secs.parse()
        .with_context(|| format!("--secs takes a whole number of seconds, not {secs:?}"))
}

/// The targets: one file each in `fuzz/fuzz_targets/`.
fn targets() -> Result<Vec<String>> {
    let dir = project_root().join("fuzz/fuzz_targets");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn list() -> Result<()> {
    println!("fuzz targets (cargo xtask fuzz TARGET --secs N):");
    for name in targets()? {
        println!("  {name}");
    }
    Ok(())
}

fn fuzz_one(target: &str, secs: u32) -> Result<()> {
    if !targets()?.iter().any(|t| t == target) {
        bail!("no fuzz target {target:?}; `cargo xtask fuzz` lists them");
    }
    let cargo_fuzz = install()?;
    let seeds = write_seeds()?;
    let corpus = project_root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    run_target(&cargo_fuzz, target, &corpus, &seeds.join(target), secs)
}

/// What CI checks: every target builds, and survives a short run from its
/// seeds (into a scratch corpus, so that CI leaves the tree as it was).
fn ci(secs: u32) -> Result<()> {
    let cargo_fuzz = install()?;
    let seeds = write_seeds()?;
    check_lockfile()?;
    let mut build = fuzz_cmd(&cargo_fuzz, "build");
    build.current_dir(project_root().join("fuzz"));
    run(build)?;
    for target in targets()? {
        let corpus = target_dir().join("fuzz-corpus").join(&target);
        // A fresh corpus each time: the run starts from the seeds alone.
        let _ = std::fs::remove_dir_all(&corpus);
        std::fs::create_dir_all(&corpus)?;
        run_target(&cargo_fuzz, &target, &corpus, &seeds.join(&target), secs)?;
    }
    Ok(())
}

/// `cargo fuzz` has no `--locked`: fail, as `--locked` would, when
/// `fuzz/Cargo.lock` does not match `fuzz/Cargo.toml` any more.
fn check_lockfile() -> Result<()> {
    let manifest = project_root().join("fuzz/Cargo.toml");
    let mut cmd = process::cargo_cmd(&["metadata", "--format-version", "1", "--locked"]);
    cmd.arg("--manifest-path").arg(manifest);
    process::output(&mut cmd).map(drop)
}

fn run_target(
    cargo_fuzz: &Path,
    target: &str,
    corpus: &Path,
    seeds: &Path,
    secs: u32,
) -> Result<()> {
    let mut cmd = fuzz_cmd(cargo_fuzz, "run");
    cmd.current_dir(project_root().join("fuzz"))
        .arg(target)
        .arg(corpus)
        .arg(seeds)
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
        .arg("-print_final_stats=1");
    run(cmd).with_context(|| {
        format!(
            "fuzz target {target} failed; the input is in fuzz/artifacts/{target}/ \
             (replay it with `cargo fuzz run {target} FILE` in fuzz/)"
        )
    })
}

/// `cargo fuzz SUBCOMMAND`, building into `target/fuzz` with the flags
/// every run shares.
fn fuzz_cmd(cargo_fuzz: &Path, subcommand: &str) -> Command {
    let mut cmd = Command::new(cargo_fuzz);
    cmd.arg(subcommand)
        .arg("--target-dir")
        .arg(target_dir().join("fuzz"))
        // The stable compiler, accepting cargo-fuzz's `-Z` flags.
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

/// Writes the seed corpus of every target under `target/fuzz-seeds/`.
fn write_seeds() -> Result<PathBuf> {
    let dir = target_dir().join("fuzz-seeds");
    let _ = std::fs::remove_dir_all(&dir);
    let mut cmd = process::cargo_cmd(&[
        "run",
        "--quiet",
        "--locked",
        "-p",
        "spread-fuzz",
        "--bin",
        "spread-fuzz-seeds",
        "--",
    ]);
    cmd.arg(&dir);
    run(cmd)?;
    Ok(dir)
}

/// `target/tools/bin/cargo-fuzz`, installed from crates.io when it is
/// missing or another version.
fn install() -> Result<PathBuf> {
    let root = target_dir().join("tools");
    let bin = root.join("bin/cargo-fuzz");
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(CARGO_FUZZ_VERSION));
    if !installed {
        let mut cmd = process::cargo_cmd(&[
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            CARGO_FUZZ_VERSION,
            "--root",
        ]);
        cmd.arg(&root);
        run(cmd)?;
    }
    Ok(bin)
}

/// Where cargo builds: `CARGO_TARGET_DIR` if set, else `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => project_root().join("target"),
    }
}
