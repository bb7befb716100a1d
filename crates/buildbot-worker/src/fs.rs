//! The file-system commands: `mkdir`, `rmdir`, `cpdir`, `stat`, `glob`,
//! `listdir` and `rmfile`, with the Python worker's results (`rc` is the
//! errno on failure, after a `header` naming the error and the path).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use spread::Value;

use crate::bot::text;
use crate::command::{Command, Context, join, os_error};
use crate::shell::{self, Process};

/// Sends Python's `header: strerror: path` and the errno as `rc`.
async fn failed(cx: &mut Context, header: &str, e: &std::io::Error, path: &Path) {
    let (strerror, errno) = os_error(e);
    cx.updates
        .text(
            "header",
            &format!("{header}: {strerror}: {}", path.display()),
        )
        .await;
    cx.updates.status("rc", Value::from(errno)).await;
}

/// The paths of a `dir` argument: one, or a list.
fn dirs(command: &Command) -> Vec<PathBuf> {
    match command.args.get("dir") {
        Some(Value::List(dirs) | Value::Tuple(dirs)) => dirs
            .iter()
            .map(|d| join(&command.builder_dir, &text(d)))
            .collect(),
        Some(dir) => vec![join(&command.builder_dir, &text(dir))],
        None => Vec::new(),
    }
}

pub(crate) async fn mkdir(command: &Command, cx: &mut Context) {
    for dir in dirs(command) {
        if !dir.is_dir()
            && let Err(e) = std::fs::create_dir_all(&dir)
        {
            failed(cx, "mkdir", &e, &dir).await;
            return;
        }
    }
    cx.updates.status("rc", Value::from(0)).await;
}

/// `rm -rf` of each path, retried after a `chmod -Rf u+rwx` if it fails;
/// the last failing `rc` is the command's.
pub(crate) async fn rmdir(command: &Command, cx: &mut Context) {
    let args = &command.args;
    let worker_basedir = command.worker_basedir.clone();
    let mut rc = 0;
    for path in dirs(command) {
        let path = path.to_string_lossy().into_owned();
        let run = |argv: Vec<String>| {
            let mut p = Process::plain(argv, worker_basedir.clone());
            p.timeout = args
                .seconds("timeout")
                .or(Some(crate::command::Number::Int(120)));
            p.max_time = args.seconds("maxTime");
            p.log_environ = args.bool("logEnviron", true);
            p
        };
        let mut one = shell::run(run(vec!["rm".into(), "-rf".into(), path.clone()]), cx)
            .await
            .rc();
        if one != 0 && !cx.is_interrupted() {
            shell::run(
                run(vec![
                    "chmod".into(),
                    "-Rf".into(),
                    "u+rwx".into(),
                    path.clone(),
                ]),
                cx,
            )
            .await;
            one = shell::run(run(vec!["rm".into(), "-rf".into(), path]), cx)
                .await
                .rc();
        }
        if one != 0 {
            rc = one;
        }
    }
    cx.updates.status("rc", Value::from(rc)).await;
}

/// `cp -R -P -p -v FROM TO`, its `rc` the command's.
pub(crate) async fn cpdir(command: &Command, cx: &mut Context) {
    let args = &command.args;
    let from = join(
        &command.builder_dir,
        &args.str("fromdir").unwrap_or_default(),
    );
    let to = join(&command.builder_dir, &args.str("todir").unwrap_or_default());
    if let Some(parent) = to.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let worker_basedir = command.worker_basedir.clone();
    let argv = vec![
        "cp".into(),
        "-R".into(),
        "-P".into(),
        "-p".into(),
        "-v".into(),
        from.to_string_lossy().into_owned(),
        to.to_string_lossy().into_owned(),
    ];
    let mut p = Process::plain(argv, worker_basedir);
    p.timeout = args
        .seconds("timeout")
        .or(Some(crate::command::Number::Int(120)));
    p.max_time = args.seconds("maxTime");
    p.log_environ = args.bool("logEnviron", true);
    let rc = shell::run(p, cx).await.rc();
    cx.updates.status("rc", Value::from(rc)).await;
}

/// `os.stat` as the 10-tuple Python gives: mode, ino, dev, nlink, uid,
/// gid, size, atime, mtime, ctime.
pub(crate) async fn stat(command: &Command, cx: &mut Context) {
    let args = &command.args;
    let base = join(
        &command.builder_dir,
        &args.str("workdir").unwrap_or_default(),
    );
    let path = join(&base, &args.str("file").unwrap_or_default());
    match std::fs::metadata(&path) {
        Ok(m) => {
            let fields = [
                i64::from(m.mode()),
                m.ino() as i64,
                m.dev() as i64,
                m.nlink() as i64,
                i64::from(m.uid()),
                i64::from(m.gid()),
                m.size() as i64,
                m.atime(),
                m.mtime(),
                m.ctime(),
            ];
            let tuple = Value::Tuple(fields.into_iter().map(Value::from).collect());
            cx.updates.status("stat", tuple).await;
            cx.updates.status("rc", Value::from(0)).await;
        }
        Err(e) => failed(cx, "stat", &e, &path).await,
    }
}

/// Python's `glob.glob(path, recursive=True)`.
pub(crate) async fn glob(command: &Command, cx: &mut Context) {
    let pattern = join(
        &command.builder_dir,
        &command.args.str("path").unwrap_or_default(),
    );
    let pattern = pattern.to_string_lossy().into_owned();
    match glob::glob(&pattern) {
        Ok(paths) => {
            let files: Vec<Value> = paths
                .flatten()
                .map(|p| Value::from(p.to_string_lossy().into_owned()))
                .collect();
            cx.updates.status("files", Value::List(files)).await;
            cx.updates.status("rc", Value::from(0)).await;
        }
        // A pattern glob cannot read matches nothing, as in Python.
        Err(_) => {
            cx.updates.status("files", Value::List(Vec::new())).await;
            cx.updates.status("rc", Value::from(0)).await;
        }
    }
}

pub(crate) async fn listdir(command: &Command, cx: &mut Context) {
    let dir = join(
        &command.builder_dir,
        &command.args.str("dir").unwrap_or_default(),
    );
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let files: Vec<Value> = entries
                .flatten()
                .map(|e| Value::from(e.file_name().to_string_lossy().into_owned()))
                .collect();
            cx.updates.status("files", Value::List(files)).await;
            cx.updates.status("rc", Value::from(0)).await;
        }
        Err(e) => failed(cx, "listdir", &e, &dir).await,
    }
}

pub(crate) async fn rmfile(command: &Command, cx: &mut Context) {
    let path = join(
        &command.builder_dir,
        &command.args.str("path").unwrap_or_default(),
    );
    match std::fs::remove_file(&path) {
        Ok(()) => cx.updates.status("rc", Value::from(0)).await,
        Err(e) => failed(cx, "rmfile", &e, &path).await,
    }
}

#[cfg(test)]
mod tests {
    use spread::Value;

    use crate::command::tests::run_command;

    #[tokio::test]
    async fn rmfile_and_stat_report_as_python_does() {
        let d = std::env::temp_dir().join(format!("spread-bbw-{}-fs", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("gone.txt"), b"12345").unwrap();

        let r = run_command("stat", vec![("file", Value::from("gone.txt"))], &d, None).await;
        let stat = r.values("stat");
        assert_eq!(stat[0].as_seq().map(|s| s[6].clone()), Some(Value::from(5)));
        assert_eq!(r.values("rc"), [Value::from(0)]);

        let r = run_command("rmfile", vec![("path", Value::from("gone.txt"))], &d, None).await;
        assert_eq!(r.values("rc"), [Value::from(0)]);
        assert!(!d.join("gone.txt").exists());

        // Again: ENOENT, named as Python's strerror names it.
        let r = run_command("rmfile", vec![("path", Value::from("gone.txt"))], &d, None).await;
        assert_eq!(r.values("rc"), [Value::from(2)]);
        let header = r.text("header");
        assert_eq!(
            header,
            format!(
                "rmfile: No such file or directory: {}\n",
                d.join("gone.txt").display()
            )
        );
    }
}
