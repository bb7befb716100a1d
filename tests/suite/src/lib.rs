//! Cross-crate tests of spread live in `tests/`; this library is empty.
