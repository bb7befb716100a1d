//! Running a program as the Python worker's `RunProcess` does: the same
//! header lines, the same environment rules, output streamed as it comes,
//! timeouts, and the kill sequence (SIGTERM then the interrupt signal to
//! the process group, a fake `rc` of -1 if even that fails). The `shell`
//! command is this with the master's arguments; `rmdir` and `cpdir` run
//! `rm`, `chmod` and `cp` through it too.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use spread::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Instant, sleep_until};

use crate::bot::{plain, text};
use crate::command::{Command, Context, Number};
use crate::output::Utf8Decoder;
use crate::pyrepr;

/// How long a killed process may take to die before the command gives up
/// on it (Buildbot's `BACKUP_TIMEOUT`).
const BACKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// How often logfiles are looked at (Buildbot's `POLL_INTERVAL`).
const LOGFILE_POLL: Duration = Duration::from_secs(2);

/// What to run, and how.
#[derive(Debug)]
pub(crate) struct Process {
    /// The program and its arguments, as run.
    pub(crate) argv: Vec<String>,
    /// The command as the headers show it (secrets obfuscated).
    pub(crate) shown: Shown,
    pub(crate) workdir: PathBuf,
    /// The environment; `None` inherits the worker's.
    pub(crate) env: Option<BTreeMap<String, String>>,
    pub(crate) send_rc: bool,
    pub(crate) want_stdout: bool,
    pub(crate) want_stderr: bool,
    pub(crate) timeout: Option<Number>,
    pub(crate) max_time: Option<Number>,
    pub(crate) max_lines: Option<i64>,
    pub(crate) sigterm_time: Option<Number>,
    pub(crate) initial_stdin: Option<Vec<u8>>,
    pub(crate) log_environ: bool,
    pub(crate) logfiles: Vec<Logfile>,
    /// `repr` of the master's logfiles argument, for the header.
    pub(crate) logfiles_shown: String,
    pub(crate) interrupt_signal: String,
}

impl Process {
    /// A plain run of `argv` in `workdir` (for `rm`, `chmod`, `cp`).
    pub(crate) fn plain(argv: Vec<String>, workdir: PathBuf) -> Process {
        Process {
            shown: Shown::Words(argv.clone()),
            argv,
            workdir,
            env: None,
            send_rc: false,
            want_stdout: true,
            want_stderr: true,
            timeout: None,
            max_time: None,
            max_lines: None,
            sigterm_time: None,
            initial_stdin: None,
            log_environ: true,
            logfiles: Vec::new(),
            logfiles_shown: "{}".into(),
            interrupt_signal: "KILL".into(),
        }
    }
}

/// How the command appears in the headers.
#[derive(Debug)]
pub(crate) enum Shown {
    /// A command line for `/bin/sh -c`.
    Line(String),
    /// An argument vector.
    Words(Vec<String>),
}

/// A file the step wants as a log of its own.
#[derive(Debug)]
pub(crate) struct Logfile {
    name: String,
    path: PathBuf,
    follow: bool,
    seen: Option<(i64, i64, u64)>,
    file: Option<std::fs::File>,
    decoder: Utf8Decoder,
}

impl Logfile {
    fn new(name: String, path: PathBuf, follow: bool) -> Logfile {
        Logfile {
            seen: file_stamp(&path),
            name,
            path,
            follow,
            file: None,
            decoder: Utf8Decoder::default(),
        }
    }
}

/// ctime, mtime and size, to tell whether a logfile was written.
fn file_stamp(path: &std::path::Path) -> Option<(i64, i64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.ctime(), m.mtime(), m.size()))
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// With this exit code (-1 for a signal).
    Rc(i64),
    /// The process would not die; a fake `rc` of -1 was sent.
    WouldNotDie,
}

impl Ended {
    pub(crate) fn rc(self) -> i64 {
        match self {
            Ended::Rc(rc) => rc,
            Ended::WouldNotDie => -1,
        }
    }
}

/// The `shell` command.
pub(crate) async fn command(command: &Command, cx: &mut Context) {
    match shell_process(command) {
        Ok(process) => {
            run(process, cx).await;
        }
        Err(message) => {
            cx.updates.text("stderr", &format!("{message}\n")).await;
            cx.updates.status("rc", Value::from(-1)).await;
        }
    }
}

/// The `shell` command's arguments made a [`Process`].
fn shell_process(command: &Command) -> Result<Process, String> {
    let args = &command.args;
    let workdir = crate::command::join(
        &command.builder_dir,
        &args.str("workdir").unwrap_or_default(),
    );
    let (argv, shown) = match args.get("command") {
        Some(Value::Str(line)) => (
            vec!["/bin/sh".into(), "-c".into(), line.clone()],
            Shown::Line(line.clone()),
        ),
        Some(Value::Bytes(line)) => {
            let line = String::from_utf8_lossy(line).into_owned();
            (
                vec!["/bin/sh".into(), "-c".into(), line.clone()],
                Shown::Line(line),
            )
        }
        Some(value) => {
            let words = value
                .as_seq()
                .ok_or("the command is neither a string nor a list")?;
            let mut real = Vec::new();
            let mut fake = Vec::new();
            for word in words {
                // ('obfuscated', real, fake): a secret shown as its fake.
                match plain(word).as_seq() {
                    Some([tag, r, f]) if text(tag) == "obfuscated" => {
                        real.push(text(r));
                        fake.push(text(f));
                    }
                    _ => {
                        real.push(text(word));
                        fake.push(text(word));
                    }
                }
            }
            if real.is_empty() {
                return Err("the command is an empty list".into());
            }
            (real, Shown::Words(fake))
        }
        None => return Err("no command".into()),
    };
    let env = match args.get("env").and_then(Value::as_dict) {
        Some(env) if !env.is_empty() => Some(environment(env)?),
        _ => None,
    };
    let mut logfiles = Vec::new();
    if let Some(files) = args.get("logfiles").and_then(Value::as_dict) {
        for (name, file) in files.iter() {
            let (filename, follow) = match plain(file) {
                Value::Dict(options) => (
                    options.get_str("filename").map(text).unwrap_or_default(),
                    options
                        .get_str("follow")
                        .is_some_and(|f| matches!(plain(f), Value::Bool(true))),
                ),
                other => (text(other), false),
            };
            logfiles.push(Logfile::new(text(name), workdir.join(filename), follow));
        }
    }
    Ok(Process {
        argv,
        shown,
        workdir,
        env,
        send_rc: true,
        want_stdout: args.bool("want_stdout", true),
        want_stderr: args.bool("want_stderr", true),
        timeout: args.seconds("timeout"),
        max_time: args.seconds("maxTime"),
        max_lines: args.int("max_lines"),
        sigterm_time: args.seconds("sigtermTime"),
        initial_stdin: args.get("initial_stdin").map(|v| match v {
            Value::Bytes(b) => b.to_vec(),
            other => text(other).into_bytes(),
        }),
        log_environ: args.bool("logEnviron", true),
        logfiles,
        logfiles_shown: args.get("logfiles").map_or("{}".into(), pyrepr::repr),
        interrupt_signal: args.str("interruptSignal").unwrap_or_else(|| "KILL".into()),
    })
}

/// The step's environment from the worker's, as `RunProcess` makes it: a
/// list value is a path list joined with `:`, `PYTHONPATH` keeps the
/// worker's after the step's, `None` removes a variable, and `${NAME}` is
/// replaced by the worker's value of `NAME` (empty if unset).
fn environment(env: &spread::Dict) -> Result<BTreeMap<String, String>, String> {
    let mut given: Vec<(String, Option<String>)> = Vec::new();
    for (key, value) in env.iter() {
        let key = text(key);
        let value = match plain(value) {
            Value::None => None,
            Value::Str(s) => Some(s.clone()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::List(items) | Value::Tuple(items) => {
                Some(items.iter().map(text).collect::<Vec<_>>().join(":"))
            }
            _ => {
                return Err(format!(
                    "'env' values must be strings or lists; key '{key}' is incorrect"
                ));
            }
        };
        given.push((key, value));
    }
    for (key, value) in &mut given {
        if key == "PYTHONPATH"
            && let Some(value) = value
        {
            value.push_str(":${PYTHONPATH}");
        }
    }
    let mut out: BTreeMap<String, String> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    for (key, value) in given {
        match value {
            None => {
                out.remove(&key);
            }
            Some(value) => {
                out.insert(key, substitute(&value));
            }
        }
    }
    Ok(out)
}

/// `${NAME}` replaced by the worker's `NAME` (Buildbot's `\${([0-9a-zA-Z_]*)}`).
fn substitute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if after[name_len..].starts_with('}') {
            out.push_str(&rest[..start]);
            out.push_str(&std::env::var(&after[..name_len]).unwrap_or_default());
            rest = &after[name_len + 1..];
        } else {
            out.push_str(&rest[..start + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Seconds as Python writes `N sec`/`N secs`.
fn secs(n: Number) -> String {
    let unit = if n.seconds() == 1.0 { "sec" } else { "secs" };
    format!("{} {unit}", n.python())
}

/// Sends the headers `RunProcess` starts with.
async fn headers(p: &Process, env: &BTreeMap<String, String>, cx: &mut Context) {
    let (display, argv) = match &p.shown {
        Shown::Line(line) => (line.clone(), pyrepr::bytes_repr(line.as_bytes())),
        Shown::Words(words) => {
            let as_bytes: Vec<String> = words
                .iter()
                .map(|w| pyrepr::bytes_repr(w.as_bytes()))
                .collect();
            (
                pyrepr::shell_quote(words),
                format!("[{}]", as_bytes.join(", ")),
            )
        }
    };
    cx.updates.text("header", &format!("{display}\n")).await;
    let mut dir = format!(" in dir {}", p.workdir.display());
    if let Some(t) = p.timeout {
        dir.push_str(&format!(" (timeout {})", secs(t)));
    }
    if let Some(t) = p.max_time {
        dir.push_str(&format!(" (maxTime {})", secs(t)));
    }
    cx.updates.text("header", &format!("{dir}\n")).await;
    cx.updates
        .text(
            "header",
            &format!(" watching logfiles {}\n", p.logfiles_shown),
        )
        .await;
    cx.updates.text("header", &format!(" argv: {argv}\n")).await;
    if p.log_environ {
        let mut listing = String::from(" environment:\n");
        for (name, value) in env {
            listing.push_str(&format!("  {name}={value}\n"));
        }
        cx.updates.text("header", &listing).await;
    }
    if let Some(stdin) = &p.initial_stdin
        && !stdin.is_empty()
    {
        cx.updates
            .text(
                "header",
                &format!(" writing {} bytes to stdin\n", stdin.len()),
            )
            .await;
    }
    cx.updates.text("header", " using PTY: False\n").await;
}

/// The signal Buildbot names `name` (`KILL`, `TERM`, ...).
fn signal_named(name: &str) -> Signal {
    match name {
        "TERM" => Signal::TERM,
        "INT" => Signal::INT,
        "HUP" => Signal::HUP,
        "QUIT" => Signal::QUIT,
        "USR1" => Signal::USR1,
        "USR2" => Signal::USR2,
        _ => Signal::KILL,
    }
}

/// Signals the process group the command leads, or the process alone if
/// the group is gone; whether a signal was sent.
fn send_signal(pid: Option<u32>, signal: Signal) -> bool {
    let Some(pid) = pid.and_then(|p| Pid::from_raw(p as i32)) else {
        return false;
    };
    rustix::process::kill_process_group(pid, signal).is_ok()
        || rustix::process::kill_process(pid, signal).is_ok()
}

/// Runs `p` to its end, streaming its output and sending its `rc` (if
/// `send_rc`); its exit code.
pub(crate) async fn run(mut p: Process, cx: &mut Context) -> Ended {
    if let Err(e) = std::fs::create_dir_all(&p.workdir) {
        cx.updates
            .text(
                "stderr",
                &format!("error in RunProcess._startCommand ({e})\n"),
            )
            .await;
        return Ended::Rc(-1);
    }
    let mut env = p.env.take().unwrap_or_else(|| {
        std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    });
    let pwd = std::path::absolute(&p.workdir).unwrap_or_else(|_| p.workdir.clone());
    env.insert("PWD".into(), pwd.to_string_lossy().into_owned());
    headers(&p, &env, cx).await;

    let started = Instant::now();
    let mut child = match tokio::process::Command::new(&p.argv[0])
        .args(&p.argv[1..])
        .current_dir(&p.workdir)
        .env_clear()
        .envs(&env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            // What the child of Twisted's spawnProcess says when exec fails.
            cx.updates
                .text(
                    "stderr",
                    &format!(
                        "Upon execvpe {} {:?} in environment: {e}\n",
                        p.argv[0], p.argv
                    ),
                )
                .await;
            return finished(&p, cx, 1, started).await;
        }
    };
    let pid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        let data = p.initial_stdin.take().unwrap_or_default();
        // Written in the background: a process that reads nothing must not
        // hold up its output.
        tokio::spawn(async move {
            let _ = stdin.write_all(&data).await;
        });
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut out_text, mut err_text) = (Utf8Decoder::default(), Utf8Decoder::default());
    let (mut out_buf, mut err_buf) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let mut status: Option<ExitStatus> = None;
    let mut killed = false;
    let mut lines = 0i64;
    let far = || Instant::now() + Duration::from_secs(86_400 * 365);
    let seconds = |n: Option<Number>| n.map(|n| Duration::from_secs_f64(n.seconds().max(0.0)));
    let io_timeout = seconds(p.timeout);
    let mut io_deadline = io_timeout.map(|t| Instant::now() + t);
    let mut max_deadline = seconds(p.max_time).map(|t| Instant::now() + t);
    let mut sigterm_deadline: Option<Instant> = None;
    let mut backup_deadline: Option<Instant> = None;
    let mut interrupted = cx.interrupted.clone();
    let mut polls = tokio::time::interval(LOGFILE_POLL);
    let fake = match &p.shown {
        Shown::Line(line) => pyrepr::bytes_repr(line.as_bytes()),
        Shown::Words(words) => format!(
            "[{}]",
            words
                .iter()
                .map(|w| pyrepr::bytes_repr(w.as_bytes()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };

    // What killing takes, from a timeout, an interrupt or too many lines.
    macro_rules! kill {
        ($msg:expr) => {{
            io_deadline = None;
            max_deadline = None;
            cx.updates
                .text("header", &format!("\n{}, attempting to kill\n", $msg))
                .await;
            killed = true;
            match seconds(p.sigterm_time) {
                Some(grace) => {
                    send_signal(pid, Signal::TERM);
                    sigterm_deadline = Some(Instant::now() + grace);
                }
                None => {
                    send_signal(pid, signal_named(&p.interrupt_signal));
                    // Twisted stops reading the pipes of a killed process.
                    stdout = None;
                    stderr = None;
                    backup_deadline = Some(Instant::now() + BACKUP_TIMEOUT);
                }
            }
        }};
    }

    loop {
        if status.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
        let gathered = cx.updates.deadline();
        // Text read from stdout or stderr, or `None` at its end.
        let mut got: Option<(&'static str, Option<String>)> = None;
        tokio::select! {
            read = async { stdout.as_mut().unwrap().read(&mut out_buf).await }, if stdout.is_some() => {
                got = Some(("stdout", match read {
                    Ok(n) if n > 0 => Some(out_text.decode(&out_buf[..n])),
                    _ => None,
                }));
            }
            read = async { stderr.as_mut().unwrap().read(&mut err_buf).await }, if stderr.is_some() => {
                got = Some(("stderr", match read {
                    Ok(n) if n > 0 => Some(err_text.decode(&err_buf[..n])),
                    _ => None,
                }));
            }
            exited = child.wait(), if status.is_none() => {
                status = Some(exited.unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(1 << 8)));
            }
            () = sleep_until(io_deadline.unwrap_or_else(far)), if io_deadline.is_some() => {
                cx.updates.status("failure_reason", Value::from("timeout_without_output")).await;
                let t = p.timeout.map(Number::python).unwrap_or_default();
                kill!(format!("command timed out: {t} seconds without output running {fake}"));
            }
            () = sleep_until(max_deadline.unwrap_or_else(far)), if max_deadline.is_some() => {
                cx.updates.status("failure_reason", Value::from("timeout")).await;
                let t = p.max_time.map(Number::python).unwrap_or_default();
                kill!(format!("command timed out: {t} seconds elapsed running {fake}"));
            }
            () = async { let _ = interrupted.wait_for(Option::is_some).await; }, if !killed => {
                kill!("command interrupted");
            }
            () = sleep_until(sigterm_deadline.unwrap_or_else(far)), if sigterm_deadline.is_some() => {
                sigterm_deadline = None;
                if status.is_none() {
                    send_signal(pid, signal_named(&p.interrupt_signal));
                }
                stdout = None;
                stderr = None;
                if status.is_none() {
                    backup_deadline = Some(Instant::now() + BACKUP_TIMEOUT);
                }
            }
            () = sleep_until(backup_deadline.unwrap_or_else(far)), if backup_deadline.is_some() => {
                let name = format!("SIG{}", p.interrupt_signal);
                cx.updates.text("header", &format!("{name} failed to kill process\n")).await;
                if p.send_rc {
                    cx.updates.text("header", "using fake rc=-1\n").await;
                    cx.updates.status("rc", Value::from(-1)).await;
                }
                return Ended::WouldNotDie;
            }
            _ = polls.tick(), if !p.logfiles.is_empty() => {
                poll_logfiles(&mut p.logfiles, cx).await;
            }
            () = sleep_until(gathered.unwrap_or_else(far)), if gathered.is_some() => {
                cx.updates.send_gathered().await;
            }
        }
        let Some((key, read)) = got else { continue };
        let wanted = if key == "stdout" {
            p.want_stdout
        } else {
            p.want_stderr
        };
        match read {
            Some(text) => {
                if let Some(t) = io_timeout {
                    io_deadline = Some(Instant::now() + t);
                }
                if wanted {
                    lines += count_lines(&text);
                    cx.updates.text(key, &text).await;
                    if let Some(max) = p.max_lines
                        && lines > max
                        && !killed
                    {
                        // As Twisted's `closeStdout`: stdout alone is shut.
                        stdout = None;
                        cx.updates
                            .status("failure_reason", Value::from("max_lines_failure"))
                            .await;
                        kill!(format!(
                            "command exceeds max lines: {lines}/{max} written/allowed running {fake}"
                        ));
                    }
                }
            }
            None => {
                let rest = if key == "stdout" {
                    stdout = None;
                    out_text.finish()
                } else {
                    stderr = None;
                    err_text.finish()
                };
                if wanted && !rest.is_empty() {
                    cx.updates.text(key, &rest).await;
                }
            }
        }
    }
    let status = status.unwrap_or_default();
    let (signal, code) = {
        use std::os::unix::process::ExitStatusExt;
        (status.signal(), status.code())
    };
    let mut rc = match signal {
        Some(_) => -1,
        None => i64::from(code.unwrap_or(-1)),
    };
    if killed && rc == 0 {
        rc = -1;
    }
    poll_logfiles(&mut p.logfiles, cx).await;
    if p.send_rc
        && let Some(signal) = signal
    {
        cx.updates
            .text("header", &format!("process killed by signal {signal}\n"))
            .await;
    }
    finished(&p, cx, rc, started).await
}

/// The end of a run: `rc` (if sent) and the elapsed time.
async fn finished(p: &Process, cx: &mut Context, rc: i64, started: Instant) -> Ended {
    if p.send_rc {
        cx.updates.status("rc", Value::from(rc)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    cx.updates
        .text("header", &format!("elapsedTime={elapsed:.6}\n"))
        .await;
    Ended::Rc(rc)
}

/// Lines as Buildbot's max-lines check counts them: `\r\n`, `\r` or `\n`.
fn count_lines(text: &str) -> i64 {
    let mut n = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                n += 1;
            }
            '\n' => n += 1,
            _ => {}
        }
    }
    n
}

/// Sends what each logfile gained since the last look: a logfile starts
/// once it changes after the step began (from its end if `follow`).
async fn poll_logfiles(logfiles: &mut [Logfile], cx: &mut Context) {
    for log in logfiles {
        if log.file.is_none() {
            let stamp = file_stamp(&log.path);
            if stamp == log.seen {
                continue;
            }
            let Some((_, _, size)) = stamp else {
                log.seen = None;
                continue;
            };
            let Ok(mut file) = std::fs::File::open(&log.path) else {
                continue;
            };
            if log.follow {
                let _ = file.seek(SeekFrom::Start(size));
            }
            log.file = Some(file);
        }
        let Some(file) = log.file.as_mut() else {
            continue;
        };
        let mut chunk = vec![0u8; 10_000];
        loop {
            match file.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let text = log.decoder.decode(&chunk[..n]);
                    cx.updates.log(&log.name, &text).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::tests::run_command;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("spread-bbw-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn shell(line: &str) -> (&'static str, Value) {
        ("command", Value::from(line))
    }

    fn workdir() -> (&'static str, Value) {
        ("workdir", Value::from("build"))
    }

    #[tokio::test]
    async fn a_step_without_output_for_its_timeout_is_killed() {
        let d = dir("timeout");
        let r = run_command(
            "shell",
            vec![
                workdir(),
                shell("echo started; sleep 30"),
                ("timeout", Value::from(1)),
            ],
            &d,
            None,
        )
        .await;
        assert_eq!(
            r.values("failure_reason"),
            [Value::from("timeout_without_output")]
        );
        assert_eq!(r.values("rc"), [Value::from(-1)]);
        let header = r.text("header");
        assert!(header.contains("(timeout 1 sec)"), "{header}");
        assert!(header.contains("command timed out: 1 seconds without output running b'echo started; sleep 30', attempting to kill"), "{header}");
        assert!(header.contains("process killed by signal 9"), "{header}");
        assert_eq!(r.text("stdout"), "started\n");
    }

    #[tokio::test]
    async fn max_time_and_sigterm_time_kill_politely_first() {
        let d = dir("maxtime");
        let r = run_command(
            "shell",
            vec![
                workdir(),
                shell("trap 'echo got TERM; exit 7' TERM; while true; do sleep 0.05; done"),
                ("maxTime", Value::from(1.5)),
                ("sigtermTime", Value::from(5)),
            ],
            &d,
            None,
        )
        .await;
        assert_eq!(r.values("failure_reason"), [Value::from("timeout")]);
        // The shell traps SIGTERM and exits 7: no SIGKILL was needed.
        assert_eq!(r.values("rc"), [Value::from(7)]);
        assert!(r.text("header").contains("(maxTime 1.5 secs)"));
        assert!(r.text("stdout").contains("got TERM"));
    }

    #[tokio::test]
    async fn too_many_lines_kill_the_step() {
        let d = dir("maxlines");
        let r = run_command(
            "shell",
            vec![
                workdir(),
                shell("yes line"),
                ("max_lines", Value::from(1000)),
            ],
            &d,
            None,
        )
        .await;
        assert_eq!(
            r.values("failure_reason"),
            [Value::from("max_lines_failure")]
        );
        assert_eq!(r.values("rc"), [Value::from(-1)]);
        assert!(r.text("header").contains("command exceeds max lines"));
    }

    #[tokio::test]
    async fn stdin_logfiles_and_silenced_streams() {
        let d = dir("stdin");
        let mut logfiles = spread::Dict::new();
        logfiles.insert(Value::from("mine"), Value::from("out.log"));
        let r = run_command(
            "shell",
            vec![
                workdir(),
                (
                    "command",
                    Value::List(vec![
                        Value::from("sh"),
                        Value::from("-c"),
                        Value::from("cat; echo to-the-log > out.log; echo hidden >&2"),
                    ]),
                ),
                ("initial_stdin", Value::from("from stdin\n")),
                ("logfiles", Value::Dict(logfiles)),
                ("want_stderr", Value::from(false)),
            ],
            &d,
            None,
        )
        .await;
        assert_eq!(r.text("stdout"), "from stdin\n");
        assert_eq!(r.text("stderr"), "");
        assert_eq!(r.values("rc"), [Value::from(0)]);
        let logs = r.values("log");
        assert_eq!(
            logs,
            [Value::Tuple(vec![
                Value::from("mine"),
                Value::from("to-the-log\n")
            ])]
        );
        let header = r.text("header");
        assert!(header.contains(" writing 11 bytes to stdin\n"), "{header}");
        assert!(
            header.contains(" watching logfiles {'mine': 'out.log'}\n"),
            "{header}"
        );
        assert!(
            header.contains(" argv: [b'sh', b'-c', b'cat; echo"),
            "{header}"
        );
    }

    #[tokio::test]
    async fn an_interrupt_kills_the_process_group() {
        let d = dir("interrupt");
        let (tx, rx) = tokio::sync::watch::channel(None);
        let run = tokio::spawn({
            let d = d.clone();
            async move {
                run_command(
                    "shell",
                    vec![workdir(), shell("sleep 30 & sleep 30; echo never")],
                    &d,
                    Some(rx),
                )
                .await
            }
        });
        tx.send_replace(Some("stop".into()));
        let r = run.await.unwrap();
        assert_eq!(r.values("rc"), [Value::from(-1)]);
        assert!(
            r.text("header")
                .contains("command interrupted, attempting to kill")
        );
        // Interrupted commands send no `elapsed`, as the Python worker's do not.
        assert!(r.values("elapsed").is_empty());
        assert_eq!(r.text("stdout"), "");
    }

    #[test]
    fn variables_are_substituted_as_buildbot_does() {
        // SAFETY-free: reading a variable every process has.
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(substitute("x${PATH}y"), format!("x{path}y"));
        assert_eq!(substitute("${SPREAD_SURELY_UNSET_VARIABLE}!"), "!");
        assert_eq!(substitute("${not closed"), "${not closed");
        assert_eq!(substitute("$HOME"), "$HOME");
    }

    #[test]
    fn lines_are_counted_as_buildbot_does() {
        assert_eq!(count_lines("a\r\nb\rc\nd"), 3);
    }
}
