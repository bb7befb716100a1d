//! Golden vectors from Twisted 26.10: decode its bytes, re-encode, compare.

use num_bigint::BigInt;
use spread_banana::{Dialect, EncodeError, Encoder, Limits, Sexp, decode_all};

use crate::support::{Vector, all_same, decode_chunks, py_repr, vectors};

fn reencode(frames: &[Sexp], dialect_of_frame: impl Fn(usize) -> Dialect) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, frame) in frames.iter().enumerate() {
        Encoder::new(dialect_of_frame(index))
            .encode(frame, &mut out)
            .expect("a decoded frame encodes");
    }
    out
}

fn frames_repr(frames: &[Sexp]) -> String {
    frames
        .iter()
        .map(py_repr)
        .collect::<Vec<_>>()
        .join(" then ")
}

fn check_pb(vector: &Vector, bytes: &[u8]) -> Vec<Sexp> {
    let dialect = |index| vector.pb_dialect_of_frame(index);
    let frames = decode_chunks([bytes], dialect);
    assert_eq!(
        frames_repr(&frames),
        vector.decoded_repr,
        "{}: decodes to what Twisted decodes",
        vector.name
    );
    assert_eq!(
        reencode(&frames, dialect),
        bytes,
        "{}: pb re-encoding differs",
        vector.name
    );
    frames
}

#[test]
fn pb_dialect_bytes_round_trip_exactly() {
    let mut checked = 0;
    for vector in vectors() {
        if let Some(bytes) = &vector.pb {
            check_pb(&vector, bytes);
            checked += 1;
        }
    }
    // 89 vectors, of which 3 are unsendable.
    assert_eq!(checked, 86);
}

#[test]
fn none_dialect_bytes_round_trip_exactly_and_agree_with_pb() {
    let mut checked = 0;
    for vector in vectors() {
        let Some(bytes) = &vector.none else { continue };
        let frames = decode_all(bytes, Dialect::None, Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        assert_eq!(
            reencode(&frames, |_| Dialect::None),
            *bytes,
            "{}: none re-encoding differs",
            vector.name
        );
        let pb = vector
            .pb
            .as_ref()
            .expect("a none encoding implies a pb one");
        let pb_frames = check_pb(&vector, pb);
        assert!(
            all_same(&frames, &pb_frames),
            "{}: the dialects decode differently",
            vector.name
        );
        checked += 1;
    }
    assert_eq!(checked, 75);
}

#[test]
fn pb_bytes_are_refused_in_none_dialect_exactly_when_they_use_vocab() {
    for vector in vectors() {
        let (Some(pb), Some(none)) = (&vector.pb, &vector.none) else {
            continue;
        };
        let result = decode_all(pb, Dialect::None, Limits::default());
        assert_eq!(result.is_err(), pb != none, "{}", vector.name);
    }
}

#[test]
fn too_large_int_vector_is_refused_and_writes_nothing() {
    let vector = vectors()
        .into_iter()
        .find(|v| v.name == "int_2**448_too_large")
        .expect("the vector exists");
    assert!(vector.pb.is_none() && vector.none.is_none());
    let value: BigInt = vector.decoded_repr.parse().expect("a decimal integer");
    assert_eq!(value, BigInt::from(1) << 448);
    for dialect in Dialect::DEFAULT_OFFER {
        for value in [value.clone(), -value.clone()] {
            let mut out = vec![0xaa];
            let result = Encoder::new(dialect).encode(&Sexp::from(value), &mut out);
            assert!(matches!(result, Err(EncodeError::IntTooLarge { .. })));
            assert_eq!(out, [0xaa], "nothing appended");
        }
    }
}
