//! Python's string literals: prefixes, quotes, escapes, and the joining of
//! adjacent literals, into `str` or `bytes`.

use spread::Value;

use super::{Located, Parser, Result};

/// A string literal's content: Python keeps `str` and `bytes` apart, and so
/// does Jelly.
enum Text {
    Str(String),
    Bytes(Vec<u8>),
}

impl Parser<'_> {
    /// The string prefix (`""`, `b`, `r`, `rb`, ...) at the cursor, if a
    /// string literal starts here.
    pub(super) fn string_prefix(&self) -> Option<&str> {
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
    pub(super) fn strings(&mut self) -> Result<Value> {
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
