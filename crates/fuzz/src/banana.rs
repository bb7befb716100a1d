//! The Banana decoder on arbitrary bytes.

use bytes::BytesMut;
use spread_banana::{
    DecodeError, Decoder, Dialect, Limits, Node, NodeKind, Nodes, Sexp, TokenDecoder, decode_all,
    encode_to_vec,
};

use crate::{same_sexp, split_dialect};

/// Decodes `data`: the first byte picks the dialect, the limits (the
/// default [`Limits`], or the least the broker accepts, so that every limit
/// is within reach of a short input and its edge gets tried) and how the
/// rest is cut into chunks; the rest is the stream.
///
/// Checks that
/// - decoding never panics (nor hangs, nor allocates beyond the limits:
///   libFuzzer's timeout and memory limit catch those);
/// - the stream fed in chunks of every size gives the same expressions and
///   the same error as the whole buffer at once, which is what a socket
///   does to a frame;
/// - [`decode_all`] agrees with both, and so does a [`TokenDecoder`] fed
///   the same chunks, the whole buffer, and one byte at a time, node for
///   node, in every dialect (msgpack included), each node read both with
///   [`Node::to_sexp`] and through its [`Nodes`] view;
/// - every expression decoded re-encodes, and those bytes decode to the
///   same expression.
pub fn banana(data: &[u8]) {
    let (dialect, stream) = split_dialect(data);
    let seed = data.first().copied().unwrap_or(0);
    let limits = if seed & 2 == 0 {
        Limits::default()
    } else {
        SMALL
    };

    let whole = decode_stream(stream, dialect, limits, &mut |_| stream.len().max(1));
    let mut rng = u32::from(seed) | 1;
    let chunked = decode_stream(stream, dialect, limits, &mut |_| {
        // A small xorshift: chunk sizes from 1 to 16, mostly small, so that
        // tokens are split at every place.
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        (rng % 16 + 1) as usize
    });
    let one_by_one = decode_stream(stream, dialect, limits, &mut |_| 1);
    let mut rng = u32::from(seed) | 1;
    let tokens = decode_token_stream(stream, dialect, limits, &mut |_| {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        (rng % 16 + 1) as usize
    });
    let tokens_whole = decode_token_stream(stream, dialect, limits, &mut |_| stream.len().max(1));
    let tokens_one_by_one = decode_token_stream(stream, dialect, limits, &mut |_| 1);
    for other in [
        &chunked,
        &one_by_one,
        &tokens,
        &tokens_whole,
        &tokens_one_by_one,
    ] {
        assert_eq!(whole.expressions.len(), other.expressions.len());
        for (a, b) in whole.expressions.iter().zip(&other.expressions) {
            assert!(same_sexp(a, b), "chunking changed {a:?} into {b:?}");
        }
        assert_eq!(whole.end, other.end, "chunking changed how the stream ends");
    }

    match decode_all(stream, dialect, limits) {
        Ok(all) => {
            assert_eq!(whole.end, End::Clean);
            assert_eq!(all.len(), whole.expressions.len());
        }
        Err(DecodeError::Incomplete) => assert_eq!(whole.end, End::Incomplete),
        Err(e) => assert_eq!(whole.end, End::Error(e)),
    }

    for expression in &whole.expressions {
        reencode(expression, dialect, limits);
    }
}

/// The broker's floor for each limit (`BrokerOptions::with_banana_limits`).
const SMALL: Limits = Limits::new()
    .max_prefix_len(10)
    .max_string_len(64)
    .max_list_len(16)
    .max_depth(16)
    .max_expression_len(1024);

/// How a stream ended.
#[derive(Debug, PartialEq)]
enum End {
    /// On an expression's last byte.
    Clean,
    /// Inside an expression.
    Incomplete,
    /// On an error.
    Error(DecodeError),
}

struct Decoded {
    expressions: Vec<Sexp>,
    end: End,
}

/// What [`feed`] needs of a decoder: the tree one, or the token one with
/// each node read back as the [`Sexp`] it stands for.
trait Stream {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError>;
    fn is_mid_expression(&self) -> bool;
}

impl Stream for Decoder {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
        self.decode(buf)
    }

    fn is_mid_expression(&self) -> bool {
        Decoder::is_mid_expression(self)
    }
}

impl Stream for TokenDecoder {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
        Ok(self.decode(buf)?.map(read_node))
    }

    fn is_mid_expression(&self) -> bool {
        TokenDecoder::is_mid_expression(self)
    }
}

/// Feeds `stream` to a [`Decoder`] in chunks of the sizes `chunk` gives.
fn decode_stream(
    stream: &[u8],
    dialect: Dialect,
    limits: Limits,
    chunk: &mut dyn FnMut(usize) -> usize,
) -> Decoded {
    feed(Decoder::new(limits).with_dialect(dialect), stream, chunk)
}

/// [`decode_stream`] with a [`TokenDecoder`].
fn decode_token_stream(
    stream: &[u8],
    dialect: Dialect,
    limits: Limits,
    chunk: &mut dyn FnMut(usize) -> usize,
) -> Decoded {
    feed(
        TokenDecoder::new(limits).with_dialect(dialect),
        stream,
        chunk,
    )
}

fn feed(mut decoder: impl Stream, stream: &[u8], chunk: &mut dyn FnMut(usize) -> usize) -> Decoded {
    let mut buf = BytesMut::new();
    let mut expressions = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let n = chunk(fed).min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match decoder.next(&mut buf) {
                Ok(Some(expression)) => expressions.push(expression),
                Ok(None) => break,
                Err(e) => {
                    assert!(buf.is_empty(), "an error clears the buffer");
                    assert!(!decoder.is_mid_expression(), "an error resets the decoder");
                    return Decoded {
                        expressions,
                        end: End::Error(e),
                    };
                }
            }
        }
    }
    let end = if buf.is_empty() && !decoder.is_mid_expression() {
        End::Clean
    } else {
        End::Incomplete
    };
    Decoded { expressions, end }
}

/// A node as [`Node::to_sexp`] gives it, after checking that walking the
/// public view ([`Node::kind`], [`Nodes`]) gives the same tree.
fn read_node(node: Node<'_>) -> Sexp {
    let tree = node.to_sexp();
    // Without recursion, as deep as the limits allow.
    let mut stack: Vec<(Nodes<'_>, Vec<Sexp>)> = Vec::new();
    let mut next = Some(node);
    let walked = loop {
        let mut item = match next.take().map(Node::kind) {
            Some(NodeKind::List(items)) => {
                stack.push((items, Vec::new()));
                None
            }
            Some(NodeKind::Int(n)) => Some(Sexp::Int(n)),
            Some(NodeKind::BigInt(n)) => Some(Sexp::BigInt(n.clone())),
            Some(NodeKind::Float(x)) => Some(Sexp::Float(x)),
            Some(NodeKind::Bytes(bytes)) => Some(Sexp::from(bytes.to_vec())),
            Some(other) => panic!("a node kind the target does not know: {other:?}"),
            None => None,
        };
        while let Some((items, done)) = stack.last_mut() {
            if let Some(item) = item.take() {
                done.push(item);
            }
            if let Some(child) = items.next() {
                next = Some(child);
                break;
            }
            let done = stack.pop().map(|(_, done)| done).unwrap_or_default();
            item = Some(Sexp::List(done));
        }
        if next.is_none() {
            break item.expect("a complete node");
        }
    };
    assert!(
        same_sexp(&tree, &walked),
        "to_sexp gave {tree:?}, the view {walked:?}"
    );
    tree
}

/// What decodes within `limits` encodes again, and decodes to itself.
fn reencode(expression: &Sexp, dialect: Dialect, limits: Limits) {
    let bytes = encode_to_vec(expression, dialect).expect("what was decoded can be encoded");
    let again = decode_all(&bytes, dialect, limits).expect("what was encoded can be decoded");
    assert_eq!(again.len(), 1);
    assert!(
        same_sexp(expression, &again[0]),
        "{expression:?} came back as {:?}",
        again[0]
    );
}
