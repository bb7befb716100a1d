//! spread's fuzz targets, as plain functions of the fuzzer's bytes.
//!
//! Each target takes one input and panics when it finds a bug: a panic
//! inside the code under test, a hang, unbounded memory, or a broken
//! invariant that the target checks. Bad input must give an error, never
//! any of those. The libFuzzer binaries in `fuzz/fuzz_targets/` are
//! one-liners that call these functions, and this crate's tests replay the
//! seed corpus ([`seeds`]) and every input that once failed through the
//! same functions, so `cargo test` checks what fuzzing found.
//!
//! | target | what it feeds | what it checks |
//! |---|---|---|
//! | [`banana`] | bytes to the Banana decoder, in any dialect (msgpack included) | whole-buffer and chunked decoding agree, and `TokenDecoder` with them; what decodes re-encodes and decodes the same |
//! | [`unjelly`] | Banana bytes, then unjelly under the strict default security | errors, not panics; jelly of the result unjellies to the same value |
//! | [`proto_server`], [`proto_client`] | a `proto::Core` after a valid handshake, then frames and driver actions | errors, not panics; every table within its configured limit; `close` empties them |
//! | [`round_trip`] | an arbitrary [`Value`](spread_jelly::Value) (see [`values`]) | jelly, Banana and back gives an equal value |
//!
//! Run one with `cargo xtask fuzz TARGET --secs N`.

mod banana;
mod proto;
mod round_trip;
pub mod seeds;
mod unjelly;
pub mod values;

pub use crate::banana::banana;
pub use crate::proto::{proto_client, proto_server};
pub use crate::round_trip::round_trip;
pub use crate::unjelly::unjelly;

/// One fuzz target: its name (the binary in `fuzz/fuzz_targets/`) and its
/// function.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name `cargo xtask fuzz` takes.
    pub name: &'static str,
    /// What it runs on each input.
    pub run: fn(&[u8]),
    /// One line on what it covers.
    pub about: &'static str,
}

/// Every target, in the order `cargo xtask fuzz` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "banana",
        run: banana,
        about: "Banana decoding in every dialect (msgpack too), whole and in chunks",
    },
    Target {
        name: "unjelly",
        run: unjelly,
        about: "Banana bytes unjellied under the strict default security",
    },
    Target {
        name: "proto_server",
        run: proto_server,
        about: "the protocol core as the server, fed frames after the handshake",
    },
    Target {
        name: "proto_client",
        run: proto_client,
        about: "the protocol core as the client, fed frames after the handshake",
    },
    Target {
        name: "round_trip",
        run: round_trip,
        about: "arbitrary values through jelly and Banana and back",
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The dialect an input's first byte chooses, and the rest of the input:
/// bit 2 set is msgpack, else bit 0 set is `none`, else `pb`. (Bit 2 was
/// added with msgpack, so inputs found before it keep their meaning as long
/// as that bit is clear, as in every seed.)
fn split_dialect(data: &[u8]) -> (spread_banana::Dialect, &[u8]) {
    use spread_banana::Dialect;
    match data.split_first() {
        Some((first, rest)) if first & 4 == 4 => (Dialect::Msgpack, rest),
        Some((first, rest)) if first & 1 == 1 => (Dialect::None, rest),
        Some((_, rest)) => (Dialect::Pb, rest),
        None => (Dialect::Pb, data),
    }
}

/// Whether two s-expressions are the same, floats by their bits (so a NaN
/// is the same NaN, and `-0.0` is not `0.0`): Banana carries floats bit
/// for bit, so anything less would hide a change.
fn same_sexp(a: &spread_banana::Sexp, b: &spread_banana::Sexp) -> bool {
    use spread_banana::Sexp;
    match (a, b) {
        (Sexp::Float(x), Sexp::Float(y)) => x.to_bits() == y.to_bits(),
        (Sexp::List(x), Sexp::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_sexp(x, y))
        }
        _ => a == b,
    }
}
