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
//! Known differences from Python:
//!
//! - `str.isprintable` decides which characters print as escapes. It is
//!   exact for ASCII and Latin-1; above, a character is escaped when Rust
//!   calls it a control or whitespace character (other than space), or when
//!   it is a format character (Cf) from a built-in list, private use,
//!   a surrogate or a noncharacter. Python also escapes *unassigned* code
//!   points (Unicode 14.0 in Python 3.11), which print here as themselves.
//! - A NaN prints as `nan` whatever its sign and payload bits, as in Python,
//!   so those bits do not survive a print and parse.
//! - A set prints its elements in the order they arrived (Python's own order
//!   when a Python peer sent it).

use std::fmt::Write;

use spread::jelly::{Decimal, Instance, Shared};
use spread::{BigInt, RemoteCacheRef, RemoteReference, Value};

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

/// Python's `repr(float)`: the shortest digits that read back as the same
/// float, in positional notation when the decimal point falls within
/// 16 digits of them (`1e+16`, `1000000000000000.0`, `0.0001`, `1e-05`).
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest digits that read back as `x`, as
    // Python's repr does (`1.5e16`, `5e-324`). When two such strings are
    // equally short, Python's dtoa takes the one nearest `x`, ties to even
    // (`996219154410990.2` for ...990.25); Rust's shortest mode may take
    // the other, so the nearest one of that length is asked for (Rust's
    // fixed-precision mode rounds exactly, ties to even) and used if it
    // reads back as `x`, which the nearest one always does.
    let shortest = format!("{:e}", x.abs());
    let len = shortest
        .split('e')
        .next()
        .map_or(1, |m| m.chars().filter(char::is_ascii_digit).count());
    let nearest = format!("{:.*e}", len.saturating_sub(1), x.abs());
    let sci = if nearest.parse::<f64>() == Ok(x.abs()) {
        nearest
    } else {
        shortest
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // Where the point goes: the value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    let len = digits.len() as i64;
    let body = if !(-4 < point && point <= 16) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{first}{rest}e{exponent:+03}")
    } else if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= len {
        format!("{digits}{}.0", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// Python's `str(Decimal)`: the "to-scientific-string" of the decimal
/// specification, which `Decimal.__repr__` quotes.
pub(crate) fn decimal_str(d: &Decimal) -> String {
    let sign = if d.coefficient < BigInt::from(0) {
        "-"
    } else {
        ""
    };
    let digits = d.coefficient.magnitude().to_string();
    let exponent = i128::from(d.exponent);
    let len = digits.len() as i128;
    let adjusted = exponent + len - 1;
    let body = if exponent <= 0 && adjusted >= -6 {
        if exponent == 0 {
            digits
        } else {
            let point = exponent.unsigned_abs() as usize;
            if digits.len() > point {
                let (int, frac) = digits.split_at(digits.len() - point);
                format!("{int}.{frac}")
            } else {
                format!("0.{}{digits}", "0".repeat(point - digits.len()))
            }
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{first}{rest}E{adjusted:+}")
    };
    format!("{sign}{body}")
}

/// Python's quote choice: single quotes, unless the text has a single
/// quote and no double quote.
fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double { '"' } else { '\'' }
}

/// Python's `repr(str)`.
pub(crate) fn str_repr(s: &str, out: &mut String) {
    let quote = quote_for(s.contains('\''), s.contains('"'));
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push(quote);
}

/// Python's `repr(bytes)`.
pub(crate) fn bytes_repr(b: &[u8], out: &mut String) {
    let quote = quote_for(b.contains(&b'\''), b.contains(&b'"'));
    out.push('b');
    out.push(quote);
    for &byte in b {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable` for one character: false for the general
/// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than the space.
/// Exact below U+0100; above, see the module docs for where it may differ.
pub(crate) fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    match code {
        0x20..=0x7e => true,
        0..=0x1f | 0x7f..=0xa0 | 0xad => false,
        0xa1..=0xff => true,
        _ => {
            !(c.is_control()
                || c.is_whitespace()
                || is_format(code)
                || is_private_use(code)
                || is_noncharacter(code))
        }
    }
}

/// The format characters (Cf) of Unicode 14.0 above Latin-1.
fn is_format(code: u32) -> bool {
    matches!(
        code,
        0x0600..=0x0605
            | 0x061c
            | 0x06dd
            | 0x070f
            | 0x0890..=0x0891
            | 0x08e2
            | 0x180e
            | 0x200b..=0x200f
            | 0x202a..=0x202e
            | 0x2060..=0x2064
            | 0x2066..=0x206f
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x13438
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
    )
}

/// Private use (Co).
fn is_private_use(code: u32) -> bool {
    matches!(code, 0xe000..=0xf8ff | 0xf0000..=0xffffd | 0x100000..=0x10fffd)
}

/// The noncharacters, which are unassigned (Cn) forever.
fn is_noncharacter(code: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&code) || code & 0xfffe == 0xfffe
}
