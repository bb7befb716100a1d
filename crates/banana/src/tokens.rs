//! Decoding into a flat, reusable token buffer instead of a [`Sexp`] tree.
//!
//! [`Decoder`](crate::Decoder) builds a tree: a `Vec` per list and a shared
//! [`Bytes`] per string, all thrown away once the layer above has read them.
//! [`TokenDecoder`] reads the same bytes, with the same limits and errors,
//! into one `Vec` of fixed-size tokens that it keeps and reuses, so that
//! decoding a frame allocates nothing for its structure once the decoder has
//! warmed up. The frame's bytes are taken out of the read buffer in one
//! piece when it is complete; byte strings are ranges into them, and become
//! [`Bytes`] (shared, not copied) only when asked for.
//!
//! Banana is read here token by token (with `decode`'s token reader); a
//! msgpack frame is read by the one msgpack reader both decoders share
//! (`msgpack::read_frame`), which pushes into the token buffer through a
//! sink instead of building a tree.

use bytes::{Bytes, BytesMut};
use num_bigint::BigInt;

use crate::decode::{Atom, MAX_RESERVE_HINT, Reader, Token, account};
use crate::msgpack::{self, Leaf};
use crate::{DecodeError, Dialect, Limits, Sexp, vocab_word, wire};

/// Reads expressions into a flat token buffer that it reuses, and lends out
/// each complete expression as a [`Node`].
///
/// It accepts and refuses exactly what [`Decoder`](crate::Decoder) does, in
/// every [`Dialect`] (the Banana ones and [`Dialect::Msgpack`]), with the
/// same [`DecodeError`]s, however the input is split; it is the cheaper way
/// in when the expression is only read (unjellied, say) and then dropped.
/// Unlike [`Decoder`](crate::Decoder) in Banana, it leaves the bytes of an
/// unfinished expression at the front of the buffer until the expression is
/// complete, and takes them out in one piece then, so pass it the same
/// buffer each time, with new input appended. (A msgpack frame waits in the
/// buffer until it is whole with either decoder.)
///
/// The [`Node`] returned borrows the decoder: read it (or turn it into a
/// [`Sexp`] or owned [`Bytes`]) before decoding the next expression.
///
/// ```
/// use bytes::BytesMut;
/// use spread_banana::{Dialect, Limits, NodeKind, TokenDecoder};
///
/// let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
/// // ["version", 6], arriving in two reads.
/// let mut buf = BytesMut::from(&[0x02, 0x80, 0x13][..]);
/// assert!(decoder.decode(&mut buf)?.is_none());
/// buf.extend_from_slice(&[0x87, 0x06, 0x81]);
/// let frame = decoder.decode(&mut buf)?.expect("a whole frame");
/// let mut items = frame.as_list().expect("a list");
/// assert_eq!(items.len(), 2);
/// assert_eq!(items.next().and_then(|n| n.as_bytes()), Some(&b"version"[..]));
/// assert!(matches!(items.next().map(|n| n.kind()), Some(NodeKind::Int(6))));
/// assert!(buf.is_empty());
/// # Ok::<(), spread_banana::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct TokenDecoder {
    limits: Limits,
    dialect: Dialect,
    tokens: Tokens,
    /// The lists begun but not yet complete, outermost first.
    stack: Vec<Open>,
    /// Bytes at the front of the buffer already read into `tokens`: the
    /// current expression so far.
    pos: usize,
    /// Whether `tokens` hold an expression already handed out.
    done: bool,
}

/// The tokens of one expression and what they point into.
#[derive(Debug, Default)]
struct Tokens {
    items: Vec<Tok>,
    /// The integers outside the `i64` range, in order.
    bigs: Vec<BigInt>,
    /// The expression's bytes once it is complete.
    bytes: Bytes,
}

#[derive(Clone, Copy, Debug)]
enum Tok {
    /// A list of `count` elements, whose last descendant is the token
    /// before `end`.
    List {
        count: usize,
        end: usize,
    },
    Int(i64),
    /// `bigs[i]`.
    BigInt(usize),
    Float(f64),
    /// A STRING's payload, `bytes[start..start + len]`.
    Bytes {
        start: usize,
        len: usize,
    },
    /// A vocabulary word.
    Word(&'static [u8]),
}

#[derive(Debug)]
struct Open {
    /// Where its `Tok::List` is.
    index: usize,
    /// Elements still to come.
    remaining: usize,
}

impl TokenDecoder {
    /// A decoder with the given limits, in [`Dialect::None`].
    pub fn new(limits: Limits) -> TokenDecoder {
        TokenDecoder {
            limits,
            ..TokenDecoder::default()
        }
    }

    /// Sets the starting dialect.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> TokenDecoder {
        self.dialect = dialect;
        self
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches the dialect for the tokens decoded from now on; call it
    /// between expressions, as with [`Decoder::set_dialect`](crate::Decoder::set_dialect).
    /// (A Banana expression read partway is dropped by the first decode in
    /// [`Dialect::Msgpack`], and its bytes read as msgpack.)
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// The limits in use.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether part of an expression has been read: its bytes wait at the
    /// front of the caller's buffer for the rest.
    pub fn is_mid_expression(&self) -> bool {
        self.pos > 0
    }

    /// Takes the next complete top-level expression from the front of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` ends before the expression does; the
    /// expression's bytes then stay in `buf`, already read, and the next call
    /// goes on from where this one stopped (so a frame trickling in costs no
    /// rereading). A complete expression is split off `buf` without copying.
    ///
    /// On error the stream cannot be resynchronised, so the decoder forgets
    /// the partial expression and `buf` is cleared, as
    /// [`Decoder::decode`](crate::Decoder::decode) does.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use spread_banana::{DecodeError, Limits, TokenDecoder};
    ///
    /// let mut decoder = TokenDecoder::new(Limits::default().max_depth(1));
    /// let mut buf = BytesMut::from(&[0x01, 0x80, 0x01, 0x80][..]);
    /// assert_eq!(decoder.decode(&mut buf).err(), Some(DecodeError::NestingTooDeep { limit: 1 }));
    /// assert!(buf.is_empty());
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Node<'_>>, DecodeError> {
        if self.done {
            self.done = false;
            self.tokens.clear();
        }
        if self.pos > buf.len() {
            // Not the buffer the expression began in: start afresh.
            self.reset();
        }
        match self.decode_from(buf) {
            Ok(true) => {
                self.done = true;
                Ok(Some(Node {
                    tokens: &self.tokens,
                    index: 0,
                }))
            }
            Ok(false) => Ok(None),
            Err(error) => {
                self.reset();
                buf.clear();
                Err(error)
            }
        }
    }

    /// Gives back the memory of the token buffers.
    ///
    /// The decoder keeps the room its largest expression needed, so that
    /// the next one costs no allocation; a peer that once sent a million
    /// tokens would leave tens of megabytes behind, and every idle
    /// connection would hold a few KiB. Call this when the connection goes
    /// idle (when its read buffer is empty, say). A partial expression is
    /// kept.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use spread_banana::{Dialect, Encoder, Limits, Sexp, TokenDecoder};
    ///
    /// let big = Sexp::List((0..100_000).map(Sexp::Int).collect());
    /// let mut buf = BytesMut::new();
    /// Encoder::new(Dialect::Pb).encode(&big, &mut buf)?;
    /// let mut decoder = TokenDecoder::new(Limits::default());
    /// assert!(decoder.decode(&mut buf)?.is_some());
    /// assert!(decoder.decode(&mut buf)?.is_none());
    /// decoder.shrink();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shrink(&mut self) {
        if self.done {
            self.done = false;
            self.tokens.clear();
        }
        self.tokens.items.shrink_to(0);
        self.tokens.bigs.shrink_to(0);
        self.stack.shrink_to(0);
    }

    /// Forgets any partial expression.
    fn reset(&mut self) {
        self.tokens.clear();
        self.stack.clear();
        self.pos = 0;
    }

    /// Reads tokens until the expression is complete (`true`) or the input
    /// runs out (`false`).
    fn decode_from(&mut self, buf: &mut BytesMut) -> Result<bool, DecodeError> {
        if self.dialect == Dialect::Msgpack {
            return self.decode_msgpack(buf);
        }
        let limits = self.limits;
        let limits = &limits;
        loop {
            let input = &buf[self.pos..];
            // Most tokens have a header of at most three bytes; read those
            // here when nothing about them is unusual, and leave the rest
            // (and every error) to `read_token`.
            let scan = input
                .len()
                .min(limits.max_prefix_len.saturating_add(1))
                .min(4);
            let mut short = None;
            let mut value = 0usize;
            for (at, &byte) in input[..scan].iter().enumerate() {
                if byte >= 0x80 {
                    short = Some((value, byte, at + 1));
                    break;
                }
                value |= usize::from(byte) << (7 * at);
            }
            if let Some((value, ty, header_len)) = short {
                let fast = match ty {
                    wire::INT | wire::LONGINT => Some((Tok::Int(value as i64), header_len)),
                    wire::NEG | wire::LONGNEG => Some((Tok::Int(-(value as i64)), header_len)),
                    wire::VOCAB if self.dialect.has_vocabulary() => {
                        vocab_word(value as u64).map(|word| (Tok::Word(word), header_len))
                    }
                    wire::STRING
                        if value <= limits.max_string_len && input.len() - header_len >= value =>
                    {
                        let start = self.pos + header_len;
                        Some((Tok::Bytes { start, len: value }, header_len + value))
                    }
                    wire::LIST
                        if value > 0
                            && value <= limits.max_list_len
                            && self.stack.len() < limits.max_depth =>
                    {
                        Some((
                            Tok::List {
                                count: value,
                                end: 0,
                            },
                            header_len,
                        ))
                    }
                    _ => None,
                };
                if let Some((tok, len)) = fast {
                    account(limits, self.pos, self.tokens.items.len(), len)?;
                    self.pos += len;
                    if let Tok::List { count, .. } = tok {
                        self.stack.push(Open {
                            index: self.tokens.items.len(),
                            remaining: count,
                        });
                        self.tokens.items.push(tok);
                        continue;
                    }
                    self.tokens.items.push(tok);
                    if self.close_lists(buf) {
                        return Ok(true);
                    }
                    continue;
                }
            }
            let reader = Reader {
                limits,
                dialect: self.dialect,
                depth: self.stack.len(),
                expression_len: self.pos,
            };
            let tok = match reader.read_token(input)? {
                Token::Incomplete { needed } => {
                    if let Some(missing) = needed.checked_sub(input.len()) {
                        buf.reserve(missing.min(MAX_RESERVE_HINT));
                    }
                    return Ok(false);
                }
                Token::Atom(atom, len) => {
                    account(limits, self.pos, self.tokens.items.len(), len)?;
                    self.pos += len;
                    match atom {
                        Atom::Int(n) => Tok::Int(n),
                        Atom::Float(x) => Tok::Float(x),
                        Atom::Word(word) => Tok::Word(word),
                        Atom::BigInt(n) => {
                            self.tokens.bigs.push(n);
                            Tok::BigInt(self.tokens.bigs.len() - 1)
                        }
                    }
                }
                Token::List { count, len } => {
                    account(limits, self.pos, self.tokens.items.len(), len)?;
                    self.pos += len;
                    let index = self.tokens.items.len();
                    if count > 0 {
                        self.tokens.items.push(Tok::List { count, end: 0 });
                        self.stack.push(Open {
                            index,
                            remaining: count,
                        });
                        continue;
                    }
                    Tok::List {
                        count,
                        end: index + 1,
                    }
                }
                Token::String { start, len } => {
                    account(limits, self.pos, self.tokens.items.len(), start + len)?;
                    let start = self.pos + start;
                    self.pos = start + len;
                    Tok::Bytes { start, len }
                }
            };
            self.tokens.items.push(tok);
            if self.close_lists(buf) {
                return Ok(true);
            }
        }
    }

    /// Closes every list the token just read completes; `true` (with the
    /// expression's bytes taken out of `buf`) if that was the whole
    /// expression.
    #[inline(always)]
    fn close_lists(&mut self, buf: &mut BytesMut) -> bool {
        if !close_lists(&mut self.tokens.items, &mut self.stack) {
            return false;
        }
        self.tokens.bytes = buf.split_to(self.pos).freeze();
        self.pos = 0;
        true
    }

    /// Reads a msgpack frame, once it has all arrived, into the tokens:
    /// the frame is taken and read by the code that
    /// [`Decoder`](crate::Decoder) uses, with tokens as its sink.
    fn decode_msgpack(&mut self, buf: &mut BytesMut) -> Result<bool, DecodeError> {
        if self.pos > 0 {
            // Banana read partway, then a switch: the expression cannot be
            // finished in this dialect (its bytes are still in `buf`).
            self.reset();
        }
        let Some(body) = msgpack::take_frame(&self.limits, buf)? else {
            return Ok(false);
        };
        msgpack::read_frame(
            &self.limits,
            &body,
            &mut Sink {
                tokens: &mut self.tokens,
                stack: &mut self.stack,
            },
        )?;
        self.tokens.bytes = body;
        Ok(true)
    }
}

/// Closes every list the token just pushed completes; `true` if that was
/// the whole expression.
#[inline(always)]
fn close_lists(items: &mut [Tok], stack: &mut Vec<Open>) -> bool {
    loop {
        let Some(top) = stack.last_mut() else {
            return true;
        };
        top.remaining -= 1;
        if top.remaining > 0 {
            return false;
        }
        let index = top.index;
        stack.pop();
        let end = items.len();
        if let Tok::List { end: slot, .. } = &mut items[index] {
            *slot = end;
        }
    }
}

/// A msgpack frame's values as tokens: byte strings are ranges into the
/// frame's body, which becomes [`Tokens::bytes`].
struct Sink<'d> {
    tokens: &'d mut Tokens,
    stack: &'d mut Vec<Open>,
}

impl msgpack::FrameSink for Sink<'_> {
    #[inline]
    fn depth(&self) -> usize {
        self.stack.len()
    }

    #[inline]
    fn open(&mut self, len: usize, _capacity: usize) {
        // No room to reserve: the token buffer is reused.
        self.stack.push(Open {
            index: self.tokens.items.len(),
            remaining: len,
        });
        self.tokens.items.push(Tok::List { count: len, end: 0 });
    }

    #[inline]
    fn push(&mut self, leaf: Leaf) -> bool {
        let tok = match leaf {
            Leaf::Atom(Atom::Int(n)) => Tok::Int(n),
            Leaf::Atom(Atom::Float(x)) => Tok::Float(x),
            Leaf::Atom(Atom::Word(word)) => Tok::Word(word),
            Leaf::Atom(Atom::BigInt(n)) => {
                self.tokens.bigs.push(n);
                Tok::BigInt(self.tokens.bigs.len() - 1)
            }
            Leaf::EmptyList => Tok::List {
                count: 0,
                end: self.tokens.items.len() + 1,
            },
            Leaf::Bytes { start, len } => Tok::Bytes { start, len },
        };
        self.tokens.items.push(tok);
        close_lists(&mut self.tokens.items, self.stack)
    }
}

impl Tokens {
    fn clear(&mut self) {
        self.items.clear();
        self.bigs.clear();
        self.bytes = Bytes::new();
    }
}

/// One expression, or one element of it, in a [`TokenDecoder`]'s buffer.
///
/// A cheap copyable handle: look at it with [`Node::kind`] (or the `as_`
/// shortcuts), walk a list's elements with [`Nodes`], and take a byte
/// string out as shared [`Bytes`] with [`Node::to_bytes`] or the whole
/// subtree as a [`Sexp`] with [`Node::to_sexp`].
///
/// ```
/// use bytes::BytesMut;
/// use spread_banana::{Dialect, Encoder, Limits, NodeKind, Sexp, TokenDecoder};
///
/// let sexp = Sexp::list([Sexp::from("answer"), Sexp::from(1), Sexp::list([Sexp::from(2.5)])]);
/// let mut buf = BytesMut::new();
/// Encoder::new(Dialect::Pb).encode(&sexp, &mut buf)?;
/// let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
/// let frame = decoder.decode(&mut buf)?.expect("complete");
/// let payload = frame.as_list().and_then(|mut items| items.nth(2)).expect("three items");
/// assert!(matches!(payload.kind(), NodeKind::List(items) if items.len() == 1));
/// assert_eq!(payload.to_sexp(), Sexp::list([Sexp::from(2.5)]));
/// assert_eq!(frame.to_sexp(), sexp);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Node<'a> {
    tokens: &'a Tokens,
    index: usize,
}

/// What a [`Node`] is: the same cases as [`Sexp`], borrowed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NodeKind<'a> {
    /// A list, and its elements.
    List(Nodes<'a>),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer outside the `i64` range.
    BigInt(&'a BigInt),
    /// A FLOAT, bit for bit.
    Float(f64),
    /// A STRING's payload, or a VOCAB token's word.
    Bytes(&'a [u8]),
}

impl<'a> Node<'a> {
    #[inline]
    fn tok(self) -> Tok {
        self.tokens.items[self.index]
    }

    /// What this node is.
    #[inline]
    pub fn kind(self) -> NodeKind<'a> {
        match self.tok() {
            Tok::List { count, .. } => NodeKind::List(Nodes {
                tokens: self.tokens,
                next: self.index + 1,
                remaining: count,
            }),
            Tok::Int(n) => NodeKind::Int(n),
            Tok::BigInt(i) => NodeKind::BigInt(&self.tokens.bigs[i]),
            Tok::Float(x) => NodeKind::Float(x),
            Tok::Bytes { start, len } => NodeKind::Bytes(&self.tokens.bytes[start..start + len]),
            Tok::Word(word) => NodeKind::Bytes(word),
        }
    }

    /// The elements, if this is a list.
    #[inline]
    pub fn as_list(self) -> Option<Nodes<'a>> {
        match self.kind() {
            NodeKind::List(items) => Some(items),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string.
    #[inline]
    pub fn as_bytes(self) -> Option<&'a [u8]> {
        match self.kind() {
            NodeKind::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The value, if this is an integer that fits in an `i64`.
    #[inline]
    pub fn as_i64(self) -> Option<i64> {
        match self.tok() {
            Tok::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The bytes as an owned [`Bytes`], if this is a byte string: a share of
    /// the expression's bytes, not a copy (a vocabulary word is static).
    #[inline]
    pub fn to_bytes(self) -> Option<Bytes> {
        match self.tok() {
            Tok::Bytes { start, len } => Some(self.tokens.bytes.slice(start..start + len)),
            Tok::Word(word) => Some(Bytes::from_static(word)),
            _ => None,
        }
    }

    /// This node and everything under it as a [`Sexp`], exactly what
    /// [`Decoder::decode`](crate::Decoder::decode) would have built for it.
    /// Byte strings share the expression's bytes.
    pub fn to_sexp(self) -> Sexp {
        let items = &self.tokens.items;
        let end = match items[self.index] {
            Tok::List { end, .. } => end,
            _ => self.index + 1,
        };
        // Built without recursion, as the decoder builds its trees, so any
        // depth the limits allow is fine.
        let mut stack: Vec<(Vec<Sexp>, usize)> = Vec::new();
        for tok in &items[self.index..end] {
            let mut item = match *tok {
                Tok::List { count, .. } if count > 0 => {
                    stack.push((Vec::with_capacity(count), count));
                    continue;
                }
                Tok::List { .. } => Sexp::List(Vec::new()),
                Tok::BigInt(i) => Sexp::BigInt(self.tokens.bigs[i].clone()),
                Tok::Int(n) => Sexp::Int(n),
                Tok::Float(x) => Sexp::Float(x),
                Tok::Word(word) => Sexp::Bytes(Bytes::from_static(word)),
                Tok::Bytes { start, len } => {
                    Sexp::Bytes(self.tokens.bytes.slice(start..start + len))
                }
            };
            loop {
                let Some((list, count)) = stack.last_mut() else {
                    return item;
                };
                list.push(item);
                if list.len() < *count {
                    break;
                }
                let (list, _) = stack.pop().unwrap_or_default();
                item = Sexp::List(list);
            }
        }
        // Unreachable: a node's tokens always close it.
        Sexp::List(Vec::new())
    }
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_sexp(), f)
    }
}

/// The elements of a list [`Node`], in order.
#[derive(Clone)]
pub struct Nodes<'a> {
    tokens: &'a Tokens,
    /// Where the next element's token is.
    next: usize,
    remaining: usize,
}

impl<'a> Iterator for Nodes<'a> {
    type Item = Node<'a>;

    #[inline]
    fn next(&mut self) -> Option<Node<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let index = self.next;
        self.next = match self.tokens.items[index] {
            Tok::List { end, .. } => end,
            _ => index + 1,
        };
        Some(Node {
            tokens: self.tokens,
            index,
        })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Nodes<'_> {}

impl std::fmt::Debug for Nodes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}
