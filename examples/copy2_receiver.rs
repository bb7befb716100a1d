//! The howto's `copy2_receiver`: receives a `copy2_classes.SenderPond` as a
//! `ReceiverPond` built from the reduced state.
//!
//! `cargo run -p spread-examples --example copy2_receiver -- [PORT] [--unregistered]`

mod common;

use std::sync::Arc;

use anyhow::Result;
use spread::{
    BoxFuture, BrokerOptions, Call, Referenceable, RemoteCopy, RemoteError, SecurityOptions, Value,
    allow_remote_copy,
};

use crate::common::Shutdown;

#[derive(Debug)]
struct ReceiverPond {
    frogs_and_toads: i64,
}

impl ReceiverPond {
    fn count(&self) -> i64 {
        self.frogs_and_toads
    }
}

// ANCHOR: state
impl RemoteCopy for ReceiverPond {
    /// The howto's setCopyableState: the state is all there is.
    fn from_copyable_state(state: Value) -> Result<Self, spread::jelly::Error> {
        let n = state
            .as_dict()
            .and_then(|d| d.get_str("frogsAndToads"))
            .and_then(Value::as_i64);
        Ok(ReceiverPond {
            frogs_and_toads: n
                .ok_or_else(|| spread::jelly::Error::custom("no frogsAndToads in the state"))?,
        })
    }
}
// ANCHOR_END: state

struct Receiver {
    shutdown: Shutdown,
}

impl Referenceable for Receiver {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                // ANCHOR: take_pond
                "takePond" => {
                    let pond = match call.arg(0)? {
                        Value::Object(o) => o.downcast_ref::<ReceiverPond>(),
                        _ => None,
                    };
                    let pond =
                        pond.ok_or_else(|| RemoteError::type_error("takePond wants a pond"))?;
                    println!(" got pond: {pond:?}");
                    println!(" count {}", pond.count());
                    Ok(Value::from("safe and sound"))
                }
                // ANCHOR_END: take_pond
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
    // ANCHOR: register
    let mut security = SecurityOptions::new();
    if !unregistered {
        allow_remote_copy::<ReceiverPond>(&mut security, "copy2_classes.SenderPond")?;
    }
    // ANCHOR_END: register
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
