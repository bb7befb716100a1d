//! Twisted's `twisted/spread/test/test_banana.py`, ported.
//!
//! Expected bytes below were produced by Twisted 26.10's `banana.encode`.
//! The `test_unsupported*` cases have no port: a Rust `Sexp` cannot hold
//! text, types or arbitrary objects, so the type system refuses them.

use bytes::BytesMut;
use num_bigint::BigInt;
use spread_banana::{
    DecodeError, Decoder, Dialect, EncodeError, Encoder, Limits, Sexp, decode_all, encode_to_vec,
};

use crate::support::{all_same, same, unhex};

fn round_trip(x: &Sexp) -> Sexp {
    let bytes = encode_to_vec(x, Dialect::None).unwrap();
    let mut frames = decode_all(&bytes, Dialect::None, Limits::default()).unwrap();
    assert_eq!(frames.len(), 1);
    frames.remove(0)
}

fn big(n: impl Into<BigInt>) -> Sexp {
    Sexp::from(n.into())
}

/// `MathTests.test_int2b128`: headers round-trip, and are as short as
/// Twisted's `int2b128` makes them.
#[test]
fn int2b128() {
    let values = (0..100).chain(1000..1100).chain(1_000_000..1_000_100);
    for n in values {
        let bytes = encode_to_vec(&Sexp::Int(n), Dialect::None).unwrap();
        let groups = (64 - n.leading_zeros()).div_ceil(7).max(1) as usize;
        assert_eq!(bytes.len(), groups + 1, "{n}");
        assert_eq!(round_trip(&Sexp::Int(n)), Sexp::Int(n));
    }
    // 1024**10 = 2^100: fourteen zero groups, then 4 (Twisted 26.10).
    let value = big(BigInt::from(1) << 100);
    let expected = unhex("0000000000000000000000000000 04 85");
    assert_eq!(encode_to_vec(&value, Dialect::None).unwrap(), expected);
    assert_eq!(round_trip(&value), value);
}

/// `test_string`, `test_int`, `test_integer`, `test_negative`, `test_float`,
/// `test_crashNegativeLong`.
#[test]
fn atoms_round_trip() {
    for x in [
        Sexp::from("hello"),
        Sexp::Int(10151),
        Sexp::Int(1015),
        Sexp::Int(-1015),
        Sexp::Float(1015.0),
        Sexp::Int(-2_147_483_648),
    ] {
        assert!(same(&round_trip(&x), &x), "{x:?}");
    }
    assert_eq!(
        encode_to_vec(&Sexp::Int(-2_147_483_648), Dialect::None).unwrap(),
        [0x00, 0x00, 0x00, 0x00, 0x08, 0x83]
    );
}

/// `test_encodeTooLargeLong` / `test_encodeTooSmallLong`: ±2^448 is refused.
#[test]
fn encode_too_large_or_small_long() {
    let smallest: BigInt = BigInt::from(1) << 448;
    for value in [smallest.clone(), -smallest] {
        let mut out = Vec::new();
        let result = Encoder::new(Dialect::None).encode(&big(value.clone()), &mut out);
        assert_eq!(result, Err(EncodeError::IntTooLarge { value }));
        assert!(out.is_empty());
    }
    // One less in magnitude is the largest that fits.
    let largest: BigInt = (BigInt::from(1) << 448) - 1;
    for value in [largest.clone(), -largest] {
        let x = big(value);
        assert_eq!(round_trip(&x), x);
    }
}

/// `test_decodeTooLargeLong` / `test_decodeTooSmallLong`: encoded with twice
/// the prefix limit, refused by a decoder with the normal one.
#[test]
fn decode_too_large_or_small_long() {
    let doubled = Limits::default().max_prefix_len(128);
    let smallest: BigInt = BigInt::from(1) << 448;
    for value in [smallest.clone(), -smallest] {
        let mut bytes = Vec::new();
        Encoder::new(Dialect::None)
            .with_limits(doubled)
            .encode(&big(value.clone()), &mut bytes)
            .unwrap();
        assert_eq!(bytes.len(), 65 + 1);
        assert_eq!(
            decode_all(&bytes, Dialect::None, Limits::default()),
            Err(DecodeError::PrefixTooLong { limit: 64 })
        );
        assert_eq!(
            decode_all(&bytes, Dialect::None, doubled),
            Ok(vec![big(value)])
        );
    }
}

fn test_list_value() -> Sexp {
    Sexp::list([
        Sexp::from(1),
        Sexp::from(2),
        Sexp::list([Sexp::from(3), Sexp::from(4)]),
        Sexp::list([Sexp::from(30.5), Sexp::from(40.2)]),
        Sexp::from(5),
        Sexp::list([
            Sexp::from("six"),
            Sexp::from("seven"),
            Sexp::list([Sexp::from("eight"), Sexp::from(9)]),
        ]),
        Sexp::list([Sexp::from(10)]),
        Sexp::list([]),
    ])
}

/// `test_list`, with the bytes Twisted 26.10 writes for it.
#[test]
fn list() {
    let expected = unhex(
        "08 80 01 81 02 81 02 80 03 81 04 81 02 80 84 40 3e 80 00 00 00 00 00 \
         84 40 44 19 99 99 99 99 9a 05 81 03 80 03 82 73 69 78 05 82 73 65 76 65 6e \
         02 80 05 82 65 69 67 68 74 09 81 01 80 0a 81 00 80",
    );
    let value = test_list_value();
    assert_eq!(encode_to_vec(&value, Dialect::None).unwrap(), expected);
    assert_eq!(round_trip(&value), value);
}

/// `test_partial`: the same kind of data fed one byte at a time, including
/// `sys.maxsize * 3`, `sys.maxsize * 2` and `sys.maxsize * -2`.
#[test]
fn partial() {
    let max = BigInt::from(i64::MAX);
    let Sexp::List(mut items) = test_list_value() else {
        unreachable!()
    };
    items.pop();
    items.extend([big(&max * 3), big(&max * 2), big(&max * -2)]);
    let value = Sexp::List(items);
    // Twisted 26.10's bytes for the same list.
    let expected = unhex(
        "0a 80 01 81 02 81 02 80 03 81 04 81 02 80 84 40 3e 80 00 00 00 00 00 \
         84 40 44 19 99 99 99 99 9a 05 81 03 80 03 82 73 69 78 05 82 73 65 76 65 6e \
         02 80 05 82 65 69 67 68 74 09 81 01 80 0a 81 \
         7d 7f 7f 7f 7f 7f 7f 7f 7f 02 85 7e 7f 7f 7f 7f 7f 7f 7f 7f 01 85 \
         7e 7f 7f 7f 7f 7f 7f 7f 7f 01 86",
    );
    assert_eq!(encode_to_vec(&value, Dialect::None).unwrap(), expected);

    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for &byte in &expected {
        buf.extend_from_slice(&[byte]);
        if let Some(frame) = decoder.decode(&mut buf).unwrap() {
            frames.push(frame);
        }
    }
    assert!(all_same(&frames, &[value]));
}

/// Feeds `bytes` one at a time, as Twisted's `feed` does, and returns the
/// error the last byte causes.
fn feed_error(bytes: &[u8]) -> DecodeError {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::new();
    let (last, head) = bytes.split_last().unwrap();
    for &byte in head {
        buf.extend_from_slice(&[byte]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
    }
    buf.extend_from_slice(&[*last]);
    decoder.decode(&mut buf).unwrap_err()
}

/// `test_oversizedList`, `test_oversizedString` and `test_crashString`.
#[test]
fn oversized_headers() {
    assert!(matches!(
        feed_error(&[0x02, 0x01, 0x01, 0x01, 0x01, 0x80]),
        DecodeError::ListTooLong { .. }
    ));
    assert!(matches!(
        feed_error(&[0x02, 0x01, 0x01, 0x01, 0x01, 0x82]),
        DecodeError::StringTooLong { .. }
    ));
    assert!(matches!(
        feed_error(&[0x00, 0x00, 0x00, 0x00, 0x04, 0x80]),
        DecodeError::ListTooLong { .. }
    ));
}

/// `test_sizedIntegerTypes`: the INT/LONGINT and NEG/LONGNEG boundaries.
#[test]
fn sized_integer_types() {
    // Bytes from Twisted 26.10's `banana.encode(n)`.
    let table: [(i64, &str); 14] = [
        (2_147_483_644, "7c 7f 7f 7f 07 81"),
        (2_147_483_645, "7d 7f 7f 7f 07 81"),
        (2_147_483_646, "7e 7f 7f 7f 07 81"),
        (2_147_483_647, "7f 7f 7f 7f 07 81"),
        (2_147_483_648, "00 00 00 00 08 85"),
        (2_147_483_649, "01 00 00 00 08 85"),
        (2_147_483_650, "02 00 00 00 08 85"),
        (-2_147_483_651, "03 00 00 00 08 86"),
        (-2_147_483_650, "02 00 00 00 08 86"),
        (-2_147_483_649, "01 00 00 00 08 86"),
        (-2_147_483_648, "00 00 00 00 08 83"),
        (-2_147_483_647, "7f 7f 7f 7f 07 83"),
        (-2_147_483_646, "7e 7f 7f 7f 07 83"),
        (-2_147_483_645, "7d 7f 7f 7f 07 83"),
    ];
    for (n, hex) in table {
        let expected = unhex(hex);
        assert_eq!(
            encode_to_vec(&Sexp::Int(n), Dialect::Pb).unwrap(),
            expected,
            "{n}"
        );
        // A non-canonical BigInt gets the same bytes.
        let non_canonical = Sexp::BigInt(BigInt::from(n));
        assert_eq!(
            encode_to_vec(&non_canonical, Dialect::Pb).unwrap(),
            expected
        );
        assert_eq!(
            decode_all(&expected, Dialect::Pb, Limits::default()),
            Ok(vec![Sexp::Int(n)])
        );
    }
}

/// Decoding does not check ranges per class (not a Twisted test, but its
/// behaviour): a small LONGINT, a NEG of zero, an empty header.
#[test]
fn classes_are_not_range_checked_on_decode() {
    let cases: [(&[u8], Sexp); 6] = [
        (&[0x05, 0x85], Sexp::Int(5)),
        (&[0x00, 0x83], Sexp::Int(0)),
        (&[0x00, 0x86], Sexp::Int(0)),
        (&[0x81], Sexp::Int(0)),
        (&[0x80], Sexp::list([])),
        (
            &[
                0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x81,
            ],
            { big((BigInt::from(1) << 71) - 1) },
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            decode_all(bytes, Dialect::Pb, Limits::default()),
            Ok(vec![expected])
        );
    }
    // i64 edges come out canonical.
    let min = encode_to_vec(&Sexp::Int(i64::MIN), Dialect::Pb).unwrap();
    assert_eq!(
        decode_all(&min, Dialect::Pb, Limits::default()),
        Ok(vec![Sexp::Int(i64::MIN)])
    );
    let past_max = big(BigInt::from(i64::MAX) + 1);
    let bytes = encode_to_vec(&past_max, Dialect::Pb).unwrap();
    assert_eq!(
        decode_all(&bytes, Dialect::Pb, Limits::default()),
        Ok(vec![past_max])
    );
}

/// `DialectTests`: VOCAB before a dialect, in `pb`, unknown, and on send.
#[test]
fn dialects() {
    let remote = [0x10, 0x87];
    // test_dialectNotSet: a new decoder has no vocabulary.
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(&remote[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::VocabWithoutDialect { index: 16 })
    );
    // test_receivePb
    decoder.set_dialect(Dialect::Pb);
    buf.extend_from_slice(&remote);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::from("remote"))));
    // test_receiveIllegalPb
    buf.extend_from_slice(&[122, 0x87]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::UnknownVocabIndex { index: 122 })
    );
    // test_sendPb
    assert_eq!(
        encode_to_vec(&Sexp::from("remote"), Dialect::Pb).unwrap(),
        remote
    );
    assert_eq!(
        encode_to_vec(&Sexp::from("remote"), Dialect::None).unwrap(),
        b"\x06\x82remote"
    );
}

/// `GlobalCoderTests.test_statelessDecode`: a failed decode of 2^455 - 1
/// (65 header bytes) does not poison the next decode of `01 81`.
#[test]
fn stateless_decode() {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(&[0x7f; 65][..]);
    buf.extend_from_slice(&[0x85]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(DecodeError::PrefixTooLong { limit: 64 })
    );
    buf.extend_from_slice(&[0x01, 0x81]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::Int(1))));
}
