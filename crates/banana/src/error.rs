//! Why decoding or encoding failed.

use num_bigint::BigInt;

/// A malformed or hostile Banana stream (or msgpack-dialect stream).
///
/// Twisted reacts to each of these by dropping the connection without a
/// word (it raises `BananaError`, `NotImplementedError` or `KeyError` inside
/// its receive path); a broker should do the same. Needing more bytes is not
/// an error: [`Decoder::decode`](crate::Decoder::decode) returns `Ok(None)`.
///
/// Lengths that do not fit in a `u64` are reported as `u64::MAX`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A type byte that is not one of `0x80..=0x87` (Twisted: "Invalid Type Byte").
    #[error("unknown type byte {byte:#04x}")]
    UnknownTypeByte {
        /// The offending byte.
        byte: u8,
    },
    /// More header bytes than [`Limits::max_prefix_len`](crate::Limits::max_prefix_len),
    /// whether or not a type byte followed.
    #[error("token header longer than the limit of {limit} bytes")]
    PrefixTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A STRING header announcing more than [`Limits::max_string_len`](crate::Limits::max_string_len) bytes.
    #[error("string of {len} bytes is longer than the limit of {limit}")]
    StringTooLong {
        /// The announced length.
        len: u64,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A LIST header announcing more than [`Limits::max_list_len`](crate::Limits::max_list_len) elements.
    #[error("list of {len} elements is longer than the limit of {limit}")]
    ListTooLong {
        /// The announced element count.
        len: u64,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Lists nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("lists nested deeper than the limit of {limit}")]
    NestingTooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// One top-level expression longer than [`Limits::max_expression_len`](crate::Limits::max_expression_len) bytes.
    #[error("expression longer than the limit of {limit} bytes")]
    ExpressionTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// One top-level expression of more than [`Limits::max_tokens`](crate::Limits::max_tokens) tokens.
    #[error("expression of more than the limit of {limit} tokens")]
    TooManyTokens {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A VOCAB index that is not in the vocabulary (Twisted: `KeyError`).
    #[error("unknown vocabulary index {index}")]
    UnknownVocabIndex {
        /// The announced index.
        index: u64,
    },
    /// A VOCAB token while the dialect has no vocabulary, including before negotiation.
    #[error("vocabulary token {index} received but the dialect has no vocabulary")]
    VocabWithoutDialect {
        /// The index that was sent; it is a valid one.
        index: u8,
    },
    /// The input ended inside an expression (only from [`decode_all`](crate::decode_all)).
    #[error("input ended in the middle of an expression")]
    Incomplete,
    /// An integer whose magnitude has more bits than Banana's prefix limit
    /// allows (`7 *` [`Limits::max_prefix_len`](crate::Limits::max_prefix_len)),
    /// in the msgpack dialect, where no prefix limits it. Banana reports the
    /// same excess as [`DecodeError::PrefixTooLong`].
    #[error("integer larger than the limit of {limit_bits} bits")]
    IntTooLarge {
        /// The most bits a magnitude may have.
        limit_bits: u64,
    },
    /// A msgpack frame whose bytes are not exactly one MessagePack value:
    /// a frame of length zero, a value that ends before its frame does or
    /// bytes left after it, an empty big-integer ext.
    #[error("malformed msgpack frame: {reason}")]
    MalformedMsgpack {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A well-formed MessagePack value of a kind the msgpack dialect never
    /// sends: nil, a boolean, a str (byte strings travel as bin), a map, a
    /// float 32, the reserved byte `0xc1`.
    #[error(
        "unexpected msgpack {found}: the msgpack dialect sends only arrays, ints, float 64, bin and big-integer exts"
    )]
    UnexpectedMsgpack {
        /// The kind of value found.
        found: &'static str,
    },
    /// A MessagePack ext of a type other than the msgpack dialect's big
    /// integer (type 1).
    #[error("unknown msgpack ext type {ext_type}")]
    UnknownExtType {
        /// The ext's type.
        ext_type: i8,
    },
}

/// An expression that Banana cannot carry within the encoder's limits.
///
/// Twisted raises `BananaError` for the same cases. Nothing is written when
/// this is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An integer whose magnitude needs a longer header than [`Limits::max_prefix_len`](crate::Limits::max_prefix_len).
    #[error("int is too large to send ({value})")]
    IntTooLarge {
        /// The integer.
        value: BigInt,
    },
    /// A byte string longer than [`Limits::max_string_len`](crate::Limits::max_string_len).
    #[error("byte string is too long to send ({len} bytes, limit {limit})")]
    StringTooLong {
        /// The string's length.
        len: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A list with more elements than [`Limits::max_list_len`](crate::Limits::max_list_len).
    #[error("list is too long to send ({len} elements, limit {limit})")]
    ListTooLong {
        /// The list's length.
        len: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// Lists nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("lists nested too deep to send (limit {limit})")]
    NestingTooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A msgpack-dialect frame longer than its 32-bit length can say.
    #[error("frame is too long to send ({len} bytes, limit {limit})")]
    FrameTooLong {
        /// The frame's length, or the length of the one value that alone
        /// is too long.
        len: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// rmp-serde refused to write a value (not expected: every value the
    /// msgpack dialect writes is one it takes).
    #[error("cannot write msgpack: {reason}")]
    Msgpack {
        /// rmp-serde's error.
        reason: String,
    },
}
