//! `echo_server [PORT]`: a PB server (default port 8800) whose root echoes,
//! adds, fails on request and shuts the server down. Twisted's own client
//! can use it: see `tests/interop/python/echo_client.py`.
//!
//! `cargo run -p spread-examples --example echo_server -- 8800`

mod common;

use std::sync::Arc;

use anyhow::Result;
use spread::{BigInt, BrokerOptions, RemoteError, Value, remote};

use crate::common::Shutdown;

// ANCHOR: root
struct Echo {
    shutdown: Shutdown,
}
// ANCHOR_END: root

// ANCHOR: remote
#[remote]
impl Echo {
    async fn echo(&self, x: Value) -> Value {
        x
    }

    async fn add(&self, a: Value, b: Value) -> Result<Value, RemoteError> {
        add(&a, &b)
    }

    async fn fail(&self, msg: Value) -> Result<(), RemoteError> {
        Err(RemoteError::value_error(match msg {
            Value::Str(msg) => msg,
            other => format!("{other:?}"),
        }))
    }

    async fn shutdown(&self) {
        self.shutdown.request();
    }
}
// ANCHOR_END: remote

/// A Python int of any size, as it arrived (`bool` is an int in Python).
fn int(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(n) => Some(BigInt::from(*n)),
        Value::BigInt(n) => Some(n.clone()),
        Value::Bool(b) => Some(BigInt::from(i64::from(*b))),
        _ => None,
    }
}

/// Python's `a + b` for the types a caller is likely to send.
fn add(a: &Value, b: &Value) -> Result<Value, RemoteError> {
    if let (Some(a), Some(b)) = (int(a), int(b)) {
        // Python's ints do not overflow; the sum is sent as Twisted would
        // send it (a bare int within 64 bits, a long int past them).
        return Ok(Value::from(a + b));
    }
    Ok(match (a, b) {
        (Value::Float(a), Value::Float(b)) => Value::from(a + b),
        (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
            Value::from(*a as f64 + b)
        }
        (Value::Str(a), Value::Str(b)) => Value::from(format!("{a}{b}")),
        (Value::List(a), Value::List(b)) => Value::List(a.iter().chain(b).cloned().collect()),
        _ => {
            return Err(RemoteError::type_error(format!(
                "unsupported operand type(s) for +: '{}' and '{}'",
                a.type_name(),
                b.type_name()
            )));
        }
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, _) = common::port_and_flag("")?;
    // ANCHOR: serve
    let shutdown = Shutdown::default();
    let root = Arc::new(Echo {
        shutdown: shutdown.clone(),
    });
    common::serve_until(port, BrokerOptions::default(), root, shutdown).await
    // ANCHOR_END: serve
}
