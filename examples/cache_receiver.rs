//! The howto's `cache_receiver`: holds a live cache of the sender's
//! `MasterDuckPond` as a `SlaveDuckPond`, updated as the owner's ducks change.
//!
//! `cargo run -p spread-examples --example cache_receiver -- [PORT] [--unregistered]`

mod common;

use std::sync::{Arc, Mutex};

use anyhow::Result;
use spread::{
    BoxFuture, BrokerOptions, Call, Referenceable, RemoteCache, RemoteCacheRef, RemoteError,
    SecurityOptions, Value, allow_remote_cache,
};

use crate::common::Shutdown;

/// The receiver's copy of the pond: the list of ducks, kept up to date.
struct SlaveDuckPond {
    ducks: Mutex<Vec<Value>>,
}

impl SlaveDuckPond {
    /// The howto's setCopyableState.
    fn from_state(state: Value) -> Result<SlaveDuckPond, spread::jelly::Error> {
        println!(" cache - sitting, er, setting ducks");
        let ducks = state
            .as_seq()
            .ok_or_else(|| spread::jelly::Error::custom("expected a list of ducks"))?
            .to_vec();
        Ok(SlaveDuckPond {
            ducks: Mutex::new(ducks),
        })
    }

    /// The ducks as Python prints a list of str.
    fn describe(&self) -> String {
        let ducks = self.ducks.lock().unwrap();
        let names: Vec<String> = ducks
            .iter()
            .map(|d| format!("'{}'", d.as_str().unwrap_or("?")))
            .collect();
        format!("[{}] ducks:  [{}]", ducks.len(), names.join(", "))
    }
}

impl RemoteCache for SlaveDuckPond {
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            let duck = call.arg(0)?.clone();
            match call.method.as_str() {
                "addDuck" => {
                    println!(" cache - addDuck");
                    self.ducks.lock().unwrap().push(duck);
                }
                "removeDuck" => {
                    println!(" cache - removeDuck");
                    let mut ducks = self.ducks.lock().unwrap();
                    if let Some(i) = ducks.iter().position(|d| *d == duck) {
                        ducks.remove(i);
                    }
                }
                _ => return Err(RemoteError::no_such_method(&call.method)),
            }
            Ok(Value::None)
        })
    }
}

struct Receiver {
    pond: Mutex<Option<RemoteCacheRef>>,
    shutdown: Shutdown,
}

impl Receiver {
    fn check_ducks(&self) -> Result<Value, RemoteError> {
        let pond = self.pond.lock().unwrap();
        let slave = pond.as_ref().and_then(|p| p.get::<SlaveDuckPond>());
        let slave = slave.ok_or_else(|| RemoteError::value_error("no pond"))?;
        println!("{}", slave.describe());
        Ok(Value::None)
    }
}

impl Referenceable for Receiver {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "takePond" => {
                    let pond = RemoteCacheRef::from_value(call.arg(0)?)
                        .ok_or_else(|| RemoteError::type_error("takePond wants a pond"))?;
                    println!("got pond: {pond:?}");
                    *self.pond.lock().unwrap() = Some(pond.clone());
                    self.check_ducks()
                }
                "checkDucks" => self.check_ducks(),
                "ignorePond" => {
                    println!("dropping pond");
                    // The last handle goes: the owner hears `decache`.
                    self.pond.lock().unwrap().take();
                    Ok(Value::None)
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
        allow_remote_cache(
            &mut security,
            "cache_classes.MasterDuckPond",
            SlaveDuckPond::from_state,
        )?;
    }
    let shutdown = Shutdown::default();
    let root = Arc::new(Receiver {
        pond: Mutex::new(None),
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
