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
use spread::{BrokerOptions, RemoteCopy, SecurityOptions, allow_remote_copy, remote};

use crate::common::Shutdown;

/// The receiving side's pond: built from the state, no constructor called.
// ANCHOR: pond
#[derive(Debug, Clone, RemoteCopy)]
struct ReceiverPond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
}
// ANCHOR_END: pond

impl ReceiverPond {
    fn count_frogs(&self) {
        println!("{} frogs", self.num_frogs);
    }
}

struct Receiver {
    shutdown: Shutdown,
}

// ANCHOR: receiver
#[remote]
impl Receiver {
    async fn take_pond(&self, pond: ReceiverPond) -> &'static str {
        println!(" got pond: {} {}", pond.color, pond.num_frogs);
        pond.count_frogs();
        "safe and sound"
    }

    async fn shutdown(&self) {
        self.shutdown.request();
    }
}
// ANCHOR_END: receiver

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, unregistered) = common::port_and_flag("--unregistered")?;
    // ANCHOR: register
    let mut security = SecurityOptions::new();
    if !unregistered {
        allow_remote_copy::<ReceiverPond>(&mut security, "copy_sender.CopyPond")?;
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
