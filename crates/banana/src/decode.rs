//! Turning Banana bytes back into s-expressions, incrementally and sans-IO.

use std::mem;

use bytes::{Buf, Bytes, BytesMut};
use num_bigint::{BigInt, BigUint, Sign};

use crate::{DecodeError, Dialect, Limits, Sexp, vocab_word, wire};

/// Reads s-expressions from a byte buffer as they complete.
///
/// This is the receiving half of Twisted's `twisted.spread.banana.Banana`
/// (`dataReceived`) without any IO: the caller appends whatever arrived to a
/// [`BytesMut`] and calls [`Decoder::decode`] until it returns `Ok(None)`,
/// as with a tokio-util `Decoder`. A token may be split anywhere, and
/// lists already begun are kept inside the decoder between calls.
///
/// A new decoder speaks [`Dialect::None`], which is also how Twisted behaves
/// before negotiation; switch with [`Decoder::set_dialect`] between two
/// expressions, even when the next one is already in the same buffer. In
/// [`Dialect::Msgpack`] it reads spread's msgpack frames, each once it has
/// all arrived (until then its bytes wait in the buffer).
///
/// ```
/// use bytes::BytesMut;
/// use spread_banana::{Decoder, Dialect, Limits, Sexp};
///
/// let mut decoder = Decoder::new(Limits::default());
/// // A client's dialect choice followed by its `version` frame, one read.
/// let mut buf = BytesMut::from(&[0x02, 0x82, b'p', b'b', 0x02, 0x80][..]);
/// let choice = decoder.decode(&mut buf)?.expect("a whole frame");
/// assert_eq!(choice, Sexp::from("pb"));
/// decoder.set_dialect(Dialect::Pb);
/// assert_eq!(decoder.decode(&mut buf)?, None, "the rest has not arrived yet");
/// buf.extend_from_slice(&[0x13, 0x87, 0x06, 0x81]);
/// let version = decoder.decode(&mut buf)?;
/// assert_eq!(version, Some(Sexp::list([Sexp::from("version"), Sexp::from(6)])));
/// # Ok::<(), spread_banana::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct Decoder {
    limits: Limits,
    dialect: Dialect,
    /// The lists begun but not yet complete, outermost first.
    stack: Vec<OpenList>,
    /// Bytes consumed so far by the current top-level expression.
    expression_len: usize,
    /// Tokens read so far in the current top-level expression.
    expression_tokens: usize,
}

#[derive(Debug)]
struct OpenList {
    len: usize,
    items: Vec<Sexp>,
}

/// One token read from the front of the input but not yet taken out of it.
pub(crate) enum Token {
    /// The token is not all there; `needed` is its full size when known.
    Incomplete { needed: usize },
    /// An atom and the number of bytes it took.
    Atom(Atom, usize),
    /// A LIST header of `len` bytes announcing `count` elements.
    List { count: usize, len: usize },
    /// A STRING whose `len` payload bytes start `start` bytes into the token.
    String { start: usize, len: usize },
}

/// An atom whose bytes are all in the header (or right after it, for a
/// FLOAT): everything but a STRING.
pub(crate) enum Atom {
    /// An integer in the `i64` range.
    Int(i64),
    /// An integer outside it.
    BigInt(BigInt),
    /// A FLOAT.
    Float(f64),
    /// A VOCAB token's word.
    Word(&'static [u8]),
}

impl From<Atom> for Sexp {
    #[inline]
    fn from(atom: Atom) -> Sexp {
        match atom {
            Atom::Int(n) => Sexp::Int(n),
            Atom::BigInt(n) => Sexp::BigInt(n),
            Atom::Float(x) => Sexp::Float(x),
            Atom::Word(word) => Sexp::Bytes(Bytes::from_static(word)),
        }
    }
}

/// What [`read_token`] needs to know of the decoder reading it.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) limits: &'a Limits,
    pub(crate) dialect: Dialect,
    /// Lists open around the token.
    pub(crate) depth: usize,
    /// Bytes of the current top-level expression before the token.
    pub(crate) expression_len: usize,
}

/// A list header is trusted for no more than this many slots up front.
pub(crate) const MAX_INITIAL_CAPACITY: usize = 1024;

/// The most [`Decoder::decode`] reserves in one go for a waiting string, in
/// case the limits were raised far beyond Twisted's; past it, the buffer
/// grows as the reader appends.
pub(crate) const MAX_RESERVE_HINT: usize = 1 << 24;

impl Decoder {
    /// A decoder with the given limits, in [`Dialect::None`].
    pub fn new(limits: Limits) -> Decoder {
        Decoder {
            limits,
            ..Decoder::default()
        }
    }

    /// Sets the starting dialect.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Decoder {
        self.dialect = dialect;
        self
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches the dialect for the tokens decoded from now on.
    ///
    /// Call it between expressions: Twisted switches right after the
    /// dialect-choice frame, and the next frame may already be buffered.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// The limits in use.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether part of an expression (a list not yet complete) is held
    /// inside the decoder. Header or payload bytes of an unfinished token
    /// stay in the caller's buffer instead.
    pub fn is_mid_expression(&self) -> bool {
        !self.stack.is_empty()
    }

    /// Takes the next complete top-level expression from the front of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` ends before the expression does; the
    /// bytes of finished tokens have then been consumed, and the rest waits
    /// in `buf` for more input. Byte-string payloads are split off `buf`
    /// without copying.
    ///
    /// On error the stream cannot be resynchronised, so the decoder forgets
    /// the partial expression and `buf` is cleared; the decoder can then be
    /// fed a fresh stream (Twisted instead drops the connection).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use spread_banana::{DecodeError, Decoder, Limits, Sexp};
    ///
    /// let mut decoder = Decoder::new(Limits::default());
    /// let mut buf = BytesMut::from(&[0x88][..]);
    /// assert_eq!(decoder.decode(&mut buf), Err(DecodeError::UnknownTypeByte { byte: 0x88 }));
    /// buf.extend_from_slice(&[0x01, 0x81]);
    /// assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::from(1))));
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
        let result = self.decode_inner(buf);
        if result.is_err() {
            self.reset();
            buf.clear();
        }
        result
    }

    /// Forgets any partial expression.
    fn reset(&mut self) {
        self.stack.clear();
        self.expression_len = 0;
        self.expression_tokens = 0;
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
        if self.dialect == Dialect::Msgpack {
            return crate::msgpack::decode(&self.limits, buf);
        }
        // Tokens are read from a slice and `buf` is advanced once per call
        // rather than once per token, which is measurably cheaper.
        let mut consumed = 0;
        let result = self.decode_from(buf, &mut consumed);
        buf.advance(consumed);
        result
    }

    fn decode_from(
        &mut self,
        buf: &mut BytesMut,
        consumed: &mut usize,
    ) -> Result<Option<Sexp>, DecodeError> {
        loop {
            let input = &buf[*consumed..];
            let reader = Reader {
                limits: &self.limits,
                dialect: self.dialect,
                depth: self.stack.len(),
                expression_len: self.expression_len,
            };
            let mut item = match reader.read_token(input)? {
                Token::Incomplete { needed } => {
                    // Bounded by the string limit, and tells the reader how
                    // much to expect.
                    if let Some(missing) = needed.checked_sub(input.len()) {
                        buf.reserve(missing.min(MAX_RESERVE_HINT));
                    }
                    return Ok(None);
                }
                Token::Atom(atom, len) => {
                    self.account(len)?;
                    *consumed += len;
                    Sexp::from(atom)
                }
                Token::List { count, len } => {
                    self.account(len)?;
                    *consumed += len;
                    if count == 0 {
                        Sexp::List(Vec::new())
                    } else {
                        // The count is at most the list limit, but that could
                        // still be an attacker's 655 360 slots at every level;
                        // beyond what is buffered, grow on demand.
                        let buffered = buf.len() - *consumed;
                        let capacity = count.min(buffered).min(MAX_INITIAL_CAPACITY);
                        self.stack.push(OpenList {
                            len: count,
                            items: Vec::with_capacity(capacity),
                        });
                        continue;
                    }
                }
                Token::String { start, len } => {
                    self.account(start + len)?;
                    let payload_at = *consumed + start;
                    if let Some(word) = common_word(&buf[payload_at..payload_at + len]) {
                        // No share of the buffer to count up and down again.
                        *consumed = payload_at + len;
                        Sexp::Bytes(Bytes::from_static(word))
                    } else {
                        buf.advance(payload_at);
                        *consumed = 0;
                        Sexp::Bytes(buf.split_to(len).freeze())
                    }
                }
            };
            // Close every list this item completes.
            loop {
                let Some(top) = self.stack.last_mut() else {
                    self.expression_len = 0;
                    self.expression_tokens = 0;
                    return Ok(Some(item));
                };
                top.items.push(item);
                if top.items.len() < top.len {
                    break;
                }
                item = Sexp::List(mem::take(&mut top.items));
                self.stack.pop();
            }
        }
    }

    /// Counts a token and its bytes against the expression's limits.
    fn account(&mut self, token_len: usize) -> Result<(), DecodeError> {
        account(
            &self.limits,
            self.expression_len,
            self.expression_tokens,
            token_len,
        )?;
        self.expression_len += token_len;
        self.expression_tokens += 1;
        Ok(())
    }
}

/// Checks that one more token of `token_len` bytes keeps an expression of
/// `expression_len` bytes and `expression_tokens` tokens within the limits.
#[inline]
pub(crate) fn account(
    limits: &Limits,
    expression_len: usize,
    expression_tokens: usize,
    token_len: usize,
) -> Result<(), DecodeError> {
    check_expression_len(limits, expression_len, token_len)?;
    if expression_tokens >= limits.max_tokens {
        return Err(DecodeError::TooManyTokens {
            limit: limits.max_tokens,
        });
    }
    Ok(())
}

#[inline]
fn check_expression_len(
    limits: &Limits,
    expression_len: usize,
    token_len: usize,
) -> Result<(), DecodeError> {
    if expression_len.saturating_add(token_len) > limits.max_expression_len {
        return Err(DecodeError::ExpressionTooLong {
            limit: limits.max_expression_len,
        });
    }
    Ok(())
}

impl Reader<'_> {
    /// Reads the token at the front of `input`, checking every limit that
    /// can be checked before its payload arrives.
    pub(crate) fn read_token(self, input: &[u8]) -> Result<Token, DecodeError> {
        let limit = self.limits.max_prefix_len;
        // Never scan (or wait for) more than one byte past the limit.
        let scan = input.len().min(limit.saturating_add(1));
        let Some(pos) = input[..scan].iter().position(|&byte| byte >= 0x80) else {
            if input.len() > limit {
                return Err(DecodeError::PrefixTooLong { limit });
            }
            return Ok(Token::Incomplete { needed: 0 });
        };
        let header = &input[..pos];
        let item = match input[pos] {
            wire::LIST => {
                let count = header_u64(header).unwrap_or(u64::MAX);
                if count > self.limits.max_list_len as u64 {
                    return Err(DecodeError::ListTooLong {
                        len: count,
                        limit: self.limits.max_list_len,
                    });
                }
                if self.depth >= self.limits.max_depth {
                    return Err(DecodeError::NestingTooDeep {
                        limit: self.limits.max_depth,
                    });
                }
                return Ok(Token::List {
                    count: count as usize,
                    len: pos + 1,
                });
            }
            wire::STRING => {
                let len = header_u64(header).unwrap_or(u64::MAX);
                if len > self.limits.max_string_len as u64 {
                    return Err(DecodeError::StringTooLong {
                        len,
                        limit: self.limits.max_string_len,
                    });
                }
                let len = len as usize;
                let needed = (pos + 1).saturating_add(len);
                check_expression_len(self.limits, self.expression_len, needed)?;
                if input.len() < needed {
                    return Ok(Token::Incomplete { needed });
                }
                return Ok(Token::String {
                    start: pos + 1,
                    len,
                });
            }
            wire::FLOAT => {
                // The header means nothing for a float; the prefix limit has
                // already bounded it.
                let needed = pos + 1 + 8;
                check_expression_len(self.limits, self.expression_len, needed)?;
                let Some(bits) = input.get(pos + 1..needed) else {
                    return Ok(Token::Incomplete { needed });
                };
                let mut be = [0u8; 8];
                be.copy_from_slice(bits);
                return Ok(Token::Atom(Atom::Float(f64::from_be_bytes(be)), needed));
            }
            // Ranges are not checked per class: Twisted accepts a small
            // LONGINT, a huge INT and a NEG of zero alike.
            wire::INT | wire::LONGINT => int_from_header(header, false),
            wire::NEG | wire::LONGNEG => int_from_header(header, true),
            wire::VOCAB => {
                // Twisted looks the index up before checking the dialect.
                let index = header_u64(header).unwrap_or(u64::MAX);
                let word = vocab_word(index).ok_or(DecodeError::UnknownVocabIndex { index })?;
                if !self.dialect.has_vocabulary() {
                    return Err(DecodeError::VocabWithoutDialect { index: index as u8 });
                }
                Atom::Word(word)
            }
            byte => return Err(DecodeError::UnknownTypeByte { byte }),
        };
        Ok(Token::Atom(item, pos + 1))
    }
}

/// Decodes every expression in `bytes` at once, for tests and one-shot use.
///
/// Fails with [`DecodeError::Incomplete`] if the input ends inside an
/// expression. Dialect switches within the input are not possible here;
/// use a [`Decoder`] for that.
///
/// ```
/// use spread_banana::{Dialect, Limits, Sexp, decode_all};
///
/// let frames = decode_all(&[0x01, 0x81, 0x01, 0x80, 0x08, 0x87], Dialect::Pb, Limits::default())?;
/// assert_eq!(frames, [Sexp::from(1), Sexp::list([Sexp::from("list")])]);
/// # Ok::<(), spread_banana::DecodeError>(())
/// ```
pub fn decode_all(
    bytes: &[u8],
    dialect: Dialect,
    limits: Limits,
) -> Result<Vec<Sexp>, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    let mut decoder = Decoder::new(limits).with_dialect(dialect);
    let mut expressions = Vec::new();
    while let Some(expression) = decoder.decode(&mut buf)? {
        expressions.push(expression);
    }
    if !buf.is_empty() || decoder.is_mid_expression() {
        return Err(DecodeError::Incomplete);
    }
    Ok(expressions)
}

/// The static copy of a short string that Jelly sends as a STRING all the
/// time (its tags outside the `pb` vocabulary), so that decoding one takes
/// no reference to the input buffer. Equal bytes either way.
#[inline]
pub(crate) fn common_word(payload: &[u8]) -> Option<&'static [u8]> {
    // Only the lengths of the words below get as far as the comparison.
    if !(3..=9).contains(&payload.len()) {
        return None;
    }
    Some(match payload {
        b"unicode" => b"unicode",
        b"boolean" => b"boolean",
        b"true" => b"true",
        b"false" => b"false",
        b"set" => b"set",
        b"frozenset" => b"frozenset",
        b"datetime" => b"datetime",
        b"date" => b"date",
        b"time" => b"time",
        b"timedelta" => b"timedelta",
        b"decimal" => b"decimal",
        _ => return None,
    })
}

/// The value of a base-128 header, or `None` if it does not fit in a `u64`.
#[inline]
fn header_u64(header: &[u8]) -> Option<u64> {
    header.iter().rev().try_fold(0u64, |value, &group| {
        value.checked_mul(128)?.checked_add(u64::from(group))
    })
}

/// The canonical integer a header and a sign stand for.
#[inline]
fn int_from_header(header: &[u8], negative: bool) -> Atom {
    if let Some(magnitude) = header_u64(header) {
        if !negative {
            if let Ok(n) = i64::try_from(magnitude) {
                return Atom::Int(n);
            }
        } else if magnitude <= i64::MIN.unsigned_abs() {
            return Atom::Int(0i64.wrapping_sub_unsigned(magnitude));
        }
    }
    big_from_header(header, negative)
}

#[cold]
fn big_from_header(header: &[u8], negative: bool) -> Atom {
    // Power-of-two radixes convert in linear time, so even a 64-byte header
    // costs little. Every header byte is below 0x80, so this is never `None`.
    let magnitude = BigUint::from_radix_le(header, 128).unwrap_or_default();
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    let n = BigInt::from_biguint(sign, magnitude);
    match i64::try_from(&n) {
        Ok(small) => Atom::Int(small),
        Err(_) => Atom::BigInt(n),
    }
}
