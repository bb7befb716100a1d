//! The values the constructors build from their arguments, with Python's
//! checks: dates, times, timedeltas, `float(str)`, `float(int)` and
//! `Decimal(str)`.

use spread::jelly::{Date, Decimal, Time, TimeDelta};
use spread::{BigInt, Value};

use super::Parser;

pub(super) fn date(year: i64, month: i64, day: i64) -> Result<Date, String> {
    let year = i32::try_from(year).map_err(|_| format!("year {year} is out of range"))?;
    let month = u8::try_from(month).map_err(|_| format!("month {month} is out of range"))?;
    let day = u8::try_from(day).map_err(|_| format!("day {day} is out of range"))?;
    Date::new(year, month, day).map_err(|e| e.to_string())
}

pub(super) fn time(hour: i64, minute: i64, second: i64, us: i64) -> Result<Time, String> {
    let field =
        |what: &str, v: i64| u8::try_from(v).map_err(|_| format!("{what} {v} is out of range"));
    let us = u32::try_from(us).map_err(|_| format!("microsecond {us} is out of range"))?;
    Time::new(
        field("hour", hour)?,
        field("minute", minute)?,
        field("second", second)?,
        us,
    )
    .map_err(|e| e.to_string())
}

/// A timedelta from whole days, seconds and microseconds, given in `i128`
/// so that summing weeks, hours and milliseconds into them cannot overflow
/// before the range check.
pub(super) fn timedelta(days: i128, seconds: i128, us: i128) -> Result<TimeDelta, String> {
    let out_of_range = |_| "timedelta is out of range".to_owned();
    let days = i64::try_from(days).map_err(out_of_range)?;
    let seconds = i64::try_from(seconds).map_err(out_of_range)?;
    let us = i64::try_from(us).map_err(out_of_range)?;
    TimeDelta::normalized(days, seconds, us).map_err(|e| e.to_string())
}

/// Python's `float(str)`: a number, or `inf`/`infinity`/`nan` in any case,
/// with surrounding whitespace.
pub(super) fn float_from_str(s: &str) -> Result<f64, String> {
    let (negative, body) = sign_and_body(s);
    let lower = body.to_ascii_lowercase();
    let magnitude = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let mut parser = Parser {
                text: body,
                pos: 0,
                depth: 0,
            };
            // Only decimal digits: `float('0x10')` is an error in Python.
            let decimal_only = body
                .bytes()
                .all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b));
            let parsed =
                if decimal_only && body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                    parser.number().ok().filter(|_| parser.pos == body.len())
                } else {
                    None
                };
            match parsed {
                Some(Value::Float(x)) => x,
                Some(n @ (Value::Int(_) | Value::BigInt(_))) => int_to_float(&n)?,
                _ => return Err(format!("could not convert string to float: {s:?}")),
            }
        }
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Python's `float(int)`: correctly rounded, an error past the float range.
pub(super) fn int_to_float(n: &Value) -> Result<f64, String> {
    let text = match n {
        Value::Int(n) => n.to_string(),
        Value::BigInt(n) => n.to_string(),
        Value::Bool(b) => i64::from(*b).to_string(),
        _ => return Err("not an integer".into()),
    };
    // Parsing the decimal digits rounds correctly, as Python's conversion does.
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err("int too large to convert to float".into()),
    }
}

/// Python's `Decimal(str)` for the finite values Jelly can send: an optional
/// sign, digits with an optional point, an optional exponent.
pub(super) fn decimal(s: &str) -> Result<Decimal, String> {
    let (negative, body) = sign_and_body(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan" | "snan")
        || lower.starts_with("nan")
        || lower.starts_with("snan")
    {
        return Err(format!(
            "Decimal({s:?}) has no Jelly form: Twisted sends only finite decimals"
        ));
    }
    let invalid = || format!("invalid Decimal literal {s:?}");
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let clean = |part: &str| -> Result<String, String> {
        // Underscores only between digits, as in Python's int literals.
        if part.starts_with('_') || part.ends_with('_') || part.contains("__") {
            return Err(invalid());
        }
        let digits: String = part.chars().filter(|&c| c != '_').collect();
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(digits)
        } else {
            Err(invalid())
        }
    };
    let (int_digits, frac_digits) = (clean(int_part)?, clean(frac_part)?);
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(invalid());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            e.parse()
                .map_err(|_| format!("the exponent of Decimal({s:?}) is out of range"))?
        }
    };
    let frac_len = i64::try_from(frac_digits.len()).map_err(|_| invalid())?;
    let exponent = exponent
        .checked_sub(frac_len)
        .ok_or_else(|| format!("the exponent of Decimal({s:?}) is out of range"))?;
    let digits = format!("{int_digits}{frac_digits}");
    let coefficient: BigInt = digits.parse().map_err(|_| invalid())?;
    if negative && coefficient == BigInt::from(0) {
        return Err(format!(
            "Decimal({s:?}) cannot be sent: Jelly's decimal form keeps no sign of zero"
        ));
    }
    Ok(Decimal {
        coefficient: if negative { -coefficient } else { coefficient },
        exponent,
    })
}

/// A constructor's text argument as Python reads it: surrounding whitespace
/// dropped, then an optional sign. Whether the sign is `-`, and the rest.
fn sign_and_body(s: &str) -> (bool, &str) {
    let t = s.trim();
    match t.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    }
}
