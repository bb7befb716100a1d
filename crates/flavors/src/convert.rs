//! How remote methods take their arguments and give their results.

use std::collections::HashMap;

use spread_jelly::{Dict, Value};

use crate::RemoteError;

/// A type a remote method can take as an argument, read from the [`Value`]
/// that arrived. Implemented for Python's basic types; `#[derive(RemoteCopy)]`
/// implements it for copies, and `Value` takes anything.
///
/// ```
/// use spread_flavors::FromValue;
/// use spread_jelly::Value;
///
/// assert_eq!(i64::from_value(&Value::from(7)).unwrap(), 7);
/// assert!(String::from_value(&Value::from(7)).is_err());
/// ```
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
pub trait IntoValue {
    /// The value to answer with.
    fn into_value(self) -> Result<Value, RemoteError>;
}

fn wrong(expected: &str, found: &Value) -> RemoteError {
    RemoteError::type_error(format!("expected {expected}, got {}", found.type_name()))
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
            fn from_value(value: &Value) -> Result<Self, RemoteError> {
                match value {
                    Value::Int(n) => <$t>::try_from(*n)
                        .map_err(|_| RemoteError::new("builtins.OverflowError", format!("{n} does not fit in {}", stringify!($t)))),
                    other => Err(wrong("int", other)),
                }
            }
        }
    )*};
}
int_from_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::Float(x) => Ok(*x),
            // Python code passes ints where floats are expected.
            Value::Int(n) => Ok(*n as f64),
            other => Err(wrong("float", other)),
        }
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

impl FromValue for Dict {
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        match value {
            Value::Dict(d) => Ok(d.clone()),
            other => Err(wrong("dict", other)),
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
        match value {
            Value::Shared(s) => s
                .with(Self::from_value)
                .unwrap_or_else(|| Err(wrong("list", value))),
            other => other
                .as_seq()
                .ok_or_else(|| wrong("list", other))?
                .iter()
                .map(T::from_value)
                .collect(),
        }
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

impl<T: FromValue> FromValue for HashMap<String, T> {
    /// From a dict with text keys.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        let dict = value.as_dict().ok_or_else(|| wrong("dict", value))?;
        dict.iter()
            .map(|(k, v)| Ok((String::from_value(k)?, T::from_value(v)?)))
            .collect()
    }
}

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
    bool, i8, i16, i32, i64, u8, u16, u32, u64, f64, String, &str, Dict
);

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

impl<T: IntoValue, E: Into<RemoteError>> IntoValue for Result<T, E> {
    /// `Err` becomes the remote error.
    fn into_value(self) -> Result<Value, RemoteError> {
        self.map_err(Into::into).and_then(T::into_value)
    }
}
