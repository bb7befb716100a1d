#![doc(test(attr(deny(warnings))))]
//! Banana: the byte encoding of s-expressions under Twisted's Perspective Broker.
//!
//! Banana turns a tree of lists, integers, floats and byte strings
//! ([`Sexp`]) into bytes and back, byte for byte compatible with Twisted
//! 26.10's `twisted.spread.banana`. It is sans-IO: the [`Decoder`] works on a
//! [`bytes::BytesMut`] you fill from any transport and hands out each
//! expression as soon as it is complete; the [`Encoder`] appends to a buffer
//! you write out.
//!
//! # Where this crate sits
//!
//! This is the lowest layer of spread. It knows nothing about objects:
//! `spread-jelly`, the next layer up, turns values into the s-expressions
//! carried here (`["unicode", ...]`, `["dictionary", ...]`, references), and
//! the broker above that gives each frame a meaning. Use this crate directly
//! only to speak raw Banana or to build a transport.
//!
//! When an expression is only read and then dropped, as when unjellying a
//! frame, [`TokenDecoder`] is the cheaper way in: it accepts and refuses
//! exactly what [`Decoder`] does, but reads into a flat token buffer it
//! reuses and lends the expression out as a [`Node`] instead of building a
//! [`Sexp`] tree.
//!
//! What Twisted calls a dialect (`pb` or `none`, chosen at connection start)
//! is [`Dialect`]; [`Limits`] holds Twisted's security limits plus two of
//! ours, and malformed input is a [`DecodeError`].
//!
//! # Dialects
//!
//! The [`Encoder`] and the [`Decoder`] speak whichever [`Dialect`] they are
//! set to: Twisted's two Banana dialects, `pb` (with the vocabulary) and
//! `none`, or spread's own [`Dialect::Msgpack`], which carries the same
//! [`Sexp`] trees as length-prefixed MessagePack frames (through
//! `rmp-serde`) for connections where both ends are spread. Negotiation
//! picks the dialect; only then does anything but plain Banana travel.
//!
//! ```
//! use bytes::BytesMut;
//! use spread_banana::{Decoder, Dialect, Encoder, Limits, Sexp};
//!
//! let frame = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
//! let mut wire = BytesMut::new();
//! Encoder::new(Dialect::Msgpack).encode(&frame, &mut wire)?;
//! // A 4-byte length, then [bin "version", 6].
//! assert_eq!(&wire[..4], [0, 0, 0, 11]);
//! assert_eq!(&wire[4..7], [0x92, 0xc4, 0x07]);
//!
//! let mut decoder = Decoder::new(Limits::default()).with_dialect(Dialect::Msgpack);
//! assert_eq!(decoder.decode(&mut wire)?, Some(frame));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use spread_banana::{Decoder, Dialect, Encoder, Limits, Sexp};
//!
//! let frame = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
//!
//! let encoder = Encoder::new(Dialect::Pb);
//! let mut wire = BytesMut::new();
//! encoder.encode(&frame, &mut wire)?;
//! // "version" is a vocabulary word, so it travels as two bytes.
//! assert_eq!(&wire[..], [0x02, 0x80, 0x13, 0x87, 0x06, 0x81]);
//!
//! let mut decoder = Decoder::new(Limits::default()).with_dialect(Dialect::Pb);
//! assert_eq!(decoder.decode(&mut wire)?, Some(frame));
//! assert!(wire.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! None.

// What travels.
mod sexp;

// What both directions share: type bytes, the vocabulary, the limits.
mod dialect;
mod limits;
mod wire;

// The two directions, then how they fail.
mod encode;

mod decode;
mod tokens;

// The msgpack dialect's framing, both directions (reached through the two
// above).
mod msgpack;

mod error;

// The public interface is:
pub use crate::decode::{Decoder, decode_all};
pub use crate::dialect::{Dialect, VOCABULARY, Word, vocab_index, vocab_word};
pub use crate::encode::{EncodeBuf, Encoder, FrameStart, encode_to_vec};
pub use crate::error::{DecodeError, EncodeError};
pub use crate::limits::Limits;
pub use crate::sexp::Sexp;
pub use crate::tokens::{Node, NodeKind, Nodes, TokenDecoder};
