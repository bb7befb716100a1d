//! Python's number literals: ints in every radix, floats, underscores.

use spread::{BigInt, Value};

use super::{Parser, Result};

impl Parser<'_> {
    /// Reads digits of a radix with Python's underscore rule: one underscore
    /// at a time, only between digits (or, after a `0x` prefix, before the
    /// first). Returns the digits without underscores.
    fn digits(&mut self, is_digit: fn(char) -> bool, underscore_first: bool) -> Result<String> {
        let mut digits = String::new();
        let mut after_underscore = false;
        let mut previous_ok = underscore_first;
        while let Some(c) = self.peek() {
            if c == '_' {
                if !previous_ok || after_underscore {
                    return Err(self.err("invalid underscore in a number"));
                }
                after_underscore = true;
            } else if is_digit(c) {
                digits.push(c);
                after_underscore = false;
                previous_ok = true;
            } else {
                break;
            }
            self.pos += 1;
        }
        if after_underscore {
            return Err(self.err("invalid underscore in a number"));
        }
        Ok(digits)
    }

    pub(super) fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let radix = match self.rest().get(..2) {
            Some("0x" | "0X") => Some((16, (|c: char| c.is_ascii_hexdigit()) as fn(char) -> bool)),
            Some("0o" | "0O") => Some((8, (|c: char| matches!(c, '0'..='7')) as fn(char) -> bool)),
            Some("0b" | "0B") => Some((2, (|c: char| matches!(c, '0' | '1')) as fn(char) -> bool)),
            _ => None,
        };
        if let Some((radix, is_digit)) = radix {
            self.pos += 2;
            let digits = self.digits(is_digit, true)?;
            self.end_of_number(start)?;
            let n = BigInt::parse_bytes(digits.as_bytes(), radix)
                .ok_or_else(|| self.err_at(start, "invalid integer"))?;
            return Ok(Value::from(n));
        }
        let decimal = |c: char| c.is_ascii_digit();
        let int_part = self.digits(decimal, false)?;
        let mut is_float = false;
        let mut frac_part = String::new();
        if self.peek() == Some('.') {
            self.bump();
            is_float = true;
            if self.peek() == Some('_') {
                return Err(self.err("invalid underscore in a number"));
            }
            frac_part = self.digits(decimal, false)?;
        }
        let mut exponent = String::new();
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = self.peek_at(1).filter(|c| matches!(c, '+' | '-'));
            let first = self.peek_at(1 + usize::from(sign.is_some()));
            if first.is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
                if let Some(sign) = sign {
                    self.bump();
                    exponent.push(sign);
                }
                exponent.push_str(&self.digits(decimal, false)?);
                is_float = true;
            }
        }
        self.end_of_number(start)?;
        if is_float {
            let int_part = if int_part.is_empty() { "0" } else { &int_part };
            let frac_part = if frac_part.is_empty() {
                "0"
            } else {
                &frac_part
            };
            let exponent = if exponent.is_empty() { "0" } else { &exponent };
            // Rust's parser rounds correctly, as Python's does, and gives
            // inf on overflow, as Python's float literals do.
            return format!("{int_part}.{frac_part}e{exponent}")
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|e| self.err_at(start, format!("invalid float: {e}")));
        }
        if int_part.len() > 1 && int_part.starts_with('0') && int_part.bytes().any(|b| b != b'0') {
            return Err(self.err_at(
                start,
                "leading zeros in decimal integers are not allowed; use 0o for octal",
            ));
        }
        let n: BigInt = int_part
            .parse()
            .map_err(|_| self.err_at(start, "invalid integer"))?;
        Ok(Value::from(n))
    }

    /// A number must not run into a name: `1j` is complex, `1x` a typo.
    fn end_of_number(&self, start: usize) -> Result<()> {
        match self.peek() {
            Some('j' | 'J') => Err(self.err_at(start, "complex numbers have no Jelly form")),
            Some(c) if c.is_alphanumeric() || c == '_' || c == '.' => {
                Err(self.err(format!("invalid number: unexpected {c:?}")))
            }
            _ => Ok(()),
        }
    }
}
