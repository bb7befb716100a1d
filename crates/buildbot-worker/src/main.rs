//! `spread-buildbot-worker`: a Buildbot worker written on spread, which an
//! unmodified Buildbot master (4.3.0) accepts and runs builds on, over PB.
//!
//! It logs in to the master with cred (the worker's bot is the mind the
//! master calls), keeps itself connected with [`spread::Reconnecting`],
//! sends keepalives on its perspective, and runs the commands the Python
//! worker offers: `shell` and the file-system and transfer commands. See
//! the book's "A Buildbot worker" page.
//!
//! ```text
//! spread-buildbot-worker --master HOST:PORT --name NAME --password PASSWORD --basedir DIR \
//!     [--keepalive SECONDS] [--max-delay SECONDS]
//! ```

mod bot;
mod command;
mod fs;
mod output;
mod pyrepr;
mod shell;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use spread::cred::LoginError;
use spread::{Backoff, BrokerOptions, Reconnecting, RemoteReference, connect};
use tokio::sync::mpsc;

use crate::bot::Bot;

/// A Buildbot worker on spread.
#[derive(Debug, Parser)]
#[command(name = "spread-buildbot-worker", version)]
struct Cli {
    /// The master's worker port, as HOST:PORT (Buildbot's `c['protocols']['pb']['port']`).
    #[arg(long)]
    master: String,
    /// The worker's name, as the master's configuration has it.
    #[arg(long)]
    name: String,
    /// The worker's password.
    #[arg(long)]
    password: String,
    /// The worker's base directory: each builder works in a directory of
    /// its own under it. Made if missing.
    #[arg(long)]
    basedir: PathBuf,
    /// Seconds between keepalives sent to the master; 0 sends none.
    #[arg(long, default_value_t = 600)]
    keepalive: u64,
    /// The longest wait, in seconds, between attempts to reconnect.
    #[arg(long, default_value_t = 300)]
    max_delay: u64,
}

/// Why the worker stops.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The master called `shutdown()` on the bot.
    MasterAsked,
    /// The master refused the name or password.
    Unauthorized(String),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("spread-buildbot-worker: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spread-buildbot-worker: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    std::fs::create_dir_all(&cli.basedir)
        .with_context(|| format!("making the base directory {}", cli.basedir.display()))?;
    let basedir = std::fs::canonicalize(&cli.basedir)?;
    let (stop_tx, mut stop_rx) = mpsc::unbounded_channel();
    let bot = Arc::new(Bot::new(basedir, stop_tx.clone()));
    let perspective: Arc<Mutex<Option<RemoteReference>>> = Arc::default();

    tracing::info!(master = %cli.master, name = %cli.name, "starting the worker");
    let client = Reconnecting::new(
        {
            let (master, name, password) = (cli.master.clone(), cli.name.clone(), cli.password);
            let (bot, perspective) = (bot.clone(), perspective.clone());
            move || {
                let (master, name, password) = (master.clone(), name.clone(), password.clone());
                let (bot, perspective, stop) = (bot.clone(), perspective.clone(), stop_tx.clone());
                async move {
                    let broker = connect(master.as_str(), BrokerOptions::default()).await?;
                    let mind: Arc<dyn spread::Referenceable> = bot;
                    match broker.login(&name, &password, Some(mind)).await {
                        Ok(avatar) => {
                            tracing::info!("connected to the master; the worker is ready");
                            *perspective.lock().unwrap_or_else(|e| e.into_inner()) = Some(avatar);
                            Ok(broker)
                        }
                        Err(LoginError::Unauthorized(e)) => {
                            broker.close();
                            let _ = stop.send(Stop::Unauthorized(e.value.clone()));
                            Err(anyhow!("unauthorized login"))
                        }
                        Err(e) => {
                            broker.close();
                            Err(anyhow!(e))
                        }
                    }
                }
            }
        },
        Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(cli.max_delay.max(1)),
        ),
    );
    if cli.keepalive > 0 {
        tokio::spawn(keepalive(
            Duration::from_secs(cli.keepalive),
            perspective.clone(),
        ));
    }

    let outcome = tokio::select! {
        stop = stop_rx.recv() => match stop {
            Some(Stop::MasterAsked) => {
                tracing::info!("the master asked the worker to shut down");
                Ok(())
            }
            Some(Stop::Unauthorized(why)) => Err(anyhow!(
                "the master refused the login of {:?}: check the worker's name and password{}",
                cli.name,
                if why.is_empty() { String::new() } else { format!(" ({why})") }
            )),
            None => Ok(()),
        },
        () = terminated() => {
            tracing::info!("terminated; stopping the running commands");
            Ok(())
        }
    };
    bot.stop_commands().await;
    let current = client.current();
    client.stop();
    if let Some(broker) = current {
        // The answer to the master's `shutdown()` is written before the
        // connection closes; a master that does not read costs at most this.
        let _ = tokio::time::timeout(Duration::from_secs(5), broker.closed()).await;
    }
    outcome
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Calls `keepalive()` on the perspective every `interval`, as the Python
/// worker's factory does, so that NAT gateways and the master see traffic.
async fn keepalive(interval: Duration, perspective: Arc<Mutex<Option<RemoteReference>>>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let current = perspective
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(perspective) = current else { continue };
        if perspective.broker().is_closed() {
            continue;
        }
        match perspective.call_remote("keepalive", vec![]).await {
            Ok(_) => tracing::debug!("the master answered a keepalive"),
            Err(e) => tracing::warn!(%e, "keepalive failed"),
        }
    }
}
