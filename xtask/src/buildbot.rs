//! `cargo xtask buildbot`: an unmodified Buildbot 4.3.0 master runs every
//! scenario of `tests/buildbot/run_scenarios.py` on the stock Python worker
//! (the control: a failure there is the harness's) and then on
//! `spread-buildbot-worker`. The runner makes its own venv,
//! `target/buildbot-venv`, from the pinned requirements.

use anyhow::Result;

use crate::measure::target_dir;
use crate::process::{cargo, run};
use crate::project_root;

pub(crate) fn run_scenarios() -> Result<()> {
    cargo(&["build", "-p", "spread-buildbot-worker", "--locked"])?;
    let script = project_root().join("tests/buildbot/run_scenarios.py");
    let worker = target_dir().join("debug/spread-buildbot-worker");
    let mut control = std::process::Command::new("python3");
    control.arg(&script).args(["--worker", "python"]);
    eprintln!("buildbot: the scenarios on the stock Python worker (the control)");
    run(control)?;
    let template = format!(
        "{} --master {{host}}:{{port}} --name {{name}} --password {{password}} \
         --basedir {{basedir}} --keepalive {{keepalive}} --max-delay {{max_delay}}",
        worker.display()
    );
    let mut ours = std::process::Command::new("python3");
    ours.arg(&script).args(["--worker-cmd", &template]);
    eprintln!("buildbot: the same scenarios on spread-buildbot-worker");
    run(ours)
}
