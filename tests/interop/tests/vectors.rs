//! The golden vectors, regenerated from real Twisted by `cargo xtask
//! vectors`, checked both ways at every layer: Twisted's bytes decode to
//! Twisted's s-expression and value, and that value jellies and encodes to
//! exactly Twisted's bytes.

use anyhow::{Context, Result, bail};
use bytes::BytesMut;
use serde_json::Value as Json;
use spread_banana::{Decoder, Dialect, Limits, Sexp, encode_to_vec};
use spread_interop::peer::workspace_root;
use spread_interop::typed::{self, hex};
use spread_jelly::{AllowAll, ErrorKind, Jellyable, Object, Value, from_sexp, to_sexp};
use spread_security::SecurityOptions;

fn load(name: &str) -> Json {
    let path = workspace_root().join("tests/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn twisted_vectors() -> Vec<Json> {
    let doc = load("twisted-vectors.json");
    assert_eq!(doc["twisted_version"], "26.10.0");
    doc["vectors"].as_array().unwrap().clone()
}

/// Decodes every expression in `bytes`; `dialects` gives the dialect for each
/// expression in turn (the last one repeats), as the broker switches dialect
/// between frames.
fn decode(bytes: &[u8], dialects: &[Dialect]) -> Result<Vec<Sexp>> {
    let mut buf = BytesMut::from(bytes);
    let mut decoder = Decoder::new(Limits::default());
    let mut out = Vec::new();
    loop {
        let dialect = dialects[out.len().min(dialects.len() - 1)];
        decoder.set_dialect(dialect);
        match decoder.decode(&mut buf)? {
            Some(sexp) => out.push(sexp),
            None if buf.is_empty() => return Ok(out),
            None => bail!("{} trailing bytes", buf.len()),
        }
    }
}

/// Exact comparison, floats by bits (NaN is one of the vectors).
fn same(a: &Sexp, b: &Sexp) -> bool {
    match (a, b) {
        (Sexp::Float(x), Sexp::Float(y)) => x.to_bits() == y.to_bits(),
        (Sexp::List(x), Sexp::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

fn check_bytes_both_ways(name: &str, sexp: &Sexp, hex_str: &Json, dialect: Dialect) -> Result<()> {
    let Some(hex_str) = hex_str.as_str() else {
        return Ok(());
    };
    let bytes = hex(hex_str)?;
    let decoded = decode(&bytes, &[dialect])?;
    if decoded.len() != 1 || !same(&decoded[0], sexp) {
        bail!(
            "{name}: {dialect:?} bytes decode to {decoded:?}, Twisted's s-expression is {sexp:?}"
        );
    }
    let encoded = encode_to_vec(sexp, dialect)?;
    if encoded != bytes {
        bail!(
            "{name}: {dialect:?} encoding is {}, Twisted's is {hex_str}",
            typed::to_hex(&encoded)
        );
    }
    Ok(())
}

fn check_security_error(name: &str, sexp: &Sexp, twisted: &str) -> Result<()> {
    // What a Twisted PB broker accepts by default, with nothing registered.
    match from_sexp(sexp, &SecurityOptions::new()) {
        Err(e) => match e.kind() {
            ErrorKind::Insecure { tag, .. } if twisted.contains(tag.as_str()) => Ok(()),
            other => bail!("{name}: Twisted says {twisted}, we say {other}"),
        },
        Ok(v) => bail!("{name}: Twisted refuses ({twisted}), we built {v:?}"),
    }
}

fn check(entry: &Json) -> Result<()> {
    let name = entry["name"].as_str().context("name")?;
    let kind = entry["kind"].as_str().context("kind")?;
    if kind == "pb_frame_sequence" {
        // The client's dialect choice is read before any dialect is active;
        // everything after it is in the chosen one.
        let sexps: Vec<Sexp> = entry["sexps"]
            .as_array()
            .context("sexps")?
            .iter()
            .map(typed::sexp)
            .collect::<Result<_>>()?;
        let bytes = hex(entry["banana_pb"].as_str().context("banana_pb")?)?;
        let decoded = decode(&bytes, &[Dialect::None, Dialect::Pb])?;
        assert_eq!(decoded, sexps, "{name}");
        let mut encoded = encode_to_vec(&sexps[0], Dialect::None)?;
        encoded.extend(encode_to_vec(&sexps[1], Dialect::Pb)?);
        assert_eq!(encoded, bytes, "{name}");
        return Ok(());
    }
    if kind == "unsendable" {
        assert!(entry["banana_pb"].is_null(), "{name}");
        return match typed::sexp(&entry["sexp"]) {
            // A Python str inside the s-expression: Banana has no way to say
            // it, so there is nothing for us to send. Its tag must still be
            // refused on the way in, where Twisted refuses it.
            Err(_) => {
                let tag = entry["sexp"][0]["bytes"].as_str().context("tag")?;
                let forged = Sexp::list([
                    Sexp::from(tag.as_bytes().to_vec()),
                    Sexp::from(b"x".to_vec()),
                ]);
                check_security_error(
                    name,
                    &forged,
                    entry["pb_security_error"].as_str().context("error")?,
                )?;
                assert!(matches!(
                    from_sexp(&forged, &AllowAll).unwrap_err().kind(),
                    ErrorKind::Unsupported { .. }
                ));
                Ok(())
            }
            Ok(sexp) => {
                // Too large an int: refused at the sender, as Twisted does.
                let err = encode_to_vec(&sexp, Dialect::Pb).expect_err(name);
                assert!(err.to_string().contains("too large"), "{name}: {err}");
                Ok(())
            }
        };
    }
    let sexp = typed::sexp(&entry["sexp"])?;
    check_bytes_both_ways(name, &sexp, &entry["banana_pb"], Dialect::Pb)?;
    check_bytes_both_ways(name, &sexp, &entry["banana_none"], Dialect::None)?;
    if let Some(twisted) = entry["pb_security_error"].as_str() {
        check_security_error(name, &sexp, twisted)?;
    }
    if kind != "value" {
        // pb_token and pb_frame: meaningful only to a broker, which checks
        // them at its own layer; the bytes are checked above.
        return Ok(());
    }
    match entry.get("value") {
        Some(expected) => {
            let expected = typed::value(expected)?;
            let unjellied = from_sexp(&sexp, &AllowAll)?;
            if unjellied != expected {
                bail!("{name}: unjellied {unjellied:?}, Twisted has {expected:?}");
            }
            let jellied = to_sexp(&expected)?;
            if !same(&jellied, &sexp) {
                bail!("{name}: jellied {jellied:?}, Twisted sends {sexp:?}");
            }
        }
        // A class reference: no Rust value stands for a Python class.
        None => assert!(
            matches!(
                from_sexp(&sexp, &AllowAll).unwrap_err().kind(),
                ErrorKind::Unsupported { .. }
            ),
            "{name}"
        ),
    }
    Ok(())
}

#[test]
fn every_twisted_vector_both_ways() {
    let vectors = twisted_vectors();
    assert_eq!(vectors.len(), 89);
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|e| check(e).err().map(|e| format!("{e:#}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The project's copy of the specification's vectors and the file
/// regenerated from real Twisted must agree on every byte.
#[test]
fn specification_vectors_agree_with_real_twisted() {
    let spec = load("pb-vectors.json");
    let spec = spec.as_array().unwrap();
    let real = twisted_vectors();
    assert_eq!(spec.len(), real.len());
    for (s, r) in spec.iter().zip(&real) {
        assert_eq!(s["name"], r["name"]);
        assert_eq!(s["banana_hex"], r["banana_pb"], "{}", s["name"]);
        if let Some(none) = s.get("banana_hex_none_dialect") {
            assert_eq!(none, &r["banana_none"], "{}", s["name"]);
        }
    }
}

/// The sending side of the Copyable vectors: a Rust object with a copy rule
/// goes out as Twisted's CopyPond does, and the same object twice in one
/// value as one `reference` and one `dereference`.
#[test]
fn a_copyable_object_jellies_to_twisteds_bytes() {
    #[derive(Debug)]
    struct CopyPond;

    impl Jellyable for CopyPond {
        fn state_to_copy(&self) -> Result<Value, spread_jelly::Error> {
            Ok(Value::Dict(spread_jelly::Dict::from_iter([
                (Value::from("color"), Value::from("green")),
                (Value::from("numFrogs"), Value::from(7)),
            ])))
        }
    }

    let pond = Value::Object(Object::new("copy_sender.CopyPond", CopyPond));
    let vectors = twisted_vectors();
    let bytes_of = |name: &str| {
        let entry = vectors.iter().find(|e| e["name"] == name).unwrap();
        hex(entry["banana_pb"].as_str().unwrap()).unwrap()
    };
    let once = encode_to_vec(&to_sexp(&pond).unwrap(), Dialect::Pb).unwrap();
    assert_eq!(once, bytes_of("copyable_CopyPond"));
    let twice = Value::List(vec![pond.clone(), pond]);
    let twice = encode_to_vec(&to_sexp(&twice).unwrap(), Dialect::Pb).unwrap();
    assert_eq!(twice, bytes_of("copyable_CopyPond_twice_in_list"));
}

/// The receiving side of the same vectors: once the class is registered,
/// Twisted's bytes become the local type, shared where Twisted shared it.
#[test]
fn twisteds_copyable_becomes_the_registered_type() {
    #[derive(Debug, PartialEq)]
    struct ReceiverPond {
        frogs: i64,
    }

    let mut options = SecurityOptions::new();
    options
        .allow_factory("copy_sender.CopyPond", |state: Value| {
            let frogs = state
                .as_dict()
                .and_then(|d| d.get_str("numFrogs"))
                .and_then(Value::as_i64);
            Ok(ReceiverPond {
                frogs: frogs.ok_or_else(|| spread_jelly::Error::custom("no numFrogs"))?,
            })
        })
        .unwrap();
    let vectors = twisted_vectors();
    let entry = vectors
        .iter()
        .find(|e| e["name"] == "copyable_CopyPond_twice_in_list")
        .unwrap();
    let sexp = typed::sexp(&entry["sexp"]).unwrap();
    let value = from_sexp(&sexp, &options).unwrap();
    let [Value::Shared(a), Value::Shared(b)] = value.as_seq().unwrap() else {
        panic!("{value:?}")
    };
    assert!(a.ptr_eq(b), "Twisted sent one pond twice");
    let Some(Value::Object(pond)) = a.get() else {
        panic!()
    };
    assert_eq!(
        pond.downcast_ref::<ReceiverPond>(),
        Some(&ReceiverPond { frogs: 7 })
    );
}
