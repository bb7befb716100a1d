//! Integration tests of spread-banana, one binary so it links once.

// Shared helpers: the golden vectors, Python-style reprs, bit-exact equality.
mod support;

// Twisted's bytes decode and re-encode to exactly the same bytes.
mod vectors;
// Every limit and malformation gives its own error; the decoder recovers.
mod limits;
// Tokens split anywhere, bytes fed one at a time, several frames per read.
mod incremental;
// Round trips of arbitrary expressions; arbitrary input never panics.
mod proptests;
// Twisted's test_banana.py, ported.
mod twisted_ports;
// Spread's own msgpack dialect: bytes, limits, malformations.
mod msgpack;
