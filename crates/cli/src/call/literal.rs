//! The Python literals `spread call` takes as arguments, read into [`Value`]s.
//!
//! The grammar is Python's own for the values Jelly can carry: what
//! `ast.literal_eval` reads (`None`, `True`, numbers, strings with every
//! prefix and escape, lists, tuples, dicts, sets, unary signs), plus the
//! constructor calls Python's `repr` prints for the types that have no
//! literal syntax (`set()`, `frozenset({..})`, `datetime.date(..)` and its
//! siblings, `Decimal('..')`), plus `inf` and `nan`, which `repr` prints for
//! floats. So whatever `spread call` prints can be pasted back as an
//! argument.
//!
//! Sets and dicts are built as Python builds them: a repeated element or key
//! (by Python's `==`, so `1`, `1.0` and `True` are one key) is kept once, and
//! an unhashable one (a list, a dict, a set) is refused, as Python refuses
//! it (see [`crate::call::equality`]).

use std::fmt;

use spread::jelly::{Date, DateTime, Decimal, Time, TimeDelta};
use spread::{BigInt, Dict, Value};

use crate::call::equality::{exact_float, py_eq, unhashable};

/// How deep brackets and signs may nest. Python's parser stops at 200
/// nested parentheses ("too many nested parentheses"); stopping at the same
/// depth keeps this recursive parser far from the end of its stack.
const MAX_DEPTH: usize = 200;

/// Why an argument is not a literal `spread call` can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiteralError {
    /// The 1-based character position the problem was found at.
    column: usize,
    /// What is wrong, as a lowercase phrase.
    message: String,
}

impl fmt::Display for LiteralError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.column)
    }
}

impl std::error::Error for LiteralError {}

/// Parses one argument: a whole Python literal, nothing after it.
pub(crate) fn parse(text: &str) -> Result<Value, LiteralError> {
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    let result = parser.value().and_then(|value| {
        parser.skip_ws();
        match parser.peek() {
            None => Ok(value),
            Some(c) => Err(parser.err(format!("unexpected {c:?} after the value"))),
        }
    });
    result.map_err(|Located { pos, message }| LiteralError {
        column: text.get(..pos).map_or(pos, |s| s.chars().count()) + 1,
        message,
    })
}

/// An error at a byte offset, turned into a [`LiteralError`] at the end.
struct Located {
    pos: usize,
    message: String,
}

type Result<T, E = Located> = std::result::Result<T, E>;

/// A string literal's content: Python keeps `str` and `bytes` apart, and so
/// does Jelly.
enum Text {
    Str(String),
    Bytes(Vec<u8>),
}

/// One argument of a constructor call, with where it started.
struct Arg {
    keyword: Option<String>,
    value: Value,
    pos: usize,
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// Values being parsed, outermost first: the recursion depth.
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Skips the whitespace Python allows between tokens inside brackets.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r' | '\x0c')) {
            self.pos += 1;
        }
    }

    fn err(&self, message: impl Into<String>) -> Located {
        self.err_at(self.pos, message)
    }

    fn err_at(&self, pos: usize, message: impl Into<String>) -> Located {
        Located {
            pos,
            message: message.into(),
        }
    }

    fn expect(&mut self, c: char, context: &str) -> Result<()> {
        self.skip_ws();
        if self.eat(c) {
            return Ok(());
        }
        Err(match self.peek() {
            Some(found) => self.err(format!("expected {c:?} {context}, found {found:?}")),
            None => self.err(format!("expected {c:?} {context}, found the end")),
        })
    }

    fn value(&mut self) -> Result<Value> {
        self.skip_ws();
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let value = self.value_inner();
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self) -> Result<Value> {
        let start = self.pos;
        match self.peek() {
            None => Err(self.err("expected a value, found the end")),
            Some(sign @ ('-' | '+')) => {
                self.bump();
                let operand = self.value()?;
                unary(sign, operand).map_err(|m| self.err_at(start, m))
            }
            Some('[') => {
                self.bump();
                Ok(Value::List(self.items(']')?))
            }
            Some('(') => self.tuple(),
            Some('{') => self.braces(),
            Some(c) if c.is_ascii_digit() => self.number(),
            Some('.') if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(),
            Some(_) if self.string_prefix().is_some() => self.strings(),
            Some(c) if c.is_alphabetic() || c == '_' => self.name(),
            Some(c) => Err(self.err(format!("unexpected {c:?}"))),
        }
    }

    /// Values separated by commas, a trailing comma allowed, up to `close`.
    fn items(&mut self, close: char) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            self.skip_ws();
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(',', "between items")?;
        }
    }

    /// `()`, `(x)` (just `x`), `(x,)`, `(x, y)`.
    fn tuple(&mut self) -> Result<Value> {
        self.bump();
        self.skip_ws();
        if self.eat(')') {
            return Ok(Value::Tuple(Vec::new()));
        }
        let first = self.value()?;
        self.skip_ws();
        if self.eat(')') {
            return Ok(first);
        }
        self.expect(',', "in a tuple")?;
        let mut items = vec![first];
        items.extend(self.items(')')?);
        Ok(Value::Tuple(items))
    }

    /// `{}` (a dict), `{k: v, ..}` or `{x, ..}` (a set).
    fn braces(&mut self) -> Result<Value> {
        self.bump();
        self.skip_ws();
        if self.eat('}') {
            return Ok(Value::Dict(Dict::new()));
        }
        let first_pos = self.pos;
        let first = self.value()?;
        self.skip_ws();
        if self.eat(':') {
            let mut entries = Vec::new();
            let value = self.value()?;
            self.dict_insert(&mut entries, first, first_pos, value)?;
            loop {
                self.skip_ws();
                if self.eat('}') {
                    break;
                }
                self.expect(',', "between dict entries")?;
                self.skip_ws();
                if self.eat('}') {
                    break;
                }
                let key_pos = self.pos;
                let key = self.value()?;
                self.expect(':', "after a dict key")?;
                let value = self.value()?;
                self.dict_insert(&mut entries, key, key_pos, value)?;
            }
            return Ok(Value::Dict(Dict::from_iter(entries)));
        }
        let mut elements = Vec::new();
        self.set_insert(&mut elements, first, first_pos)?;
        if !self.eat('}') {
            self.expect(',', "between set elements")?;
            loop {
                self.skip_ws();
                if self.eat('}') {
                    break;
                }
                let pos = self.pos;
                let element = self.value()?;
                self.set_insert(&mut elements, element, pos)?;
                self.skip_ws();
                if self.eat('}') {
                    break;
                }
                self.expect(',', "between set elements")?;
            }
        }
        Ok(Value::Set(elements))
    }

    /// Adds a key as a Python dict does: an equal key keeps its place and
    /// its first spelling, and takes the new value.
    fn dict_insert(
        &self,
        entries: &mut Vec<(Value, Value)>,
        key: Value,
        pos: usize,
        value: Value,
    ) -> Result<()> {
        if let Some(kind) = unhashable(&key) {
            return Err(self.err_at(pos, format!("unhashable type: '{kind}' as a dict key")));
        }
        match entries.iter_mut().find(|(k, _)| py_eq(k, &key)) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
        Ok(())
    }

    /// Adds an element as a Python set does: the first of equal elements stays.
    fn set_insert(&self, elements: &mut Vec<Value>, element: Value, pos: usize) -> Result<()> {
        if let Some(kind) = unhashable(&element) {
            return Err(self.err_at(pos, format!("unhashable type: '{kind}' in a set")));
        }
        if !elements.iter().any(|e| py_eq(e, &element)) {
            elements.push(element);
        }
        Ok(())
    }

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

    fn number(&mut self) -> Result<Value> {
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

    /// The string prefix (`""`, `b`, `r`, `rb`, ...) at the cursor, if a
    /// string literal starts here.
    fn string_prefix(&self) -> Option<&str> {
        let rest = self.rest();
        let letters = rest
            .bytes()
            .take(3)
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let after = rest.as_bytes().get(letters).copied();
        if !matches!(after, Some(b'\'' | b'"')) {
            return None;
        }
        let prefix = rest.get(..letters)?;
        let known = matches!(
            prefix.to_ascii_lowercase().as_str(),
            "" | "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
        );
        known.then_some(prefix)
    }

    /// One string literal, and the ones right after it: Python joins
    /// adjacent literals (`'a' 'b'` is `'ab'`).
    fn strings(&mut self) -> Result<Value> {
        let mut joined = self.string()?;
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.string_prefix().is_none() {
                self.pos = before;
                break;
            }
            let next_pos = self.pos;
            match (&mut joined, self.string()?) {
                (Text::Str(a), Text::Str(b)) => a.push_str(&b),
                (Text::Bytes(a), Text::Bytes(b)) => a.extend_from_slice(&b),
                _ => return Err(self.err_at(next_pos, "cannot mix bytes and str literals")),
            }
        }
        Ok(match joined {
            Text::Str(s) => Value::Str(s),
            Text::Bytes(b) => Value::from(b),
        })
    }

    fn string(&mut self) -> Result<Text> {
        let start = self.pos;
        let prefix = self.string_prefix().unwrap_or("").to_ascii_lowercase();
        if prefix.contains('f') {
            return Err(self.err("f-strings are not literals"));
        }
        self.pos += prefix.len();
        let raw = prefix.contains('r');
        let bytes = prefix.contains('b');
        let Some(quote) = self.bump() else {
            return Err(self.err("expected a quote"));
        };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.pos += 2;
        }
        let mut text = String::new();
        let mut octets = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err_at(start, "unterminated string"));
            };
            if c == quote {
                if !triple {
                    self.bump();
                    break;
                }
                if self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote) {
                    self.pos += 3;
                    break;
                }
            }
            if c == '\n' && !triple {
                return Err(self.err("unterminated string (a newline inside quotes; write \\n)"));
            }
            if bytes && !c.is_ascii() {
                return Err(self.err("bytes can only contain ASCII literal characters"));
            }
            self.bump();
            if c != '\\' {
                push(&mut text, &mut octets, bytes, u32::from(c))?;
                continue;
            }
            let Some(escaped) = self.peek() else {
                return Err(self.err_at(start, "unterminated string"));
            };
            if raw {
                // A raw string keeps the backslash; it only stops the next
                // character (a quote, say) from ending the string.
                if bytes && !escaped.is_ascii() {
                    return Err(self.err("bytes can only contain ASCII literal characters"));
                }
                self.bump();
                push(&mut text, &mut octets, bytes, u32::from('\\'))?;
                push(&mut text, &mut octets, bytes, u32::from(escaped))?;
                continue;
            }
            self.escape(&mut text, &mut octets, bytes)?;
        }
        Ok(if bytes {
            Text::Bytes(octets)
        } else {
            Text::Str(text)
        })
    }

    /// One escape sequence, the cursor just after its backslash, as
    /// Python's tokenizer reads it.
    fn escape(&mut self, text: &mut String, octets: &mut Vec<u8>, bytes: bool) -> Result<()> {
        let at = self.pos - 1;
        let Some(c) = self.bump() else {
            return Err(self.err_at(at, "unterminated string"));
        };
        let code = match c {
            '\n' => return Ok(()),
            '\\' | '\'' | '"' => u32::from(c),
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            't' => 9,
            'v' => 11,
            '0'..='7' => {
                let mut code = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            self.bump();
                        }
                        None => break,
                    }
                }
                // Python 3.11 warns about `b'\777'` and keeps the low byte.
                if bytes { code & 0xff } else { code }
            }
            'x' => self.hex_escape(2, at, "\\xXX")?,
            'u' if !bytes => self.hex_escape(4, at, "\\uXXXX")?,
            'U' if !bytes => self.hex_escape(8, at, "\\UXXXXXXXX")?,
            'N' if !bytes => {
                return Err(self.err_at(
                    at,
                    "\\N{...} escapes are not supported: write the character itself or a \\u escape",
                ));
            }
            other => {
                // Python keeps an unknown escape as it is (with a warning).
                if bytes && !other.is_ascii() {
                    return Err(self.err("bytes can only contain ASCII literal characters"));
                }
                push(text, octets, bytes, u32::from('\\'))?;
                u32::from(other)
            }
        };
        push(text, octets, bytes, code).map_err(|mut e| {
            e.pos = at;
            e
        })
    }

    fn hex_escape(&mut self, len: usize, at: usize, form: &str) -> Result<u32> {
        let digits = self
            .rest()
            .get(..len)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.err_at(at, format!("truncated {form} escape")));
        };
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.err_at(at, "bad escape"))?;
        self.pos += len;
        Ok(code)
    }

    /// A name: `None`, `True`, `False`, `inf`, `nan`, or a constructor call.
    fn name(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut name = String::new();
        loop {
            while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                name.push(c);
                self.bump();
            }
            if self.peek() == Some('.')
                && self
                    .peek_at(1)
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
            {
                name.push('.');
                self.bump();
            } else {
                break;
            }
        }
        match name.as_str() {
            "None" => return Ok(Value::None),
            "True" => return Ok(Value::Bool(true)),
            "False" => return Ok(Value::Bool(false)),
            "inf" => return Ok(Value::Float(f64::INFINITY)),
            "nan" => return Ok(Value::Float(f64::NAN)),
            _ => {}
        }
        self.skip_ws();
        if !self.eat('(') {
            return Err(self.err_at(start, unknown_name(&name)));
        }
        let args = self.call_args()?;
        match name.as_str() {
            "set" => Ok(Value::Set(self.iterable_arg(&name, args, start)?)),
            "frozenset" => Ok(Value::FrozenSet(self.iterable_arg(&name, args, start)?)),
            "datetime.datetime" | "datetime" => {
                let [y, mo, d, h, mi, s, us] = self.int_args(
                    &name,
                    &[
                        "year",
                        "month",
                        "day",
                        "hour",
                        "minute",
                        "second",
                        "microsecond",
                    ],
                    3,
                    args,
                    start,
                )?;
                let date = date(y, mo, d).map_err(|m| self.err_at(start, m))?;
                let time = time(h, mi, s, us).map_err(|m| self.err_at(start, m))?;
                Ok(Value::DateTime(DateTime::new(date, time)))
            }
            "datetime.date" | "date" => {
                let [y, mo, d] = self.int_args(&name, &["year", "month", "day"], 3, args, start)?;
                Ok(Value::Date(
                    date(y, mo, d).map_err(|m| self.err_at(start, m))?,
                ))
            }
            "datetime.time" | "time" => {
                let [h, mi, s, us] = self.int_args(
                    &name,
                    &["hour", "minute", "second", "microsecond"],
                    0,
                    args,
                    start,
                )?;
                Ok(Value::Time(
                    time(h, mi, s, us).map_err(|m| self.err_at(start, m))?,
                ))
            }
            "datetime.timedelta" | "timedelta" => {
                let [days, s, us, ms, mi, h, w] = self.int_args(
                    &name,
                    &[
                        "days",
                        "seconds",
                        "microseconds",
                        "milliseconds",
                        "minutes",
                        "hours",
                        "weeks",
                    ],
                    0,
                    args,
                    start,
                )?;
                timedelta(
                    i128::from(days) + 7 * i128::from(w),
                    i128::from(s) + 60 * i128::from(mi) + 3600 * i128::from(h),
                    i128::from(us) + 1000 * i128::from(ms),
                )
                .map(Value::TimeDelta)
                .map_err(|m| self.err_at(start, m))
            }
            "Decimal" | "decimal.Decimal" => {
                let [arg] = self.positional::<1>(&name, args, start)?;
                match arg {
                    None => Ok(Value::Decimal(Decimal::new(0, 0))),
                    Some((Value::Str(s), pos)) => {
                        decimal(&s).map(Value::Decimal).map_err(|m| self.err_at(pos, m))
                    }
                    Some((Value::Int(n), _)) => Ok(Value::Decimal(Decimal::new(n, 0))),
                    Some((Value::BigInt(n), _)) => Ok(Value::Decimal(Decimal::new(n, 0))),
                    Some((Value::Float(x), pos)) if x == 0.0 && x.is_sign_negative() => Err(
                        self.err_at(pos, "Decimal(-0.0) cannot be sent: Jelly's decimal form keeps no sign of zero"),
                    ),
                    Some((Value::Float(x), pos)) => exact_float(x)
                        .map(|(coefficient, exponent)| Value::Decimal(Decimal { coefficient, exponent }))
                        .ok_or_else(|| self.err_at(pos, "only finite decimals have a Jelly form")),
                    Some((other, pos)) => Err(self.err_at(
                        pos,
                        format!("Decimal() takes a str or a number, not {}", other.type_name()),
                    )),
                }
            }
            "float" => {
                let [arg] = self.positional::<1>(&name, args, start)?;
                match arg {
                    None => Ok(Value::Float(0.0)),
                    Some((Value::Float(x), _)) => Ok(Value::Float(x)),
                    Some((Value::Str(s), pos)) => float_from_str(&s)
                        .map(Value::Float)
                        .map_err(|m| self.err_at(pos, m)),
                    Some((n @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)), pos)) => {
                        int_to_float(&n)
                            .map(Value::Float)
                            .map_err(|m| self.err_at(pos, m))
                    }
                    Some((other, pos)) => Err(self.err_at(
                        pos,
                        format!("float() takes a str or a number, not {}", other.type_name()),
                    )),
                }
            }
            _ => Err(self.err_at(start, unknown_name(&name))),
        }
    }

    /// The arguments of a call, the cursor after its `(`.
    fn call_args(&mut self) -> Result<Vec<Arg>> {
        let mut args: Vec<Arg> = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(')') {
                return Ok(args);
            }
            let pos = self.pos;
            let keyword = self.keyword();
            if keyword.is_none() && args.iter().any(|a| a.keyword.is_some()) {
                return Err(self.err("positional argument follows keyword argument"));
            }
            let value = self.value()?;
            args.push(Arg {
                keyword,
                value,
                pos,
            });
            self.skip_ws();
            if self.eat(')') {
                return Ok(args);
            }
            self.expect(',', "between arguments")?;
        }
    }

    /// `name=` at the cursor (consumed), if there is one.
    fn keyword(&mut self) -> Option<String> {
        let start = self.pos;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.bump();
        }
        self.skip_ws();
        if !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && self.peek() == Some('=')
            && self.peek_at(1) != Some('=')
        {
            self.bump();
            return Some(name);
        }
        self.pos = start;
        None
    }

    /// Up to `N` positional arguments and no keywords.
    fn positional<const N: usize>(
        &self,
        name: &str,
        args: Vec<Arg>,
        start: usize,
    ) -> Result<[Option<(Value, usize)>; N]> {
        if let Some(arg) = args.iter().find(|a| a.keyword.is_some()) {
            return Err(self.err_at(arg.pos, format!("{name}() takes no keyword arguments")));
        }
        if args.len() > N {
            return Err(self.err_at(
                start,
                format!(
                    "{name}() takes at most {N} argument(s), {} given",
                    args.len()
                ),
            ));
        }
        let mut out = [const { None }; N];
        for (slot, arg) in out.iter_mut().zip(args) {
            *slot = Some((arg.value, arg.pos));
        }
        Ok(out)
    }

    /// `set(..)` and `frozenset(..)`: no argument, or one iterable.
    fn iterable_arg(&self, name: &str, args: Vec<Arg>, start: usize) -> Result<Vec<Value>> {
        let [arg] = self.positional::<1>(name, args, start)?;
        let Some((arg, pos)) = arg else {
            return Ok(Vec::new());
        };
        let items = match arg {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) | Value::FrozenSet(v) => v,
            Value::Dict(d) => d.into_iter().map(|(k, _)| k).collect(),
            Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
            Value::Bytes(b) => b.iter().map(|&b| Value::Int(b.into())).collect(),
            other => {
                return Err(self.err_at(
                    pos,
                    format!("'{}' object is not iterable", other.type_name()),
                ));
            }
        };
        let mut elements = Vec::new();
        for item in items {
            self.set_insert(&mut elements, item, pos)?;
        }
        Ok(elements)
    }

    /// Binds integer arguments to `params` as Python binds them (by
    /// position, then by keyword); missing optional ones are 0.
    fn int_args<const N: usize>(
        &self,
        name: &str,
        params: &[&str; N],
        required: usize,
        args: Vec<Arg>,
        start: usize,
    ) -> Result<[i64; N]> {
        let mut bound: [Option<i64>; N] = [None; N];
        for (index, arg) in args.into_iter().enumerate() {
            let slot = match &arg.keyword {
                None if index < N => index,
                None => {
                    return Err(
                        self.err_at(arg.pos, format!("{name}() takes at most {N} arguments"))
                    );
                }
                Some(keyword) => params.iter().position(|p| p == keyword).ok_or_else(|| {
                    self.err_at(
                        arg.pos,
                        format!("{name}() got an unexpected keyword argument '{keyword}'"),
                    )
                })?,
            };
            if bound[slot].is_some() {
                return Err(self.err_at(
                    arg.pos,
                    format!(
                        "{name}() got multiple values for argument '{}'",
                        params[slot]
                    ),
                ));
            }
            let n = match arg.value {
                Value::Int(n) => n,
                Value::Bool(b) => i64::from(b),
                Value::BigInt(_) => {
                    return Err(self.err_at(arg.pos, format!("{} is out of range", params[slot])));
                }
                other => {
                    return Err(self.err_at(
                        arg.pos,
                        format!(
                            "{} must be an integer here, not {}",
                            params[slot],
                            other.type_name()
                        ),
                    ));
                }
            };
            bound[slot] = Some(n);
        }
        if let Some(missing) = (0..required).find(|&i| bound[i].is_none()) {
            return Err(self.err_at(
                start,
                format!("{name}() missing required argument '{}'", params[missing]),
            ));
        }
        Ok(bound.map(|n| n.unwrap_or(0)))
    }
}

/// Adds one character (or, in bytes, one octet) to a literal's content.
fn push(text: &mut String, octets: &mut Vec<u8>, bytes: bool, code: u32) -> Result<()> {
    if bytes {
        // Callers give bytes only ASCII characters and escapes below 256.
        octets.push(u8::try_from(code).unwrap_or(b'?'));
        return Ok(());
    }
    match char::from_u32(code) {
        Some(c) => {
            text.push(c);
            Ok(())
        }
        None if (0xd800..=0xdfff).contains(&code) => Err(Located {
            pos: 0,
            message: format!(
                "a lone surrogate (\\u{code:04x}) cannot be sent: Jelly sends str as UTF-8"
            ),
        }),
        None => Err(Located {
            pos: 0,
            message: format!("\\U{code:08x} is not a Unicode character"),
        }),
    }
}

fn unknown_name(name: &str) -> String {
    format!(
        "unknown name {name:?}: an argument is a Python literal (None, True, 1, 1.5, inf, 'text', \
         b'bytes', [..], (..), {{..}}, set(), frozenset(..), datetime.datetime(..), \
         datetime.date(..), datetime.time(..), datetime.timedelta(..), Decimal('..'))"
    )
}

/// Python's unary `-` and `+` on a number (`-True` is `-1`, as in Python).
fn unary(sign: char, operand: Value) -> std::result::Result<Value, String> {
    let negate = sign == '-';
    match operand {
        Value::Bool(b) => Ok(Value::Int(if negate {
            -i64::from(b)
        } else {
            i64::from(b)
        })),
        Value::Int(n) if negate => Ok(Value::from(-BigInt::from(n))),
        Value::BigInt(n) if negate => Ok(Value::from(-n)),
        Value::Float(x) if negate => Ok(Value::Float(-x)),
        n @ (Value::Int(_) | Value::BigInt(_) | Value::Float(_)) => Ok(n),
        Value::Decimal(d) if negate => Ok(Value::Decimal(Decimal {
            coefficient: -d.coefficient,
            exponent: d.exponent,
        })),
        d @ Value::Decimal(_) => Ok(d),
        other => Err(format!(
            "bad operand type for unary {sign}: '{}'",
            other.type_name()
        )),
    }
}

fn date(year: i64, month: i64, day: i64) -> std::result::Result<Date, String> {
    let year = i32::try_from(year).map_err(|_| format!("year {year} is out of range"))?;
    let month = u8::try_from(month).map_err(|_| format!("month {month} is out of range"))?;
    let day = u8::try_from(day).map_err(|_| format!("day {day} is out of range"))?;
    Date::new(year, month, day).map_err(|e| e.to_string())
}

fn time(hour: i64, minute: i64, second: i64, us: i64) -> std::result::Result<Time, String> {
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
fn timedelta(days: i128, seconds: i128, us: i128) -> std::result::Result<TimeDelta, String> {
    let out_of_range = |_| "timedelta is out of range".to_owned();
    let days = i64::try_from(days).map_err(out_of_range)?;
    let seconds = i64::try_from(seconds).map_err(out_of_range)?;
    let us = i64::try_from(us).map_err(out_of_range)?;
    TimeDelta::normalized(days, seconds, us).map_err(|e| e.to_string())
}

/// Python's `float(str)`: a number, or `inf`/`infinity`/`nan` in any case,
/// with surrounding whitespace.
fn float_from_str(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
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
fn int_to_float(n: &Value) -> std::result::Result<f64, String> {
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
fn decimal(s: &str) -> std::result::Result<Decimal, String> {
    let t = s.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
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
    let clean = |part: &str| -> std::result::Result<String, String> {
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
