//! `spread call`: not written yet.

use std::process::ExitCode;

/// `spread call`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `spread call`.
pub(crate) fn run(_args: Args) -> ExitCode {
    ExitCode::from(crate::exit::USAGE)
}
