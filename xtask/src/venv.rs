//! The Python side of the interop tests: a venv under `target/` with the
//! Twisted version pinned in `tests/interop/python/requirements.txt`,
//! installed from PyPI on first use and again whenever the pins change.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::process::run;
use crate::project_root;

/// The venv's python, installing the venv first if it is missing or stale.
pub(crate) fn python() -> Result<PathBuf> {
    let root = project_root();
    let venv = root.join("target/interop-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("tests/interop/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    // The stamp holds the requirements the venv was built from.
    let stamp = venv.join("spread-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    eprintln!("installing the interop venv in {}", venv.display());
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut create = Command::new(system_python);
    create.args(["-m", "venv", "--clear"]).arg(&venv);
    run(create)?;
    let mut install = Command::new(&python);
    install
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements);
    run(install)?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}
