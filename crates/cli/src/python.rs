//! Python 3.11's `repr` of the atoms both printers show: `str`, `bytes`,
//! `float`, and `str` of a `Decimal`. `spread call` prints whole values with
//! these ([`crate::call`]'s printer), `spread decode` and `spread proxy` print
//! s-expressions with them ([`crate::decode::Repr`]), so each rule is written
//! once.
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

use std::fmt::Write;

use spread::BigInt;
use spread::jelly::Decimal;

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
        format!("{}e{exponent:+03}", point_after_first(&digits))
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
        format!("{}E{adjusted:+}", point_after_first(&digits))
    };
    format!("{sign}{body}")
}

/// The mantissa of scientific notation from its digits: `d.ddd`, or just
/// `d` when there is one digit (`1e+16`, `1.5e+16`, `1E+3`).
fn point_after_first(digits: &str) -> String {
    let (first, rest) = digits.split_at(1);
    if rest.is_empty() {
        first.to_owned()
    } else {
        format!("{first}.{rest}")
    }
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
