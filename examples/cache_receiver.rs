//! The howto's `cache_receiver`: holds a live cache of the sender's
//! `MasterDuckPond` as a `SlaveDuckPond`, updated as the owner's ducks change.
//!
//! `cargo run -p spread-examples --example cache_receiver -- [PORT] [--unregistered]`

mod common;

use std::sync::{Arc, Mutex};

use anyhow::Result;
use spread::{
    BrokerOptions, RemoteCacheRef, RemoteError, SecurityOptions, Value, allow_remote_cache, remote,
};

use crate::common::Shutdown;

/// The receiver's copy of the pond: the list of ducks, kept up to date.
struct SlaveDuckPond {
    ducks: Mutex<Vec<Value>>,
}

impl SlaveDuckPond {
    /// The howto's setCopyableState.
    // ANCHOR: state
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
    // ANCHOR_END: state

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

// ANCHOR: observe
#[remote(cache)]
impl SlaveDuckPond {
    async fn add_duck(&self, duck: Value) {
        println!(" cache - addDuck");
        self.ducks.lock().unwrap().push(duck);
    }

    async fn remove_duck(&self, duck: Value) {
        println!(" cache - removeDuck");
        let mut ducks = self.ducks.lock().unwrap();
        if let Some(i) = ducks.iter().position(|d| *d == duck) {
            ducks.remove(i);
        }
    }
}
// ANCHOR_END: observe

struct Receiver {
    pond: Mutex<Option<RemoteCacheRef>>,
    shutdown: Shutdown,
}

impl Receiver {
    fn check_ducks_now(&self) -> Result<(), RemoteError> {
        let pond = self.pond.lock().unwrap();
        let slave = pond.as_ref().and_then(|p| p.get::<SlaveDuckPond>());
        let slave = slave.ok_or_else(|| RemoteError::value_error("no pond"))?;
        println!("{}", slave.describe());
        Ok(())
    }
}

#[remote]
impl Receiver {
    // ANCHOR: take_pond
    async fn take_pond(&self, pond: RemoteCacheRef) -> Result<(), RemoteError> {
        println!("got pond: {pond:?}");
        *self.pond.lock().unwrap() = Some(pond);
        self.check_ducks_now()
    }
    // ANCHOR_END: take_pond

    async fn check_ducks(&self) -> Result<(), RemoteError> {
        self.check_ducks_now()
    }

    // ANCHOR: ignore_pond
    async fn ignore_pond(&self) {
        println!("dropping pond");
        // The last handle goes: the owner hears `decache`.
        self.pond.lock().unwrap().take();
    }
    // ANCHOR_END: ignore_pond

    async fn shutdown(&self) {
        self.shutdown.request();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, unregistered) = common::port_and_flag("--unregistered")?;
    let mut security = SecurityOptions::new();
    // ANCHOR: register
    if !unregistered {
        allow_remote_cache(
            &mut security,
            "cache_classes.MasterDuckPond",
            SlaveDuckPond::from_state,
        )?;
    }
    // ANCHOR_END: register
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
