//! What the master calls: the worker's bot (the mind of its login) and one
//! builder object per builder the master configured for this worker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use spread::{Dict, RemoteError, RemoteReference, Value, reference, remote};
use tokio::sync::{mpsc, watch};

use crate::Stop;
use crate::command::{self, Args};

/// The version every command is offered at: the Python worker 4.3.0's
/// `command_version`. The master picks argument formats by it (`shell` at
/// 3.0 or later gets today's).
const COMMAND_VERSION: &str = "3.3";

/// The commands this worker runs, as the Python worker 4.3.0 names them
/// (both spellings of the transfers).
pub(crate) const COMMANDS: &[&str] = &[
    "shell",
    "uploadFile",
    "upload_file",
    "uploadDirectory",
    "upload_directory",
    "downloadFile",
    "download_file",
    "mkdir",
    "rmdir",
    "cpdir",
    "stat",
    "glob",
    "listdir",
    "rmfile",
];

/// The worker's bot: Buildbot's `BotPb`, the mind the master calls.
pub(crate) struct Bot {
    basedir: PathBuf,
    stop: mpsc::UnboundedSender<Stop>,
    builders: Mutex<BTreeMap<String, Arc<Builder>>>,
}

impl Bot {
    pub(crate) fn new(basedir: PathBuf, stop: mpsc::UnboundedSender<Stop>) -> Bot {
        Bot {
            basedir,
            stop,
            builders: Mutex::default(),
        }
    }

    fn builders(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Builder>>> {
        self.builders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Interrupts every running command and waits for each to end (its
    /// process group killed), for a worker that is stopping.
    pub(crate) async fn stop_commands(&self) {
        let builders: Vec<Arc<Builder>> = self.builders().values().cloned().collect();
        for builder in builders {
            builder.stop_command().await;
        }
    }
}

#[remote]
impl Bot {
    async fn print(&self, message: Value) {
        tracing::info!(message = %text(&message), "message from the master");
    }

    async fn get_worker_info(&self) -> Value {
        worker_info(&self.basedir)
    }

    async fn get_commands(&self) -> Value {
        commands()
    }

    async fn get_version(&self) -> String {
        version()
    }

    async fn set_builder_list(&self, wanted: Value) -> Result<Value, RemoteError> {
        let mut pairs = Vec::new();
        for pair in plain(&wanted).as_seq().unwrap_or_default() {
            match plain(pair).as_seq() {
                Some([name, dir]) => pairs.push((text(name), text(dir))),
                _ => {
                    return Err(RemoteError::value_error(format!(
                        "setBuilderList: not a (name, builddir) pair: {pair:?}"
                    )));
                }
            }
        }
        let mut answer = Dict::new();
        let mut removed = Vec::new();
        {
            let mut builders = self.builders();
            for (name, dir) in &pairs {
                let builder = builders
                    .entry(name.clone())
                    .or_insert_with(|| Arc::new(Builder::new(name.clone(), self.basedir.clone())))
                    .clone();
                builder.set_dir(dir)?;
                answer.insert(Value::from(name.as_str()), reference(builder));
            }
            builders.retain(|name, builder| {
                let keep = pairs.iter().any(|(wanted, _)| wanted == name);
                if !keep {
                    removed.push(builder.clone());
                }
                keep
            });
        }
        for builder in removed {
            builder.stop_command().await;
        }
        leftover_dirs(&self.basedir, &pairs);
        Ok(Value::Dict(answer))
    }

    async fn shutdown(&self) {
        tracing::info!("the master asked the worker to shut down");
        let _ = self.stop.send(Stop::MasterAsked);
    }
}

/// One builder on this worker: Buildbot's `WorkerForBuilderPb`.
pub(crate) struct Builder {
    name: String,
    basedir: PathBuf,
    dir: Mutex<PathBuf>,
    current: tokio::sync::Mutex<Option<Running>>,
}

/// The command a builder runs, which at most one at a time does.
struct Running {
    id: String,
    interrupt: watch::Sender<Option<String>>,
    done: tokio::task::JoinHandle<()>,
}

impl Builder {
    fn new(name: String, basedir: PathBuf) -> Builder {
        Builder {
            name,
            basedir,
            dir: Mutex::default(),
            current: tokio::sync::Mutex::new(None),
        }
    }

    fn set_dir(&self, builddir: &str) -> Result<(), RemoteError> {
        let dir = self.basedir.join(builddir);
        std::fs::create_dir_all(&dir).map_err(|e| {
            RemoteError::new(
                "builtins.OSError",
                format!("cannot make {}: {e}", dir.display()),
            )
        })?;
        *self.dir.lock().unwrap_or_else(|e| e.into_inner()) = dir;
        Ok(())
    }

    fn dir(&self) -> PathBuf {
        self.dir.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Interrupts the running command, if any, and waits until it ended.
    async fn stop_command(&self) {
        if let Some(running) = self.current.lock().await.take()
            && !running.done.is_finished()
        {
            tracing::info!(builder = %self.name, command = %running.id, "stopping the command");
            running
                .interrupt
                .send_replace(Some("the worker is stopping".into()));
            let _ = running.done.await;
        }
    }
}

#[remote]
impl Builder {
    async fn print(&self, message: Value) {
        tracing::info!(builder = %self.name, message = %text(&message), "message from the master");
    }

    async fn set_master(&self, _remote: Value) {}

    async fn start_build(&self) {}

    async fn start_command(
        &self,
        command_ref: RemoteReference,
        command_id: Value,
        command: Value,
        args: Value,
    ) -> Result<(), RemoteError> {
        let (id, name) = (text(&command_id), text(&command));
        let args = Args::new(plain(&args).as_dict().cloned().unwrap_or_default());
        let command = command::prepare(&id, &name, args, self.dir(), self.basedir.clone())?;
        let mut current = self.current.lock().await;
        if let Some(leftover) = current.take() {
            tracing::info!(builder = %self.name, "leftover command, dropping it");
            leftover
                .interrupt
                .send_replace(Some("a new command started".into()));
        }
        tracing::info!(builder = %self.name, command = %id, name = %name, "startCommand");
        let (interrupt, interrupted) = watch::channel(None);
        let done = tokio::spawn(command::run(command, command_ref, interrupted));
        *current = Some(Running {
            id,
            interrupt,
            done,
        });
        Ok(())
    }

    async fn interrupt_command(&self, command_id: Value, why: Value) {
        let id = text(&command_id);
        tracing::info!(builder = %self.name, command = %id, why = %text(&why), "asked to interrupt");
        match &*self.current.lock().await {
            Some(running) if !running.done.is_finished() => {
                running.interrupt.send_replace(Some(text(&why)));
            }
            _ => tracing::info!(" .. but none was running"),
        }
    }
}

/// The value behind a shared one (Jelly's identity is no matter here).
pub(crate) fn plain(value: &Value) -> &Value {
    match value {
        Value::Shared(shared) => shared.get().map_or(&Value::None, plain),
        other => other,
    }
}

/// A str, or bytes read as UTF-8 (Buildbot's `decode`), or anything else
/// as its debug form.
pub(crate) fn text(value: &Value) -> String {
    match plain(value) {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

fn version() -> String {
    format!("spread-buildbot-worker {}", env!("CARGO_PKG_VERSION"))
}

fn commands() -> Value {
    let mut commands = Dict::new();
    for name in COMMANDS {
        commands.insert(Value::from(*name), Value::from(COMMAND_VERSION));
    }
    Value::Dict(commands)
}

/// What `getWorkerInfo()` answers, key for key as the Python worker does:
/// the files of `BASEDIR/info`, the OS's release, the environment, and the
/// worker's facts.
fn worker_info(basedir: &Path) -> Value {
    let mut info = Dict::new();
    if let Ok(entries) = std::fs::read_dir(basedir.join("info")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if let (true, Ok(content)) = (path.is_file(), std::fs::read_to_string(&path)) {
                let name = entry.file_name().to_string_lossy().into_owned();
                info.insert(Value::from(name), Value::from(content));
            }
        }
    }
    if let Ok(release) = std::fs::read_to_string("/etc/os-release") {
        for line in release.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((key, value)) = line.split_once('=')
                && !value.is_empty()
            {
                let key = format!("os_{}", key.to_lowercase());
                info.insert(Value::from(key), Value::from(value.trim_matches('"')));
            }
        }
    }
    let mut environ = Dict::new();
    for (key, value) in std::env::vars_os() {
        environ.insert(
            Value::from(key.to_string_lossy().into_owned()),
            Value::from(value.to_string_lossy().into_owned()),
        );
    }
    let numcpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    info.insert(Value::from("environ"), Value::Dict(environ));
    info.insert(Value::from("system"), Value::from("posix"));
    info.insert(
        Value::from("basedir"),
        Value::from(basedir.to_string_lossy().into_owned()),
    );
    info.insert(Value::from("numcpus"), Value::from(numcpus as i64));
    info.insert(Value::from("version"), Value::from(version()));
    info.insert(Value::from("worker_commands"), commands());
    info.insert(Value::from("delete_leftover_dirs"), Value::from(false));
    Value::Dict(info)
}

/// Says which directories of the base directory no builder uses any more;
/// like the Python worker (without `delete_leftover_dirs`), it keeps them.
fn leftover_dirs(basedir: &Path, wanted: &[(String, String)]) {
    let Ok(entries) = std::fs::read_dir(basedir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let used = name == "info" || wanted.iter().any(|(_, dir)| *dir == name);
        if entry.path().is_dir() && !used {
            tracing::info!(
                dir = %name,
                "a leftover directory no builder uses: it can be deleted"
            );
        }
    }
}
