//! `Debug` for values that may share structure or contain themselves.
//!
//! Each shared object is printed in full once, as `#n=…`, and as `#n` every
//! later time, so printing terminates on cycles and stays linear on heavily
//! shared input (a hostile peer can make a value whose naive expansion is
//! exponential, and values do get logged).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Debug};

use crate::{Shared, Value};

#[derive(Default)]
struct Seen(RefCell<HashMap<usize, usize>>);

struct V<'a>(&'a Value, &'a Seen);
struct S<'a>(&'a Shared, &'a Seen);

pub(crate) fn fmt_value(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    V(v, &Seen::default()).fmt(f)
}

pub(crate) fn fmt_shared(s: &Shared, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    S(s, &Seen::default()).fmt(f)
}

impl Debug for V<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seen = self.1;
        let seq = |f: &mut fmt::Formatter<'_>, name: &str, items: &[Value]| {
            f.write_str(name)?;
            f.debug_list()
                .entries(items.iter().map(|v| V(v, seen)))
                .finish()
        };
        match self.0 {
            Value::None => f.write_str("None"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::BigInt(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x:?}"),
            // Bytes' own Debug already reads as a Python literal: b"…".
            Value::Bytes(b) => write!(f, "{b:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(items) => seq(f, "", items),
            Value::Tuple(items) => seq(f, "tuple", items),
            Value::Set(items) => seq(f, "set", items),
            Value::FrozenSet(items) => seq(f, "frozenset", items),
            Value::Dict(d) => f
                .debug_map()
                .entries(d.iter().map(|(k, v)| (V(k, seen), V(v, seen))))
                .finish(),
            Value::DateTime(x) => write!(f, "datetime({x})"),
            Value::Date(x) => write!(f, "date({x})"),
            Value::Time(x) => write!(f, "time({x})"),
            Value::TimeDelta(x) => write!(f, "timedelta({x})"),
            Value::Decimal(x) => write!(f, "Decimal({x})"),
            Value::Instance(i) => {
                write!(f, "{}(", i.class)?;
                V(&i.state, seen).fmt(f)?;
                f.write_str(")")
            }
            Value::Unpersistable(reason) => write!(f, "Unpersistable({reason:?})"),
            Value::Shared(s) => S(s, seen).fmt(f),
            Value::Object(o) => o.fmt(f),
        }
    }
}

impl Debug for S<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.0.addr();
        let (id, first) = {
            let mut seen = self.1.0.borrow_mut();
            let next = seen.len() + 1;
            match seen.get(&addr) {
                Some(&id) => (id, false),
                None => {
                    seen.insert(addr, next);
                    (next, true)
                }
            }
        };
        if !first {
            return write!(f, "#{id}");
        }
        write!(f, "#{id}=")?;
        match self.0.with(|v| V(v, self.1).fmt(f)) {
            Some(result) => result,
            None => f.write_str("<gone>"),
        }
    }
}
