//! The howto's `copy2_sender`: a `SenderPond` whose copied state is not its
//! fields but their reduction, `frogsAndToads`.
//!
//! `cargo run -p spread-examples --example copy2_sender -- [PORT] [--no-shutdown]`

mod common;

use anyhow::Result;
use spread::{BrokerOptions, Copyable, Dict, Value, connect, copy};

#[derive(Debug)]
struct SenderPond {
    num_frogs: i64,
    num_toads: i64,
}

impl SenderPond {
    fn count(&self) -> i64 {
        self.num_frogs + self.num_toads
    }
}

// ANCHOR: state
impl Copyable for SenderPond {
    fn type_to_copy(&self) -> &str {
        "copy2_classes.SenderPond"
    }

    /// The howto's getStateToCopy: the two counts leave, their sum goes.
    fn state_to_copy(&self) -> Result<Value, spread::jelly::Error> {
        Ok(Value::Dict(Dict::from_iter([(
            Value::from("frogsAndToads"),
            Value::from(self.count()),
        )])))
    }
}
// ANCHOR_END: state

#[tokio::main]
async fn main() -> Result<()> {
    common::init_logging();
    let (port, no_shutdown) = common::port_and_flag("--no-shutdown")?;
    let pond = SenderPond {
        num_frogs: 3,
        num_toads: 4,
    };
    println!("count {}", pond.count());

    let broker = connect(("127.0.0.1", port), BrokerOptions::default()).await?;
    let root = broker.root_object().await?;
    let status = common::report_take_pond(root.call_remote("takePond", vec![copy(pond)]).await);
    if !no_shutdown {
        let _ = root.call_remote("shutdown", vec![]).await;
    }
    std::process::exit(status)
}
