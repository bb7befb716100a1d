//! Arbitrary values through jelly, Banana and back.

use arbitrary::Unstructured;
use spread_banana::{Limits, decode_all, encode_to_vec};
use spread_jelly::{AllowAll, from_sexp, to_sexp};

use crate::{same_sexp, split_dialect, values::arbitrary_value};

/// Builds a value from `data` (the first byte picks the dialect, the rest
/// feeds [`arbitrary_value`]), jellies it, encodes it with Banana, decodes
/// and unjellies it, and checks that what comes back equals what went out.
///
/// Equality is the value model's own `==`: floats by their bits, because
/// Banana carries the 8 bytes of a double unchanged, so a NaN must come back
/// as the same NaN (payload and sign included) and `-0.0` as `-0.0`; a
/// comparison by `f64::eq` would both fail on every NaN and miss a sign
/// flip of zero. Shared structure must come back with the same identities
/// (two uses of one object stay one object, a cycle stays a cycle).
///
/// Unjelly runs under [`AllowAll`], which keeps every instance as it came:
/// under the strict default security an instance is refused, which the
/// `unjelly` target covers.
pub fn round_trip(data: &[u8]) {
    let (dialect, rest) = split_dialect(data);
    let Ok(value) = arbitrary_value(&mut Unstructured::new(rest)) else {
        return;
    };
    let sexp = to_sexp(&value).expect("every generated value can be jellied");
    let bytes = encode_to_vec(&sexp, dialect).expect("every generated value can be encoded");
    let decoded = decode_all(&bytes, dialect, Limits::default())
        .expect("what was encoded decodes under the default limits");
    assert_eq!(decoded.len(), 1, "one value is one expression");
    assert!(
        same_sexp(&sexp, &decoded[0]),
        "Banana changed {sexp:?} into {:?}",
        decoded[0]
    );
    let back = from_sexp(&decoded[0], &AllowAll).expect("what was jellied unjellies");
    assert_eq!(back, value, "the value came back changed");
}
