//! `pingpong server [PORT]` / `pingpong client PORT [--in-flight K] [--seconds S]`:
//! a raw tokio ping-pong over loopback, the floor that `cargo xtask bench`
//! sets PB beside. No PB, no framing beyond fixed 16-byte messages.
//!
//! The server echoes whatever bytes arrive on each connection (port 0 picks
//! a free one; it prints `listening on 127.0.0.1:PORT` first and runs until
//! killed). The client keeps K messages (default 1) in flight on one
//! connection for S seconds (default 3): each echo that comes back is timed
//! from its sending and replaced by a new message. It prints `spread
//! bench`'s summary line, one "call" per echoed message:
//!
//! `calls=N seconds=S calls_per_sec=X p50_us=A p99_us=B max_us=C errors=E`
//!
//! `cargo run --release -p spread-examples --example pingpong -- server 0`

mod common;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Each message's size, as in the criterion round-trip bench.
const MESSAGE: usize = 16;
/// The byte every message is made of; an echo of anything else is an error.
const FILL: u8 = 7;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["server"] => server(0).await,
        ["server", port] => server(port.parse().context("PORT")?).await,
        ["client", port, rest @ ..] => {
            let (mut in_flight, mut seconds) = (1usize, 3.0f64);
            let mut rest = rest.iter();
            while let Some(&flag) = rest.next() {
                let value = rest
                    .next()
                    .with_context(|| format!("{flag} needs a value"))?;
                match flag {
                    "--in-flight" => in_flight = value.parse().context("--in-flight")?,
                    "--seconds" => seconds = value.parse().context("--seconds")?,
                    _ => bail!("unknown option {flag}"),
                }
            }
            let line = client(port.parse().context("PORT")?, in_flight.max(1), seconds).await?;
            println!("{line}");
            Ok(())
        }
        _ => bail!(
            "usage: pingpong server [PORT] | pingpong client PORT [--in-flight K] [--seconds S]"
        ),
    }
}

async fn server(port: u16) -> Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
}

/// K messages in flight for `seconds`; the summary line.
async fn client(port: u16, in_flight: usize, seconds: f64) -> Result<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let (mut rd, mut wr) = stream.into_split();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    // Echoes come back in order, so the oldest sending time is the next one's.
    let mut sent = VecDeque::with_capacity(in_flight);
    let mut out = vec![FILL; MESSAGE * in_flight];
    wr.write_all(&out).await?;
    sent.extend(std::iter::repeat_n(Instant::now(), in_flight));
    let mut buf = vec![0u8; 64 * 1024];
    let (mut filled, mut latencies, mut errors) = (0usize, Vec::new(), 0u64);
    while !sent.is_empty() {
        let n = rd.read(&mut buf[filled..]).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        let total = filled + n;
        let done = total / MESSAGE;
        errors += buf[..done * MESSAGE].iter().filter(|&&b| b != FILL).count() as u64;
        // A partial message waits at the front for the rest of its bytes.
        buf.copy_within(done * MESSAGE..total, 0);
        filled = total % MESSAGE;
        let now = Instant::now();
        for at in sent.drain(..done.min(sent.len())) {
            latencies.push(now.duration_since(at).as_micros() as u64);
        }
        if now < deadline {
            out.resize(done * MESSAGE, FILL);
            wr.write_all(&out).await?;
            sent.extend(std::iter::repeat_n(Instant::now(), done));
        }
    }
    let calls = latencies.len() as u64;
    Ok(common::summary_line(
        latencies,
        calls,
        started.elapsed().as_secs_f64(),
        errors,
    ))
}
