//! Values printed as Python 3.11's `repr` prints them, so that `spread call`
//! shows what a Python client would see, and its output can be pasted back
//! as an argument.
//!
//! Where Python has no form for a value, the form printed is:
//!
//! - a remote reference: `<RemoteReference>`; a remote cache: `<RemoteCache>`;
//! - an instance of a class (which `spread call`'s security options refuse
//!   before it could arrive, as Twisted's default `SecurityOptions` do, so
//!   seen only if the options change): `<module.Class instance: STATE>`,
//!   `STATE` the repr of its state;
//! - any other local object: `<module.Class object>`;
//! - Twisted's placeholder for what it would not send: `Unpersistable('reason')`,
//!   as Twisted's own `Unpersistable.__repr__` prints it.
//!
//! Strings, bytes, floats and decimals print by the rules of
//! [`crate::python`], which lists where they differ from Python. Another
//! known difference:
//!
//! - A set prints its elements in the order they arrived (Python's own order
//!   when a Python peer sent it).

use std::fmt::Write;

use spread::jelly::{Instance, Shared};
use spread::{RemoteCacheRef, RemoteReference, Value};

use crate::python::{bytes_repr, decimal_str, float_repr, str_repr};

/// `repr(value)`.
pub(crate) fn repr(value: &Value) -> String {
    let mut printer = Printer {
        out: String::new(),
        active: Vec::new(),
    };
    printer.value(value);
    printer.out
}

struct Printer {
    out: String,
    /// The shared values being printed, outermost first: meeting one again
    /// is a cycle, printed as Python's `Py_ReprEnter` prints it (`[...]`).
    active: Vec<Shared>,
}

impl Printer {
    fn value(&mut self, value: &Value) {
        match value {
            Value::None => self.out.push_str("None"),
            Value::Bool(true) => self.out.push_str("True"),
            Value::Bool(false) => self.out.push_str("False"),
            Value::Int(n) => self.out.push_str(&n.to_string()),
            Value::BigInt(n) => self.out.push_str(&n.to_string()),
            Value::Float(x) => self.out.push_str(&float_repr(*x)),
            Value::Str(s) => str_repr(s, &mut self.out),
            Value::Bytes(b) => bytes_repr(b, &mut self.out),
            Value::List(items) => self.seq("[", items, "]"),
            Value::Tuple(items) if items.len() == 1 => self.seq("(", items, ",)"),
            Value::Tuple(items) => self.seq("(", items, ")"),
            Value::Set(items) if items.is_empty() => self.out.push_str("set()"),
            Value::Set(items) => self.seq("{", items, "}"),
            Value::FrozenSet(items) if items.is_empty() => self.out.push_str("frozenset()"),
            Value::FrozenSet(items) => self.seq("frozenset({", items, "})"),
            Value::Dict(d) => {
                self.out.push('{');
                for (i, (k, v)) in d.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.value(k);
                    self.out.push_str(": ");
                    self.value(v);
                }
                self.out.push('}');
            }
            Value::DateTime(dt) => {
                let (d, t) = (dt.date, dt.time);
                let _ = write!(
                    self.out,
                    "datetime.datetime({}, {}, {}, {}, {}",
                    d.year(),
                    d.month(),
                    d.day(),
                    t.hour(),
                    t.minute()
                );
                self.seconds(t.second(), t.microsecond());
            }
            Value::Date(d) => {
                let _ = write!(
                    self.out,
                    "datetime.date({}, {}, {})",
                    d.year(),
                    d.month(),
                    d.day()
                );
            }
            Value::Time(t) => {
                let _ = write!(self.out, "datetime.time({}, {}", t.hour(), t.minute());
                self.seconds(t.second(), t.microsecond());
            }
            Value::TimeDelta(td) => {
                // Python 3.7+: only the non-zero fields, by keyword.
                let fields = [
                    ("days", i64::from(td.days())),
                    ("seconds", i64::from(td.seconds())),
                    ("microseconds", i64::from(td.microseconds())),
                ];
                let shown: Vec<String> = fields
                    .iter()
                    .filter(|(_, v)| *v != 0)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                if shown.is_empty() {
                    self.out.push_str("datetime.timedelta(0)");
                } else {
                    let _ = write!(self.out, "datetime.timedelta({})", shown.join(", "));
                }
            }
            Value::Decimal(d) => {
                let _ = write!(self.out, "Decimal('{}')", decimal_str(d));
            }
            Value::Instance(instance) => self.instance(instance),
            Value::Unpersistable(reason) => {
                self.out.push_str("Unpersistable(");
                str_repr(reason, &mut self.out);
                self.out.push(')');
            }
            Value::Shared(shared) => self.shared(shared),
            Value::Object(object) => {
                if object.downcast_ref::<RemoteReference>().is_some() {
                    self.out.push_str("<RemoteReference>");
                } else if object.downcast_ref::<RemoteCacheRef>().is_some() {
                    self.out.push_str("<RemoteCache>");
                } else {
                    let _ = write!(self.out, "<{} object>", object.class());
                }
            }
            // A kind of value added to spread after this was written.
            other => {
                let _ = write!(self.out, "<{}>", other.type_name());
            }
        }
    }

    fn seq(&mut self, open: &str, items: &[Value], close: &str) {
        self.out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.value(item);
        }
        self.out.push_str(close);
    }

    /// The end of a time's repr: Python omits a zero microsecond, and then
    /// a zero second.
    fn seconds(&mut self, second: u8, microsecond: u32) {
        if microsecond != 0 {
            let _ = write!(self.out, ", {second}, {microsecond})");
        } else if second != 0 {
            let _ = write!(self.out, ", {second})");
        } else {
            self.out.push(')');
        }
    }

    fn instance(&mut self, instance: &Instance) {
        let _ = write!(self.out, "<{} instance: ", instance.class);
        self.value(&instance.state);
        self.out.push('>');
    }

    fn shared(&mut self, shared: &Shared) {
        if self.active.iter().any(|s| s.ptr_eq(shared)) {
            // Python prints a container met inside itself by its brackets.
            let marker = shared
                .with(|v| match v {
                    Value::List(_) => "[...]",
                    Value::Dict(_) => "{...}",
                    Value::Tuple(_) => "(...)",
                    Value::Set(_) => "set(...)",
                    Value::FrozenSet(_) => "frozenset(...)",
                    _ => "...",
                })
                .unwrap_or("...");
            self.out.push_str(marker);
            return;
        }
        self.active.push(shared.clone());
        // `None` only for a back reference whose owner is gone, which a
        // value being printed cannot have.
        if shared.with(|v| self.value(v)).is_none() {
            self.out.push_str("...");
        }
        self.active.pop();
    }
}
