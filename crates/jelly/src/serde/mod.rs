//! The serde bridge: Rust types that derive `Serialize` and `Deserialize`
//! to and from [`Value`].

use std::fmt;

use serde::Serialize;
use serde::de::{DeserializeOwned, Expected, Unexpected};

use crate::{Error, ErrorKind, Value};

mod access;
mod de;
mod ser;

/// Converts a Rust value to a [`Value`], the way Twisted's default
/// `getStateToCopy` (an instance's `__dict__`) would look on the wire.
///
/// | Rust (serde data model) | [`Value`] |
/// | --- | --- |
/// | `bool` | [`Value::Bool`] |
/// | integers | [`Value::Int`], or [`Value::BigInt`] outside the `i64` range |
/// | `f32`, `f64` | [`Value::Float`] |
/// | `char`, `str`, `String` | [`Value::Str`] |
/// | bytes (`serialize_bytes`, as `serde_bytes` does) | [`Value::Bytes`] |
/// | `None`, `()`, unit struct | [`Value::None`] |
/// | `Some(x)`, newtype struct | `x` |
/// | sequence (`Vec<T>`, sets, and `Vec<u8>` too) | [`Value::List`] |
/// | tuple, tuple struct | [`Value::Tuple`] |
/// | map | [`Value::Dict`], keys converted like values |
/// | struct | [`Value::Dict`] with [`Value::Str`] keys in field order |
/// | unit variant | [`Value::Str`] of the variant name |
/// | other variants | a one-entry [`Value::Dict`] `{variant: content}` |
///
/// A `Vec<u8>` is a sequence of small integers to serde, so it becomes a
/// list of ints; use a type that calls `serialize_bytes` to send Python
/// `bytes`. Fields that serde skips are left out of the dict.
///
/// # Errors
///
/// Only what the type's own `Serialize` implementation reports, with the
/// path to where it happened.
///
/// # Example
///
/// ```
/// use serde::Serialize;
/// use spread_jelly::{to_value, Dict, Value};
///
/// #[derive(Serialize)]
/// struct Pond {
///     color: String,
///     num_frogs: i64,
/// }
///
/// let value = to_value(&Pond { color: "green".into(), num_frogs: 7 })?;
/// assert_eq!(
///     value,
///     Value::Dict(Dict::from_iter([
///         (Value::from("color"), Value::from("green")),
///         (Value::from("num_frogs"), Value::from(7)),
///     ]))
/// );
/// # Ok::<(), spread_jelly::Error>(())
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ser::Serializer)
}

/// Converts a [`Value`] to a Rust value, the way Twisted's default
/// `setCopyableState` fills an instance's `__dict__`.
///
/// The value is read as self-describing data, so that anything [`to_value`]
/// produces comes back. Beyond that:
///
/// - an [`Value::Instance`] reads as its state, so that a struct can be
///   filled from a received instance;
/// - a [`Value::Shared`] reads as its value, back references included;
/// - a struct or a struct variant reads from a dict whose keys are `str`, or
///   `bytes` holding UTF-8 (Twisted's `setCopyableState` accepts both); of
///   keys met twice the last wins, as in Python; unknown keys are ignored
///   unless the type says `#[serde(deny_unknown_fields)]`;
/// - a tuple reads from a tuple or a list, a sequence from a list, tuple,
///   set or frozenset, and also from `bytes` (as a sequence of ints);
/// - strings read only from `str`: Python 3 peers send text as `str`, so
///   Python `bytes` where a string is expected is reported, not guessed at;
///   byte buffers (`deserialize_bytes`) read from `bytes`;
/// - integers are range-checked against the Rust type; floats accept ints
///   too, as Python code often passes `1` for `1.0`; `bool` accepts only
///   booleans;
/// - an enum reads from a `str` (unit variant) or a one-entry dict
///   `{variant: content}`;
/// - dates, times, durations and decimals read as their wire text, when the
///   type accepts any value.
///
/// # Limits
///
/// Shared structure is copied each time it is met, and a peer can send a
/// value whose copies are exponentially many (`a1 = [x, x]; a2 = [a1, a1];
/// ...`). The first copy of each shared value is free, since its size is
/// bounded by what was sent; every later copy counts the values it visits
/// (one per value, plus one per dict entry or sequence element, plus one per
/// 16 bytes of text or bytes), and past 1 000 000 such visits in one call the
/// conversion fails with [`ErrorKind::Custom`]. Nesting deeper than 512
/// values (once sharing is expanded) fails with [`ErrorKind::TooDeep`], so
/// that the stack cannot overflow.
///
/// # Errors
///
/// [`ErrorKind::UnexpectedShape`] for a value of the wrong type or out of
/// range, [`ErrorKind::MissingField`] for a required field that is absent,
/// [`ErrorKind::Custom`] for what the type's `Deserialize` reports and for
/// the limit above, [`ErrorKind::DanglingReference`] for a back reference
/// whose owner is gone. A value that contains itself cannot become plain
/// Rust data and gives [`ErrorKind::UnexpectedShape`]. Every error carries
/// the [path](Error::path) to where it happened, such as `inner.count` or
/// `ponds[2].color`.
///
/// # Example
///
/// ```
/// use serde::Deserialize;
/// use spread_jelly::{from_value, Dict, ErrorKind, Value};
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Pond {
///     color: String,
///     num_frogs: i64,
/// }
///
/// let state = Value::Dict(Dict::from_iter([
///     (Value::from("color"), Value::from("green")),
///     (Value::from("num_frogs"), Value::from(7)),
/// ]));
/// let pond: Pond = from_value(&state)?;
/// assert_eq!(pond, Pond { color: "green".into(), num_frogs: 7 });
///
/// let err = from_value::<Pond>(&Value::Dict(Dict::new())).unwrap_err();
/// assert_eq!(err.kind(), &ErrorKind::MissingField("color".into()));
/// # Ok::<(), spread_jelly::Error>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Error> {
    let budget = de::Budget::default();
    T::deserialize(de::Deserializer::new(value, &budget))
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Error {
        shape(exp.to_string(), describe_unexpected(&unexp))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Error {
        shape(exp.to_string(), describe_unexpected(&unexp))
    }

    fn invalid_length(len: usize, exp: &dyn Expected) -> Error {
        shape(exp.to_string(), format!("{len} elements"))
    }

    /// Carries the field name in the path too, so that a missing field deep
    /// inside reads as `inner.count` rather than stopping at `inner`.
    fn missing_field(field: &'static str) -> Error {
        Error::new(ErrorKind::MissingField(field.to_owned())).within(field)
    }
}

fn shape(expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::new(ErrorKind::UnexpectedShape {
        expected: expected.into(),
        found: found.into(),
    })
}

/// Longer text is left out of messages: a peer controls it, and errors get
/// logged.
const QUOTE_LIMIT: usize = 40;

/// What a value is, in Python's terms, for `found` in error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Bool(true) => "bool True".to_owned(),
        Value::Bool(false) => "bool False".to_owned(),
        Value::Int(n) => format!("int {n}"),
        Value::BigInt(n) => format!("int {n}"),
        Value::Float(x) => format!("float {x}"),
        Value::Str(s) if s.len() <= QUOTE_LIMIT => format!("str {s:?}"),
        other => other.type_name().to_owned(),
    }
}

fn describe_unexpected(unexp: &Unexpected<'_>) -> String {
    match *unexp {
        Unexpected::Bool(b) => describe(&Value::Bool(b)),
        Unexpected::Unsigned(n) => format!("int {n}"),
        Unexpected::Signed(n) => format!("int {n}"),
        Unexpected::Float(x) => format!("float {x}"),
        Unexpected::Char(c) => format!("str {c:?}"),
        Unexpected::Str(s) if s.len() <= QUOTE_LIMIT => format!("str {s:?}"),
        Unexpected::Str(_) => "str".to_owned(),
        Unexpected::Bytes(_) => "bytes".to_owned(),
        Unexpected::Unit => "None".to_owned(),
        Unexpected::Seq => "sequence".to_owned(),
        Unexpected::Map => "dict".to_owned(),
        ref other => other.to_string(),
    }
}

/// The path segment for a dict entry, as the unjellier writes them.
fn key_segment(key: &Value, index: usize) -> String {
    match key {
        Value::Str(s) if s.len() <= QUOTE_LIMIT => format!("[{s:?}]"),
        Value::Bytes(b) if b.len() <= QUOTE_LIMIT => format!("[{:?}]", bytes::Bytes::clone(b)),
        Value::Int(n) => format!("[{n}]"),
        _ => format!("[#{index}]"),
    }
}
