//! Unit tests of the literal parser and the printer.
