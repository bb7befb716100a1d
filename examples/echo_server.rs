//! `echo_server [PORT]`: a PB server (default port 8800) whose root echoes,
//! adds, fails on request and shuts the server down. Twisted's own client
//! can use it: see `tests/interop/python/echo_client.py`.
//!
//! `cargo run -p spread-examples --example echo_server -- 8800`

mod common;

use std::sync::Arc;

use anyhow::Result;
use spread::{BoxFuture, BrokerOptions, Call, Referenceable, RemoteError, Value};

use crate::common::Shutdown;

struct Echo {
    shutdown: Shutdown,
}

impl Referenceable for Echo {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "echo" => Ok(call.arg(0)?.clone()),
                "add" => add(call.arg(0)?, call.arg(1)?),
                "fail" => Err(RemoteError::value_error(match call.arg(0)? {
                    Value::Str(msg) => msg.clone(),
                    other => format!("{other:?}"),
                })),
                "shutdown" => {
                    self.shutdown.request();
                    Ok(Value::None)
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// Python's `a + b` for the types a caller is likely to send.
fn add(a: &Value, b: &Value) -> Result<Value, RemoteError> {
    Ok(match (a, b) {
        (Value::Int(a), Value::Int(b)) => a
            .checked_add(*b)
            .map(Value::from)
            .ok_or_else(|| RemoteError::new("builtins.OverflowError", "int too large"))?,
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
    let shutdown = Shutdown::default();
    let root = Arc::new(Echo {
        shutdown: shutdown.clone(),
    });
    common::serve_until(port, BrokerOptions::default(), root, shutdown).await
}
