//! The howto's `copy_receiver`: a PB server whose `takePond` receives a
//! `copy_sender.CopyPond` as a local `ReceiverPond`.
//!
//! `cargo run -p spread-examples --example copy_receiver -- [PORT] [--unregistered]`
//!
//! With `--unregistered` no local type is registered for the pond, and the
//! sender gets `InsecureJelly`.

mod common;

use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;
use spread::{
    BoxFuture, BrokerOptions, Call, Referenceable, RemoteCopy, RemoteError, SecurityOptions, Value,
    allow_remote_copy, from_value,
};

use crate::common::Shutdown;

/// The receiving side's pond: built from the state, no constructor called.
#[derive(Debug, Deserialize)]
struct ReceiverPond {
    #[expect(dead_code, reason = "part of the state, shown by Debug")]
    color: String,
    #[serde(rename = "numFrogs")]
    num_frogs: i64,
}

impl ReceiverPond {
    fn count_frogs(&self) {
        println!("{} frogs", self.num_frogs);
    }
}

impl RemoteCopy for ReceiverPond {
    fn from_copyable_state(state: Value) -> Result<Self, spread::jelly::Error> {
        from_value(&state)
    }
}

struct Receiver {
    shutdown: Shutdown,
}

impl Referenceable for Receiver {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "takePond" => {
                    let pond = match call.arg(0)? {
                        Value::Object(o) => o.downcast_ref::<ReceiverPond>(),
                        _ => None,
                    };
                    let pond =
                        pond.ok_or_else(|| RemoteError::type_error("takePond wants a pond"))?;
                    println!(" got pond: {pond:?}");
                    pond.count_frogs();
                    Ok(Value::from("safe and sound"))
                }
                "shutdown" => {
                    self.shutdown.request();
                    Ok(Value::None)
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, unregistered) = common::port_and_flag("--unregistered")?;
    let mut security = SecurityOptions::new();
    if !unregistered {
        allow_remote_copy::<ReceiverPond>(&mut security, "copy_sender.CopyPond")?;
    }
    let shutdown = Shutdown::default();
    let root = Arc::new(Receiver {
        shutdown: shutdown.clone(),
    });
    common::serve_until(
        port,
        BrokerOptions::default().with_security(security),
        root,
        shutdown,
    )
    .await
}
