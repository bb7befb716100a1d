//! The `spread-msgpack` dialect: the same s-expressions, framed and encoded
//! with MessagePack instead of Banana tokens. `rmp-serde` writes it; the
//! reader is a loop over `rmp`'s markers (see [`read_frame`] for why),
//! written once for both decoders: it hands what it reads to a
//! [`FrameSink`], which builds a [`Sexp`] for [`Decoder`](crate::Decoder)
//! and pushes flat tokens for [`TokenDecoder`](crate::TokenDecoder).
//!
//! # Wire format
//!
//! Every expression is one *frame*: a 4-byte big-endian length `n`, then
//! exactly `n` bytes holding one MessagePack value (`n >= 1`):
//!
//! | `Sexp`          | MessagePack                                                   |
//! |-----------------|---------------------------------------------------------------|
//! | `List`          | array (fixarray, array 16, array 32)                          |
//! | `Int`           | int (any of the int formats; the encoder writes the shortest) |
//! | `BigInt`        | uint 64 from 2^63 to 2^64 - 1; below -2^63 or from 2^64, ext type 1 ([`BIGINT_EXT`]) holding the two's complement big-endian bytes |
//! | `Float`         | float 64, always, bit for bit (NaN payloads included)         |
//! | `Bytes`         | bin (bin 8, bin 16, bin 32)                                   |
//!
//! Nothing else is ever sent, and nothing else is accepted: nil, booleans,
//! str, maps, float 32, other ext types, and bytes left over after the value
//! are all decode errors.
//!
//! # Limits
//!
//! The frame length is checked against [`Limits::max_expression_len`]
//! before anything is buffered or reserved for the frame, and what is
//! reserved for the rest of a frame is bounded by what has arrived. The whole frame is
//! then decoded at once, from bytes already in memory, so a declared array
//! or bin length can never make us allocate more than the frame itself
//! holds, and no nesting can exhaust the stack. Array lengths, nesting depth, the token count, bin lengths and the
//! size of integers are checked against the other [`Limits`], with the same
//! errors Banana gives.

use std::cell::Cell;
use std::io;

use bytes::{Bytes, BytesMut};
use num_bigint::BigInt;
use rmp::Marker;
use serde::ser::{self, Serialize, SerializeSeq, Serializer};

use crate::decode::Atom;
use crate::{DecodeError, EncodeBuf, EncodeError, Limits, Sexp};

/// The MessagePack ext type that carries an integer outside `-2^63..2^64`.
///
/// Its payload is the integer's two's complement, big-endian, in as few
/// bytes as hold it (the decoder also takes longer, sign-extended payloads
/// within the size limit, but never an empty one).
pub(crate) const BIGINT_EXT: i8 = 1;

/// Bytes of the length that starts every frame.
const FRAME_HEADER: usize = 4;

/// What one call may reserve for a frame still arriving, whatever has
/// arrived of it: past this, no more than what has arrived again.
const RESERVE_FLOOR: usize = 64 << 10;

/// A list header is trusted for no more than this many slots up front.
const MAX_INITIAL_CAPACITY: usize = 1024;

// ---------------------------------------------------------------------------
// Decoding.

/// Takes the next whole frame from the front of `buf`, if it is all there,
/// and decodes it into a tree ([`Decoder`](crate::Decoder)'s way in).
///
/// Until the frame is complete nothing is consumed: the bytes wait in `buf`.
pub(crate) fn decode(limits: &Limits, buf: &mut BytesMut) -> Result<Option<Sexp>, DecodeError> {
    let Some(body) = take_frame(limits, buf)? else {
        return Ok(None);
    };
    let mut tree = Tree {
        body: &body,
        stack: Vec::new(),
        value: None,
    };
    read_frame(limits, &body, &mut tree)?;
    // `Some`: `read_frame` succeeds only once the outermost value is complete.
    Ok(tree.value)
}

/// Takes the body of the next whole frame from the front of `buf`, if it is
/// all there; both decoders start here.
///
/// Until the frame is complete nothing is consumed: the bytes wait in `buf`.
pub(crate) fn take_frame(
    limits: &Limits,
    buf: &mut BytesMut,
) -> Result<Option<Bytes>, DecodeError> {
    let Some(&[a, b, c, d]) = buf.get(..FRAME_HEADER) else {
        return Ok(None);
    };
    let declared = u32::from_be_bytes([a, b, c, d]);
    let len = usize::try_from(declared).unwrap_or(usize::MAX);
    if len > limits.max_expression_len {
        return Err(DecodeError::ExpressionTooLong {
            limit: limits.max_expression_len,
        });
    }
    if len == 0 {
        return Err(DecodeError::MalformedMsgpack {
            reason: "a frame of length zero",
        });
    }
    let needed = FRAME_HEADER + len;
    if buf.len() < needed {
        // Room for the rest of the frame, but never more than what has
        // arrived (or 64 KiB): four bytes announcing 16 MiB do not get
        // 16 MiB, so the buffer at most doubles per read, as bytes come.
        let missing = needed - buf.len();
        buf.reserve(missing.min(buf.len().max(RESERVE_FLOOR)));
        return Ok(None);
    }
    let mut frame = buf.split_to(needed).freeze();
    Ok(Some(frame.split_off(FRAME_HEADER)))
}

/// Where [`read_frame`] puts what it reads: the one MessagePack reader
/// builds a [`Sexp`] tree through [`Tree`] for [`Decoder`](crate::Decoder),
/// and flat tokens for [`TokenDecoder`](crate::TokenDecoder).
///
/// The reader has already checked every limit when it calls the sink, so a
/// sink only records.
pub(crate) trait FrameSink {
    /// Lists open and not yet complete.
    fn depth(&self) -> usize;

    /// Opens a list of `len` elements (`len > 0`), for which `capacity`
    /// slots may be reserved up front.
    fn open(&mut self, len: usize, capacity: usize);

    /// Adds a complete value to the innermost open list, and closes every
    /// list that completes; `true` once the outermost value is complete.
    fn push(&mut self, leaf: Leaf) -> bool;
}

/// A complete value with no list left open in it, read from a frame.
pub(crate) enum Leaf {
    /// A number, or a byte string that is a well-known word (kept static).
    Atom(Atom),
    /// An array of length zero.
    EmptyList,
    /// A bin whose payload is `body[start..start + len]`.
    Bytes { start: usize, len: usize },
}

/// Decodes the one value a whole frame body holds into `sink`, checking
/// every limit; `Ok` once the value is complete and nothing follows it.
///
/// This is an explicit loop with its own stack of open lists (the sink's)
/// rather than serde's recursive visitors: rmp-serde's deserializer takes
/// some 4 KiB of stack per nesting level in a debug build, so a frame nested
/// to the default depth limit would overflow a 2 MiB thread. Markers are
/// read with `rmp`, the crate under rmp-serde.
pub(crate) fn read_frame<S: FrameSink>(
    limits: &Limits,
    body: &[u8],
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut reader = Reader {
        body,
        pos: 0,
        limits,
        tokens: 0,
    };
    loop {
        let leaf = match reader.item(sink.depth())? {
            Item::Leaf(leaf) => leaf,
            Item::List(len) => {
                // Every element takes at least a byte, so what is left of
                // the frame bounds the count; the constant bounds what a
                // frame nesting many long-announced arrays gets before it
                // fails.
                let capacity = len.min(body.len() - reader.pos).min(MAX_INITIAL_CAPACITY);
                sink.open(len, capacity);
                continue;
            }
        };
        if sink.push(leaf) {
            if reader.pos != body.len() {
                return Err(DecodeError::MalformedMsgpack {
                    reason: "bytes after the value",
                });
            }
            return Ok(());
        }
    }
}

/// The sink that builds a [`Sexp`], byte strings sliced from the frame.
struct Tree<'b> {
    body: &'b Bytes,
    /// The lists begun but not yet complete, outermost first.
    stack: Vec<OpenList>,
    /// The outermost value, once complete.
    value: Option<Sexp>,
}

/// An array begun but not yet complete.
struct OpenList {
    len: usize,
    items: Vec<Sexp>,
}

impl FrameSink for Tree<'_> {
    #[inline]
    fn depth(&self) -> usize {
        self.stack.len()
    }

    #[inline]
    fn open(&mut self, len: usize, capacity: usize) {
        self.stack.push(OpenList {
            len,
            items: Vec::with_capacity(capacity),
        });
    }

    #[inline]
    fn push(&mut self, leaf: Leaf) -> bool {
        let mut item = match leaf {
            Leaf::Atom(atom) => Sexp::from(atom),
            Leaf::EmptyList => Sexp::List(Vec::new()),
            Leaf::Bytes { start, len } => Sexp::Bytes(self.body.slice(start..start + len)),
        };
        // Close every list this item completes.
        loop {
            let Some(top) = self.stack.last_mut() else {
                self.value = Some(item);
                return true;
            };
            top.items.push(item);
            if top.items.len() < top.len {
                return false;
            }
            item = Sexp::List(std::mem::take(&mut top.items));
            self.stack.pop();
        }
    }
}

/// What [`Reader::item`] read: a complete value, or the header of an array
/// of `len > 0` elements.
enum Item {
    Leaf(Leaf),
    List(usize),
}

/// Reads values from a frame body, checking the limits as it goes.
struct Reader<'f> {
    body: &'f [u8],
    /// Where the next value starts.
    pos: usize,
    limits: &'f Limits,
    /// Values (atoms and arrays) read so far.
    tokens: usize,
}

impl Reader<'_> {
    /// The next `n` bytes, or an error if the frame ends first.
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.body.len())
            .ok_or(DecodeError::MalformedMsgpack {
                reason: "the value ends before its frame does",
            })?;
        let bytes = &self.body[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        self.take_array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        self.take_array().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        self.take_array().map(u64::from_be_bytes)
    }

    /// The most bits an integer's magnitude may have: what Banana's prefix
    /// limit allows.
    fn max_int_bits(&self) -> u64 {
        (self.limits.max_prefix_len as u64).saturating_mul(7)
    }

    fn int(&self, n: i64) -> Result<Leaf, DecodeError> {
        self.check_int_bits(u64::from(64 - n.unsigned_abs().leading_zeros()))?;
        Ok(Leaf::Atom(Atom::Int(n)))
    }

    /// A uint 64 past `i64::MAX`.
    fn uint(&self, n: u64) -> Result<Leaf, DecodeError> {
        self.check_int_bits(u64::from(64 - n.leading_zeros()))?;
        Ok(Leaf::Atom(Atom::BigInt(BigInt::from(n))))
    }

    fn check_int_bits(&self, bits: u64) -> Result<(), DecodeError> {
        let limit_bits = self.max_int_bits();
        if bits > limit_bits {
            return Err(DecodeError::IntTooLarge { limit_bits });
        }
        Ok(())
    }

    /// Reads the value at the front, `depth` lists deep. The checks that
    /// a header allows come before its payload is looked at, as in Banana.
    #[inline(always)]
    fn item(&mut self, depth: usize) -> Result<Item, DecodeError> {
        let unexpected = |found| Err(DecodeError::UnexpectedMsgpack { found });
        let marker = Marker::from_u8(self.u8()?);
        let item = match marker {
            Marker::FixArray(len) => return self.list(usize::from(len), depth),
            Marker::Array16 => {
                let len = self.u16()?;
                return self.list(usize::from(len), depth);
            }
            Marker::Array32 => {
                let len = self.u32()?;
                return self.list(usize::try_from(len).unwrap_or(usize::MAX), depth);
            }
            Marker::FixPos(n) => Leaf::Atom(Atom::Int(n.into())),
            Marker::FixNeg(n) => Leaf::Atom(Atom::Int(n.into())),
            Marker::U8 => {
                let n = self.u8()?;
                self.int(n.into())?
            }
            Marker::U16 => {
                let n = self.u16()?;
                self.int(n.into())?
            }
            Marker::U32 => {
                let n = self.u32()?;
                self.int(n.into())?
            }
            Marker::U64 => {
                let n = self.u64()?;
                match i64::try_from(n) {
                    Ok(n) => self.int(n)?,
                    Err(_) => self.uint(n)?,
                }
            }
            Marker::I8 => {
                let n = i8::from_be_bytes(self.take_array()?);
                self.int(n.into())?
            }
            Marker::I16 => {
                let n = i16::from_be_bytes(self.take_array()?);
                self.int(n.into())?
            }
            Marker::I32 => {
                let n = i32::from_be_bytes(self.take_array()?);
                self.int(n.into())?
            }
            Marker::I64 => {
                let n = i64::from_be_bytes(self.take_array()?);
                self.int(n)?
            }
            Marker::F64 => Leaf::Atom(Atom::Float(f64::from_bits(self.u64()?))),
            Marker::Bin8 => {
                let len = self.u8()?;
                self.bytes(usize::from(len))?
            }
            Marker::Bin16 => {
                let len = self.u16()?;
                self.bytes(usize::from(len))?
            }
            Marker::Bin32 => {
                let len = self.u32()?;
                self.bytes(usize::try_from(len).unwrap_or(usize::MAX))?
            }
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let len = self.u8()?;
                self.ext(usize::from(len))?
            }
            Marker::Ext16 => {
                let len = self.u16()?;
                self.ext(usize::from(len))?
            }
            Marker::Ext32 => {
                let len = self.u32()?;
                self.ext(usize::try_from(len).unwrap_or(usize::MAX))?
            }
            Marker::Null => return unexpected("nil"),
            Marker::True | Marker::False => return unexpected("boolean"),
            Marker::F32 => return unexpected("float 32"),
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                return unexpected("str");
            }
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => return unexpected("map"),
            Marker::Reserved => return unexpected("the reserved byte 0xc1"),
        };
        self.count()?;
        Ok(Item::Leaf(item))
    }

    /// Counts one value against [`Limits::max_tokens`].
    fn count(&mut self) -> Result<(), DecodeError> {
        if self.tokens >= self.limits.max_tokens {
            return Err(DecodeError::TooManyTokens {
                limit: self.limits.max_tokens,
            });
        }
        self.tokens += 1;
        Ok(())
    }

    fn list(&mut self, len: usize, depth: usize) -> Result<Item, DecodeError> {
        if len > self.limits.max_list_len {
            return Err(DecodeError::ListTooLong {
                len: len as u64,
                limit: self.limits.max_list_len,
            });
        }
        if depth >= self.limits.max_depth {
            return Err(DecodeError::NestingTooDeep {
                limit: self.limits.max_depth,
            });
        }
        self.count()?;
        if len == 0 {
            return Ok(Item::Leaf(Leaf::EmptyList));
        }
        Ok(Item::List(len))
    }

    /// A bin's payload: where it is in the frame, or the static copy of a
    /// well-known word.
    fn bytes(&mut self, len: usize) -> Result<Leaf, DecodeError> {
        if len > self.limits.max_string_len {
            return Err(DecodeError::StringTooLong {
                len: len as u64,
                limit: self.limits.max_string_len,
            });
        }
        let start = self.pos;
        let payload = self.take(len)?;
        // Jelly's tags and PB's words, which msgpack sends in full, are
        // taken as static bytes: a slice of the frame would cost two atomic
        // operations each (the profile showed them), and would pin it.
        if let Some(word) = crate::dialect::vocab_index(payload)
            .and_then(|index| crate::dialect::vocab_word(index.into()))
            .or_else(|| crate::decode::common_word(payload))
        {
            return Ok(Leaf::Atom(Atom::Word(word)));
        }
        Ok(Leaf::Bytes { start, len })
    }

    /// An ext of `len` payload bytes, whose type comes next.
    fn ext(&mut self, len: usize) -> Result<Leaf, DecodeError> {
        let ext_type = self.u8()? as i8;
        if ext_type != BIGINT_EXT {
            return Err(DecodeError::UnknownExtType { ext_type });
        }
        if len == 0 {
            return Err(DecodeError::MalformedMsgpack {
                reason: "an empty big-integer ext",
            });
        }
        // A payload longer than the largest integer allowed needs (one
        // byte more for the sign) is refused before any arithmetic.
        let limit_bits = self.max_int_bits();
        if len as u64 > limit_bits / 8 + 1 {
            return Err(DecodeError::IntTooLarge { limit_bits });
        }
        let n = BigInt::from_signed_bytes_be(self.take(len)?);
        self.check_int_bits(n.bits())?;
        // Canonical, as `Sexp::from` makes it: an `i64` is an `Int`.
        Ok(Leaf::Atom(match i64::try_from(&n) {
            Ok(small) => Atom::Int(small),
            Err(_) => Atom::BigInt(n),
        }))
    }
}

// ---------------------------------------------------------------------------
// Encoding, token by token: what `Encoder`'s token methods write in this
// dialect, byte for byte what rmp-serde writes for the same tree (the
// token functions below are `rmp`'s, which rmp-serde itself calls).

/// Starts a frame: the length is written by [`end_frame`].
pub(crate) fn begin_frame<B: EncodeBuf>(out: &mut B) -> usize {
    let start = out.buf_len();
    out.buf_extend(&[0; FRAME_HEADER]);
    start
}

/// Writes the length of the frame [`begin_frame`] started at `start`.
pub(crate) fn end_frame<B: EncodeBuf>(start: usize, out: &mut B) -> Result<(), EncodeError> {
    let body = out.buf_len() - start - FRAME_HEADER;
    let Ok(len) = u32::try_from(body) else {
        return Err(EncodeError::FrameTooLong {
            len: body,
            limit: u32::MAX as usize,
        });
    };
    out.buf_patch(start, &len.to_be_bytes());
    Ok(())
}

/// An array header; the caller checked the list limits.
pub(crate) fn put_array_len<B: EncodeBuf>(out: &mut B, len: usize) -> Result<(), EncodeError> {
    let len = u32::try_from(len).map_err(|_| EncodeError::FrameTooLong {
        len,
        limit: u32::MAX as usize,
    })?;
    write_infallible(rmp::encode::write_array_len(&mut Sink(out), len))
}

/// An int in its shortest form; the caller checked its size.
pub(crate) fn put_int<B: EncodeBuf>(out: &mut B, n: i64) {
    // A signed value that is not negative is written as rmp-serde writes
    // it: `write_sint` picks the shortest positive form too.
    let _ = rmp::encode::write_sint(&mut Sink(out), n);
}

/// An integer of any size, as the tree encoder writes a `BigInt`; the
/// caller checked its size.
pub(crate) fn put_bigint<B: EncodeBuf>(out: &mut B, n: &BigInt) {
    if let Ok(small) = i64::try_from(n) {
        put_int(out, small);
    } else if let Ok(unsigned) = u64::try_from(n) {
        let _ = rmp::encode::write_uint(&mut Sink(out), unsigned);
    } else {
        let payload = n.to_signed_bytes_be();
        // At most 448 bits under the default limits: it always fits.
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let _ = rmp::encode::write_ext_meta(&mut Sink(out), len, BIGINT_EXT);
        out.buf_extend(&payload);
    }
}

/// A float 64.
pub(crate) fn put_f64<B: EncodeBuf>(out: &mut B, x: f64) {
    let _ = rmp::encode::write_f64(&mut Sink(out), x);
}

/// A bin; the caller checked the string limit.
pub(crate) fn put_bin<B: EncodeBuf>(out: &mut B, bytes: &[u8]) -> Result<(), EncodeError> {
    let len = u32::try_from(bytes.len()).map_err(|_| EncodeError::FrameTooLong {
        len: bytes.len(),
        limit: u32::MAX as usize,
    })?;
    write_infallible(rmp::encode::write_bin_len(&mut Sink(out), len))?;
    out.buf_extend(bytes);
    Ok(())
}

/// Writing to memory cannot fail; keep a reason all the same.
fn write_infallible<T, E: std::fmt::Display>(written: Result<T, E>) -> Result<(), EncodeError> {
    written.map(|_| ()).map_err(|e| EncodeError::Msgpack {
        reason: e.to_string(),
    })
}

// ---------------------------------------------------------------------------
// Encoding a whole tree.

/// Appends one frame holding `sexp` to `out`. The caller truncates `out`
/// back on error.
pub(crate) fn encode<B: EncodeBuf>(
    limits: &Limits,
    sexp: &Sexp,
    out: &mut B,
) -> Result<(), EncodeError> {
    let start = begin_frame(out);
    let ctx = EncodeContext {
        limits,
        error: Cell::new(None),
    };
    let mut serializer = rmp_serde::Serializer::new(Sink(out));
    let value = Value {
        sexp,
        ctx: &ctx,
        depth: 0,
    };
    if let Err(e) = value.serialize(&mut serializer) {
        return Err(ctx.error.take().unwrap_or_else(|| {
            // Writing to memory cannot fail, and every value we write is
            // one rmp-serde takes; keep a reason all the same.
            EncodeError::Msgpack {
                reason: e.to_string(),
            }
        }));
    }
    end_frame(start, out)
}

/// rmp-serde writes to an `io::Write`; this one appends to our buffer.
struct Sink<'b, B>(&'b mut B);

impl<B: EncodeBuf> io::Write for Sink<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.buf_extend(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.buf_extend(bytes);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct EncodeContext<'l> {
    limits: &'l Limits,
    /// Our own reason for refusing, which rmp-serde only sees as a string.
    error: Cell<Option<EncodeError>>,
}

impl EncodeContext<'_> {
    fn refuse<E: ser::Error>(&self, error: EncodeError) -> E {
        self.error.set(Some(error));
        E::custom("refused by the msgpack dialect")
    }

    fn check_int<E: ser::Error>(&self, value: &BigInt) -> Result<(), E> {
        if value.bits() > (self.limits.max_prefix_len as u64).saturating_mul(7) {
            return Err(self.refuse(EncodeError::IntTooLarge {
                value: value.clone(),
            }));
        }
        Ok(())
    }
}

/// A [`Sexp`] as rmp-serde serializes it, with the encoder's limits.
struct Value<'a> {
    sexp: &'a Sexp,
    ctx: &'a EncodeContext<'a>,
    /// Lists open around this value.
    depth: usize,
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ctx = self.ctx;
        let limits = ctx.limits;
        match self.sexp {
            Sexp::List(items) => {
                if items.len() > limits.max_list_len {
                    return Err(ctx.refuse(EncodeError::ListTooLong {
                        len: items.len(),
                        limit: limits.max_list_len,
                    }));
                }
                // Checked here rather than trusted to the caller because this
                // recursion is bounded only by it.
                if self.depth >= limits.max_depth {
                    return Err(ctx.refuse(EncodeError::NestingTooDeep {
                        limit: limits.max_depth,
                    }));
                }
                // MessagePack counts in 32 bits; such a list could not fit
                // in a frame anyway.
                if u32::try_from(items.len()).is_err() {
                    return Err(ctx.refuse(EncodeError::FrameTooLong {
                        len: items.len(),
                        limit: u32::MAX as usize,
                    }));
                }
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Value {
                        sexp: item,
                        ctx,
                        depth: self.depth + 1,
                    })?;
                }
                seq.end()
            }
            &Sexp::Int(n) => {
                let bits = u64::from(64 - n.unsigned_abs().leading_zeros());
                if bits > (limits.max_prefix_len as u64).saturating_mul(7) {
                    return Err(ctx.refuse(EncodeError::IntTooLarge {
                        value: BigInt::from(n),
                    }));
                }
                serializer.serialize_i64(n)
            }
            Sexp::BigInt(n) => {
                ctx.check_int(n)?;
                // A non-canonical BigInt may still hold a small value; it
                // gets the same bytes as the equal `Sexp::Int`.
                if let Ok(small) = i64::try_from(n) {
                    serializer.serialize_i64(small)
                } else if let Ok(unsigned) = u64::try_from(n) {
                    serializer.serialize_u64(unsigned)
                } else {
                    let payload = n.to_signed_bytes_be();
                    serializer.serialize_newtype_struct(
                        rmp_serde::MSGPACK_EXT_STRUCT_NAME,
                        &(BIGINT_EXT, Bin(&payload)),
                    )
                }
            }
            &Sexp::Float(x) => serializer.serialize_f64(x),
            Sexp::Bytes(bytes) => {
                if bytes.len() > limits.max_string_len {
                    return Err(ctx.refuse(EncodeError::StringTooLong {
                        len: bytes.len(),
                        limit: limits.max_string_len,
                    }));
                }
                if u32::try_from(bytes.len()).is_err() {
                    return Err(ctx.refuse(EncodeError::FrameTooLong {
                        len: bytes.len(),
                        limit: u32::MAX as usize,
                    }));
                }
                serializer.serialize_bytes(bytes)
            }
        }
    }
}

/// Bytes that serialize as a bin (an ext's payload).
struct Bin<'a>(&'a [u8]);

impl Serialize for Bin<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}
