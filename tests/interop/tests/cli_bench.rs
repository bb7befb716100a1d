//! `spread bench` against Twisted's echo server and the Rust one: every
//! call answered and checked, none wrong, and the summary line in its
//! documented form; with `--login`, against both login servers; and wrong
//! answers, remote errors, a refused login and a refused connection
//! counted as errors, with the exit statuses they give.
//!
//! The `spread` binary and the `echo_server` example must be built first
//! (`cargo build -p spread-cli -p spread-examples --examples`; `cargo xtask
//! ci` does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use spread_interop::peer::{Process, debug_dir, python, workspace_root};

fn spread() -> PathBuf {
    let path = debug_dir().join("spread");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spread-cli` first",
        path.display()
    );
    path
}

fn bench(port: u16, args: &[&str]) -> Output {
    Command::new(spread())
        .arg("bench")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .output()
        .expect("running spread bench")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The last stdout line, `calls=N seconds=S calls_per_sec=X p50_us=A
/// p99_us=B max_us=C errors=E`, as numbers by key; every key must be there.
fn summary(output: &Output) -> BTreeMap<String, f64> {
    let stdout = text(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let fields: BTreeMap<String, f64> = last
        .split(' ')
        .filter_map(|field| {
            let (key, value) = field.split_once('=')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect();
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut expected = vec![
        "calls",
        "seconds",
        "calls_per_sec",
        "p50_us",
        "p99_us",
        "max_us",
        "errors",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected, "summary line {last:?}");
    fields
}

fn twisted_echo(python: &Path, flags: &[&str]) -> Process {
    let mut command = Command::new(python);
    command
        .arg(workspace_root().join("tests/interop/python/echo_server.py"))
        .arg("0")
        .args(flags);
    Process::spawn(command)
}

fn rust_echo() -> Process {
    let mut command = Command::new(debug_dir().join("examples/echo_server"));
    command.arg("0");
    Process::spawn(command)
}

#[test]
fn bench_gets_every_answer_right_from_twisted_and_rust() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    for (server, process) in [
        ("Twisted", twisted_echo(&python, &[])),
        ("Rust", rust_echo()),
    ] {
        let port = process.port();
        // A fixed number of calls, pipelined on several connections, each
        // with its own number wrapped around a value of several types.
        let literal = "{'k': [1, 2.5, b'x', None], 's': 'text', 't': (True,)}";
        let output = bench(
            port,
            &[
                "--calls",
                "2000",
                "--connections",
                "20",
                "--concurrency",
                "4",
                "--arg",
                literal,
            ],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{server}: {stderr}");
        let fields = summary(&output);
        assert_eq!(fields["calls"], 2000.0, "{server}");
        assert_eq!(fields["errors"], 0.0, "{server}");
        assert!(fields["p50_us"] <= fields["p99_us"], "{server}: {fields:?}");
        assert!(fields["p99_us"] <= fields["max_us"], "{server}: {fields:?}");

        // A timed run on more connections than Twisted's listen backlog.
        let output = bench(port, &["--duration", "1", "--connections", "100"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{server}: {stderr}");
        let fields = summary(&output);
        assert!(fields["calls"] > 0.0, "{server}: {fields:?}");
        assert_eq!(fields["errors"], 0.0, "{server}");
        assert!(
            stderr.contains("100 of 100 connections set up"),
            "{server}: {stderr}"
        );
    }
}

#[test]
fn bench_logs_in_to_twisted_and_rust() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let mut twisted = Command::new(&python);
    twisted
        .arg(workspace_root().join("tests/interop/python/login_server.py"))
        .arg("0");
    let mut rust = Command::new(debug_dir().join("examples/login_server"));
    rust.arg("0");
    for (server, command) in [("Twisted", twisted), ("Rust", rust)] {
        let process = Process::spawn(command);
        let port = process.port();
        // Each connection logs in, then echoes on alice's perspective.
        let args = ["--calls", "200", "--connections", "4", "--concurrency", "2"];
        let output = bench(
            port,
            &[&args[..], &["--login", "alice:wonderland"]].concat(),
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{server}: {stderr}");
        let fields = summary(&output);
        assert_eq!(
            (fields["calls"], fields["errors"]),
            (200.0, 0.0),
            "{server}"
        );

        // A wrong password: every login fails, nothing is called.
        let output = bench(port, &[&args[..], &["--login", "alice:rabbit"]].concat());
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{server}: {stderr}");
        let fields = summary(&output);
        assert_eq!((fields["calls"], fields["errors"]), (0.0, 4.0), "{server}");
        assert!(
            stderr.contains("4 connections failed; the first: login as \"alice\" failed"),
            "{server}: {stderr}"
        );
    }
}

#[test]
fn bench_counts_wrong_answers_and_remote_errors() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    // Twisted's echo answering every tenth call wrongly: 20 of 200.
    let wrong = twisted_echo(&python, &["--wrong-echo"]);
    let output = bench(
        wrong.port(),
        &["--calls", "200", "--connections", "2", "--concurrency", "3"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let fields = summary(&output);
    assert_eq!((fields["calls"], fields["errors"]), (200.0, 20.0));
    assert!(
        stderr.contains("20 wrong answers; the first: call "),
        "{stderr}"
    );

    // A method that raises, on the Rust server: each call is an error.
    let rust = rust_echo();
    let output = bench(
        rust.port(),
        &["--method", "fail", "--arg", "'boom'", "--calls", "10"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(summary(&output)["errors"], 10.0);
    assert!(
        stderr.contains("10 remote errors; the first: call 0: builtins.ValueError: boom"),
        "{stderr}"
    );
}

#[test]
fn bench_refused_connections_exit_2() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = bench(port, &["--connections", "3", "--calls", "10"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(summary(&output)["errors"], 3.0);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("3 connections failed; the first: cannot connect to"),
        "{stderr}"
    );
}
