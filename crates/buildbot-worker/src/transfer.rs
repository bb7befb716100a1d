//! The transfers: `uploadFile`, `uploadDirectory` and `downloadFile`,
//! through the writer and reader references the master passes, a block at
//! a time, each block's answer awaited before the next (the master's pace).
//! They end with `rc` (1 on any failure) and `stderr` if there was one, as
//! the Python worker's transfer commands do, even when interrupted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use spread::{RemoteReference, Value};
use tokio::sync::watch;

use crate::bot::text;
use crate::command::{Command, Context, join};

/// What a transfer ends with.
#[derive(Debug, Default)]
struct Outcome {
    rc: i64,
    stderr: Option<String>,
}

impl Outcome {
    fn fail(&mut self, message: String) {
        self.rc = 1;
        self.stderr.get_or_insert(message);
    }

    async fn send(self, cx: &mut Context) {
        cx.updates.status("rc", Value::from(self.rc)).await;
        if let Some(stderr) = self.stderr {
            cx.updates.text("stderr", &stderr).await;
        }
    }
}

/// The worker-side path of a transfer: `workdir` joined with `key`.
fn path(command: &Command, key: &str) -> PathBuf {
    let args = &command.args;
    let base = join(
        &command.builder_dir,
        &args.str("workdir").unwrap_or_default(),
    );
    join(&base, &args.str(key).unwrap_or_default())
}

/// `maxsize` (no limit if absent) and `blocksize`.
fn sizes(command: &Command) -> (Option<u64>, usize) {
    let max = command
        .args
        .int("maxsize")
        .map(|n| u64::try_from(n).unwrap_or(0));
    let block = command.args.int("blocksize").unwrap_or(16 * 1024).max(1);
    (max, usize::try_from(block).unwrap_or(16 * 1024))
}

/// Sends `source` through `writer.write(block)`, a block at a time, within
/// `max` bytes.
async fn send_blocks(
    source: &mut impl Read,
    writer: &RemoteReference,
    (max, block): (Option<u64>, usize),
    what: &Path,
    interrupted: &watch::Receiver<Option<String>>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let mut remaining = max;
    let mut buf = vec![0u8; block];
    loop {
        if interrupted.borrow().is_some() {
            outcome.rc = 1;
            return Ok(());
        }
        let mut length = block;
        if let Some(left) = remaining {
            length = length.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        if length == 0 {
            outcome.fail(format!(
                "Maximum filesize reached, truncating file '{}'",
                what.display()
            ));
            return Ok(());
        }
        let n = source.read(&mut buf[..length]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        if let Some(left) = remaining.as_mut() {
            *left -= n as u64;
        }
        writer
            .call_remote("write", vec![Value::from(&buf[..n])])
            .await
            .map_err(|e| e.to_string())?;
    }
}

pub(crate) async fn upload_file(command: &Command, cx: &mut Context) {
    let mut outcome = Outcome::default();
    let path = path(command, "workersrc");
    let Some(writer) = command.args.reference("writer") else {
        outcome.fail("no writer to upload to".into());
        return outcome.send(cx).await;
    };
    let keepstamp = command.args.bool("keepstamp", false);
    let stamps = std::fs::metadata(&path).ok().map(|m| {
        use std::os::unix::fs::MetadataExt;
        let seconds = |s: i64, ns: i64| s as f64 + ns as f64 / 1e9;
        (
            seconds(m.atime(), m.atime_nsec()),
            seconds(m.mtime(), m.mtime_nsec()),
        )
    });
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => Some(file),
        Err(_) => {
            outcome.fail(format!("Cannot open file '{}' for upload", path.display()));
            None
        }
    };
    if !cx.is_interrupted() {
        cx.updates
            .text("header", &format!("sending {}\n", path.display()))
            .await;
    }
    let sent = match file.as_mut() {
        Some(file) => {
            send_blocks(
                file,
                &writer,
                sizes(command),
                &path,
                &cx.interrupted.clone(),
                &mut outcome,
            )
            .await
        }
        None => Ok(()),
    };
    drop(file);
    let closed = writer.call_remote("close", vec![]).await;
    match sent {
        Ok(()) => {
            if let Err(e) = closed {
                outcome.fail(format!("the master could not close the upload: {e}"));
            } else if keepstamp && let Some((atime, mtime)) = stamps {
                let times = Value::Tuple(vec![Value::from(atime), Value::from(mtime)]);
                if let Err(e) = writer.call_remote("utime", vec![times]).await {
                    outcome.fail(format!("the master could not set the times: {e}"));
                }
            }
        }
        Err(e) => outcome.fail(format!("upload of '{}' failed: {e}", path.display())),
    }
    outcome.send(cx).await;
}

/// A tar archive of the directory (compressed as asked) made by `tar`, then
/// sent as a file is, then `unpack()`.
pub(crate) async fn upload_directory(command: &Command, cx: &mut Context) {
    let mut outcome = Outcome::default();
    let path = path(command, "workersrc");
    let Some(writer) = command.args.reference("writer") else {
        outcome.fail("no writer to upload to".into());
        return outcome.send(cx).await;
    };
    let flag = match command.args.str("compress").as_deref() {
        Some("gz") => "-czf",
        Some("bz2") => "-cjf",
        _ => "-cf",
    };
    let archive = std::env::temp_dir().join(format!(
        "buildbot-transfer-{}-{}",
        std::process::id(),
        command.id
    ));
    let made = if path.is_dir() {
        tokio::process::Command::new("tar")
            .arg(flag)
            .arg(&archive)
            .arg("-C")
            .arg(&path)
            .arg(".")
            .output()
            .await
            .map_err(|e| e.to_string())
            .and_then(|out| {
                if out.status.success() {
                    Ok(())
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).into_owned())
                }
            })
    } else {
        Err("No such file or directory".into())
    };
    if let Err(e) = made {
        let _ = std::fs::remove_file(&archive);
        outcome.fail(format!(
            "Cannot read directory '{}' for upload: {e}",
            path.display()
        ));
        return outcome.send(cx).await;
    }
    if !cx.is_interrupted() {
        cx.updates
            .text("header", &format!("sending {}\n", path.display()))
            .await;
    }
    let sent = match std::fs::File::open(&archive) {
        Ok(mut file) => {
            send_blocks(
                &mut file,
                &writer,
                sizes(command),
                &path,
                &cx.interrupted.clone(),
                &mut outcome,
            )
            .await
        }
        Err(e) => Err(e.to_string()),
    };
    let _ = std::fs::remove_file(&archive);
    match sent {
        Ok(()) => {
            if let Err(e) = writer.call_remote("unpack", vec![]).await {
                outcome.fail(format!("the master could not unpack: {e}"));
            }
        }
        Err(e) => outcome.fail(format!("upload of '{}' failed: {e}", path.display())),
    }
    outcome.send(cx).await;
}

pub(crate) async fn download_file(command: &Command, cx: &mut Context) {
    let mut outcome = Outcome::default();
    let path = path(command, "workerdest");
    let Some(reader) = command.args.reference("reader") else {
        outcome.fail("no reader to download from".into());
        return outcome.send(cx).await;
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut file = match std::fs::File::create(&path) {
        Ok(file) => {
            if let Some(mode) = command.args.int("mode") {
                use std::os::unix::fs::PermissionsExt;
                let mode = u32::try_from(mode).unwrap_or(0o644);
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
            }
            Some(file)
        }
        Err(_) => {
            outcome.fail(format!(
                "Cannot open file '{}' for download",
                path.display()
            ));
            None
        }
    };
    let (max, block) = sizes(command);
    let mut remaining = max;
    let mut failure = None;
    while let Some(out) = file.as_mut() {
        if cx.is_interrupted() {
            outcome.rc = 1;
            break;
        }
        let mut length = block as u64;
        if let Some(left) = remaining {
            length = length.min(left);
        }
        if length == 0 {
            outcome.fail(format!(
                "Maximum filesize reached, truncating file '{}'",
                path.display()
            ));
            break;
        }
        let data = match reader
            .call_remote("read", vec![Value::from(length as i64)])
            .await
        {
            Ok(Value::Bytes(data)) => data.to_vec(),
            Ok(Value::Str(data)) => data.into_bytes(),
            Ok(other) => {
                failure = Some(format!("read() answered {}", text(&other)));
                break;
            }
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        if data.is_empty() {
            break;
        }
        if let Some(left) = remaining.as_mut() {
            *left = left.saturating_sub(data.len() as u64);
        }
        if let Err(e) = out.write_all(&data) {
            failure = Some(e.to_string());
            break;
        }
    }
    drop(file);
    if let Err(e) = reader.call_remote("close", vec![]).await {
        tracing::warn!(%e, "while trying to close the reader");
    }
    if let Some(e) = failure {
        outcome.fail(format!("download to '{}' failed: {e}", path.display()));
    }
    outcome.send(cx).await;
}
