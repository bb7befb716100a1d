//! `spread proxy`: not written yet.

use std::process::ExitCode;

/// `spread proxy`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `spread proxy`.
pub(crate) fn run(_args: Args) -> ExitCode {
    ExitCode::from(crate::exit::USAGE)
}
