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
use spread_jelly::{AllowAll, Error, ErrorKind, Policy, Value, from_sexp, to_sexp};

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

/// PB's receiving policy as Twisted 26.10 sets it up (`jelly.globalSecurity`
/// with nothing registered): the basic types, and no classes. The real policy
/// is spread-security's; this one only checks that the vectors' refusals are
/// refusals here too.
struct PbDefaults;

impl Policy for PbDefaults {
    fn allows_type(&self, tag: &str) -> bool {
        matches!(
            tag,
            "None"
                | "boolean"
                | "unicode"
                | "list"
                | "tuple"
                | "dictionary"
                | "set"
                | "frozenset"
                | "datetime"
                | "date"
                | "time"
                | "timedelta"
                | "decimal"
                | "reference"
                | "dereference"
                | "unpersistable"
                | "persistent"
        )
    }
    fn unjelly_instance(&self, class: &str, _state: Value) -> Result<Value, Error> {
        Err(ErrorKind::Insecure {
            tag: class.to_owned(),
            reason: None,
        }
        .into())
    }
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
    match from_sexp(sexp, &PbDefaults) {
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
