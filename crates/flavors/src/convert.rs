//! How remote methods take their arguments and give their results, and how
//! the fields of derived copies convert.
//!
//! Each Python type has one Rust reading: `int` is any integer type (too
//! large a number is Python's `OverflowError`), `float` is `f64` or `f32`,
//! `str` is `String`, `bytes` is `bytes::Bytes`, `list` is `Vec`, `tuple`
//! is a Rust tuple, `dict` is `HashMap`/`BTreeMap` with `String` keys (or
//! [`Dict`] for any keys), `None` is `Option`'s `None`, and [`Value`] takes
//! anything as it came.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;
use spread_jelly::{Dict, Value};

use crate::RemoteError;

/// A type a remote method can take as an argument, read from the [`Value`]
/// that arrived. Implemented for Python's basic types; `#[derive(RemoteCopy)]`
/// implements it for copies, and `Value` takes anything.
///
/// It is also how the fields of a `#[derive(RemoteCopy)]` type are read
/// from the state, so a copy can hold any of these types, other copies,
/// references and caches.
///
/// ```
/// use spread_flavors::FromValue;
/// use spread_jelly::Value;
///
/// assert_eq!(i64::from_value(&Value::from(7)).unwrap(), 7);
/// assert!(String::from_value(&Value::from(7)).is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a PB value: it does not implement `FromValue`",
    label = "not readable from a PB value",
    note = "derive `RemoteCopy` for a copy; for a field of a derived copy, \
            `#[pb(serde)]` reads a serde type and `#[pb(with = \"module\")]` \
            a custom conversion"
)]
pub trait FromValue: Sized {
    /// Reads the value, or says what was wrong as Python's `TypeError` would.
    fn from_value(value: &Value) -> Result<Self, RemoteError>;

    /// Reads a value this side owns: types that can take the value's
    /// contents (`Value`, `String`, `Vec`) move them instead of copying.
    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        Self::from_value(&value)
    }
}

/// A type a remote method can return: its [`Value`], or the error to send.
/// `Result<T, E>` sends `E` as the remote error.
///
/// It is also how the fields of a `#[derive(Copyable)]` type are written
/// into the state (from a clone of the field, since the state is made from
/// `&self`), and `#[derive(Copyable)]` implements it for the copy itself,
/// which is sent by copy.
///
/// ```
/// use spread_flavors::IntoValue;
/// use spread_jelly::Value;
///
/// assert_eq!((1, "a").into_value().unwrap(), Value::Tuple(vec![Value::from(1), Value::from("a")]));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a PB value: it does not implement `IntoValue`",
    label = "not sendable as a PB value",
    note = "derive `Copyable` for a copy; for a field of a derived copy, \
            `#[pb(serde)]` sends a serde type and `#[pb(with = \"module\")]` \
            a custom conversion"
)]
pub trait IntoValue {
    /// The value to answer with.
    fn into_value(self) -> Result<Value, RemoteError>;
}

fn wrong(expected: &str, found: &Value) -> RemoteError {
    RemoteError::type_error(format!("expected {expected}, got {}", found.type_name()))
}

/// Python's `OverflowError`, for an int that the Rust type cannot hold.
fn overflow(n: impl std::fmt::Display, ty: &str) -> RemoteError {
    RemoteError::new(
        "builtins.OverflowError",
        format!("{n} does not fit in {ty}"),
    )
}

/// A tuple of the wrong length.
fn wrong_length(expected: usize, found: usize) -> RemoteError {
    RemoteError::type_error(format!(
        "expected a tuple of {expected} items, got one of {found}"
    ))
}

/// Reads a container through a [`Value::Shared`] (a list or dict referenced
/// more than once in the message arrives shared), or gives `None` for any
/// other value.
fn through_shared<T>(
    value: &Value,
    expected: &str,
    read: impl FnOnce(&Value) -> Result<T, RemoteError>,
) -> Option<Result<T, RemoteError>> {
    match value {
        Value::Shared(shared) => Some(
            shared
                .with(read)
                .unwrap_or_else(|| Err(wrong(expected, value))),
        ),
        _ => None,
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        Ok(value.clone())
    }

    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        Ok(value)
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong("bool", other)),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            /// From a Python int; one the type cannot hold, including
            /// those beyond `i64` that arrive as [`Value::BigInt`], is
            /// Python's `OverflowError`.
            fn from_value(value: &Value) -> Result<Self, RemoteError> {
                match value {
                    Value::Int(n) => <$t>::try_from(*n).map_err(|_| overflow(n, stringify!($t))),
                    Value::BigInt(n) => <$t>::try_from(n).map_err(|_| overflow(n, stringify!($t))),
                    other => Err(wrong("int", other)),
                }
            }
        }
    )*};
}
int_from_value!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::Float(x) => Ok(*x),
            // Python code passes ints where floats are expected; a large
            // one rounds, as Python's `float(n)` does.
            Value::Int(n) => Ok(*n as f64),
            Value::BigInt(n) => n.to_string().parse().map_err(|_| overflow(n, "f64")),
            other => Err(wrong("float", other)),
        }
    }
}

impl FromValue for f32 {
    /// A Python float (a double) rounded to single precision.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        f64::from_value(value).map(|x| x as f32)
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::Str(s) => Ok(s.clone()),
            other => Err(wrong("str", other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        match value {
            Value::Str(s) => Ok(s),
            other => Err(wrong("str", &other)),
        }
    }
}

impl FromValue for Bytes {
    /// Python `bytes` (not `str`: the two stay distinct, as on the wire).
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            // A cheap clone: the payload is shared with the received message.
            Value::Bytes(b) => Ok(b.clone()),
            other => Err(wrong("bytes", other)),
        }
    }
}

impl FromValue for Dict {
    /// A dict with keys of any type, in the order they arrived.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        if let Some(read) = through_shared(value, "dict", Self::from_value) {
            return read;
        }
        match value {
            Value::Dict(d) => Ok(d.clone()),
            other => Err(wrong("dict", other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        match value {
            Value::Dict(d) => Ok(d),
            other => Self::from_value(&other),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    /// `None` is Python's `None`.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::None => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        match value {
            Value::None => Ok(None),
            other => T::from_owned(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    /// From a list, tuple, set or frozenset.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        if let Some(read) = through_shared(value, "list", Self::from_value) {
            return read;
        }
        value
            .as_seq()
            .ok_or_else(|| wrong("list", value))?
            .iter()
            .map(T::from_value)
            .collect()
    }

    fn from_owned(value: Value) -> Result<Self, RemoteError> {
        match value {
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => items.into_iter().map(T::from_owned).collect(),
            other => Self::from_value(&other),
        }
    }
}

/// The entries of a dict with text keys, read by `read`.
fn text_keyed<'a, T>(
    value: &'a Value,
    read: impl Fn(&Value) -> Result<T, RemoteError> + 'a,
) -> Result<impl Iterator<Item = Result<(String, T), RemoteError>> + 'a, RemoteError> {
    let dict = value.as_dict().ok_or_else(|| wrong("dict", value))?;
    Ok(dict
        .iter()
        .map(move |(k, v)| Ok((String::from_value(k)?, read(v)?))))
}

/// Maps with text keys, read from a dict (a key given twice keeps its
/// last value, as in Python).
macro_rules! map_from_value {
    ($($map:ty => [$($bounds:tt)*]),*) => {$(
        impl<T: FromValue, $($bounds)*> FromValue for $map {
            /// From a dict with text keys.
            fn from_value(value: &Value) -> Result<Self, RemoteError> {
                if let Some(read) = through_shared(value, "dict", Self::from_value) {
                    return read;
                }
                text_keyed(value, T::from_value)?.collect()
            }

            fn from_owned(value: Value) -> Result<Self, RemoteError> {
                match value {
                    Value::Dict(d) => d
                        .into_iter()
                        .map(|(k, v)| Ok((String::from_owned(k)?, T::from_owned(v)?)))
                        .collect(),
                    other => Self::from_value(&other),
                }
            }
        }
    )*};
}
map_from_value!(
    HashMap<String, T, S> => [S: BuildHasher + Default],
    BTreeMap<String, T> => []
);

macro_rules! tuple_from_value {
    ($len:literal: $($t:ident $v:ident)*) => {
        impl<$($t: FromValue),*> FromValue for ($($t,)*) {
            /// From a Python tuple (or list) of exactly this length.
            fn from_value(value: &Value) -> Result<Self, RemoteError> {
                if let Some(read) = through_shared(value, "tuple", Self::from_value) {
                    return read;
                }
                let items = match value {
                    Value::Tuple(items) | Value::List(items) => items,
                    other => return Err(wrong("tuple", other)),
                };
                let [$($v),*] = items.as_slice() else {
                    return Err(wrong_length($len, items.len()));
                };
                Ok(($($t::from_value($v)?,)*))
            }

            fn from_owned(value: Value) -> Result<Self, RemoteError> {
                match value {
                    Value::Tuple(items) | Value::List(items) => {
                        match <[Value; $len]>::try_from(items) {
                            Ok([$($v),*]) => Ok(($($t::from_owned($v)?,)*)),
                            Err(items) => Err(wrong_length($len, items.len())),
                        }
                    }
                    other => Self::from_value(&other),
                }
            }
        }
    };
}
tuple_from_value!(1: A a);
tuple_from_value!(2: A a B b);
tuple_from_value!(3: A a B b C c);
tuple_from_value!(4: A a B b C c D d);

impl IntoValue for Value {
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(self)
    }
}

impl IntoValue for () {
    /// Python's `None`, as a method without a return value gives.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::None)
    }
}

macro_rules! into_value_via_from {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Result<Value, RemoteError> {
                Ok(Value::from(self))
            }
        }
    )*};
}
into_value_via_from!(
    bool, i8, i16, i32, i64, u8, u16, u32, u64, f64, String, &str, Dict, Bytes
);

/// An int of any size in its canonical form: [`Value::Int`] when it fits
/// in an `i64`, [`Value::BigInt`] otherwise.
fn wide_int(n: i128) -> Value {
    match i64::try_from(n) {
        Ok(n) => Value::Int(n),
        Err(_) => Value::BigInt(n.into()),
    }
}

impl IntoValue for i128 {
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(wide_int(self))
    }
}

impl IntoValue for isize {
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(wide_int(self as i128))
    }
}

impl IntoValue for u128 {
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(match i128::try_from(self) {
            Ok(n) => wide_int(n),
            Err(_) => Value::BigInt(self.into()),
        })
    }
}

impl IntoValue for usize {
    fn into_value(self) -> Result<Value, RemoteError> {
        (self as u128).into_value()
    }
}

impl IntoValue for f32 {
    /// A Python float: widened exactly to a double.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::Float(f64::from(self)))
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Result<Value, RemoteError> {
        self.map_or(Ok(Value::None), T::into_value)
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    /// A Python list.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::List(
            self.into_iter()
                .map(T::into_value)
                .collect::<Result<_, _>>()?,
        ))
    }
}

/// A dict with text keys, in the order `entries` gives them.
fn text_dict<K: Into<String>, T: IntoValue>(
    entries: impl IntoIterator<Item = (K, T)>,
) -> Result<Value, RemoteError> {
    entries
        .into_iter()
        .map(|(k, v)| Ok((Value::Str(k.into()), v.into_value()?)))
        .collect::<Result<Dict, _>>()
        .map(Value::Dict)
}

impl<K: Into<String> + Eq + Hash, T: IntoValue, S> IntoValue for HashMap<K, T, S> {
    /// A Python dict with text keys, in the map's (arbitrary) order.
    fn into_value(self) -> Result<Value, RemoteError> {
        text_dict(self)
    }
}

impl<K: Into<String>, T: IntoValue> IntoValue for BTreeMap<K, T> {
    /// A Python dict with text keys, in key order.
    fn into_value(self) -> Result<Value, RemoteError> {
        text_dict(self)
    }
}

macro_rules! tuple_into_value {
    ($($t:ident)*) => {
        impl<$($t: IntoValue),*> IntoValue for ($($t,)*) {
            /// A Python tuple.
            #[allow(non_snake_case)]
            fn into_value(self) -> Result<Value, RemoteError> {
                let ($($t,)*) = self;
                Ok(Value::Tuple(vec![$($t.into_value()?),*]))
            }
        }
    };
}
tuple_into_value!(A);
tuple_into_value!(A B);
tuple_into_value!(A B C);
tuple_into_value!(A B C D);

impl<T: IntoValue, E: Into<RemoteError>> IntoValue for Result<T, E> {
    /// `Err` becomes the remote error.
    fn into_value(self) -> Result<Value, RemoteError> {
        self.map_err(Into::into).and_then(T::into_value)
    }
}
