//! Helpers shared by the test modules.

use std::fmt::Write as _;

use bytes::BytesMut;
use spread_banana::{
    DecodeError, Decoder, Dialect, Limits, Node, NodeKind, Nodes, Sexp, TokenDecoder,
};

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
///
/// Both decoders are fed the same chunks and must agree call for call.
pub(crate) fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    dialect_of_frame: impl Fn(usize) -> Dialect,
) -> Vec<Sexp> {
    let chunks: Vec<&[u8]> = chunks.into_iter().collect();
    let [tree, tokens] = AnyDecoder::both(Limits::default(), Dialect::None)
        .map(|decoder| feed(decoder, chunks.iter().copied(), &dialect_of_frame));
    assert_same_events(&tree, &tokens);
    let mut out = Vec::new();
    for event in tree {
        match event {
            Event::Frame(sexp) => out.push(sexp),
            Event::Error(e) => panic!("valid input failed: {e}"),
            Event::Waiting { .. } => {}
        }
    }
    match tokens.last() {
        Some(Event::Waiting { buffered, mid }) => {
            assert_eq!(*buffered, 0, "bytes left over");
            assert!(!mid, "expression left open");
        }
        other => panic!("the stream did not end waiting: {other:?}"),
    }
    out
}

/// Either decoder behind one interface, so that a test runs through both:
/// a [`TokenDecoder`] must give exactly what a [`Decoder`] gives.
pub(crate) enum AnyDecoder {
    Tree(Decoder),
    Tokens(TokenDecoder),
}

impl AnyDecoder {
    /// A [`Decoder`] and a [`TokenDecoder`], in that order.
    pub(crate) fn both(limits: Limits, dialect: Dialect) -> [AnyDecoder; 2] {
        [
            AnyDecoder::Tree(Decoder::new(limits).with_dialect(dialect)),
            AnyDecoder::Tokens(TokenDecoder::new(limits).with_dialect(dialect)),
        ]
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            AnyDecoder::Tree(_) => "Decoder",
            AnyDecoder::Tokens(_) => "TokenDecoder",
        }
    }

    /// The next expression; a [`TokenDecoder`]'s node read back as a tree.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
        match self {
            AnyDecoder::Tree(decoder) => decoder.decode(buf),
            AnyDecoder::Tokens(decoder) => decoder.decode(buf).map(|node| node.map(read_node)),
        }
    }

    pub(crate) fn set_dialect(&mut self, dialect: Dialect) {
        match self {
            AnyDecoder::Tree(decoder) => decoder.set_dialect(dialect),
            AnyDecoder::Tokens(decoder) => decoder.set_dialect(dialect),
        }
    }

    pub(crate) fn is_mid_expression(&self) -> bool {
        match self {
            AnyDecoder::Tree(decoder) => decoder.is_mid_expression(),
            AnyDecoder::Tokens(decoder) => decoder.is_mid_expression(),
        }
    }
}

/// A node as a tree, read twice: with [`Node::to_sexp`], and through the
/// public view ([`Node::kind`], [`Nodes`], [`Node::to_bytes`]), which
/// must agree.
pub(crate) fn read_node(node: Node<'_>) -> Sexp {
    let tree = node.to_sexp();
    // Without recursion: the deepest frames are read on small stacks.
    let mut stack: Vec<(Nodes<'_>, Vec<Sexp>)> = Vec::new();
    let mut next = Some(node);
    let walked = loop {
        let mut item = match next.take().map(Node::kind) {
            Some(NodeKind::List(items)) => {
                assert_eq!(items.len(), items.clone().count(), "a list's length");
                stack.push((items, Vec::new()));
                None
            }
            Some(NodeKind::Int(n)) => Some(Sexp::Int(n)),
            Some(NodeKind::BigInt(n)) => Some(Sexp::BigInt(n.clone())),
            Some(NodeKind::Float(x)) => Some(Sexp::Float(x)),
            Some(NodeKind::Bytes(bytes)) => Some(Sexp::from(bytes.to_vec())),
            Some(_) => panic!("a node of a kind this test does not know"),
            None => None,
        };
        // Close every list that is done, then go on to the next element.
        while let Some((items, done)) = stack.last_mut() {
            if let Some(item) = item.take() {
                done.push(item);
            }
            if let Some(child) = items.next() {
                if let NodeKind::Bytes(bytes) = child.kind() {
                    assert_eq!(child.to_bytes().as_deref(), Some(bytes));
                }
                next = Some(child);
                break;
            }
            let (_, done) = stack.pop().unwrap_or_else(|| unreachable!());
            item = Some(Sexp::List(done));
        }
        if next.is_none() {
            break item.unwrap_or_else(|| unreachable!());
        }
    };
    assert!(
        same(&tree, &walked),
        "to_sexp gave {tree:?}, the view {walked:?}"
    );
    tree
}

/// What one call to `decode` came to.
#[derive(Debug)]
pub(crate) enum Event {
    Frame(Sexp),
    Error(DecodeError),
    /// `Ok(None)`: the bytes left in the buffer, and whether the decoder
    /// holds part of an expression.
    Waiting {
        buffered: usize,
        mid: bool,
    },
}

/// Feeds `chunks` to `decoder` one after the other, switching dialect
/// before each frame as `dialect_of_frame` says, and writes down every call.
/// After an error the buffer must be empty and the decoder clean, and the
/// next chunks go on into the same decoder.
pub(crate) fn feed<'a>(
    mut decoder: AnyDecoder,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    dialect_of_frame: impl Fn(usize) -> Dialect,
) -> Vec<Event> {
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut frames = 0;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            decoder.set_dialect(dialect_of_frame(frames));
            match decoder.decode(&mut buf) {
                Ok(Some(sexp)) => {
                    frames += 1;
                    events.push(Event::Frame(sexp));
                }
                Ok(None) => {
                    events.push(Event::Waiting {
                        buffered: buf.len(),
                        mid: decoder.is_mid_expression(),
                    });
                    break;
                }
                Err(e) => {
                    assert!(
                        buf.is_empty(),
                        "{}: an error clears the buffer",
                        decoder.name()
                    );
                    assert!(
                        !decoder.is_mid_expression(),
                        "{}: an error resets the decoder",
                        decoder.name()
                    );
                    events.push(Event::Error(e));
                    break;
                }
            }
        }
    }
    events
}

/// Asserts that two decoders' calls came to the same: the same expressions
/// (floats bit for bit), the same errors, and waiting at the same places
/// with the same bytes buffered, unless part of an expression is held (a
/// Banana [`Decoder`] consumes the finished tokens of an unfinished
/// expression, a [`TokenDecoder`] leaves them in the buffer; a msgpack
/// frame waits whole in the buffer, and is never held, with either).
pub(crate) fn assert_same_events(tree: &[Event], tokens: &[Event]) {
    let agree = |a: &Event, b: &Event| match (a, b) {
        (Event::Frame(a), Event::Frame(b)) => same(a, b),
        (Event::Error(a), Event::Error(b)) => a == b,
        (
            Event::Waiting {
                buffered: a,
                mid: a_mid,
            },
            Event::Waiting {
                buffered: b,
                mid: b_mid,
            },
        ) => a_mid == b_mid && (a == b || *a_mid),
        _ => false,
    };
    assert!(
        tree.len() == tokens.len() && tree.iter().zip(tokens).all(|(a, b)| agree(a, b)),
        "Decoder and TokenDecoder disagree:\n  tree:   {tree:?}\n  tokens: {tokens:?}"
    );
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
