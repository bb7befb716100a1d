//! `spread decode`: not written yet.

use std::process::ExitCode;

/// `spread decode`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `spread decode`.
pub(crate) fn run(_args: Args) -> ExitCode {
    ExitCode::from(crate::exit::USAGE)
}
