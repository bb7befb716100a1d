//! S-expressions printed as Python prints them, so that a line can be
//! compared with the `sexp:` lines of the PB session traces (which are
//! Python's `repr` of what Twisted's `banana` decoded).

use std::fmt::{self, Write};

use spread::banana::Sexp;

use crate::python::{bytes_repr, float_repr};

/// Displays a [`Sexp`] as Python's `repr` of the decoded value: byte strings
/// as `b'...'` literals, integers in decimal, floats as Python's shortest
/// round-trip form (both by [`crate::python`]'s rules), lists in square
/// brackets separated by `, `.
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
            Sexp::Float(x) => f.write_str(&float_repr(*x)),
            Sexp::Bytes(bytes) => {
                let mut text = String::new();
                bytes_repr(bytes, &mut text);
                f.write_str(&text)
            }
            // `Sexp` is non-exhaustive; a future atom still prints something.
            other => write!(f, "{other:?}"),
        }
    }
}
