//! The howto's examples, Rust and Twisted mixed: every pair runs Rust →
//! Rust, Rust → Twisted and Twisted → Rust, and both sides must print the
//! howto's lines; a receiver that registered nothing refuses the pond with
//! InsecureJelly, which the sender reports, both ways.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use spread_interop::peer::{debug_dir, python, workspace_root};

/// The venv's python, or `None` (after saying so) where Twisted is not
/// installed and this is not CI.
fn twisted() -> Option<std::path::PathBuf> {
    let python = python().unwrap();
    if python.is_none() {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
    }
    python
}

#[derive(Clone, Copy, Debug)]
enum Side {
    Rust,
    Twisted,
}

fn command(side: Side, program: &str, python: &Path) -> Command {
    match side {
        Side::Rust => Command::new(debug_dir().join("examples").join(program)),
        Side::Twisted => {
            let mut cmd = Command::new(python);
            cmd.arg(
                workspace_root()
                    .join("tests/interop/python")
                    .join(format!("{program}.py")),
            );
            cmd
        }
    }
}

/// Reads the rest of a child's output until it exits (its stdout closes),
/// a bounded time; kills it otherwise.
fn rest_until_exit(
    child: &mut Child,
    mut out: impl Read + Send + 'static,
    limit: Duration,
) -> Option<String> {
    let (tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    let rest = done.recv_timeout(limit).ok();
    if rest.is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    rest
}

struct Run {
    sender_status: Option<i32>,
    sender: String,
    receiver: String,
}

/// Starts the receiver on a free port, runs the sender against it, and
/// waits for the receiver to stop (the sender asks it to).
fn run_pair(pair: &str, receiver: Side, sender: Side, unregistered: bool, python: &Path) -> Run {
    let mut rx = command(receiver, &format!("{pair}_receiver"), python);
    rx.arg("0").stdout(Stdio::piped()).stderr(Stdio::null());
    if unregistered {
        rx.arg("--unregistered");
    }
    let mut rx = rx.spawn().unwrap();
    let mut rx_out = BufReader::new(rx.stdout.take().unwrap());
    let mut first = String::new();
    rx_out.read_line(&mut first).unwrap();
    let port = first
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .unwrap_or_else(|| panic!("{pair} receiver said {first:?}"))
        .to_owned();
    let out = command(sender, &format!("{pair}_sender"), python)
        .arg(&port)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let rest = rest_until_exit(&mut rx, rx_out, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the {pair} receiver did not stop after shutdown"));
    Run {
        sender_status: out.status.code(),
        sender: String::from_utf8_lossy(&out.stdout).into_owned(),
        receiver: rest,
    }
}

fn assert_lines(what: &str, output: &str, expected: &[&str]) {
    let lines: Vec<&str> = output.lines().collect();
    let mut at = 0;
    for want in expected {
        match lines[at..].iter().position(|l| l.starts_with(want)) {
            Some(i) => at += i + 1,
            None => panic!("{what}: expected a line starting {want:?} (in order) in:\n{output}"),
        }
    }
}

const SIDES: [(Side, Side); 3] = [
    (Side::Rust, Side::Rust),
    (Side::Rust, Side::Twisted),
    (Side::Twisted, Side::Rust),
];

/// Runs `pair` in every direction and checks the howto's lines on both
/// sides, in order.
fn check_pair(pair: &str, sender_lines: &[&str], receiver_lines: &[&str]) {
    let Some(python) = twisted() else { return };
    for (sender, receiver) in SIDES {
        let what = format!("{pair}: {sender:?} sender, {receiver:?} receiver");
        let run = run_pair(pair, receiver, sender, false, &python);
        assert_eq!(run.sender_status, Some(0), "{what}:\n{}", run.sender);
        assert_lines(&what, &run.sender, sender_lines);
        assert_lines(&what, &run.receiver, receiver_lines);
    }
}

#[test]
fn copy_pair() {
    check_pair(
        "copy",
        &[
            "7 frogs",
            "copy_sender.CopyPond",
            "pond arrived safe and sound",
        ],
        &[" got pond:", "7 frogs"],
    );
}

#[test]
fn copy2_pair() {
    check_pair(
        "copy2",
        &["count 7", "pond arrived safe and sound"],
        &[" got pond:", " count 7"],
    );
}

#[test]
fn an_unregistered_pond_is_refused_with_insecure_jelly_both_ways() {
    let Some(python) = twisted() else { return };
    // Each pair, and the line its receiver prints once it has built a pond.
    let pairs = [
        ("copy", "got pond"),
        ("copy2", "got pond"),
        ("cache", "setting ducks"),
    ];
    for (sender, receiver) in [(Side::Rust, Side::Twisted), (Side::Twisted, Side::Rust)] {
        for (pair, built) in pairs {
            let what =
                format!("{pair}: {sender:?} sender, {receiver:?} receiver, nothing registered");
            let run = run_pair(pair, receiver, sender, true, &python);
            assert_eq!(run.sender_status, Some(2), "{what}:\n{}", run.sender);
            assert_lines(
                &what,
                &run.sender,
                &["error during takePond:", " InsecureJelly"],
            );
            assert!(
                !run.receiver.contains(built),
                "{what}: the receiver built a pond:\n{}",
                run.receiver
            );
        }
    }
}

#[test]
fn cache_pair() {
    // The owner sees its pond change, and sees the receiver stop observing
    // once it drops its copy.
    check_pair(
        "cache",
        &[
            "I have [2] ducks",
            "I have [3] ducks",
            "I have [2] ducks",
            "stoppedObserving",
        ],
        &[
            " cache - sitting, er, setting ducks",
            "got pond:",
            "[2] ducks:  ['one duck', 'two duck']",
            " cache - addDuck",
            "[3] ducks:  ['one duck', 'two duck', 'ugly duckling']",
            " cache - removeDuck",
            "[2] ducks:  ['two duck', 'ugly duckling']",
            "dropping pond",
        ],
    );
}
