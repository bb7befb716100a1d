//! S-expressions printed as Python prints them, so that a line can be
//! compared with the `sexp:` lines of the PB session traces (which are
//! Python's `repr` of what Twisted's `banana` decoded).

use std::fmt::{self, Write};

use spread::banana::Sexp;

/// Displays a [`Sexp`] as Python's `repr` of the decoded value: byte strings
/// as `b'...'` literals, integers in decimal, floats as Python's shortest
/// round-trip form, lists in square brackets separated by `, `.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Repr<'a>(pub(crate) &'a Sexp);

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Sexp::List(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    Repr(item).fmt(f)?;
                }
                f.write_char(']')
            }
            Sexp::Int(n) => write!(f, "{n}"),
            Sexp::BigInt(n) => write!(f, "{n}"),
            Sexp::Float(x) => write_float(f, *x),
            Sexp::Bytes(bytes) => write_bytes(f, bytes),
            // `Sexp` is non-exhaustive; a future atom still prints something.
            other => write!(f, "{other:?}"),
        }
    }
}

/// Python's `bytes.__repr__` (CPython `Objects/bytesobject.c`): single
/// quotes unless the bytes hold a `'` and no `"`; `\t`, `\n`, `\r`, `\\`
/// and the quote escaped; other bytes outside printable ASCII as `\xhh`.
pub(crate) fn write_bytes(f: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    f.write_char('b')?;
    f.write_char(quote)?;
    for &byte in bytes {
        match byte {
            b'\\' => f.write_str("\\\\")?,
            b'\t' => f.write_str("\\t")?,
            b'\n' => f.write_str("\\n")?,
            b'\r' => f.write_str("\\r")?,
            _ if char::from(byte) == quote => {
                f.write_char('\\')?;
                f.write_char(quote)?;
            }
            0x20..0x7f => f.write_char(char::from(byte))?,
            _ => write!(f, "\\x{byte:02x}")?,
        }
    }
    f.write_char(quote)
}

/// Python's `float.__repr__`: the shortest digits that round-trip (Rust's
/// `{:e}` finds the same ones), positional when the decimal exponent is in
/// `-4..16`, otherwise `d.ddde+XX` with at least two exponent digits.
pub(crate) fn write_float(f: &mut impl Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return f.write_str("nan");
    }
    if x.is_infinite() {
        return f.write_str(if x < 0.0 { "-inf" } else { "inf" });
    }
    if x.is_sign_negative() {
        f.write_char('-')?;
    }
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        f.write_str(first)?;
        if !rest.is_empty() {
            f.write_char('.')?;
            f.write_str(rest)?;
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        return write!(f, "e{sign}{:02}", exponent.unsigned_abs());
    }
    if exponent < 0 {
        f.write_str("0.")?;
        for _ in 0..(-exponent - 1) {
            f.write_char('0')?;
        }
        return f.write_str(&digits);
    }
    // Digits before the point: exponent + 1 of them, padded with zeros.
    let whole = usize::try_from(exponent).unwrap_or(0) + 1;
    if digits.len() <= whole {
        f.write_str(&digits)?;
        for _ in digits.len()..whole {
            f.write_char('0')?;
        }
        f.write_str(".0")
    } else {
        let (int, frac) = digits.split_at(whole);
        write!(f, "{int}.{frac}")
    }
}
