//! The value model: everything Twisted's Jelly sends, as Rust data.

use std::fmt;

use bytes::Bytes;
use num_bigint::BigInt;

use crate::{Date, DateTime, Decimal, Object, Shared, Time, TimeDelta};

/// A jellied value: what a Python object looks like once it has crossed the
/// wire.
///
/// Each variant is one Jelly form (see the table in the crate docs). Python
/// `bytes` and `str` stay distinct, as they do on the wire: [`Value::Bytes`]
/// is a bare Banana string, [`Value::Str`] is `["unicode", utf8]`.
///
/// Integers have one canonical form: [`Value::Int`] whenever the number fits
/// in an `i64`, [`Value::BigInt`] only outside that range. [`Value::from`] on a
/// [`BigInt`] normalises, and unjelly always produces the canonical form.
///
/// # Equality
///
/// `==` is structural and exact, which is what tests of a wire format want:
/// floats compare by their bits (so a NaN equals the same NaN, and `-0.0`
/// differs from `0.0`), and a [`Value::Shared`] equals only a `Shared` whose
/// contents are equal and whose identities line up the same way. Comparison
/// terminates on cycles and visits each shared pair once.
///
/// ```
/// use spread_jelly::{Dict, Value};
///
/// let pond = Value::Dict(Dict::from_iter([
///     (Value::from("color"), Value::from("green")),
///     (Value::from("numFrogs"), Value::from(7)),
/// ]));
/// assert_eq!(pond.as_dict().and_then(|d| d.get_str("numFrogs")), Some(&Value::Int(7)));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Value {
    /// Python `None`: `["None"]`.
    None,
    /// `True` / `False`: `["boolean", "true"]`.
    Bool(bool),
    /// An integer in the `i64` range: a bare Banana integer.
    Int(i64),
    /// An integer outside the `i64` range (Banana carries up to 448 bits).
    BigInt(BigInt),
    /// A float: a bare Banana FLOAT, bit for bit.
    Float(f64),
    /// Python `bytes`: a bare Banana string.
    Bytes(Bytes),
    /// Python `str`: `["unicode", utf8]`.
    Str(String),
    /// `["list", ...]`.
    List(Vec<Value>),
    /// `["tuple", ...]`.
    Tuple(Vec<Value>),
    /// `["dictionary", [k, v], ...]`.
    Dict(Dict),
    /// `["set", ...]`, elements in wire order.
    Set(Vec<Value>),
    /// `["frozenset", ...]`, elements in wire order.
    FrozenSet(Vec<Value>),
    /// `["datetime", "Y M D h m s us"]`.
    DateTime(DateTime),
    /// `["date", "Y M D"]`.
    Date(Date),
    /// `["time", "h m s us"]`.
    Time(Time),
    /// `["timedelta", "days seconds microseconds"]`.
    TimeDelta(TimeDelta),
    /// `["decimal", coefficient, exponent]`.
    Decimal(Decimal),
    /// An instance of a class: `["module.Class", state]`.
    Instance(Box<Instance>),
    /// Twisted's placeholder for an object it would not send:
    /// `["unpersistable", reason]`.
    Unpersistable(String),
    /// A value with an identity, met more than once or inside itself.
    Shared(Shared),
    /// A Rust object standing for an instance of a registered class.
    Object(Object),
}

impl Value {
    /// Gives this value an identity (see [`Shared`]).
    pub fn shared(self) -> Value {
        Value::Shared(Shared::new(self))
    }

    /// The Python type name of this value, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Bytes(_) => "bytes",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::DateTime(_) => "datetime",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::TimeDelta(_) => "timedelta",
            Value::Decimal(_) => "decimal",
            Value::Instance(_) => "instance",
            Value::Unpersistable(_) => "unpersistable",
            Value::Shared(_) => "shared",
            Value::Object(_) => "object",
        }
    }

    /// The text, if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is `bytes`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The number, if this is an integer that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The entries, if this is a dict.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The elements, if this is a list, tuple, set or frozenset.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => Some(v),
            _ => None,
        }
    }

    /// The Rust object inside, if this is an [`Object`] holding a `T`: a
    /// registered copy that arrived, or a broker's handle.
    ///
    /// ```
    /// use spread_jelly::{Object, Value};
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct Pond(i64);
    ///
    /// let value = Value::Object(Object::receive_only("m.Pond", Pond(7)));
    /// assert_eq!(value.downcast_ref::<Pond>(), Some(&Pond(7)));
    /// assert_eq!(Value::from(7).downcast_ref::<Pond>(), None);
    /// ```
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        match self {
            Value::Object(o) => o.downcast_ref::<T>(),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::debug::fmt_value(self, f)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        crate::eq::value_eq(self, other)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(i64::from(n))
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        match i64::try_from(n) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::BigInt(BigInt::from(n)),
        }
    }
}

impl From<BigInt> for Value {
    /// Normalises: numbers in the `i64` range become [`Value::Int`].
    fn from(n: BigInt) -> Value {
        match i64::try_from(&n) {
            Ok(small) => Value::Int(small),
            Err(_) => Value::BigInt(n),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Value {
        Value::Bytes(b)
    }
}

impl From<Vec<u8>> for Value {
    /// Python `bytes`.
    fn from(b: Vec<u8>) -> Value {
        Value::Bytes(Bytes::from(b))
    }
}

impl From<&[u8]> for Value {
    /// Python `bytes`, copied.
    ///
    /// ```
    /// use spread_jelly::Value;
    ///
    /// assert_eq!(Value::from(&b"spam"[..]).as_bytes(), Some(&b"spam"[..]));
    /// ```
    fn from(b: &[u8]) -> Value {
        Value::Bytes(Bytes::copy_from_slice(b))
    }
}

impl From<Vec<Value>> for Value {
    /// A Python list.
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}

impl From<Dict> for Value {
    fn from(d: Dict) -> Value {
        Value::Dict(d)
    }
}

impl From<Shared> for Value {
    fn from(s: Shared) -> Value {
        Value::Shared(s)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Value {
        Value::Object(o)
    }
}

impl From<Instance> for Value {
    fn from(i: Instance) -> Value {
        Value::Instance(Box::new(i))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes Python `None`.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}

/// A Python dict: key/value pairs in insertion order.
///
/// Keys may be any value, as in Python (text, bytes, tuples, numbers). Entries
/// are kept in the order they arrived; when a peer sends the same key twice,
/// both entries are kept and lookups see the last one, as a Python dict built
/// from them would. Keeping them avoids quadratic de-duplication work on
/// hostile input.
///
/// ```
/// use spread_jelly::{Dict, Value};
///
/// let mut d = Dict::new();
/// d.insert(Value::from("a"), Value::from(1));
/// d.insert(Value::from("a"), Value::from(2));
/// assert_eq!(d.len(), 1);
/// assert_eq!(d.get_str("a"), Some(&Value::Int(2)));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dict {
    entries: Vec<(Value, Value)>,
}

impl Dict {
    /// An empty dict.
    pub fn new() -> Dict {
        Dict::default()
    }

    /// An empty dict with room for `n` entries.
    pub fn with_capacity(n: usize) -> Dict {
        Dict {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets `key` to `value`: replaces the value of an equal key in place
    /// (keeping its position, as Python does), or appends.
    pub fn insert(&mut self, key: Value, value: Value) {
        match self.entries.iter_mut().rev().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// Appends an entry without looking for an equal key.
    pub fn push(&mut self, key: Value, value: Value) {
        self.entries.push((key, value));
    }

    /// The value of the last entry whose key equals `key`.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The value of the last entry whose key is the text `key`.
    ///
    /// A bytes key with the same UTF-8 bytes matches too: Twisted's
    /// `setCopyableState` accepts state dicts with either kind of key.
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| match k {
                Value::Str(s) => s == key,
                Value::Bytes(b) => b.as_ref() == key.as_bytes(),
                _ => false,
            })
            .map(|(_, v)| v)
    }

    /// Removes and returns the value of the last entry whose key is the
    /// text `key` (or the same UTF-8 bytes), as [`Dict::get_str`] finds it.
    ///
    /// ```
    /// use spread_jelly::{Dict, Value};
    ///
    /// let mut d = Dict::from_iter([(Value::from("a"), Value::from(1))]);
    /// assert_eq!(d.remove_str("a"), Some(Value::from(1)));
    /// assert!(d.is_empty());
    /// ```
    pub fn remove_str(&mut self, key: &str) -> Option<Value> {
        let index = self.entries.iter().rposition(|(k, _)| match k {
            Value::Str(s) => s == key,
            Value::Bytes(b) => b.as_ref() == key.as_bytes(),
            _ => false,
        })?;
        Some(self.entries.remove(index).1)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, (Value, Value)> {
        self.entries.iter()
    }

    /// The entries as a slice, in order.
    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }
}

impl FromIterator<(Value, Value)> for Dict {
    /// Collects entries as they come, like [`Dict::push`].
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Dict {
        Dict {
            entries: iter.into_iter().collect(),
        }
    }
}

impl IntoIterator for Dict {
    type Item = (Value, Value);
    type IntoIter = std::vec::IntoIter<(Value, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Dict {
    type Item = &'a (Value, Value);
    type IntoIter = std::slice::Iter<'a, (Value, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// An instance of a class, as Jelly sends it: the class's wire name and its
/// state.
///
/// The wire name is the fully qualified Python class name, such as
/// `copy_sender.CopyPond`; the state is usually the instance's `__dict__`
/// (a [`Dict`] with text keys). Which local type an instance becomes is the
/// unjelly policy's decision (see [`Policy`](crate::Policy)); without one that
/// knows the class, it stays an `Instance`.
///
/// ```
/// use spread_jelly::{Dict, Instance, Value};
///
/// let pond = Instance::new("copy_sender.CopyPond", Dict::from_iter([
///     (Value::from("numFrogs"), Value::from(7)),
/// ]));
/// assert_eq!(pond.class, "copy_sender.CopyPond");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The wire class name, `module.Class`.
    pub class: String,
    /// The state: what `getStateToCopy` or `__getstate__` returned.
    pub state: Value,
}

impl Instance {
    /// An instance of `class` with `state`.
    pub fn new(class: impl Into<String>, state: impl Into<Value>) -> Instance {
        Instance {
            class: class.into(),
            state: state.into(),
        }
    }
}
