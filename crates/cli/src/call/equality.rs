//! Python's `==` and hashability, for the elements of set literals and the
//! keys of dict literals, so that `{1, 1.0, True}` is `{1}` as in Python and
//! `{[1]: 2}` is refused as Python refuses it.
//!
//! [`Value`]'s own `==` is structural (an `Int` never equals a `Float`), which
//! is right for a wire format and wrong for building a Python set.

use spread::{BigInt, Value};

/// The Python type name of the unhashable part of `value` (`list`, `dict`,
/// `set`), or `None` if Python could hash it.
pub(crate) fn unhashable(value: &Value) -> Option<&'static str> {
    match value {
        Value::List(_) => Some("list"),
        Value::Dict(_) => Some("dict"),
        Value::Set(_) => Some("set"),
        Value::Tuple(items) | Value::FrozenSet(items) => items.iter().find_map(unhashable),
        _ => None,
    }
}

/// Python's `a == b` for hashable values: numbers compare by value across
/// `bool`, `int`, `float` and `Decimal`; `str` never equals `bytes`; tuples
/// compare item by item and frozensets as sets.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return x == y && x != Number::NaN;
    }
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| py_eq(x, y))
        }
        (Value::FrozenSet(x) | Value::Set(x), Value::FrozenSet(y) | Value::Set(y)) => {
            x.len() == y.len() && x.iter().all(|x| y.iter().any(|y| py_eq(x, y)))
        }
        (Value::DateTime(x), Value::DateTime(y)) => x == y,
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::TimeDelta(x), Value::TimeDelta(y)) => x == y,
        _ => false,
    }
}

/// A number's exact value, in a form where equal values are equal: the
/// decimal digits without leading or trailing zeros, and the power of ten.
#[derive(Debug, PartialEq, Eq)]
enum Number {
    Finite {
        negative: bool,
        digits: String,
        exponent: i128,
    },
    Infinite {
        negative: bool,
    },
    NaN,
}

fn number(value: &Value) -> Option<Number> {
    Some(match value {
        Value::Bool(b) => finite(&BigInt::from(i64::from(*b)), 0),
        Value::Int(n) => finite(&BigInt::from(*n), 0),
        Value::BigInt(n) => finite(n, 0),
        Value::Float(x) if x.is_nan() => Number::NaN,
        Value::Float(x) if x.is_infinite() => Number::Infinite { negative: *x < 0.0 },
        Value::Float(x) => {
            let (coefficient, exponent) = exact_float(*x)?;
            finite(&coefficient, exponent)
        }
        Value::Decimal(d) => finite(&d.coefficient, d.exponent),
        _ => return None,
    })
}

fn finite(coefficient: &BigInt, exponent: i64) -> Number {
    let negative = *coefficient < BigInt::from(0);
    let text = coefficient.magnitude().to_string();
    let trimmed = text.trim_start_matches('0');
    let digits = trimmed.trim_end_matches('0');
    if digits.is_empty() {
        // Every zero is equal, whatever its sign or exponent.
        return Number::Finite {
            negative: false,
            digits: String::new(),
            exponent: 0,
        };
    }
    let zeros = trimmed.len() - digits.len();
    Number::Finite {
        negative,
        digits: digits.to_owned(),
        exponent: i128::from(exponent) + zeros as i128,
    }
}

/// A finite float's exact value as `coefficient × 10^exponent` (every binary
/// fraction has a finite decimal expansion), as Python's `Decimal(float)`
/// gives it; `None` for infinities and NaN.
pub(crate) fn exact_float(x: f64) -> Option<(BigInt, i64)> {
    if !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    let biased = i64::try_from((bits >> 52) & 0x7ff).ok()?;
    let fraction = bits & ((1 << 52) - 1);
    // IEEE 754: subnormals have no implicit bit and the smallest exponent.
    let (mut mantissa, mut power_of_two) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    // In lowest terms, as Python's `as_integer_ratio`: `Decimal(0.5)` is
    // `Decimal('0.5')`, not 0.5000...
    while mantissa != 0 && mantissa % 2 == 0 && power_of_two < 0 {
        mantissa /= 2;
        power_of_two += 1;
    }
    let mut coefficient = BigInt::from(mantissa);
    let exponent = if power_of_two >= 0 {
        coefficient <<= usize::try_from(power_of_two).ok()?;
        0
    } else {
        // m × 2^-k = m × 5^k × 10^-k.
        coefficient *= BigInt::from(5).pow(u32::try_from(-power_of_two).ok()?);
        power_of_two
    };
    if x.is_sign_negative() {
        coefficient = -coefficient;
    }
    Some((coefficient, exponent))
}
