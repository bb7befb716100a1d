//! `cargo xtask demo`: Rust and a real Twisted exchange jellied values, both
//! ways, and show that each side reads the other's bytes and writes the same
//! bytes for the same value.

use anyhow::{Context, Result};
use serde_json::json;
use spread_banana::{Dialect, Limits, decode_all, encode_to_vec};
use spread_interop::peer::{Peer, python};
use spread_interop::typed;
use spread_jelly::{AllowAll, Dict, Instance, Shared, Value, from_sexp, to_sexp};

fn main() -> Result<()> {
    let python = python()?.context("Twisted is not installed: run `cargo xtask demo`")?;
    let mut twisted = Peer::start(&python)?;

    println!("== Rust jellies, Twisted reads ==");
    let pond = Value::from(Instance::new(
        "interop_classes.Thing",
        Dict::from_iter([
            (Value::from("color"), Value::from("green")),
            (Value::from("numFrogs"), Value::from(7)),
        ]),
    ));
    let shared = Shared::new(Value::List(vec![Value::from("duck")]));
    let values = [
        ("a pond's state", pond),
        (
            "one list met twice",
            Value::List(vec![Value::Shared(shared.clone()), Value::Shared(shared)]),
        ),
        (
            "a list that contains itself",
            Value::Shared(Shared::cyclic(|me| {
                Value::List(vec![Value::from(1), Value::Shared(me)])
            })),
        ),
        (
            "text, bytes, floats",
            Value::Tuple(vec![
                Value::from("héllo ☃"),
                Value::Bytes("raw".into()),
                Value::Float(f64::NAN),
                Value::Float(-0.0),
            ]),
        ),
    ];
    for (what, value) in values {
        let bytes = encode_to_vec(&to_sexp(&value)?, Dialect::Pb)?;
        let reply = twisted.roundtrip(&bytes)?;
        println!("[rust]    sends {what}: {value:?}");
        println!("[twisted] read:  {}", reply.value);
        println!(
            "[twisted] jellies it back to the same bytes: {}",
            reply.banana_pb == bytes
        );
    }

    println!("\n== Twisted jellies, Rust reads ==");
    let described = [
        json!({"dict": [[{"str": "when"}, {"datetime": [2026, 11, 25, 12, 0, 0, 0]}], [{"str": "price"}, {"decimal": ["995", -2]}]]}),
        json!({"id": 1, "list": [{"str": "me"}, {"ref": 1}]}),
        json!({"set": [{"int": "1"}, {"int": "2"}, {"int": "3"}]}),
    ];
    for typed_value in described {
        let reply = twisted.jelly_typed(&typed_value)?;
        let sexp = &decode_all(&reply.banana_pb, Dialect::Pb, Limits::default())?[0];
        let value = from_sexp(sexp, &AllowAll)?;
        println!(
            "[twisted] sends {} bytes: {}",
            reply.banana_pb.len(),
            typed::to_hex(&reply.banana_pb)
        );
        println!("[rust]    read:  {value:?}");
        let again = encode_to_vec(&to_sexp(&value)?, Dialect::Pb)?;
        println!(
            "[rust]    jellies it back to the same bytes: {}",
            again == reply.banana_pb
        );
    }
    Ok(())
}
