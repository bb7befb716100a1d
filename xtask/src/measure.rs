//! What `load` and `soak` share: release binaries, servers started in their
//! own process, and their resident memory read from `/proc`.

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::describe;
use crate::project_root;

/// The release profile's output directory: under `$CARGO_TARGET_DIR` when
/// cargo is told to build elsewhere, as it is then.
pub(crate) fn release_dir() -> PathBuf {
    target_dir().join("release")
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the root)
/// when set, else `target`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| project_root().join("target"), |d| project_root().join(d))
}

/// A server in its own process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    /// Its stdout after the `listening on` line, kept open: a server that
    /// prints to a closed pipe would die of it.
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Starts `command`, a server that prints `listening on 127.0.0.1:PORT`
    /// first.
    pub(crate) fn start(mut command: Command) -> Result<Server> {
        eprintln!("$ {}", describe(&command));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", describe(&command)))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().transpose()?.unwrap_or_default();
        let Some(port) = first.strip_prefix("listening on 127.0.0.1:") else {
            let _ = child.kill();
            bail!("{} said {first:?}", describe(&command));
        };
        let port = port.trim().parse().context("the server's port")?;
        Ok(Server {
            child,
            port,
            _stdout: lines,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `limit` for the server to exit by itself.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's resident memory now, in KiB (`VmRSS` in `/proc/PID/status`);
/// `None` once it has exited.
/// `command` run through `sh`, its limit of open files raised to the hard
/// limit first: ten thousand idle connections need more descriptors than
/// the usual soft limit of 1,024. `exec` keeps the process id.
pub(crate) fn with_open_files_raised(command: &Command) -> Command {
    let mut raised = Command::new("sh");
    raised
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => raised.env(key, value),
            None => raised.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        raised.current_dir(dir);
    }
    raised
}

pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads a process's RSS every `every` on a thread until stopped.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<u64>>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                samples.extend(rss_kib(pid));
                std::thread::sleep(every);
            }
            samples
        });
        RssSampler { stop, thread }
    }

    /// Stops sampling; the samples in KiB, oldest first.
    pub(crate) fn finish(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// KiB as MiB with one decimal.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The number of CPUs, for the reports.
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
