//! Dialects, and the `pb` vocabulary that compresses well-known words.

/// Which dialect ("profile") a connection speaks.
///
/// Twisted knows two, `pb` and `none`, which differ only in whether the `pb`
/// vocabulary is in use. Spread adds a third for Rust-to-Rust connections,
/// [`Dialect::Msgpack`], which frames the same s-expressions with
/// MessagePack instead of Banana tokens.
///
/// A new [`Encoder`](crate::Encoder) or [`Decoder`](crate::Decoder) set to
/// [`Dialect::None`] is also the right state before negotiation has chosen
/// a dialect: Twisted rejects VOCAB tokens then, exactly as in `none`.
///
/// ```
/// use spread_banana::Dialect;
///
/// assert_eq!(Dialect::from_name(b"pb"), Some(Dialect::Pb));
/// assert_eq!(Dialect::None.name(), b"none");
/// assert_eq!(Dialect::from_name(b"spread-msgpack"), Some(Dialect::Msgpack));
/// // What Twisted knows, and what spread offers.
/// assert!(!Dialect::KNOWN.contains(&Dialect::Msgpack));
/// assert_eq!(Dialect::DEFAULT_OFFER[0], Dialect::Msgpack);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// `pb`: vocabulary words travel as two-byte VOCAB tokens.
    Pb,
    /// `none`: no vocabulary; a VOCAB token is a decode error.
    #[default]
    None,
    /// `spread-msgpack`: spread's own dialect, for Rust-to-Rust
    /// connections. Twisted does not know it, so a Twisted peer offered it
    /// picks `pb` as before.
    ///
    /// Each expression is one frame: a 4-byte big-endian length `n`
    /// (`1 <= n`), then exactly `n` bytes holding one MessagePack value:
    ///
    /// | [`Sexp`](crate::Sexp) | MessagePack |
    /// |---|---|
    /// | `List` | array |
    /// | `Int` | int (the encoder writes the shortest form) |
    /// | `BigInt` | uint 64 from 2^63 to 2^64 - 1; otherwise ext type 1 holding the two's complement, big-endian, in as few bytes as hold it |
    /// | `Float` | float 64, always, bit for bit (NaN payloads too) |
    /// | `Bytes` | bin |
    ///
    /// Nothing else is sent or accepted: nil, booleans, str, maps,
    /// float 32, other ext types and bytes after the value are decode
    /// errors. Every [`Limits`](crate::Limits) field is enforced: the frame
    /// length against `max_expression_len` before the frame is buffered,
    /// integers against the bits `max_prefix_len` allows Banana, the rest
    /// as in Banana. Byte strings are sliced out of the received frame
    /// without a copy.
    ///
    /// The name says whose convention this is: MessagePack has no standard
    /// mapping of s-expressions, and a plain `msgpack` could one day be
    /// offered by another PB implementation that frames differently.
    Msgpack,
}

impl Dialect {
    /// The dialects Twisted knows, in the order a Twisted server offers them
    /// (`Banana.knownDialects`). Spread's own [`Dialect::Msgpack`] is not
    /// one of them; see [`Dialect::DEFAULT_OFFER`].
    pub const KNOWN: [Dialect; 2] = [Dialect::Pb, Dialect::None];

    /// What a spread server offers by default, best first: its own
    /// [`Dialect::Msgpack`], then Twisted's. A spread client picks msgpack
    /// from it; a Twisted client skips the name it does not know and
    /// picks `pb`.
    pub const DEFAULT_OFFER: [Dialect; 3] = [Dialect::Msgpack, Dialect::Pb, Dialect::None];

    /// The dialect's name as sent during negotiation.
    pub const fn name(self) -> &'static [u8] {
        match self {
            Dialect::Pb => b"pb",
            Dialect::None => b"none",
            Dialect::Msgpack => b"spread-msgpack",
        }
    }

    /// Looks a dialect up by its negotiation name.
    pub fn from_name(name: &[u8]) -> Option<Dialect> {
        match name {
            b"pb" => Some(Dialect::Pb),
            b"none" => Some(Dialect::None),
            b"spread-msgpack" => Some(Dialect::Msgpack),
            _ => None,
        }
    }

    /// Whether this dialect compresses vocabulary words.
    pub const fn has_vocabulary(self) -> bool {
        matches!(self, Dialect::Pb)
    }
}

/// The `pb` vocabulary: `VOCABULARY[i]` is the word with VOCAB index `i + 1`.
///
/// Index 0 is unused on the wire, so it has no slot here. The table is
/// Twisted's `Banana.outgoingVocabulary` and never changes at run time.
///
/// ```
/// use spread_banana::VOCABULARY;
///
/// assert_eq!(VOCABULARY.len(), 31);
/// assert_eq!(VOCABULARY[16 - 1], b"remote");
/// ```
pub const VOCABULARY: [&[u8]; 31] = [
    b"None",
    b"class",
    b"dereference",
    b"reference",
    b"dictionary",
    b"function",
    b"instance",
    b"list",
    b"module",
    b"persistent",
    b"tuple",
    b"unpersistable",
    b"copy",
    b"cache",
    b"cached",
    b"remote",
    b"local",
    b"lcache",
    b"version",
    b"login",
    b"password",
    b"challenge",
    b"logged_in",
    b"not_logged_in",
    b"cachemessage",
    b"message",
    b"answer",
    b"error",
    b"decref",
    b"decache",
    b"uncache",
];

/// The word a VOCAB index stands for, or `None` for an index not in the table.
///
/// ```
/// use spread_banana::vocab_word;
///
/// assert_eq!(vocab_word(8), Some(&b"list"[..]));
/// assert_eq!(vocab_word(0), None);
/// assert_eq!(vocab_word(32), None);
/// ```
pub fn vocab_word(index: u64) -> Option<&'static [u8]> {
    let slot = usize::try_from(index.checked_sub(1)?).ok()?;
    VOCABULARY.get(slot).copied()
}

/// The VOCAB index of a byte string, if it is exactly a vocabulary word.
///
/// This runs for every byte string the encoder writes, so it is a plain
/// `match` the compiler turns into length and byte comparisons: no hashing.
///
/// ```
/// use spread_banana::vocab_index;
///
/// assert_eq!(vocab_index(b"login"), Some(20));
/// assert_eq!(vocab_index(b"unicode"), None);
/// ```
pub fn vocab_index(word: &[u8]) -> Option<u8> {
    // Words are 4 to 13 bytes long; most user strings fail this cheap test.
    if !(4..=13).contains(&word.len()) {
        return None;
    }
    let index = match word {
        b"None" => 1,
        b"class" => 2,
        b"dereference" => 3,
        b"reference" => 4,
        b"dictionary" => 5,
        b"function" => 6,
        b"instance" => 7,
        b"list" => 8,
        b"module" => 9,
        b"persistent" => 10,
        b"tuple" => 11,
        b"unpersistable" => 12,
        b"copy" => 13,
        b"cache" => 14,
        b"cached" => 15,
        b"remote" => 16,
        b"local" => 17,
        b"lcache" => 18,
        b"version" => 19,
        b"login" => 20,
        b"password" => 21,
        b"challenge" => 22,
        b"logged_in" => 23,
        b"not_logged_in" => 24,
        b"cachemessage" => 25,
        b"message" => 26,
        b"answer" => 27,
        b"error" => 28,
        b"decref" => 29,
        b"decache" => 30,
        b"uncache" => 31,
        _ => return None,
    };
    Some(index)
}

/// A byte string known when the program is compiled, such as a Jelly type
/// tag, with its vocabulary index worked out once instead of at every write.
///
/// [`Encoder::encode_word`](crate::Encoder::encode_word) writes it exactly as
/// [`Encoder::encode_bytes`](crate::Encoder::encode_bytes) would write its
/// bytes, without looking the vocabulary up.
///
/// ```
/// use spread_banana::{Dialect, Encoder, Word};
///
/// const LIST: Word = Word::new(b"list");
/// const UNICODE: Word = Word::new(b"unicode");
/// assert_eq!(LIST.vocab_index(), Some(8));
/// assert_eq!(UNICODE.vocab_index(), None);
///
/// let encoder = Encoder::new(Dialect::Pb);
/// let mut out = Vec::new();
/// encoder.encode_word(LIST, &mut out)?;
/// encoder.encode_word(UNICODE, &mut out)?;
/// assert_eq!(out, b"\x08\x87\x07\x82unicode");
/// # Ok::<(), spread_banana::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Word {
    bytes: &'static [u8],
    /// The VOCAB index, or 0 for a word outside the vocabulary.
    vocab: u8,
}

impl Word {
    /// The word for `bytes`; the vocabulary lookup runs at compile time when
    /// this is used in a `const`.
    pub const fn new(bytes: &'static [u8]) -> Word {
        let mut slot = 0;
        while slot < VOCABULARY.len() {
            if const_eq(VOCABULARY[slot], bytes) {
                return Word {
                    bytes,
                    vocab: slot as u8 + 1,
                };
            }
            slot += 1;
        }
        Word { bytes, vocab: 0 }
    }

    /// The bytes of the word.
    pub const fn as_bytes(self) -> &'static [u8] {
        self.bytes
    }

    /// The word's VOCAB index, as [`vocab_index`] would find it.
    pub const fn vocab_index(self) -> Option<u8> {
        match self.vocab {
            0 => None,
            index => Some(index),
        }
    }
}

/// Slice equality usable in a `const fn`.
const fn const_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
