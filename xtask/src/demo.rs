//! `cargo xtask demo`: the howto's live-cache example, Rust and Twisted
//! mixed, with every line each side prints, labelled.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::cargo;
use crate::{project_root, venv};

#[derive(Clone, Copy)]
enum Side {
    Rust,
    Twisted,
}

impl Side {
    fn label(self, role: &str) -> String {
        match self {
            Side::Rust => format!("rust {role}"),
            Side::Twisted => format!("twisted {role}"),
        }
    }

    fn command(self, program: &str, python: &Path) -> Command {
        match self {
            Side::Rust => Command::new(project_root().join("target/debug/examples").join(program)),
            Side::Twisted => {
                let mut cmd = Command::new(python);
                cmd.arg(
                    project_root()
                        .join("tests/interop/python")
                        .join(format!("{program}.py")),
                );
                cmd
            }
        }
    }
}

pub(crate) fn run() -> Result<()> {
    let python: PathBuf = venv::python()?;
    cargo(&[
        "build",
        "--quiet",
        "--package",
        "spread-examples",
        "--examples",
        "--locked",
    ])?;
    for (sender, receiver) in [
        (Side::Rust, Side::Rust),
        (Side::Twisted, Side::Rust),
        (Side::Rust, Side::Twisted),
    ] {
        println!(
            "\n== {} -> {}",
            sender.label("cache_sender"),
            receiver.label("cache_receiver")
        );
        pair(sender, receiver, &python)?;
    }
    println!("\nThe same pond, passed as a live cache between Rust and Twisted both ways.");
    Ok(())
}

fn pair(sender: Side, receiver: Side, python: &Path) -> Result<()> {
    let mut rx = receiver
        .command("cache_receiver", python)
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the receiver")?;
    let mut rx_out = BufReader::new(rx.stdout.take().context("receiver stdout")?);
    let mut first = String::new();
    rx_out.read_line(&mut first)?;
    let Some(port) = first.trim().strip_prefix("listening on 127.0.0.1:") else {
        let _ = rx.kill();
        bail!("the receiver said {first:?}");
    };
    let out = sender
        .command("cache_sender", python)
        .arg(port)
        .stderr(Stdio::null())
        .output()
        .context("running the sender")?;
    // The sender shut the receiver down: its output ends when it exits.
    // Read it on a thread so that the wait is bounded.
    let (tx, done) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = tx.send(rx_out.read_to_string(&mut rest).map(|_| rest));
    });
    let Ok(rest) = done.recv_timeout(Duration::from_secs(10)) else {
        let _ = rx.kill();
        bail!("the receiver did not stop");
    };
    let rest = rest?;
    let _ = rx.wait();
    let sender_label = sender.label("sender");
    let receiver_label = receiver.label("receiver");
    println!("[{receiver_label}] {}", first.trim_end());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        println!("[{sender_label}] {line}");
    }
    for line in rest.lines() {
        println!("[{receiver_label}] {line}");
    }
    if !out.status.success() {
        bail!("the sender failed: {}", out.status);
    }
    Ok(())
}
