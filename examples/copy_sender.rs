//! The howto's `copy_sender`: sends a `CopyPond` by copy to a receiver
//! (Rust's `copy_receiver`, or Twisted's `tests/interop/python/copy_receiver.py`).
//!
//! `cargo run -p spread-examples --example copy_sender -- [PORT] [--no-shutdown]`
//!
//! Prints `7 frogs`, the wire class name, then `pond arrived safe and sound`;
//! if the receiver registered no local type for the pond, `error during
//! takePond:` and ` InsecureJelly`, and exits with status 2.

mod common;

use anyhow::Result;
use spread::{BrokerOptions, Copyable, connect, copy};

/// The sender's module path in the howto: the receiver registers this name.
// ANCHOR: pond
#[derive(Debug, Copyable)]
#[pb(class = "copy_sender.CopyPond")]
struct CopyPond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
}
// ANCHOR_END: pond

impl CopyPond {
    fn count_frogs(&self) {
        println!("{} frogs", self.num_frogs);
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, no_shutdown) = common::port_and_flag("--no-shutdown")?;
    let pond = CopyPond {
        color: "green".into(),
        num_frogs: 7,
    };
    pond.count_frogs();
    println!("{}", pond.type_to_copy());

    // ANCHOR: send
    let broker = connect(("127.0.0.1", port), BrokerOptions::default()).await?;
    let root = broker.root_object().await?;
    let status = common::report_take_pond(root.call_remote("takePond", vec![copy(pond)]).await);
    // ANCHOR_END: send
    if !no_shutdown {
        // The receiver may stop before it answers.
        let _ = root.call_remote("shutdown", vec![]).await;
    }
    std::process::exit(status)
}
