//! spread's reliability suites, one binary, against real processes over
//! loopback. The `echo_server` example must be built first
//! (`cargo build -p spread-examples --examples`; `cargo xtask ci` does it).

// Hostile peers against the Rust echo server, beside a well-behaved client.
mod hostile;

// Processes killed mid-call, servers restarted, graceful shutdown.
mod faults;

// Tables empty again after many calls passing references and caches.
mod tables;

use std::path::PathBuf;
use std::process::Command;

use spread_interop::peer::{Process, debug_dir, python, workspace_root};

/// A built example binary.
fn example(name: &str) -> PathBuf {
    let path = debug_dir().join("examples").join(name);
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

/// A Python peer of `tests/interop/python`, run with the Python that has
/// Twisted (`cargo xtask ci` installs it; `cargo xtask venv` does only that).
fn twisted(script: &str) -> Command {
    let python = python()
        .unwrap()
        .expect("Twisted is not installed: run `cargo xtask venv` first");
    let mut command = Command::new(python);
    command.arg(workspace_root().join("tests/interop/python").join(script));
    command
}

/// The `spread` command, built.
fn spread_command() -> Command {
    let path = debug_dir().join("spread");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spread-cli` first",
        path.display()
    );
    Command::new(path)
}

/// A runtime for the Rust side of a test.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `future` on `runtime`, failing the test if it takes longer than
/// [`PATIENCE`](spread_reliability::PATIENCE).
fn within<T>(runtime: &tokio::runtime::Runtime, future: impl Future<Output = T>) -> T {
    runtime
        .block_on(async { tokio::time::timeout(spread_reliability::PATIENCE, future).await })
        .expect("took longer than the test's patience")
}
