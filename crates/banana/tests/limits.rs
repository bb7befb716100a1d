//! Each limit and each malformation gives its own error, and the decoder
//! is usable again afterwards.

use bytes::BytesMut;
use spread_banana::{
    DecodeError, Decoder, Dialect, EncodeError, Encoder, Limits, Sexp, decode_all,
};

fn decode_one(bytes: &[u8], dialect: Dialect, limits: Limits) -> Result<Option<Sexp>, DecodeError> {
    let mut decoder = Decoder::new(limits).with_dialect(dialect);
    let mut buf = BytesMut::from(bytes);
    decoder.decode(&mut buf)
}

fn pb(bytes: &[u8]) -> Result<Option<Sexp>, DecodeError> {
    decode_one(bytes, Dialect::Pb, Limits::default())
}

/// The base-128 header for `value`, as Twisted's `int2b128` writes it.
fn header(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        out.push((value & 0x7f) as u8);
        value >>= 7;
        if value == 0 {
            return out;
        }
    }
}

fn token(value: u64, type_byte: u8) -> Vec<u8> {
    let mut out = header(value);
    out.push(type_byte);
    out
}

#[test]
fn default_limits_are_twisted_plus_ours() {
    let limits = Limits::default();
    assert_eq!(limits.max_prefix_len, 64);
    assert_eq!(limits.max_string_len, 655_360);
    assert_eq!(limits.max_list_len, 655_360);
    assert_eq!(limits.max_depth, 512);
    assert_eq!(limits.max_expression_len, 16 * 1024 * 1024);
    assert_eq!(Limits::new(), limits);
}

#[test]
fn prefix_of_65_bytes_without_type_byte_is_refused() {
    assert_eq!(pb(&[0x01; 64]), Ok(None), "64 bytes may still be a header");
    assert_eq!(
        pb(&[0x01; 65]),
        Err(DecodeError::PrefixTooLong { limit: 64 })
    );
}

#[test]
fn prefix_of_65_bytes_before_type_byte_is_refused() {
    let mut bytes = vec![0x7f; 65];
    bytes.push(0x85);
    assert_eq!(pb(&bytes), Err(DecodeError::PrefixTooLong { limit: 64 }));
    // FLOAT ignores its header, but the limit still applies to it.
    let mut bytes = vec![0x00; 65];
    bytes.push(0x84);
    bytes.extend_from_slice(&[0; 8]);
    assert_eq!(pb(&bytes), Err(DecodeError::PrefixTooLong { limit: 64 }));
}

#[test]
fn prefix_of_exactly_64_bytes_is_accepted() {
    let mut bytes = vec![0x00; 64];
    bytes.push(0x84);
    bytes.extend_from_slice(&1.5f64.to_be_bytes());
    assert_eq!(pb(&bytes), Ok(Some(Sexp::Float(1.5))));
    let mut bytes = vec![0x7f; 64];
    bytes.push(0x85);
    let expected = (num_bigint::BigInt::from(1) << 448) - 1;
    assert_eq!(pb(&bytes), Ok(Some(Sexp::BigInt(expected))));
}

#[test]
fn custom_prefix_limit_is_exact() {
    let limits = Limits::default().max_prefix_len(2);
    assert_eq!(
        decode_one(&[0, 1, 0x81], Dialect::None, limits),
        Ok(Some(Sexp::Int(128)))
    );
    assert_eq!(
        decode_one(&[0, 0, 1, 0x81], Dialect::None, limits),
        Err(DecodeError::PrefixTooLong { limit: 2 })
    );
    assert_eq!(
        decode_one(&[0, 0, 1], Dialect::None, limits),
        Err(DecodeError::PrefixTooLong { limit: 2 })
    );
}

#[test]
fn oversized_string_and_list_headers_are_refused_before_payload() {
    let over = token(655_361, 0x82);
    assert_eq!(
        pb(&over),
        Err(DecodeError::StringTooLong {
            len: 655_361,
            limit: 655_360
        })
    );
    let over = token(655_361, 0x80);
    assert_eq!(
        pb(&over),
        Err(DecodeError::ListTooLong {
            len: 655_361,
            limit: 655_360
        })
    );
    // Twisted's test_oversizedString / test_oversizedList. Its comment reads
    // the header as 0x0101010102 (about 4.3e9); in base 128 it is 270 549 122.
    let announced = 2 + 128 + 128u64.pow(2) + 128u64.pow(3) + 128u64.pow(4);
    assert_eq!(announced, 270_549_122);
    assert_eq!(
        pb(&[0x02, 0x01, 0x01, 0x01, 0x01, 0x82]),
        Err(DecodeError::StringTooLong {
            len: announced,
            limit: 655_360
        })
    );
    assert_eq!(
        pb(&[0x02, 0x01, 0x01, 0x01, 0x01, 0x80]),
        Err(DecodeError::ListTooLong {
            len: announced,
            limit: 655_360
        })
    );
    // Twisted's test_crashString: 2^30 elements, refused rather than allocated.
    assert!(matches!(
        pb(&[0x00, 0x00, 0x00, 0x00, 0x04, 0x80]),
        Err(DecodeError::ListTooLong {
            len: 0x4000_0000,
            ..
        })
    ));
    // Lengths beyond u64 saturate.
    let mut huge = vec![0x7f; 64];
    huge.push(0x82);
    assert!(matches!(
        pb(&huge),
        Err(DecodeError::StringTooLong { len: u64::MAX, .. })
    ));
}

#[test]
fn string_of_exactly_the_limit_is_waited_for_then_accepted() {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(&token(655_360, 0x82)[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(
        buf.capacity() >= 4 + 655_360,
        "room reserved for the payload"
    );
    buf.extend_from_slice(&vec![b'x'; 655_359]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"y");
    let Ok(Some(Sexp::Bytes(bytes))) = decoder.decode(&mut buf) else {
        panic!("expected a byte string");
    };
    assert_eq!(bytes.len(), 655_360);
    assert_eq!(bytes.last(), Some(&b'y'));
    assert!(buf.is_empty());
}

#[test]
fn list_of_exactly_the_limit_is_accepted() {
    let mut bytes = token(655_360, 0x80);
    bytes.extend(std::iter::repeat_n(0x81, 655_360));
    let frames = decode_all(&bytes, Dialect::Pb, Limits::default()).unwrap();
    assert_eq!(frames[0].as_list().map(<[Sexp]>::len), Some(655_360));
}

#[test]
fn encoder_size_limits_are_inclusive_and_leave_nothing_behind() {
    let encoder = Encoder::new(Dialect::Pb);
    let mut out = Vec::new();
    let at_limit = Sexp::from(vec![0u8; 655_360]);
    encoder.encode(&at_limit, &mut out).unwrap();
    assert_eq!(out.len(), 4 + 655_360);

    let over = Sexp::list([Sexp::from(1), Sexp::from(vec![0u8; 655_361])]);
    assert_eq!(
        encoder.encode(&over, &mut out),
        Err(EncodeError::StringTooLong {
            len: 655_361,
            limit: 655_360
        })
    );
    assert_eq!(out.len(), 4 + 655_360, "the failed list left nothing");

    let at_limit = Sexp::List(vec![Sexp::Int(0); 655_360]);
    out.clear();
    encoder.encode(&at_limit, &mut out).unwrap();
    let over = Sexp::list([Sexp::List(vec![Sexp::Int(0); 655_361])]);
    let before = out.clone();
    assert_eq!(
        encoder.encode(&over, &mut out),
        Err(EncodeError::ListTooLong {
            len: 655_361,
            limit: 655_360
        })
    );
    assert_eq!(out, before);
}

fn nested(depth: usize) -> Vec<u8> {
    let mut bytes = [0x01, 0x80].repeat(depth - 1);
    bytes.push(0x80);
    bytes
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let frames = decode_all(&nested(512), Dialect::Pb, Limits::default()).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(
        decode_all(&nested(513), Dialect::Pb, Limits::default()),
        Err(DecodeError::NestingTooDeep { limit: 512 })
    );
    let limits = Limits::default().max_depth(3);
    assert!(decode_all(&nested(3), Dialect::Pb, limits).is_ok());
    assert_eq!(
        decode_all(&nested(4), Dialect::Pb, limits),
        Err(DecodeError::NestingTooDeep { limit: 3 })
    );
    // The encoder refuses what the decoder would refuse.
    let encoder = Encoder::new(Dialect::Pb).with_limits(limits);
    let deep = Sexp::list([Sexp::list([Sexp::list([Sexp::list([])])])]);
    let mut out = Vec::new();
    assert_eq!(
        encoder.encode(&deep, &mut out),
        Err(EncodeError::NestingTooDeep { limit: 3 })
    );
    assert!(out.is_empty());
}

#[test]
fn expression_longer_than_the_limit_is_refused() {
    // A list of five ints: 2 + 5 * 2 = 12 bytes.
    let mut bytes = vec![0x05, 0x80];
    bytes.extend([0x01, 0x81].repeat(5));
    let limits = Limits::default().max_expression_len(12);
    assert_eq!(
        decode_all(&bytes, Dialect::Pb, limits).map(|f| f.len()),
        Ok(1)
    );
    let limits = Limits::default().max_expression_len(11);
    assert_eq!(
        decode_all(&bytes, Dialect::Pb, limits),
        Err(DecodeError::ExpressionTooLong { limit: 11 })
    );
    // The limit is per expression: two 12-byte frames fit a 12-byte limit.
    let twice = [bytes.clone(), bytes].concat();
    let limits = Limits::default().max_expression_len(12);
    assert_eq!(
        decode_all(&twice, Dialect::Pb, limits).map(|f| f.len()),
        Ok(2)
    );
    // A string is refused on its announced length, before its payload.
    let limits = Limits::default().max_expression_len(100);
    assert_eq!(
        decode_one(&token(99, 0x82), Dialect::Pb, limits),
        Err(DecodeError::ExpressionTooLong { limit: 100 })
    );
    assert_eq!(decode_one(&token(98, 0x82), Dialect::Pb, limits), Ok(None));
}

#[test]
fn expression_of_more_tokens_than_the_limit_is_refused() {
    // A list of five ints is six tokens, however the frames are cut.
    let mut bytes = vec![0x05, 0x80];
    bytes.extend([0x01, 0x81].repeat(5));
    let limits = Limits::default().max_tokens(6);
    let twice = [bytes.clone(), bytes.clone()].concat();
    assert_eq!(
        decode_all(&twice, Dialect::Pb, limits).map(|f| f.len()),
        Ok(2)
    );
    let limits = Limits::default().max_tokens(5);
    assert_eq!(
        decode_all(&bytes, Dialect::Pb, limits),
        Err(DecodeError::TooManyTokens { limit: 5 })
    );
    // Empty lists are two bytes each: the byte limit alone would let a
    // frame hold eight million of them.
    let mut empties = token(300_000, 0x80);
    empties.extend([0x00, 0x80].repeat(300_000));
    let limits = Limits::default().max_tokens(100_000);
    assert_eq!(
        decode_all(&empties, Dialect::Pb, limits),
        Err(DecodeError::TooManyTokens { limit: 100_000 })
    );
}

#[test]
fn unknown_type_bytes_are_refused() {
    for byte in 0x88..=0xff {
        assert_eq!(pb(&[byte]), Err(DecodeError::UnknownTypeByte { byte }));
        assert_eq!(
            pb(&[0x05, byte]),
            Err(DecodeError::UnknownTypeByte { byte })
        );
    }
}

#[test]
fn unknown_vocab_indexes_are_refused() {
    for index in [0, 32, 122] {
        assert_eq!(
            pb(&token(index, 0x87)),
            Err(DecodeError::UnknownVocabIndex { index })
        );
    }
    for index in 1..=31 {
        assert!(matches!(pb(&token(index, 0x87)), Ok(Some(Sexp::Bytes(_)))));
    }
}

#[test]
fn vocab_in_none_dialect_is_refused() {
    let none = decode_one(&[0x10, 0x87], Dialect::None, Limits::default());
    assert_eq!(none, Err(DecodeError::VocabWithoutDialect { index: 16 }));
    // Inside a list too.
    let none = decode_one(&[0x01, 0x80, 0x08, 0x87], Dialect::None, Limits::default());
    assert_eq!(none, Err(DecodeError::VocabWithoutDialect { index: 8 }));
}

#[test]
fn truncated_float_and_string_wait_then_complete() {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(&[0x84, 0x3f, 0xf8, 0x00][..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    buf.extend_from_slice(&[0; 5]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::Float(1.5))));

    buf.extend_from_slice(&[0x05, 0x82, b'h', b'e']);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"llo");
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::from("hello"))));
    assert!(buf.is_empty());
}

#[test]
fn decoder_is_clean_after_every_kind_of_error() {
    let bad: [&[u8]; 8] = [
        &[0x01; 65],
        &[0x02, 0x01, 0x01, 0x01, 0x01, 0x82],
        &[0x02, 0x01, 0x01, 0x01, 0x01, 0x80],
        &[0x02, 0x80, 0x01, 0x81, 0x88],
        &[0x03, 0x80, 0x00, 0x87],
        &[0x03, 0x80, 0x01, 0x81, 0x7a, 0x87],
        &[0x01, 0x80, 0x01, 0x80, 0x01, 0x80, 0x80],
        &[0x03, 0x80, 0x01, 0x81, 0x01, 0x81, 0x01, 0x81],
    ];
    let limits = Limits::default().max_depth(3).max_expression_len(6);
    for bytes in bad {
        for dialect in Dialect::KNOWN {
            let mut decoder = Decoder::new(limits).with_dialect(dialect);
            let mut buf = BytesMut::from(bytes);
            assert!(decoder.decode(&mut buf).is_err(), "{bytes:02x?}");
            assert!(buf.is_empty(), "the unusable stream is discarded");
            assert!(!decoder.is_mid_expression());
            buf.extend_from_slice(&[0x01, 0x81]);
            assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::Int(1))));
        }
    }
}

#[test]
fn decode_all_reports_truncated_input() {
    for bytes in [
        &[0x02, 0x80, 0x01, 0x81][..],
        &[0x05, 0x82, b'h'],
        &[0x01],
        &[0x84],
    ] {
        assert_eq!(
            decode_all(bytes, Dialect::Pb, Limits::default()),
            Err(DecodeError::Incomplete)
        );
    }
}

#[test]
fn error_messages_are_lowercase_sentences_without_period() {
    let errors = [
        DecodeError::UnknownTypeByte { byte: 0x88 }.to_string(),
        DecodeError::PrefixTooLong { limit: 64 }.to_string(),
        DecodeError::VocabWithoutDialect { index: 1 }.to_string(),
        EncodeError::NestingTooDeep { limit: 1 }.to_string(),
    ];
    assert_eq!(errors[0], "unknown type byte 0x88");
    for message in errors {
        assert!(!message.ends_with('.'));
        assert!(message.starts_with(|c: char| c.is_lowercase()), "{message}");
    }
}
