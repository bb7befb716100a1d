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
//!
//! This file holds the parser's cursor and the grammar of values and
//! containers; strings, numbers and constructor calls have their own files.

mod constructors;
mod convert;
mod number;
mod strings;

use std::fmt;

use spread::jelly::Decimal;
use spread::{BigInt, Dict, Value};

use crate::call::equality::{py_eq, unhashable};

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
