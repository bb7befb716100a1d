//! `login_client [PORT] [USER] [PASSWORD] [--tls CA.pem]`: logs in to a PB
//! server's cred portal (defaults: 8800, `alice`, `wonderland`), passing an
//! object the server may call back, then calls her perspective. With
//! `--tls`, over TLS, verifying the server's certificate for `127.0.0.1`
//! (the address it dials) against `CA.pem`. Exits 1 when the login is
//! refused, 2 on any other failure (a certificate that does not verify
//! among them). Works against `login_server` and
//! against Twisted's `tests/interop/python/login_server.py`.
//!
//! `cargo run -p spread-examples --example login_client -- 8800 alice wonderland`

mod common;

use std::sync::Arc;

use anyhow::{Context, Result};
use spread::cred::LoginError;
use spread::tls::{ClientTls, connect_tls};
use spread::{BrokerOptions, Value, connect, remote};

/// What the server may call: `hello(x)`.
struct Mind;

#[remote]
impl Mind {
    async fn hello(&self, x: String) -> String {
        format!("hello, {x}")
    }
}

/// A value as Python's `repr` prints the simple ones.
fn repr(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("'{s}'"),
        Value::None => "None".into(),
        other => format!("{other:?}"),
    }
}

async fn run(port: u16, user: &str, password: &str, ca: Option<&str>) -> Result<i32> {
    let address = ("127.0.0.1", port);
    let broker = match ca {
        Some(ca) => {
            let tls = ClientTls::from_pem_file(ca)?;
            connect_tls(address, "127.0.0.1", &tls, BrokerOptions::default())
                .await
                .context("connecting over TLS")?
        }
        None => connect(address, BrokerOptions::default())
            .await
            .context("connecting")?,
    };
    // ANCHOR: login
    let me = match broker.login(user, password, Some(Arc::new(Mind))).await {
        Ok(perspective) => perspective,
        Err(LoginError::Unauthorized(e)) => {
            println!("UnauthorizedLogin: {}", e.value);
            return Ok(1);
        }
        Err(e) => return Err(e).context("logging in"),
    };
    let whoami = me.call_remote("whoami", vec![]).await?;
    // ANCHOR_END: login
    println!("logged in as {}", whoami.as_str().unwrap_or("?"));
    println!("whoami -> {}", repr(&whoami));
    let echo = me.call_remote("echo", vec![Value::from("hello")]).await?;
    println!("echo -> {}", repr(&echo));
    let back = me
        .call_remote("callMeBack", vec![Value::from("there")])
        .await?;
    println!("callMeBack -> {}", repr(&back));
    Ok(0)
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let ca = match args.iter().position(|a| a == "--tls") {
        Some(at) if at + 1 < args.len() => {
            let ca = args.remove(at + 1);
            args.remove(at);
            Some(ca)
        }
        Some(_) => {
            eprintln!("usage: login_client [PORT] [USER] [PASSWORD] [--tls CA.pem]");
            std::process::exit(64);
        }
        None => None,
    };
    let port = args
        .first()
        .map_or(Ok(8800), |p| p.parse())
        .context("PORT must be a number")?;
    let user = args.get(1).map_or("alice", String::as_str);
    let password = args.get(2).map_or("wonderland", String::as_str);
    let code = match run(port, user, password, ca.as_deref()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("login_client: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
