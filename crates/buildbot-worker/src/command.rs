//! One command the master started: its arguments, and the life every
//! command shares (updates while it runs, `elapsed`, then `complete`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use spread::{Dict, RemoteError, RemoteReference, Value};
use tokio::sync::watch;

use crate::bot::{plain, text};
use crate::output::Updates;
use crate::{fs, shell, transfer};

/// The `args` dict of `startCommand`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Args(Dict);

impl Args {
    pub(crate) fn new(dict: Dict) -> Args {
        Args(dict)
    }

    /// The value at `key`; `None` when absent or Python's `None`.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self.0.get_str(key).map(plain) {
            None | Some(Value::None) => None,
            Some(value) => Some(value),
        }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.get_str(key).is_some()
    }

    pub(crate) fn str(&self, key: &str) -> Option<String> {
        self.get(key).map(text)
    }

    pub(crate) fn bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Int(n)) => *n != 0,
            Some(_) => true,
            None => default,
        }
    }

    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(Value::Int(n)) => Some(*n),
            Some(Value::Bool(b)) => Some(i64::from(*b)),
            Some(Value::Float(f)) => Some(*f as i64),
            _ => None,
        }
    }

    /// A number of seconds (int or float), as Python would use it.
    pub(crate) fn seconds(&self, key: &str) -> Option<Number> {
        match self.get(key) {
            Some(Value::Int(n)) => Some(Number::Int(*n)),
            Some(Value::Float(f)) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    pub(crate) fn reference(&self, key: &str) -> Option<RemoteReference> {
        self.get(key)?.downcast_ref::<RemoteReference>().cloned()
    }
}

/// A number as the master sent it, for headers that print it as Python
/// does (`1200` or `1200.0`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn seconds(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(f) => f,
        }
    }

    /// Python's `str()` of it.
    pub(crate) fn python(self) -> String {
        match self {
            Number::Int(n) => n.to_string(),
            Number::Float(f) => crate::pyrepr::float(f),
        }
    }
}

/// A command ready to run: which one, its arguments, and its directories.
#[derive(Debug)]
pub(crate) struct Command {
    pub(crate) id: String,
    pub(crate) kind: Kind,
    pub(crate) args: Args,
    /// The builder's directory (`BASEDIR/BUILDDIR`): relative paths in the
    /// arguments are relative to it.
    pub(crate) builder_dir: PathBuf,
    /// The worker's base directory, where `rm` and `cp` run.
    pub(crate) worker_basedir: PathBuf,
}

/// The commands of the Python worker 4.3.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Shell,
    UploadFile,
    UploadDirectory,
    DownloadFile,
    Mkdir,
    Rmdir,
    Cpdir,
    Stat,
    Glob,
    Listdir,
    Rmfile,
}

impl Kind {
    fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "shell" => Kind::Shell,
            "uploadFile" | "upload_file" => Kind::UploadFile,
            "uploadDirectory" | "upload_directory" => Kind::UploadDirectory,
            "downloadFile" | "download_file" => Kind::DownloadFile,
            "mkdir" => Kind::Mkdir,
            "rmdir" => Kind::Rmdir,
            "cpdir" => Kind::Cpdir,
            "stat" => Kind::Stat,
            "glob" => Kind::Glob,
            "listdir" => Kind::Listdir,
            "rmfile" => Kind::Rmfile,
            _ => return None,
        })
    }

    /// The arguments the Python worker requires, and its class name for
    /// the error when one is missing.
    fn required(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Kind::Shell => ("WorkerShellCommand", &["workdir", "command"]),
            Kind::UploadFile => (
                "WorkerFileUploadCommand",
                &["workdir", "workersrc", "writer", "blocksize"],
            ),
            Kind::UploadDirectory => (
                "WorkerDirectoryUploadCommand",
                &["workdir", "workersrc", "writer", "blocksize"],
            ),
            Kind::DownloadFile => (
                "WorkerFileDownloadCommand",
                &["workdir", "workerdest", "reader", "blocksize"],
            ),
            Kind::Mkdir => ("MakeDirectory", &["dir"]),
            Kind::Rmdir => ("RemoveDirectory", &["dir"]),
            Kind::Cpdir => ("CopyDirectory", &["fromdir", "todir"]),
            Kind::Stat => ("StatFile", &["file"]),
            Kind::Glob => ("GlobPath", &["path"]),
            Kind::Listdir => ("ListDir", &["dir"]),
            Kind::Rmfile => ("RemoveFile", &["path"]),
        }
    }
}

/// Checks the command's name and arguments, as the Python worker does
/// before answering `startCommand`: an unknown command or a missing
/// argument fails the call itself.
pub(crate) fn prepare(
    id: &str,
    name: &str,
    args: Args,
    builder_dir: PathBuf,
    worker_basedir: PathBuf,
) -> Result<Command, RemoteError> {
    let Some(kind) = Kind::from_name(name) else {
        return Err(RemoteError::new(
            "buildbot_worker.base.UnknownCommand",
            format!("(command {id}): unrecognized WorkerCommand '{name}'"),
        ));
    };
    let (class, required) = kind.required();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|key| !args.has(key))
        .collect();
    if !missing.is_empty() {
        return Err(RemoteError::value_error(format!(
            "{class} is missing args: {}",
            missing.join(", ")
        )));
    }
    Ok(Command {
        id: id.to_owned(),
        kind,
        args,
        builder_dir,
        worker_basedir,
    })
}

/// What a running command has: where its updates go, and whether it was
/// asked to stop (and why).
pub(crate) struct Context {
    pub(crate) updates: Updates,
    pub(crate) interrupted: watch::Receiver<Option<String>>,
}

impl Context {
    /// Whether the command was interrupted.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.interrupted.borrow().is_some()
    }
}

/// Runs a command to its end and tells the master: its updates, `elapsed`
/// (unless interrupted, as the Python worker's status is silenced then),
/// and `complete`. A connection lost on the way interrupts it, as the
/// Python worker's `lostRemoteStep` does.
pub(crate) async fn run(
    command: Command,
    command_ref: RemoteReference,
    mut interrupted: watch::Receiver<Option<String>>,
) {
    let broker = command_ref.broker();
    let (lost_tx, lost_rx) = watch::channel(None);
    // One receiver for the command: the master's interrupt or a lost
    // connection, whichever comes first.
    let forward = tokio::spawn(async move {
        tokio::select! {
            why = async { interrupted.wait_for(Option::is_some).await.map(|why| why.clone()) } => {
                if let Ok(why) = why {
                    lost_tx.send_replace(why);
                }
            }
            _ = broker.closed() => {
                lost_tx.send_replace(Some("the connection to the master was lost".into()));
            }
        }
    });
    let mut cx = Context {
        updates: Updates::new(command_ref.clone()),
        interrupted: lost_rx,
    };
    let started = Instant::now();
    tracing::debug!(command = %command.id, kind = ?command.kind, "running");
    match command.kind {
        Kind::Shell => shell::command(&command, &mut cx).await,
        Kind::UploadFile => transfer::upload_file(&command, &mut cx).await,
        Kind::UploadDirectory => transfer::upload_directory(&command, &mut cx).await,
        Kind::DownloadFile => transfer::download_file(&command, &mut cx).await,
        Kind::Mkdir => fs::mkdir(&command, &mut cx).await,
        Kind::Rmdir => fs::rmdir(&command, &mut cx).await,
        Kind::Cpdir => fs::cpdir(&command, &mut cx).await,
        Kind::Stat => fs::stat(&command, &mut cx).await,
        Kind::Glob => fs::glob(&command, &mut cx).await,
        Kind::Listdir => fs::listdir(&command, &mut cx).await,
        Kind::Rmfile => fs::rmfile(&command, &mut cx).await,
    }
    forward.abort();
    if !cx.is_interrupted() {
        let elapsed = started.elapsed().as_secs_f64();
        cx.updates.status("elapsed", Value::from(elapsed)).await;
    }
    cx.updates.finish().await;
    match command_ref.call_remote("complete", vec![Value::None]).await {
        Ok(_) => tracing::debug!(command = %command.id, "complete"),
        Err(e) => tracing::warn!(command = %command.id, %e, "the master did not take complete()"),
    }
}

/// `base` joined with a path from the master (`~` expanded first, as the
/// Python worker does for the paths it expands).
pub(crate) fn join(base: &Path, path: &str) -> PathBuf {
    base.join(expand_user(path))
}

/// Python's `os.path.expanduser` for `~` and `~/...`.
pub(crate) fn expand_user(path: &str) -> PathBuf {
    match (path.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => PathBuf::from(home).join(&rest[1..]),
        _ => PathBuf::from(path),
    }
}

/// An OS error as Python's `e.strerror` and `e.errno` show it.
pub(crate) fn os_error(e: &std::io::Error) -> (String, i64) {
    let errno = e.raw_os_error().map_or(-1, i64::from);
    let text = e.to_string();
    let strerror = match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    (strerror, errno)
}

#[cfg(test)]
pub(crate) mod tests {
    //! Commands run against a recording stand-in for the master's
    //! `RemoteCommand`, over an in-memory PB connection.

    use std::sync::{Arc, Mutex};

    use spread::broker::Role;
    use spread::{BoxFuture, Broker, BrokerOptions, Call, Dict, Referenceable, RemoteError, Value};
    use tokio::sync::{Notify, watch};

    use super::{Args, prepare, run};
    use crate::bot::{plain, text};

    /// What the master's side of a command received.
    #[derive(Default)]
    pub(crate) struct Recorder {
        pub(crate) updates: Mutex<Vec<(String, Value)>>,
        completed: Notify,
    }

    impl Referenceable for Recorder {
        fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
            Box::pin(async move {
                match call.method.as_str() {
                    "update" => {
                        for pair in call.arg(0)?.as_seq().unwrap_or_default() {
                            let pair = plain(pair).as_seq().unwrap();
                            for (key, value) in plain(&pair[0]).as_dict().unwrap().iter() {
                                self.updates
                                    .lock()
                                    .unwrap()
                                    .push((text(key), value.clone()));
                            }
                        }
                        Ok(Value::from(0))
                    }
                    "complete" => {
                        self.completed.notify_one();
                        Ok(Value::None)
                    }
                    other => Err(RemoteError::no_such_method(other)),
                }
            })
        }
    }

    impl Recorder {
        /// Every piece of text sent under `key`, joined.
        pub(crate) fn text(&self, key: &str) -> String {
            self.updates
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| text(v))
                .collect()
        }

        /// The values sent under `key`.
        pub(crate) fn values(&self, key: &str) -> Vec<Value> {
            self.updates
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .collect()
        }
    }

    /// Runs `name` with `args` in `dir` to its `complete`; `interrupt`
    /// lets the test interrupt it.
    pub(crate) async fn run_command(
        name: &str,
        args: Vec<(&str, Value)>,
        dir: &std::path::Path,
        interrupt: Option<watch::Receiver<Option<String>>>,
    ) -> Arc<Recorder> {
        let (a, b) = tokio::io::duplex(1 << 20);
        let recorder = Arc::new(Recorder::default());
        let master = BrokerOptions::default().with_root(recorder.clone());
        let (_master, serving) = Broker::new(a, Role::Server, master);
        let (worker, connecting) = Broker::new(b, Role::Client, BrokerOptions::default());
        tokio::spawn(serving);
        tokio::spawn(connecting);
        let command_ref = worker.root_object().await.unwrap();
        let mut dict = Dict::new();
        for (key, value) in args {
            dict.insert(Value::from(key), value);
        }
        let command = prepare(
            "1",
            name,
            Args::new(dict),
            dir.to_path_buf(),
            dir.to_path_buf(),
        )
        .unwrap();
        let (_keep, interrupted) = watch::channel(None);
        let completed = recorder.completed.notified();
        run(command, command_ref, interrupt.unwrap_or(interrupted)).await;
        completed.await;
        recorder
    }
}
