//! `cargo xtask soak [--secs N]`: the `soak_server` and `soak_client`
//! examples, each in its own process, for N seconds (default 300): the
//! client makes and drops references and caches without pause, and checks
//! at the end that both sides' tables are empty again. Every 5 s a line
//! shows both sides' tables and both processes' memory.
//!
//! Fails if the client does (an operation failed, a table or a count is not
//! back to zero), or if memory grew in the second half: the largest RSS
//! sample of the second half may exceed the largest of the first half by at
//! most 10 % (and 1 MiB, the allocator's rounding), for each process.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::measure::{Server, cpus, mib, release_dir, rss_kib};
use crate::process::{cargo, describe};

/// How much the second half's peak RSS may exceed the first half's.
const GROWTH_PERCENT: u64 = 10;
const GROWTH_SLACK_KIB: u64 = 1024;

fn parse(args: &[&str]) -> Result<u64> {
    match args {
        [] => Ok(300),
        ["--secs", n] => n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .context("--secs: a positive number"),
        _ => bail!("usage: cargo xtask soak [--secs N]"),
    }
}

/// RSS samples of the two processes, in KiB, one per progress line.
#[derive(Default)]
struct Samples {
    server: Vec<u64>,
    client: Vec<u64>,
}

pub(crate) fn run(args: &[&str]) -> Result<()> {
    let secs = parse(args)?;
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "spread-examples",
        "--example",
        "soak_server",
        "--example",
        "soak_client",
    ])?;
    let examples = release_dir().join("examples");
    let mut command = Command::new(examples.join("soak_server"));
    command.arg("0");
    let mut server = Server::start(command)?;
    let mut client = Command::new(examples.join("soak_client"));
    client.arg(server.port.to_string()).arg(secs.to_string());
    eprintln!("$ {}", describe(&client));
    let mut client = client
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start soak_client")?;
    let stdout = client.stdout.take().context("client stdout")?;
    let mut samples = Samples::default();
    let mut settled = None;
    let mut verdict = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line?;
        if line.starts_with("progress") {
            let (s, c) = (rss_kib(server.pid()), rss_kib(client.id()));
            samples.server.extend(s);
            samples.client.extend(c);
            let kib = |k: Option<u64>| k.map_or("?".into(), mib);
            println!("soak: {line} | rss server={} client={}", kib(s), kib(c));
        } else if line.starts_with("settled") {
            println!("soak: {line}");
            settled = Some(line);
        } else {
            println!("soak: {line}");
            verdict.push(line);
        }
    }
    let status = client.wait()?;
    // The client asks the server to stop; it may be gone already.
    if !server.wait_exit(Duration::from_secs(15)) {
        eprintln!("soak: the server did not stop when asked; killing it");
    }

    println!(
        "\nsoak: {secs} s, {} CPUs, `soak_client PORT {secs}` (4 connections × 8 operations in \
         flight) against `soak_server`, release builds",
        cpus()
    );
    let mut failures = Vec::new();
    for (name, rss) in [("server", &samples.server), ("client", &samples.client)] {
        match trend(rss) {
            Some((first, second, last)) => {
                let allowed = first + first * GROWTH_PERCENT / 100 + GROWTH_SLACK_KIB;
                println!(
                    "soak: {name} RSS: first half peak {}, second half peak {} (allowed {}), \
                     last {}, {} samples",
                    mib(first),
                    mib(second),
                    mib(allowed),
                    mib(last),
                    rss.len()
                );
                if second > allowed {
                    failures.push(format!("the {name}'s memory grew in the second half"));
                }
            }
            None => failures.push(format!(
                "too few RSS samples of the {name} ({}): run for at least 20 s",
                rss.len()
            )),
        }
    }
    if settled.is_none() {
        failures.push("the client printed no `settled` line".into());
    }
    if !status.success() || verdict.last().map(String::as_str) != Some("ok") {
        failures.push(format!(
            "the client failed ({status}): {}",
            verdict.join("; ")
        ));
    }
    if failures.is_empty() {
        println!("soak: ok: tables back to empty on both sides, memory flat");
        Ok(())
    } else {
        bail!("soak failed: {}", failures.join("; "))
    }
}

/// The first half's peak, the second half's peak and the last sample, when
/// there are at least four samples.
fn trend(samples: &[u64]) -> Option<(u64, u64, u64)> {
    if samples.len() < 4 {
        return None;
    }
    let (first, second) = samples.split_at(samples.len() / 2);
    Some((
        *first.iter().max()?,
        *second.iter().max()?,
        *samples.last()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_compares_the_halves_peaks() {
        assert_eq!(trend(&[5, 9, 6, 7, 8, 6]), Some((9, 8, 6)));
        // An odd count puts the middle sample in the second half.
        assert_eq!(trend(&[5, 6, 7, 8, 9]), Some((6, 9, 9)));
        assert_eq!(trend(&[1, 2, 3]), None);
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]).unwrap(), 300);
        assert_eq!(parse(&["--secs", "60"]).unwrap(), 60);
        assert!(parse(&["--secs", "0"]).is_err());
        assert!(parse(&["--minutes", "5"]).is_err());
    }
}
