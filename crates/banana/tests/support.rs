//! Helpers shared by the test modules.

use std::fmt::Write as _;

use bytes::BytesMut;
use spread_banana::{Decoder, Dialect, Limits, Sexp};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/pb-vectors.json"
));

/// One entry of `pb-vectors.json`, reduced to what the byte level needs.
pub(crate) struct Vector {
    pub(crate) name: String,
    /// The Banana bytes in the `pb` dialect (`None` when Twisted cannot send it).
    pub(crate) pb: Option<Vec<u8>>,
    /// The Banana bytes in the `none` dialect, where given.
    pub(crate) none: Option<Vec<u8>>,
    /// Python's repr of what Twisted's Banana layer decodes, frames joined by " then ".
    pub(crate) decoded_repr: String,
    kind: Option<String>,
}

impl Vector {
    /// The dialect Twisted is in when frame `index` of the `pb` bytes is decoded.
    pub(crate) fn pb_dialect_of_frame(&self, index: usize) -> Dialect {
        let before_negotiation = self.name.starts_with("frame_dialect_offer")
            || (self.kind.as_deref() == Some("pb_frame_sequence") && index == 0);
        if before_negotiation {
            Dialect::None
        } else {
            Dialect::Pb
        }
    }
}

pub(crate) fn vectors() -> Vec<Vector> {
    let json: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors are JSON");
    let entries = json.as_array().expect("vectors are an array");
    assert_eq!(entries.len(), 89, "the spec promises 89 vectors");
    entries
        .iter()
        .map(|entry| {
            let text = |key: &str| entry.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            let jelly = text("jelly_sexp").expect("every vector has a jelly_sexp");
            Vector {
                name: text("name").expect("every vector has a name"),
                pb: text("banana_hex").map(|h| unhex(&h)),
                none: text("banana_hex_none_dialect").map(|h| unhex(&h)),
                decoded_repr: text("banana_decoded_repr").unwrap_or(jelly),
                kind: text("kind"),
            }
        })
        .collect()
}

pub(crate) fn unhex(hex: &str) -> Vec<u8> {
    let hex: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(hex.len().is_multiple_of(2), "odd hex length");
    hex.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// Feeds `chunks` one after the other, switching dialect before each frame
/// as `dialect_of_frame` says, and returns every expression in order.
pub(crate) fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    dialect_of_frame: impl Fn(usize) -> Dialect,
) -> Vec<Sexp> {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            decoder.set_dialect(dialect_of_frame(out.len()));
            match decoder.decode(&mut buf).expect("valid input") {
                Some(sexp) => out.push(sexp),
                None => break,
            }
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    assert!(!decoder.is_mid_expression(), "expression left open");
    out
}

/// Equality that compares floats by their bits, so NaN equals itself and
/// -0.0 differs from 0.0.
pub(crate) fn same(a: &Sexp, b: &Sexp) -> bool {
    match (a, b) {
        (Sexp::List(a), Sexp::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Sexp::Float(a), Sexp::Float(b)) => a.to_bits() == b.to_bits(),
        _ => a == b,
    }
}

pub(crate) fn all_same(a: &[Sexp], b: &[Sexp]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
}

/// What Python's `repr` prints for the value Twisted's Banana decodes.
pub(crate) fn py_repr(sexp: &Sexp) -> String {
    let mut out = String::new();
    write_repr(sexp, &mut out);
    out
}

fn write_repr(sexp: &Sexp, out: &mut String) {
    match sexp {
        Sexp::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Sexp::Int(n) => write!(out, "{n}").unwrap(),
        Sexp::BigInt(n) => write!(out, "{n}").unwrap(),
        Sexp::Float(x) => out.push_str(&py_float_repr(*x)),
        Sexp::Bytes(bytes) => {
            let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
                '"'
            } else {
                '\''
            };
            out.push('b');
            out.push(quote);
            for &b in bytes.iter() {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b'\t' => out.push_str("\\t"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    _ if b == quote as u8 => write!(out, "\\{quote}").unwrap(),
                    0x20..=0x7e => out.push(b as char),
                    _ => write!(out, "\\x{b:02x}").unwrap(),
                }
            }
            out.push(quote);
        }
        other => panic!("unexpected sexp {other:?}"),
    }
}

/// Python's float repr: shortest round-trip digits, scientific notation
/// outside 1e-4 <= |x| < 1e16.
fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap();
    let exponent: i32 = exponent.parse().unwrap();
    if x == 0.0 || (-4..16).contains(&exponent) {
        let plain = format!("{x}");
        if plain.contains('.') {
            plain
        } else {
            plain + ".0"
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}
