//! `echo_client [PORT]`: calls each method of an echo server (Rust's
//! `echo_server` or Twisted's `tests/interop/python/echo_server.py`) on
//! 127.0.0.1 and prints what comes back.
//!
//! `cargo run -p spread-examples --example echo_client -- 8800`

use anyhow::{Context, Result};
use spread::{BigInt, BrokerOptions, CallError, Dict, Value, connect};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let port: u16 = std::env::args()
        .nth(1)
        .map_or(Ok(8800), |p| p.parse())
        .context("PORT must be a number")?;
    // ANCHOR: connect
    let broker = connect(("127.0.0.1", port), BrokerOptions::default()).await?;
    let root = broker.root_object().await?;
    // ANCHOR_END: connect

    let sent = Value::List(vec![
        Value::from(1),
        Value::from("two"),
        Value::from(3.0),
        Value::None,
        Value::Bool(true),
        Value::Dict(Dict::from_iter([(
            Value::from("k"),
            Value::Bytes("v".into()),
        )])),
    ]);
    println!(
        "echo -> {:?}",
        root.call_remote("echo", vec![Value::from("hello")]).await?
    );
    let echoed = root.call_remote("echo", vec![sent.clone()]).await?;
    println!("echo -> {echoed:?}");
    anyhow::ensure!(echoed == sent, "the echo differs from what was sent");
    println!(
        "add -> {:?}",
        root.call_remote("add", vec![Value::from(2), Value::from(3)])
            .await?
    );
    // Python's ints have no size: 2**70 + 5.
    let big = BigInt::from(1) << 70_u32;
    let sum = root
        .call_remote("add", vec![Value::from(big.clone()), Value::from(5)])
        .await?;
    println!("add -> {sum:?}");
    anyhow::ensure!(sum == Value::from(big + 5), "add(2**70, 5) gave {sum:?}");
    // ANCHOR: fail
    match root.call_remote("fail", vec![Value::from("boom")]).await {
        Err(CallError::Remote(e)) => println!("fail -> error {}: {}", e.remote_type, e.value),
        other => anyhow::bail!("fail gave {other:?}"),
    }
    // ANCHOR_END: fail
    println!(
        "shutdown -> {:?}",
        root.call_remote("shutdown", vec![]).await?
    );
    Ok(())
}
