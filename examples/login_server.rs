//! `login_server [PORT] [--tls CERT.pem KEY.pem]`: a PB server behind a
//! cred portal (default port 8800) that lets `alice` in with the password
//! `wonderland`; with `--tls`, over TLS with that certificate chain and key. Her
//! perspective answers `whoami()`, `echo(x)` and `callMeBack(x)`, which
//! calls `hello(x)` on the object the client passed at login. Twisted's
//! own client can log in: see `tests/interop/python/login_client.py`.
//!
//! `cargo run -p spread-examples --example login_server -- 8800`

mod common;

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use spread::cred::{Avatar, InMemoryChecker, Login, Portal, Realm};
use spread::tls::{ServerTls, serve_tls};
use spread::{
    BoxFuture, BrokerOptions, Perspective, RemoteError, RemoteReference, Value, remote, serve,
};

// ANCHOR: avatar
/// Alice's perspective: what she can call once logged in.
struct User {
    name: String,
    /// The object she passed at login, if any.
    mind: Option<RemoteReference>,
}

#[remote(perspective)]
impl User {
    async fn whoami(&self) -> String {
        self.name.clone()
    }

    async fn echo(&self, x: Value) -> Value {
        x
    }

    /// Calls her back, and answers what she answered.
    async fn call_me_back(&self, x: Value) -> Result<Value, RemoteError> {
        match &self.mind {
            Some(mind) => Ok(mind.call_remote("hello", vec![x]).await?),
            None => Ok(Value::None),
        }
    }
}

/// Makes a perspective for each login, and says who came and went.
struct Users;

impl Realm for Users {
    fn request_avatar(&self, login: Login) -> BoxFuture<Result<Avatar, RemoteError>> {
        Box::pin(async move {
            let name = login.avatar_id.unwrap_or_else(|| "anonymous".into());
            println!("login {name}");
            let user = User {
                name: name.clone(),
                mind: login.mind,
            };
            let perspective = Perspective::new(name.clone(), Arc::new(user));
            Ok(Avatar::new(perspective).on_logout(move || println!("logout {name}")))
        })
    }
}
// ANCHOR_END: avatar

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match args.first() {
        Some(port) if !port.starts_with("--") => port.parse().context("PORT must be a number")?,
        _ => 8800,
    };
    let tls = match args.iter().position(|a| a == "--tls") {
        Some(at) => match (args.get(at + 1), args.get(at + 2)) {
            (Some(cert), Some(key)) => Some(ServerTls::from_pem_files(cert, key)?),
            _ => bail!("usage: login_server [PORT] [--tls CERT.pem KEY.pem]"),
        },
        None => None,
    };
    // ANCHOR: portal
    let portal = Arc::new(
        Portal::new(Users).with_checker(InMemoryChecker::new().with_user("alice", "wonderland")),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let options = BrokerOptions::default().with_root(portal.root());
    let server = match tls {
        None => serve(listener, options),
        Some(tls) => serve_tls(listener, tls, options),
    };
    // ANCHOR_END: portal
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
