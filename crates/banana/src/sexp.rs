//! The s-expression tree that Banana carries.

use bytes::Bytes;
use num_bigint::BigInt;

/// One Banana expression: an atom or a list of expressions.
///
/// This is everything Banana can put on the wire. Text does not exist at this
/// layer (Twisted's Banana refuses Python `str`); Jelly wraps text as
/// `["unicode", utf8]` before it gets here.
///
/// Integers have one canonical form: a value that fits in an `i64` is always
/// [`Sexp::Int`], and [`Sexp::BigInt`] is used only outside that range. The
/// decoder always produces the canonical form; [`Sexp::from`] on a [`BigInt`]
/// normalises. The wire type byte (INT, NEG, LONGINT, LONGNEG) is chosen from
/// the value when encoding, exactly as Twisted chooses it.
///
/// ```
/// use spread_banana::Sexp;
///
/// let frame = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
/// assert_eq!(frame.as_list().map(|items| items.len()), Some(2));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Sexp {
    /// A LIST token and its elements.
    List(Vec<Sexp>),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer outside the `i64` range (Banana carries up to 448 bits).
    BigInt(BigInt),
    /// A FLOAT token: an IEEE-754 double, passed through bit for bit.
    ///
    /// Equality on `Sexp` compares floats with `==`, so a NaN never equals
    /// itself; compare bits where that matters.
    Float(f64),
    /// A STRING token, or a VOCAB token already expanded to its word.
    Bytes(Bytes),
}

impl Sexp {
    /// Builds a list from anything that yields expressions.
    pub fn list(items: impl IntoIterator<Item = Sexp>) -> Sexp {
        Sexp::List(items.into_iter().collect())
    }

    /// Returns the elements if this is a list.
    pub fn as_list(&self) -> Option<&[Sexp]> {
        match self {
            Sexp::List(items) => Some(items),
            _ => None,
        }
    }

    /// Returns the bytes if this is a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Sexp::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Returns the value if this is an integer that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Sexp::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl From<i64> for Sexp {
    fn from(n: i64) -> Sexp {
        Sexp::Int(n)
    }
}

impl From<BigInt> for Sexp {
    /// Normalises: values in the `i64` range become [`Sexp::Int`].
    fn from(n: BigInt) -> Sexp {
        match i64::try_from(&n) {
            Ok(small) => Sexp::Int(small),
            Err(_) => Sexp::BigInt(n),
        }
    }
}

impl From<f64> for Sexp {
    fn from(x: f64) -> Sexp {
        Sexp::Float(x)
    }
}

impl From<Bytes> for Sexp {
    fn from(bytes: Bytes) -> Sexp {
        Sexp::Bytes(bytes)
    }
}

impl From<&'static [u8]> for Sexp {
    fn from(bytes: &'static [u8]) -> Sexp {
        Sexp::Bytes(Bytes::from_static(bytes))
    }
}

impl From<&'static str> for Sexp {
    /// A byte string with the UTF-8 bytes of a static word, such as a jelly
    /// tag or a method name. This is not text on the wire: Banana has none.
    fn from(word: &'static str) -> Sexp {
        Sexp::Bytes(Bytes::from_static(word.as_bytes()))
    }
}

impl From<Vec<u8>> for Sexp {
    fn from(bytes: Vec<u8>) -> Sexp {
        Sexp::Bytes(Bytes::from(bytes))
    }
}

impl From<Vec<Sexp>> for Sexp {
    fn from(items: Vec<Sexp>) -> Sexp {
        Sexp::List(items)
    }
}
