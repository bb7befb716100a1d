//! Property tests: round trips of arbitrary expressions, arbitrary input.

use bytes::{Bytes, BytesMut};
use num_bigint::{BigInt, BigUint, Sign};
use proptest::prelude::*;
use proptest::sample::Index;
use spread_banana::{Decoder, Dialect, Encoder, Limits, Sexp, VOCABULARY, decode_all};

use crate::support::{all_same, same};

/// Integers of up to 448 bits, the most Banana carries, either sign.
fn big_int() -> impl Strategy<Value = Sexp> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..=56)).prop_map(|(negative, bytes)| {
        let sign = if negative { Sign::Minus } else { Sign::Plus };
        Sexp::from(BigInt::from_biguint(sign, BigUint::from_bytes_le(&bytes)))
    })
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        // Every bit pattern, signalling NaNs with payloads included.
        any::<u64>().prop_map(f64::from_bits),
        Just(f64::NAN),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

fn byte_string() -> impl Strategy<Value = Sexp> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Sexp::from),
        prop::sample::select(&VOCABULARY[..]).prop_map(|w| Sexp::Bytes(Bytes::from_static(w))),
        // Near misses of vocabulary words must stay STRINGs.
        prop::sample::select(&VOCABULARY[..]).prop_map(|w| Sexp::from([w, b"x"].concat())),
    ]
}

pub(crate) fn sexp() -> impl Strategy<Value = Sexp> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Sexp::Int),
        (-3i64..3).prop_map(Sexp::Int),
        (0x7fff_fffdi64..=0x8000_0002).prop_map(Sexp::Int),
        (-0x8000_0003i64..=-0x7fff_fffe).prop_map(Sexp::Int),
        big_int(),
        float().prop_map(Sexp::Float),
        byte_string(),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop::collection::vec(inner, 0..8).prop_map(Sexp::List)
    })
}

pub(crate) fn chunked(bytes: &[u8], cuts: &[Index]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        chunks.push(bytes[start..point].to_vec());
        start = point;
    }
    chunks
}

proptest! {
    #[test]
    fn decode_inverts_encode(x in sexp()) {
        for dialect in Dialect::DEFAULT_OFFER {
            let mut out = Vec::new();
            Encoder::new(dialect).encode(&x, &mut out).unwrap();
            let back = decode_all(&out, dialect, Limits::default()).unwrap();
            prop_assert!(all_same(&back, std::slice::from_ref(&x)), "{:?} -> {:?}", x, back);
            // Same bytes however the output buffer is typed.
            let mut bytes_mut = BytesMut::new();
            Encoder::new(dialect).encode(&x, &mut bytes_mut).unwrap();
            prop_assert_eq!(&bytes_mut[..], &out[..]);
        }
    }

    #[test]
    fn chunking_does_not_matter(
        frames in prop::collection::vec(sexp(), 1..4),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        for dialect in Dialect::DEFAULT_OFFER {
            let encoder = Encoder::new(dialect);
            let mut bytes = Vec::new();
            for frame in &frames {
                encoder.encode(frame, &mut bytes).unwrap();
            }
            let mut decoder = Decoder::new(Limits::default()).with_dialect(dialect);
            let mut buf = BytesMut::new();
            let mut back = Vec::new();
            for chunk in chunked(&bytes, &cuts) {
                buf.extend_from_slice(&chunk);
                while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                    back.push(frame);
                }
            }
            prop_assert!(buf.is_empty());
            prop_assert!(all_same(&back, &frames));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        cuts in prop::collection::vec(any::<Index>(), 0..4),
    ) {
        for dialect in Dialect::DEFAULT_OFFER {
            let _ = decode_all(&bytes, dialect, Limits::default());
            let tight = Limits::default()
                .max_prefix_len(3)
                .max_depth(4)
                .max_string_len(16)
                .max_list_len(8)
                .max_expression_len(64);
            let mut decoder = Decoder::new(tight).with_dialect(dialect);
            let mut buf = BytesMut::new();
            for chunk in chunked(&bytes, &cuts) {
                buf.extend_from_slice(&chunk);
                while let Ok(Some(_)) = decoder.decode(&mut buf) {}
            }
        }
    }

    #[test]
    fn token_soup_never_panics_and_valid_prefixes_reencode(
        bytes in prop::collection::vec(
            prop_oneof![0x00u8..0x04, Just(0x7f), 0x80u8..=0x88, any::<u8>()],
            0..128,
        ),
    ) {
        for dialect in Dialect::DEFAULT_OFFER {
            let mut decoder = Decoder::new(Limits::default()).with_dialect(dialect);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(frame)) = decoder.decode(&mut buf) {
                // Whatever decodes, encodes, and decodes back to itself.
                let mut out = Vec::new();
                Encoder::new(dialect).encode(&frame, &mut out).unwrap();
                let back = decode_all(&out, dialect, Limits::default()).unwrap();
                prop_assert!(same(&back[0], &frame));
            }
        }
    }
}
