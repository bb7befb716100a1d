//! What every example shares: arguments, logging, and a server that stops
//! when its root is asked to.

#![allow(dead_code, reason = "each example uses the part it needs")]

use std::sync::Arc;

use anyhow::{Context, Result};
use spread::{BrokerOptions, CallError, Referenceable, Value, serve};
use tokio::sync::Notify;

/// The port (first argument, default 8800) and whether `flag` was given.
pub(crate) fn port_and_flag(flag: &str) -> Result<(u16, bool)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(8800), |p| p.parse())
        .context("PORT must be a number")?;
    Ok((port, args.iter().any(|a| a == flag)))
}

/// Logs to stderr, filtered by `RUST_LOG`.
pub(crate) fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
}

/// Asks a server to stop. The call that asks has its answer queued before
/// its connection takes the close, and closing flushes what is queued, so
/// the caller gets its answer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shutdown(Arc<Notify>);

impl Shutdown {
    pub(crate) fn request(&self) {
        self.0.notify_one();
    }

    /// Returns once a stop was requested (at once if one already was).
    pub(crate) async fn wait(&self) {
        self.0.notified().await;
    }
}

/// Serves `root` on 127.0.0.1:`port`, prints `listening on ADDR`, and
/// returns when `shutdown` is requested, after closing every connection.
pub(crate) async fn serve_until(
    port: u16,
    options: BrokerOptions,
    root: Arc<dyn Referenceable>,
    shutdown: Shutdown,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let server = serve(listener, options.with_root(root));
    println!("listening on {addr}");
    shutdown.wait().await;
    server.shutdown().await;
    Ok(())
}

/// Prints what the howto's copy senders print for `takePond`'s result, and
/// gives the exit status: 0, 2 for `InsecureJelly`, 1 for anything else.
pub(crate) fn report_take_pond(result: Result<Value, CallError>) -> i32 {
    match result {
        Ok(response) => {
            println!("pond arrived {}", response.as_str().unwrap_or("?"));
            0
        }
        Err(CallError::Remote(e)) if e.is("twisted.spread.jelly.InsecureJelly") => {
            println!("error during takePond:");
            println!(" InsecureJelly");
            2
        }
        Err(e) => {
            println!("error during takePond:");
            println!("{e}");
            1
        }
    }
}

/// The last line the benchmark clients print (`spread bench`'s format, so
/// that `cargo xtask bench` reads every client alike):
/// `calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E`.
/// `latencies_us` is one entry per call (or per round), in any order.
pub(crate) fn summary_line(
    mut latencies_us: Vec<u64>,
    calls: u64,
    seconds: f64,
    errors: u64,
) -> String {
    latencies_us.sort_unstable();
    let at = |q: f64| {
        // The nearest-rank percentile; 0 when nothing was measured.
        let rank = ((latencies_us.len() as f64 * q).ceil() as usize).max(1);
        latencies_us.get(rank - 1).copied().unwrap_or(0)
    };
    let rate = calls as f64 / seconds.max(f64::MIN_POSITIVE);
    format!(
        "calls={calls} seconds={seconds:.3} calls_per_sec={rate:.1} p50_us={} p99_us={} max_us={} errors={errors}",
        at(0.5),
        at(0.99),
        latencies_us.last().copied().unwrap_or(0)
    )
}
