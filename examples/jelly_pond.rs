//! The seed's pond, jellied as Twisted would send it, and read back.
//!
//! `cargo run -p spread-examples --example jelly_pond` prints the Banana bytes
//! that Twisted's `copy_sender.py` sends for `CopyPond("green", 7)`, then
//! decodes them and fills a Rust struct from the state.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use spread::banana::{Dialect, Limits, decode_all, encode_to_vec};
use spread::jelly::{AllowAll, Instance, Value, from_sexp, from_value, to_sexp, to_value};

/// The pond's state, as Python's `__dict__` holds it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Pond {
    color: String,
    #[serde(rename = "numFrogs")]
    num_frogs: i64,
}

fn main() -> Result<()> {
    let pond = Pond {
        color: "green".into(),
        num_frogs: 7,
    };
    // A Copyable goes out as [class name, state]; the broker will do this wrapping.
    let copy = Value::from(Instance::new("copy_sender.CopyPond", to_value(&pond)?));
    let bytes = encode_to_vec(&to_sexp(&copy)?, Dialect::Pb)?;
    println!("on the wire: {}", hex(&bytes));

    let sexp = &decode_all(&bytes, Dialect::Pb, Limits::default())?[0];
    let Value::Instance(received) = from_sexp(sexp, &AllowAll)? else {
        anyhow::bail!("expected an instance");
    };
    let back: Pond = from_value(&received.state)?;
    println!("{} arrived: {back:?}", received.class);
    assert_eq!(back, pond);
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
