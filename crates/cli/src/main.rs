//! `spread`: talk to any Perspective Broker server from the shell (`call`),
//! put it under load (`bench`), read captured Banana (`decode`), and watch a
//! PB session go by (`proxy`).
//!
//! An application of the `spread` library; it depends on the facade only.

mod bench;
mod call;
mod decode;
mod proxy;
mod python;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, as `sysexits.h` and the interface name them.
pub(crate) mod exit {
    /// A remote error: the call reached the method, and it failed.
    pub(crate) const REMOTE_ERROR: u8 = 1;
    /// The connection or the login failed.
    pub(crate) const CONNECTION: u8 = 2;
    /// Bad arguments (`EX_USAGE`).
    pub(crate) const USAGE: u8 = 64;
}

#[derive(Debug, Parser)]
#[command(
    name = "spread",
    version,
    about = "Talk Twisted's Perspective Broker from the shell"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Call a method on a PB server's root (or a logged-in perspective).
    Call(call::Args),
    /// Load a PB server with calls from many connections, checking every
    /// answer; print the rate and the latency percentiles.
    Bench(bench::Args),
    /// Print Banana bytes as s-expressions, one frame per line.
    Decode(decode::Args),
    /// Forward a PB connection byte for byte, printing every frame.
    Proxy(proxy::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let usage = e.use_stderr();
            let _ = e.print();
            return ExitCode::from(if usage { exit::USAGE } else { 0 });
        }
    };
    match cli.command {
        Command::Call(args) => call::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Proxy(args) => proxy::run(args),
    }
}
