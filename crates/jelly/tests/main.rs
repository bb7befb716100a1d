//! spread-jelly's integration tests, one binary.

// Shared and cyclic structure: numbering, Debug, equality, drop.
mod references;

// Malformed and refused input: the right error, at the right path.
mod errors;

// Dates, times, durations and decimals, checked as Python checks them.
mod time;

// The serde bridge: typed Rust values to and from Value.
mod serde_bridge;

// Random values: jelly, Banana, back, equal.
mod proptests;

// The direct encoder against the tree path: same bytes, same errors.
mod direct_encode;

// The flat token path (TokenDecoder + from_node) against the tree path
// (Decoder + from_sexp): same values, errors and policy calls.
mod token_decode;
