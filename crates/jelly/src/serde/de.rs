//! `Deserialize` from [`Value`]: the deserializer behind
//! [`from_value`](crate::from_value), and the limits that keep shared
//! structure from expanding without bound.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, Error as _, Visitor};

use crate::serde::access::{BytesAccess, EnumAccess, MapAccess, SeqAccess};
use crate::serde::{describe, shape};
use crate::{DEFAULT_MAX_DEPTH, Error, ErrorKind, Shared, Value};

/// Values that repeated copies of shared structure may visit in one call.
const MAX_REPEAT_VISITS: usize = 1_000_000;

/// Nesting of the expanded value. The unjellier's own limit, so that any
/// value it accepts without sharing converts.
const MAX_DEPTH: usize = DEFAULT_MAX_DEPTH;

/// Text and bytes cost one visit per this many bytes when copied again.
const BYTES_PER_VISIT: usize = 16;

/// The work done so far in one [`from_value`](crate::from_value) call.
#[derive(Default)]
pub(super) struct Budget {
    depth: Cell<usize>,
    /// How many repeated copies of a shared value enclose the current
    /// position; visits count against the budget only inside one.
    repeating: Cell<usize>,
    spent: Cell<usize>,
    /// Each shared value met so far, by address, and whether it encloses
    /// the current position (meeting it again then is a cycle).
    shared: RefCell<HashMap<usize, bool>>,
}

impl Budget {
    fn enter(&self) -> Result<DepthGuard<'_>, Error> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        self.depth.set(depth);
        Ok(DepthGuard(&self.depth))
    }

    pub(super) fn charge(&self, visits: usize) -> Result<(), Error> {
        if self.repeating.get() == 0 {
            return Ok(());
        }
        let spent = self.spent.get().saturating_add(visits);
        self.spent.set(spent);
        if spent > MAX_REPEAT_VISITS {
            return Err(Error::custom(format!(
                "shared structure expands past {MAX_REPEAT_VISITS} values"
            )));
        }
        Ok(())
    }

    /// Runs `f` on the value of `shared`, keeping track of cycles and of
    /// repeated copies.
    fn through<R>(
        &self,
        shared: &Shared,
        f: impl FnOnce(&Value) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let addr = shared.addr();
        let again = match self.shared.borrow_mut().insert(addr, true) {
            Some(true) => {
                return Err(shape("plain data", "a value that contains itself"));
            }
            Some(false) => true,
            None => false,
        };
        if again {
            self.repeating.set(self.repeating.get() + 1);
        }
        let result = shared
            .with(f)
            .unwrap_or_else(|| Err(Error::new(ErrorKind::DanglingReference)));
        if again {
            self.repeating.set(self.repeating.get() - 1);
        }
        self.shared.borrow_mut().insert(addr, false);
        result
    }
}

struct DepthGuard<'a>(&'a Cell<usize>);

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// What copying `value` again costs, beyond the values inside it, which
/// count when they are visited.
fn cost(value: &Value) -> usize {
    match value {
        Value::Str(s) => 1 + s.len() / BYTES_PER_VISIT,
        Value::Bytes(b) => 1 + b.len() / BYTES_PER_VISIT,
        // Entries and elements that the type skips cost work too.
        Value::Dict(d) => 1 + d.len(),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => 1 + v.len(),
        _ => 1,
    }
}

/// Reads serde's data model out of a borrowed [`Value`].
///
/// Nothing is borrowed from the value by the output (the `'de` lifetime is
/// free), because a back reference can only be read inside
/// [`Shared::with`].
#[derive(Clone, Copy)]
pub(super) struct Deserializer<'a> {
    value: &'a Value,
    budget: &'a Budget,
}

impl<'a> Deserializer<'a> {
    pub(super) fn new(value: &'a Value, budget: &'a Budget) -> Deserializer<'a> {
        Deserializer { value, budget }
    }

    /// Counts one value and runs `f` on what it stands for.
    fn run<R>(self, f: impl FnOnce(Deserializer<'_>) -> Result<R, Error>) -> Result<R, Error> {
        let _depth = self.budget.enter()?;
        self.resolve(f)
    }

    /// Looks through [`Value::Shared`] and [`Value::Instance`], whose
    /// contents are what a Rust type describes.
    fn resolve<R>(self, f: impl FnOnce(Deserializer<'_>) -> Result<R, Error>) -> Result<R, Error> {
        let budget = self.budget;
        match self.value {
            Value::Shared(shared) => {
                budget.through(shared, |value| Deserializer { value, budget }.resolve(f))
            }
            Value::Instance(instance) => Deserializer {
                value: &instance.state,
                budget,
            }
            .resolve(f),
            value => {
                budget.charge(cost(value))?;
                f(self)
            }
        }
    }

    fn any<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(n) => visitor.visit_i64(*n),
            Value::BigInt(n) => {
                if let Ok(n) = i128::try_from(n) {
                    visitor.visit_i128(n)
                } else if let Ok(n) = u128::try_from(n) {
                    visitor.visit_u128(n)
                } else {
                    Err(shape("int within 128 bits", describe(self.value)))
                }
            }
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Bytes(b) => visitor.visit_bytes(b),
            Value::Str(s) => visitor.visit_str(s),
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => self.seq(items, visitor),
            Value::Dict(dict) => MapAccess::map(dict, self.budget).visit(visitor),
            Value::DateTime(t) => visitor.visit_string(t.to_string()),
            Value::Date(t) => visitor.visit_string(t.to_string()),
            Value::Time(t) => visitor.visit_string(t.to_string()),
            Value::TimeDelta(t) => visitor.visit_string(t.to_string()),
            Value::Decimal(d) => visitor.visit_string(d.to_string()),
            Value::Unpersistable(_) | Value::Shared(_) | Value::Instance(_) | Value::Object(_) => {
                Err(shape("a value", describe(self.value)))
            }
        }
    }

    fn seq<'de, V: Visitor<'de>>(self, items: &[Value], visitor: V) -> Result<V::Value, Error> {
        let mut access = SeqAccess::new(items, self.budget);
        let out = visitor.visit_seq(&mut access)?;
        access.end()?;
        Ok(out)
    }

    fn bytes_seq<'de, V: Visitor<'de>>(self, bytes: &[u8], visitor: V) -> Result<V::Value, Error> {
        self.budget.charge(bytes.len())?;
        let mut access = BytesAccess::new(bytes);
        let out = visitor.visit_seq(&mut access)?;
        access.end()?;
        Ok(out)
    }

    fn int<T>(self, expected: &'static str) -> Result<T, Error>
    where
        T: TryFrom<i64> + for<'b> TryFrom<&'b BigInt>,
    {
        let n = match self.value {
            Value::Int(n) => T::try_from(*n).ok(),
            Value::BigInt(n) => T::try_from(n).ok(),
            _ => None,
        };
        n.ok_or_else(|| shape(expected, describe(self.value)))
    }

    fn float(self) -> Result<f64, Error> {
        match self.value {
            Value::Float(x) => Ok(*x),
            // Python code passes `1` for `1.0` often enough to accept it,
            // as `float(1)` would.
            Value::Int(n) => Ok(*n as f64),
            Value::BigInt(n) => n
                .to_f64()
                .ok_or_else(|| shape("float", describe(self.value))),
            _ => Err(shape("float", describe(self.value))),
        }
    }

    fn str(self) -> Result<&'a str, Error> {
        match self.value {
            Value::Str(s) => Ok(s),
            Value::Bytes(_) => Err(shape(
                "str",
                "bytes (the peer sent Python bytes where text belongs)",
            )),
            _ => Err(shape("str", describe(self.value))),
        }
    }

    fn tuple<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Tuple(items) | Value::List(items) => self.seq(items, visitor),
            _ => Err(shape("tuple", describe(self.value))),
        }
    }
}

macro_rules! int_hints {
    ($($method:ident => $visit:ident($t:ty)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.run(|d| visitor.$visit(d.int::<$t>(stringify!($t))?))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Deserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| d.any(visitor))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(shape("bool", describe(d.value))),
        })
    }

    int_hints! {
        deserialize_i8 => visit_i8(i8),
        deserialize_i16 => visit_i16(i16),
        deserialize_i32 => visit_i32(i32),
        deserialize_i64 => visit_i64(i64),
        deserialize_i128 => visit_i128(i128),
        deserialize_u8 => visit_u8(u8),
        deserialize_u16 => visit_u16(u16),
        deserialize_u32 => visit_u32(u32),
        deserialize_u64 => visit_u64(u64),
        deserialize_u128 => visit_u128(u128),
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| visitor.visit_f32(d.float()? as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| visitor.visit_f64(d.float()?))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| {
            let s = d.str()?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => visitor.visit_char(c),
                _ => Err(shape("str of one character", describe(d.value))),
            }
        })
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| visitor.visit_str(d.str()?))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Bytes(b) => visitor.visit_bytes(b),
            Value::List(items) | Value::Tuple(items) => d.seq(items, visitor),
            _ => Err(shape("bytes", describe(d.value))),
        })
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::None => visitor.visit_none(),
            _ => visitor.visit_some(d),
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::None => visitor.visit_unit(),
            _ => Err(shape("None", describe(d.value))),
        })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => d.seq(items, visitor),
            Value::Bytes(b) => d.bytes_seq(b, visitor),
            _ => Err(shape("list", describe(d.value))),
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.run(|d| d.tuple(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.run(|d| d.tuple(visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Dict(dict) => MapAccess::map(dict, d.budget).visit(visitor),
            _ => Err(shape("dict", describe(d.value))),
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Dict(dict) => MapAccess::fields(dict, d.budget).visit(visitor),
            _ => Err(shape("dict", describe(d.value))),
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Str(variant) => visitor.visit_enum(EnumAccess::Unit(variant)),
            Value::Dict(dict) if dict.len() == 1 => {
                let (variant, content) = &dict.entries()[0];
                visitor.visit_enum(EnumAccess::Entry {
                    variant,
                    content: Deserializer {
                        value: content,
                        budget: d.budget,
                    },
                })
            }
            _ => Err(shape("str or one-entry dict", describe(d.value))),
        })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.run(|d| match d.value {
            Value::Str(s) => visitor.visit_str(s),
            Value::Bytes(b) => visitor.visit_bytes(b),
            _ => Err(shape("str", describe(d.value))),
        })
    }

    /// Skips without looking inside, so that a large shared value in an
    /// ignored field costs nothing.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// Reports a sequence or map with elements left over, as serde's own value
/// deserializers do.
pub(super) fn check_consumed(total: usize, consumed: usize) -> Result<(), Error> {
    if consumed == total {
        Ok(())
    } else {
        Err(Error::invalid_length(
            total,
            &format!("{consumed} elements").as_str(),
        ))
    }
}
