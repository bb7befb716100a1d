//! Running commands: each is printed before it runs, so a failing CI log
//! shows exactly what to run again by hand.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::project_root;

pub(crate) fn cargo_cmd(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(project_root());
    cmd
}

pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    run(cargo_cmd(args))
}

pub(crate) fn run(mut cmd: Command) -> Result<()> {
    eprintln!("$ {}", describe(&cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", describe(&cmd)))?;
    if !status.success() {
        bail!("{} failed: {status}", describe(&cmd));
    }
    Ok(())
}

/// Runs and returns standard output; standard error passes through.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {}", describe(cmd));
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {}", describe(cmd)))?;
    if !out.status.success() {
        bail!("{} failed: {}", describe(cmd), out.status);
    }
    String::from_utf8(out.stdout).context("output is not UTF-8")
}

pub(crate) fn has_nextest() -> bool {
    cargo_cmd(&["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}
