//! spread's reliability suites, one binary, against real processes over
//! loopback. The `echo_server` example must be built first
//! (`cargo build -p spread-examples --examples`; `cargo xtask ci` does it).

// Hostile peers against the Rust echo server, beside a well-behaved client.
mod hostile;

use std::path::PathBuf;
use std::process::Command;

use spread_interop::peer::{Process, workspace_root};

/// A built example binary.
fn example(name: &str) -> PathBuf {
    let path = workspace_root().join("target/debug/examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spread-examples --examples` first",
        path.display()
    );
    path
}

/// The Rust echo server, logging warnings (every closed connection's
/// reason) to its stderr, on a port of its choosing.
fn echo_server() -> (Process, u16) {
    let mut command = Command::new(example("echo_server"));
    command
        .arg("0")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1");
    let server = Process::spawn(command);
    let port = server.port();
    (server, port)
}
