//! Turning s-expressions into Banana bytes exactly as Twisted writes them.

use bytes::BytesMut;
use num_bigint::{BigInt, BigUint, Sign};

use crate::{Dialect, EncodeError, Limits, Sexp, Word, vocab_index, wire};

/// Writes s-expressions as Banana, byte for byte as Twisted 26.10 does.
///
/// The encoder holds only its configuration, so one value can serve a whole
/// connection; switch it with [`Encoder::set_dialect`] when negotiation
/// picks a dialect. It mirrors the sending half of Twisted's
/// `twisted.spread.banana.Banana` (`sendEncoded`).
///
/// Set to [`Dialect::Msgpack`], it writes spread's msgpack frames instead,
/// under the same limits.
///
/// It applies [`Limits::max_prefix_len`] (integer size),
/// [`Limits::max_string_len`], [`Limits::max_list_len`] and
/// [`Limits::max_depth`]; the first three are Twisted's own send-side checks.
/// [`Limits::max_expression_len`] only applies to decoding.
///
/// ```
/// use spread_banana::{Dialect, Encoder, Sexp};
///
/// let encoder = Encoder::new(Dialect::Pb);
/// let mut out = Vec::new();
/// encoder.encode(&Sexp::list([Sexp::from("version"), Sexp::from(6)]), &mut out)?;
/// assert_eq!(out, [0x02, 0x80, 0x13, 0x87, 0x06, 0x81]);
/// # Ok::<(), spread_banana::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Encoder {
    dialect: Dialect,
    limits: Limits,
}

impl Encoder {
    /// An encoder for `dialect` with the default [`Limits`].
    pub fn new(dialect: Dialect) -> Encoder {
        Encoder {
            dialect,
            limits: Limits::default(),
        }
    }

    /// Replaces the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Encoder {
        self.limits = limits;
        self
    }

    /// The dialect in use.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches the dialect for the expressions encoded from now on.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// The limits in use.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Appends the encoding of one expression to `out`.
    ///
    /// On error `out` is left exactly as it was, so a reused output buffer
    /// never carries half an expression.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use num_bigint::BigInt;
    /// use spread_banana::{Dialect, EncodeError, Encoder, Sexp};
    ///
    /// let encoder = Encoder::new(Dialect::None);
    /// let mut out = BytesMut::new();
    /// encoder.encode(&Sexp::from(-1), &mut out)?;
    /// let too_big = Sexp::from(BigInt::from(1) << 448);
    /// assert!(matches!(
    ///     encoder.encode(&too_big, &mut out),
    ///     Err(EncodeError::IntTooLarge { .. })
    /// ));
    /// assert_eq!(&out[..], [0x01, 0x83]);
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn encode<B: EncodeBuf>(&self, sexp: &Sexp, out: &mut B) -> Result<(), EncodeError> {
        let start = out.buf_len();
        let result = match self.dialect {
            Dialect::Msgpack => crate::msgpack::encode(&self.limits, sexp, out),
            Dialect::Pb | Dialect::None => self.write(sexp, out, 0),
        };
        if result.is_err() {
            out.buf_truncate(start);
        }
        result
    }

    fn write<B: EncodeBuf>(
        &self,
        sexp: &Sexp,
        out: &mut B,
        depth: usize,
    ) -> Result<(), EncodeError> {
        match sexp {
            Sexp::List(items) => {
                self.encode_list_header(items.len(), depth, out)?;
                for item in items {
                    self.write(item, out, depth + 1)?;
                }
                Ok(())
            }
            Sexp::Int(n) => self.encode_int(*n, out),
            Sexp::BigInt(n) => self.encode_bigint(n, out),
            Sexp::Float(x) => {
                self.encode_float(*x, out);
                Ok(())
            }
            Sexp::Bytes(bytes) => self.encode_bytes(bytes, out),
        }
    }

    /// Appends the LIST header of a list of `len` elements that `depth`
    /// lists enclose (0 at the top level); the caller then writes the
    /// elements. One token of [`Encoder::encode`], for writers that produce
    /// an expression token by token instead of building a [`Sexp`].
    ///
    /// It checks [`Limits::max_list_len`] and [`Limits::max_depth`] as
    /// `encode` does. Unlike `encode`, none of the token methods roll back:
    /// the caller truncates `out` to where its expression began if a later
    /// token fails.
    ///
    /// A whole frame written token by token starts with
    /// [`Encoder::begin_frame`] and ends with [`Encoder::end_frame`]: in the
    /// [`Dialect::Msgpack`] dialect they write the frame's length; in
    /// Banana's, where an expression is its own frame, nothing.
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder, Sexp};
    ///
    /// // ["version", 6], token by token, is what encode writes for the tree.
    /// let encoder = Encoder::new(Dialect::Pb);
    /// let mut out = Vec::new();
    /// encoder.encode_list_header(2, 0, &mut out)?;
    /// encoder.encode_bytes(b"version", &mut out)?;
    /// encoder.encode_int(6, &mut out)?;
    /// let mut whole = Vec::new();
    /// encoder.encode(&Sexp::list([Sexp::from("version"), Sexp::from(6)]), &mut whole)?;
    /// assert_eq!(out, whole);
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    #[inline]
    pub fn encode_list_header<B: EncodeBuf>(
        &self,
        len: usize,
        depth: usize,
        out: &mut B,
    ) -> Result<(), EncodeError> {
        if len > self.limits.max_list_len {
            return Err(EncodeError::ListTooLong {
                len,
                limit: self.limits.max_list_len,
            });
        }
        // Checked here rather than trusted to the caller because this
        // recursion is bounded only by it.
        if depth >= self.limits.max_depth {
            return Err(EncodeError::NestingTooDeep {
                limit: self.limits.max_depth,
            });
        }
        if self.dialect == Dialect::Msgpack {
            return crate::msgpack::put_array_len(out, len);
        }
        put_header(out, len as u64, wire::LIST);
        Ok(())
    }

    /// Appends an integer token, as [`Encoder::encode`] writes a [`Sexp::Int`].
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder};
    ///
    /// let mut out = Vec::new();
    /// Encoder::new(Dialect::Pb).encode_int(-200, &mut out)?;
    /// assert_eq!(out, [0x48, 0x01, 0x83]);
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    #[inline]
    pub fn encode_int<B: EncodeBuf>(&self, n: i64, out: &mut B) -> Result<(), EncodeError> {
        let magnitude = n.unsigned_abs();
        if u64::from(64 - magnitude.leading_zeros()) > self.max_int_bits() {
            return Err(EncodeError::IntTooLarge {
                value: BigInt::from(n),
            });
        }
        if self.dialect == Dialect::Msgpack {
            crate::msgpack::put_int(out, n);
            return Ok(());
        }
        // Twisted's classes are asymmetric: INT stops at 2^31 - 1, NEG at -2^31.
        let type_byte = match n {
            0..=0x7fff_ffff => wire::INT,
            0x8000_0000.. => wire::LONGINT,
            -0x8000_0000..0 => wire::NEG,
            _ => wire::LONGNEG,
        };
        put_header(out, magnitude, type_byte);
        Ok(())
    }

    /// Appends an integer of any size, as [`Encoder::encode`] writes a
    /// [`Sexp::BigInt`] (or the equal [`Sexp::Int`]).
    ///
    /// ```
    /// use num_bigint::BigInt;
    /// use spread_banana::{Dialect, Encoder};
    ///
    /// let mut out = Vec::new();
    /// Encoder::new(Dialect::Pb).encode_bigint(&BigInt::from(5), &mut out)?;
    /// assert_eq!(out, [0x05, 0x81]);
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    pub fn encode_bigint<B: EncodeBuf>(&self, n: &BigInt, out: &mut B) -> Result<(), EncodeError> {
        // A non-canonical BigInt may still hold a small value; it must get
        // the same bytes as the equal `Sexp::Int`.
        if let Ok(small) = i64::try_from(n) {
            return self.encode_int(small, out);
        }
        if n.bits() > self.max_int_bits() {
            return Err(EncodeError::IntTooLarge { value: n.clone() });
        }
        if self.dialect == Dialect::Msgpack {
            crate::msgpack::put_bigint(out, n);
            return Ok(());
        }
        let type_byte = match n.sign() {
            Sign::Minus => wire::LONGNEG,
            Sign::NoSign | Sign::Plus => wire::LONGINT,
        };
        put_big_header(out, n.magnitude(), type_byte);
        Ok(())
    }

    /// Appends a FLOAT token, as [`Encoder::encode`] writes a [`Sexp::Float`].
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder};
    ///
    /// let mut out = Vec::new();
    /// Encoder::new(Dialect::Pb).encode_float(1.5, &mut out);
    /// assert_eq!(out, [0x84, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
    /// ```
    #[inline]
    pub fn encode_float<B: EncodeBuf>(&self, x: f64, out: &mut B) {
        if self.dialect == Dialect::Msgpack {
            return crate::msgpack::put_f64(out, x);
        }
        let mut token = [wire::FLOAT; 9];
        token[1..].copy_from_slice(&x.to_be_bytes());
        out.buf_extend(&token);
    }

    /// Appends a byte string, as [`Encoder::encode`] writes a
    /// [`Sexp::Bytes`]: a VOCAB token for a vocabulary word in `pb`, else a
    /// STRING within [`Limits::max_string_len`].
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder};
    ///
    /// let encoder = Encoder::new(Dialect::Pb);
    /// let mut out = Vec::new();
    /// encoder.encode_bytes(b"hi", &mut out)?;
    /// encoder.encode_bytes(b"list", &mut out)?;
    /// assert_eq!(out, b"\x02\x82hi\x08\x87");
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    #[inline]
    pub fn encode_bytes<B: EncodeBuf>(&self, bytes: &[u8], out: &mut B) -> Result<(), EncodeError> {
        if self.dialect.has_vocabulary()
            && let Some(index) = vocab_index(bytes)
        {
            put_header(out, index.into(), wire::VOCAB);
            return Ok(());
        }
        self.encode_string(bytes, out)
    }

    /// Appends a [`Word`]: the same bytes as [`Encoder::encode_bytes`] on
    /// its bytes, without the vocabulary lookup.
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder, Word};
    ///
    /// let mut out = Vec::new();
    /// Encoder::new(Dialect::None).encode_word(Word::new(b"list"), &mut out)?;
    /// assert_eq!(out, b"\x04\x82list");
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    #[inline]
    pub fn encode_word<B: EncodeBuf>(&self, word: Word, out: &mut B) -> Result<(), EncodeError> {
        if self.dialect.has_vocabulary()
            && let Some(index) = word.vocab_index()
        {
            // Indexes are at most 31: always a one-byte header.
            out.buf_extend(&[index, wire::VOCAB]);
            return Ok(());
        }
        self.encode_string(word.as_bytes(), out)
    }

    /// A STRING token, whatever the vocabulary.
    #[inline]
    fn encode_string<B: EncodeBuf>(&self, bytes: &[u8], out: &mut B) -> Result<(), EncodeError> {
        if bytes.len() > self.limits.max_string_len {
            return Err(EncodeError::StringTooLong {
                len: bytes.len(),
                limit: self.limits.max_string_len,
            });
        }
        if self.dialect == Dialect::Msgpack {
            return crate::msgpack::put_bin(out, bytes);
        }
        put_header(out, bytes.len() as u64, wire::STRING);
        out.buf_extend(bytes);
        Ok(())
    }

    /// Appends a whole expression that `depth` lists enclose, as
    /// [`Encoder::encode`] would write it there, but without rolling `out`
    /// back on error (see [`Encoder::encode_list_header`]).
    ///
    /// ```
    /// use spread_banana::{Dialect, EncodeError, Encoder, Limits, Sexp};
    ///
    /// let encoder = Encoder::new(Dialect::Pb).with_limits(Limits::default().max_depth(2));
    /// let mut out = Vec::new();
    /// let inner = Sexp::list([Sexp::from(1)]);
    /// encoder.encode_nested(&inner, 1, &mut out)?;
    /// assert_eq!(out, [0x01, 0x80, 0x01, 0x81]);
    /// assert!(matches!(
    ///     encoder.encode_nested(&inner, 2, &mut out),
    ///     Err(EncodeError::NestingTooDeep { limit: 2 })
    /// ));
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn encode_nested<B: EncodeBuf>(
        &self,
        sexp: &Sexp,
        depth: usize,
        out: &mut B,
    ) -> Result<(), EncodeError> {
        self.write(sexp, out, depth)
    }

    /// Starts a frame written token by token; [`Encoder::end_frame`] ends
    /// it. In [`Dialect::Msgpack`] this reserves the frame's length; in
    /// Banana, where each top-level expression is its own frame, it writes
    /// nothing.
    ///
    /// ```
    /// use spread_banana::{Dialect, Encoder, Sexp};
    ///
    /// for dialect in [Dialect::Pb, Dialect::Msgpack] {
    ///     let encoder = Encoder::new(dialect);
    ///     let mut out = Vec::new();
    ///     let frame = encoder.begin_frame(&mut out);
    ///     encoder.encode_list_header(2, 0, &mut out)?;
    ///     encoder.encode_bytes(b"decref", &mut out)?;
    ///     encoder.encode_int(7, &mut out)?;
    ///     encoder.end_frame(frame, &mut out)?;
    ///     let mut whole = Vec::new();
    ///     encoder.encode(&Sexp::list([Sexp::from("decref"), Sexp::from(7)]), &mut whole)?;
    ///     assert_eq!(out, whole);
    /// }
    /// # Ok::<(), spread_banana::EncodeError>(())
    /// ```
    pub fn begin_frame<B: EncodeBuf>(&self, out: &mut B) -> FrameStart {
        match self.dialect {
            Dialect::Msgpack => FrameStart(crate::msgpack::begin_frame(out)),
            Dialect::Pb | Dialect::None => FrameStart(out.buf_len()),
        }
    }

    /// Ends the frame [`Encoder::begin_frame`] started, writing its length
    /// where the dialect has one. Like the token methods, it does not roll
    /// `out` back on error: the caller cuts it back to where the frame began
    /// ([`FrameStart::offset`]).
    pub fn end_frame<B: EncodeBuf>(
        &self,
        frame: FrameStart,
        out: &mut B,
    ) -> Result<(), EncodeError> {
        match self.dialect {
            Dialect::Msgpack => crate::msgpack::end_frame(frame.0, out),
            Dialect::Pb | Dialect::None => Ok(()),
        }
    }

    fn max_int_bits(&self) -> u64 {
        (self.limits.max_prefix_len as u64).saturating_mul(7)
    }
}

/// Where a frame begun with [`Encoder::begin_frame`] starts in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a frame begun must be ended with Encoder::end_frame"]
pub struct FrameStart(usize);

impl FrameStart {
    /// The frame's first byte in the output: where to cut back to if
    /// writing it fails.
    pub fn offset(self) -> usize {
        self.0
    }
}

/// Encodes one expression into a fresh vector with the default [`Limits`].
///
/// ```
/// use spread_banana::{Dialect, Sexp, encode_to_vec};
///
/// assert_eq!(encode_to_vec(&Sexp::from("list"), Dialect::Pb)?, [0x08, 0x87]);
/// assert_eq!(encode_to_vec(&Sexp::from(1.5), Dialect::None)?[..3], [0x84, 0x3f, 0xf8]);
/// # Ok::<(), spread_banana::EncodeError>(())
/// ```
pub fn encode_to_vec(sexp: &Sexp, dialect: Dialect) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    Encoder::new(dialect).encode(sexp, &mut out)?;
    Ok(out)
}

/// A growable byte buffer the [`Encoder`] can append to and roll back:
/// `Vec<u8>` or [`BytesMut`].
///
/// This trait is sealed; it exists so that one generic `encode` serves both.
/// Its two methods let generic code that writes token by token (with
/// [`Encoder::encode_list_header`] and the methods beside it) undo a
/// partial expression, as [`Encoder::encode`] does.
///
/// ```
/// use spread_banana::{Dialect, EncodeBuf, Encoder};
///
/// fn pair<B: EncodeBuf>(encoder: &Encoder, out: &mut B) {
///     let start = out.encoded_len();
///     let written = encoder.encode_list_header(2, 0, out)
///         .and_then(|()| encoder.encode_int(1, out))
///         .and_then(|()| encoder.encode_bytes(&[0; 10], out));
///     if written.is_err() {
///         out.truncate_encoded(start);
///     }
/// }
///
/// let mut out = Vec::new();
/// let tight = Encoder::new(Dialect::Pb)
///     .with_limits(spread_banana::Limits::default().max_string_len(4));
/// pair(&tight, &mut out);
/// assert!(out.is_empty());
/// ```
pub trait EncodeBuf: sealed::Sealed {
    /// How many bytes the buffer holds.
    #[inline]
    fn encoded_len(&self) -> usize {
        self.buf_len()
    }

    /// Cuts the buffer back to its first `len` bytes.
    #[inline]
    fn truncate_encoded(&mut self, len: usize) {
        self.buf_truncate(len);
    }
}

impl EncodeBuf for Vec<u8> {}
impl EncodeBuf for BytesMut {}

mod sealed {
    use bytes::BytesMut;

    /// The operations the encoder needs; private so that only our two
    /// buffer types can implement [`EncodeBuf`](super::EncodeBuf).
    pub trait Sealed {
        fn buf_len(&self) -> usize;
        fn buf_truncate(&mut self, len: usize);
        fn buf_extend(&mut self, bytes: &[u8]);
        /// Overwrites `bytes.len()` bytes already written, from `at`.
        fn buf_patch(&mut self, at: usize, bytes: &[u8]);
    }

    // The two buffers have the same inherent methods but no common trait.
    macro_rules! sealed {
        ($($buf:ty),*) => {$(
            impl Sealed for $buf {
                #[inline]
                fn buf_len(&self) -> usize {
                    self.len()
                }
                #[inline]
                fn buf_truncate(&mut self, len: usize) {
                    self.truncate(len);
                }
                #[inline]
                fn buf_extend(&mut self, bytes: &[u8]) {
                    self.extend_from_slice(bytes);
                }
                #[inline]
                fn buf_patch(&mut self, at: usize, bytes: &[u8]) {
                    self[at..at + bytes.len()].copy_from_slice(bytes);
                }
            }
        )*};
    }
    sealed!(Vec<u8>, BytesMut);
}

/// Writes a base-128 header and its type byte.
#[inline(always)]
fn put_header<B: EncodeBuf>(out: &mut B, value: u64, type_byte: u8) {
    // Most headers are one byte (small ints, short strings and lists); a
    // fixed-size append compiles to a plain store instead of a memcpy call.
    if value < 0x80 {
        out.buf_extend(&[value as u8, type_byte]);
    } else if value < 0x4000 {
        // Two groups: ints up to 16 383 and strings up to 16 KiB.
        out.buf_extend(&[(value & 0x7f) as u8, (value >> 7) as u8, type_byte]);
    } else {
        put_long_header(out, value, type_byte);
    }
}

/// The rest of [`put_header`], kept out of line so the common case stays small.
#[inline(never)]
fn put_long_header<B: EncodeBuf>(out: &mut B, mut value: u64, type_byte: u8) {
    // A u64 needs at most ten 7-bit groups; one more slot for the type byte.
    let mut token = [0u8; 11];
    let mut len = 0;
    loop {
        token[len] = (value & 0x7f) as u8;
        len += 1;
        value >>= 7;
        if value == 0 {
            break;
        }
    }
    token[len] = type_byte;
    // Appending all eleven bytes and cutting back is cheaper than an append
    // of variable length, which becomes a memcpy call.
    let end = out.buf_len() + len + 1;
    out.buf_extend(&token);
    out.buf_truncate(end);
}

/// Writes the header of a magnitude that does not fit in a `u64`.
fn put_big_header<B: EncodeBuf>(out: &mut B, magnitude: &BigUint, type_byte: u8) {
    let groups = magnitude.bits().div_ceil(7);
    let mut digits = magnitude.iter_u64_digits();
    // Bits not yet written, least significant first; a u128 always has room
    // for the fewer than 7 left over plus the next 64-bit digit.
    let mut pending: u128 = 0;
    let mut pending_bits = 0u32;
    let mut chunk = [0u8; 64];
    let mut filled = 0;
    for _ in 0..groups {
        if pending_bits < 7
            && let Some(digit) = digits.next()
        {
            pending |= u128::from(digit) << pending_bits;
            pending_bits += 64;
        }
        chunk[filled] = (pending & 0x7f) as u8;
        filled += 1;
        pending >>= 7;
        pending_bits = pending_bits.saturating_sub(7);
        if filled == chunk.len() {
            out.buf_extend(&chunk);
            filled = 0;
        }
    }
    chunk[filled] = type_byte;
    out.buf_extend(&chunk[..=filled]);
}
