//! The Banana decoder on arbitrary bytes.

use bytes::BytesMut;
use spread_banana::{
    DecodeError, Decoder, Dialect, Limits, Sexp, TokenDecoder, decode_all, encode_to_vec,
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
///   the same chunks, node for node;
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
    for other in [&chunked, &one_by_one, &tokens] {
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

/// Feeds `stream` to one decoder in chunks of the sizes `chunk` gives.
fn decode_stream(
    stream: &[u8],
    dialect: Dialect,
    limits: Limits,
    chunk: &mut dyn FnMut(usize) -> usize,
) -> Decoded {
    let mut decoder = Decoder::new(limits).with_dialect(dialect);
    let mut buf = BytesMut::new();
    let mut expressions = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let n = chunk(fed).min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match decoder.decode(&mut buf) {
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

/// [`decode_stream`] with a [`TokenDecoder`], each node read back as the
/// [`Sexp`] it stands for.
fn decode_token_stream(
    stream: &[u8],
    dialect: Dialect,
    limits: Limits,
    chunk: &mut dyn FnMut(usize) -> usize,
) -> Decoded {
    let mut decoder = TokenDecoder::new(limits).with_dialect(dialect);
    let mut buf = BytesMut::new();
    let mut expressions = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let n = chunk(fed).min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(node)) => expressions.push(node.to_sexp()),
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
