//! A Python peer running real Twisted, spoken to over pipes.
//!
//! The peer (`tests/interop/python/jelly_peer.py`) reads one JSON request per
//! line and answers one JSON line: given Banana bytes, it decodes and
//! unjellies them with Twisted, and answers with the typed value it got and
//! with the bytes Twisted produces when it jellies that value again.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where cargo put the debug profile's binaries (the `spread` command, the
/// examples): `$CARGO_TARGET_DIR/debug` when cargo was told to build
/// elsewhere (as it tells the tests it runs, too), else `target/debug`.
pub fn debug_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        // A relative one is relative to where cargo ran: the root, for
        // `cargo xtask` and for the commands the docs give.
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    };
    target.join("debug")
}

/// The Python that has Twisted: `SPREAD_INTEROP_PYTHON`, else the venv that
/// `cargo xtask` installs. `None` when neither exists and this is not CI;
/// under CI a missing Twisted is an error, never a skip.
pub fn python() -> Result<Option<PathBuf>> {
    if let Some(p) = std::env::var_os("SPREAD_INTEROP_PYTHON") {
        return Ok(Some(PathBuf::from(p)));
    }
    let venv = workspace_root().join("target/interop-venv/bin/python");
    if venv.exists() {
        return Ok(Some(venv));
    }
    if std::env::var_os("CI").is_some() {
        bail!("Twisted is not installed: run the interop tests through `cargo xtask ci`");
    }
    Ok(None)
}

/// A running Python peer.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// What Twisted made of some bytes.
#[derive(Debug)]
pub struct Reply {
    /// The typed value Twisted unjellied.
    pub value: Json,
    /// Twisted's own Banana bytes (pb dialect) for that value, jellied again.
    pub banana_pb: Vec<u8>,
}

/// What PB's default receiving policy made of a value.
#[derive(Debug)]
pub enum PbDecision {
    /// Accepted; the typed value Twisted built.
    Accepted(Json),
    /// Refused with `InsecureJelly`; its message.
    Insecure(String),
}

impl Peer {
    /// Starts the peer with `python`.
    pub fn start(python: &Path) -> Result<Peer> {
        let script = workspace_root().join("tests/interop/python/jelly_peer.py");
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} {}", python.display(), script.display()))?;
        let stdin = child.stdin.take().context("peer stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("peer stdout")?);
        Ok(Peer {
            child,
            stdin,
            stdout,
        })
    }

    /// Sends Banana bytes (pb dialect) of one jellied value; returns what
    /// Twisted unjellied and how Twisted jellies it back.
    pub fn roundtrip(&mut self, banana_pb: &[u8]) -> Result<Reply> {
        self.request(json!({ "banana_pb": crate::typed::to_hex(banana_pb) }))
    }

    /// Asks Twisted to build the Python object that a typed value describes
    /// and to jelly it: Twisted's own bytes for that value.
    pub fn jelly_typed(&mut self, typed: &Json) -> Result<Reply> {
        self.request(json!({ "typed": typed }))
    }

    /// Asks Twisted to unjelly Banana bytes under PB's own receiving policy
    /// (`jelly.globalSecurity`).
    pub fn pb_unjelly(&mut self, banana_pb: &[u8]) -> Result<PbDecision> {
        let reply = self.exchange(&json!({ "pb_unjelly": crate::typed::to_hex(banana_pb) }))?;
        if let Some(value) = reply.get("accepted") {
            return Ok(PbDecision::Accepted(value.clone()));
        }
        match reply.get("insecure").and_then(Json::as_str) {
            Some(message) => Ok(PbDecision::Insecure(message.to_owned())),
            None => bail!("unexpected answer {reply}"),
        }
    }

    fn request(&mut self, request: Json) -> Result<Reply> {
        let reply = self.exchange(&request)?;
        let hex = reply["banana_pb"]
            .as_str()
            .context("reply without banana_pb")?;
        Ok(Reply {
            value: reply["value"].clone(),
            banana_pb: crate::typed::hex(hex)?,
        })
    }

    fn exchange(&mut self, request: &Json) -> Result<Json> {
        writeln!(self.stdin, "{request}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the Python peer closed its output");
        }
        let reply: Json = serde_json::from_str(&line).context("peer reply is not JSON")?;
        if let Some(err) = reply.get("error") {
            bail!("Twisted refused {request}: {err}");
        }
        Ok(reply)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Closing stdin ends the peer's loop; kill is the backstop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process, killed if the test ends early, whose output lines
/// arrive on channels (read on threads, so every wait can be bounded, and
/// so the child never writes into a pipe nobody reads). Its stdin stays
/// open until it is dropped: the Python servers stop when it closes.
#[derive(Debug)]
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
}

/// Sends each line `from` writes down a channel, on a thread of its own.
fn lines_of(from: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

impl Process {
    /// Starts `command`, its stdin a pipe kept open and its stdout and
    /// stderr read.
    pub fn spawn(mut command: Command) -> Process {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        Process {
            child,
            lines: lines_of(stdout),
            errors: lines_of(stderr),
        }
    }

    /// Waits, a bounded time, for a line starting with `prefix`; returns it
    /// and every line before it.
    pub fn wait_for(&self, prefix: &str) -> (String, Vec<String>) {
        wait_for_line(&self.lines, |line| line.starts_with(prefix), prefix)
    }

    /// Waits, a bounded time, for a line of stderr that contains `needle`
    /// (a logged reason, say); returns it and every line before it.
    pub fn wait_for_stderr(&self, needle: &str) -> (String, Vec<String>) {
        wait_for_line(&self.errors, |line| line.contains(needle), needle)
    }

    /// The port of a server that said `listening on 127.0.0.1:PORT`.
    pub fn port(&self) -> u16 {
        let (line, _) = self.wait_for("listening on 127.0.0.1:");
        line.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process at once (SIGKILL: no chance to say goodbye) and
    /// reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits at most 20 s for a line that matches.
fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    matches: impl Fn(&str) -> bool,
    what: &str,
) -> (String, Vec<String>) {
    let mut before = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(20)) {
            Ok(line) if matches(&line) => return (line, before),
            Ok(line) => before.push(line),
            Err(_) => panic!("no line with {what:?}; got {before:?}"),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
