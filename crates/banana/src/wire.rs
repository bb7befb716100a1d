//! Type bytes: the byte after the header that says what a token is.

/// A list; the header is the element count.
pub(crate) const LIST: u8 = 0x80;
/// A non-negative integer; the header is the value.
pub(crate) const INT: u8 = 0x81;
/// A byte string; the header is its length and the bytes follow.
pub(crate) const STRING: u8 = 0x82;
/// A negative integer; the header is the magnitude.
pub(crate) const NEG: u8 = 0x83;
/// A big-endian IEEE-754 double in the 8 bytes that follow; no header.
pub(crate) const FLOAT: u8 = 0x84;
/// A non-negative integer Twisted considers large (2^31 and up).
pub(crate) const LONGINT: u8 = 0x85;
/// A negative integer Twisted considers large (below -2^31).
pub(crate) const LONGNEG: u8 = 0x86;
/// A vocabulary word; the header is its index.
pub(crate) const VOCAB: u8 = 0x87;
