//! The msgpack dialect: exact bytes, round trips, splits, every limit and
//! every malformation.

use bytes::{Bytes, BytesMut};
use num_bigint::BigInt;
use proptest::prelude::*;
use proptest::sample::Index;
use spread_banana::{
    DecodeError, Decoder, Dialect, EncodeError, Encoder, Limits, Sexp, TokenDecoder, decode_all,
};

use crate::proptests::{chunked, sexp};
use crate::support::{AnyDecoder, Event, all_same, assert_same_events, decode_chunks, feed, same};

const MSGPACK: Dialect = Dialect::Msgpack;

fn encode(sexp: &Sexp) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(MSGPACK).encode(sexp, &mut out).unwrap();
    out
}

/// A frame around a hand-written MessagePack body.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The first expression of `bytes`, or the error, from a [`Decoder`];
/// a [`TokenDecoder`] must agree on all of `bytes`, whole and fed one byte
/// at a time.
fn decode_with(bytes: &[u8], limits: Limits) -> Result<Option<Sexp>, DecodeError> {
    agree(&[bytes], limits);
    agree(&bytes.chunks(1).collect::<Vec<_>>(), limits);
    let mut decoder = Decoder::new(limits).with_dialect(MSGPACK);
    decoder.decode(&mut BytesMut::from(bytes))
}

/// Feeds `chunks` to both decoders in msgpack; they must agree call for
/// call. Returns what they gave.
fn agree(chunks: &[&[u8]], limits: Limits) -> Vec<Event> {
    let [tree, tokens] =
        AnyDecoder::both(limits, MSGPACK).map(|d| feed(d, chunks.iter().copied(), |_| MSGPACK));
    assert_same_events(&tree, &tokens);
    tree
}

/// The expressions both decoders give for `bytes` fed in chunks of `size`.
fn agreed_frames(bytes: &[u8], size: usize, limits: Limits) -> Vec<Sexp> {
    agree(&bytes.chunks(size).collect::<Vec<_>>(), limits)
        .into_iter()
        .filter_map(|event| match event {
            Event::Frame(sexp) => Some(sexp),
            Event::Error(e) => panic!("{e}"),
            Event::Waiting { .. } => None,
        })
        .collect()
}

fn decode_body(body: &[u8]) -> Result<Option<Sexp>, DecodeError> {
    decode_with(&frame(body), Limits::default())
}

fn big(s: &str) -> Sexp {
    Sexp::from(s.parse::<BigInt>().unwrap())
}

fn pow2(bits: u32) -> BigInt {
    BigInt::from(1) << bits
}

#[test]
fn name_and_offer() {
    assert_eq!(MSGPACK.name(), b"spread-msgpack");
    assert_eq!(Dialect::from_name(b"spread-msgpack"), Some(MSGPACK));
    assert_eq!(Dialect::from_name(b"msgpack"), None);
    assert!(!MSGPACK.has_vocabulary());
    assert_eq!(
        Dialect::DEFAULT_OFFER,
        [Dialect::Msgpack, Dialect::Pb, Dialect::None]
    );
    assert_eq!(Dialect::KNOWN, [Dialect::Pb, Dialect::None]);
}

#[test]
fn exact_bytes_of_each_form() {
    let version = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
    assert_eq!(
        encode(&version),
        frame(&[
            0x92, 0xc4, 0x07, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x06
        ])
    );
    let cases: Vec<(Sexp, Vec<u8>)> = vec![
        (Sexp::list([]), vec![0x90]),
        (Sexp::from(0), vec![0x00]),
        (Sexp::from(127), vec![0x7f]),
        (Sexp::from(128), vec![0xcc, 0x80]),
        (Sexp::from(-1), vec![0xff]),
        (Sexp::from(-32), vec![0xe0]),
        (Sexp::from(-33), vec![0xd0, 0xdf]),
        (Sexp::from(i64::MIN), vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (Sexp::from(pow2(63)), vec![0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (
            Sexp::from(pow2(64) - 1),
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        // Past u64: ext type 1, two's complement big-endian, shortest.
        (
            Sexp::from(pow2(64)),
            vec![0xc7, 0x09, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
        (
            Sexp::from(-pow2(63) - 1),
            vec![
                0xc7, 0x09, 0x01, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        ),
        (Sexp::from(1.5), vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
        (Sexp::from(-0.0), vec![0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        (Sexp::from(""), vec![0xc4, 0x00]),
        // No vocabulary: words travel whole.
        (Sexp::from("list"), vec![0xc4, 0x04, b'l', b'i', b's', b't']),
    ];
    for (sexp, body) in cases {
        assert_eq!(encode(&sexp), frame(&body), "{sexp:?}");
        let back = decode_body(&body).unwrap().unwrap();
        assert!(same(&back, &sexp), "{sexp:?} came back as {back:?}");
    }
}

/// Values at every boundary of every MessagePack format we use.
fn edge_values() -> Vec<Sexp> {
    let mut values = vec![Sexp::list([]), Sexp::list([Sexp::list([Sexp::list([])])])];
    for n in [
        0i64,
        1,
        -1,
        31,
        32,
        -32,
        -33,
        127,
        128,
        -128,
        -129,
        255,
        256,
        i16::MAX.into(),
        i16::MIN.into(),
        65_535,
        65_536,
        i32::MAX.into(),
        i32::MIN.into(),
        u32::MAX.into(),
        1 << 32,
        i64::MAX,
        i64::MIN,
    ] {
        values.push(Sexp::from(n));
    }
    for bits in [63, 64, 65, 100, 447, 448] {
        let n = pow2(bits);
        for m in [
            n.clone() - 1,
            n.clone(),
            n.clone() + 1,
            -n.clone() + 1,
            -n.clone(),
            -n - 1,
        ] {
            if m.bits() <= 448 {
                values.push(Sexp::from(m));
            }
        }
    }
    for bits in [
        0u64,
        0x8000_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        // Quiet and signalling NaNs with payloads.
        0x7ff8_0000_0000_0000,
        0x7ff0_0000_0000_0001,
        0xfff8_dead_beef_0001,
        0x0000_0000_0000_0001,
    ] {
        values.push(Sexp::Float(f64::from_bits(bits)));
    }
    for len in [0usize, 1, 31, 32, 255, 256, 65_535, 65_536] {
        values.push(Sexp::from(vec![0xa5; len]));
    }
    for len in [15usize, 16, 65_535, 65_536] {
        values.push(Sexp::List(vec![Sexp::from(1); len]));
    }
    values
}

#[test]
fn every_form_round_trips_bit_for_bit() {
    let values = edge_values();
    let mut stream = Vec::new();
    for value in &values {
        let bytes = encode(value);
        let back = decode_all(&bytes, MSGPACK, Limits::default()).unwrap();
        assert!(all_same(&back, std::slice::from_ref(value)), "{value:?}");
        // Same bytes into a BytesMut.
        let mut bytes_mut = BytesMut::new();
        Encoder::new(MSGPACK).encode(value, &mut bytes_mut).unwrap();
        assert_eq!(&bytes_mut[..], &bytes[..]);
        stream.extend_from_slice(&bytes);
    }
    // And all of them as one stream, through both decoders, in chunks.
    let back = decode_all(&stream, MSGPACK, Limits::default()).unwrap();
    assert!(all_same(&back, &values));
    for size in [stream.len(), 4096, 7] {
        let back = agreed_frames(&stream, size, Limits::default());
        assert!(all_same(&back, &values), "chunks of {size}");
    }
}

#[test]
fn nan_payloads_survive() {
    for bits in [
        0x7ff0_0000_0000_0001u64,
        0x7ff4_0000_0000_0000,
        0xfff8_dead_beef_0001,
        0x7fff_ffff_ffff_ffff,
    ] {
        let bytes = encode(&Sexp::Float(f64::from_bits(bits)));
        match decode_all(&bytes, MSGPACK, Limits::default()).unwrap()[..] {
            [Sexp::Float(x)] => assert_eq!(x.to_bits(), bits),
            ref other => panic!("{other:?}"),
        }
        match agreed_frames(&bytes, 1, Limits::default())[..] {
            [Sexp::Float(x)] => assert_eq!(x.to_bits(), bits),
            ref other => panic!("{other:?}"),
        }
    }
}

#[test]
fn integers_come_back_canonical() {
    // Over-long encodings are read by value.
    assert_eq!(
        decode_body(&[0xd3, 0, 0, 0, 0, 0, 0, 0, 5]),
        Ok(Some(Sexp::Int(5)))
    );
    assert_eq!(
        decode_body(&[0xcf, 0, 0, 0, 0, 0, 0, 0, 5]),
        Ok(Some(Sexp::Int(5)))
    );
    // An ext holding a small value is still an Int.
    assert_eq!(decode_body(&[0xd4, 0x01, 0x05]), Ok(Some(Sexp::Int(5))));
    assert_eq!(decode_body(&[0xd4, 0x01, 0xff]), Ok(Some(Sexp::Int(-1))));
    // Sign-extended, longer than needed.
    assert_eq!(
        decode_body(&[0xd6, 0x01, 0xff, 0xff, 0xff, 0xfe]),
        Ok(Some(Sexp::Int(-2)))
    );
    // A uint 64 past i64 is a BigInt.
    assert_eq!(
        decode_body(&[0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        Ok(Some(big("9223372036854775808")))
    );
    // A non-canonical BigInt encodes like the Int it equals.
    let odd = Sexp::BigInt(BigInt::from(7));
    assert_eq!(encode(&odd), encode(&Sexp::Int(7)));
}

#[test]
fn every_split_point_gives_the_same_frames() {
    let values = [
        Sexp::list([Sexp::from("version"), Sexp::from(6)]),
        Sexp::from(pow2(200)),
        Sexp::list([Sexp::from(1.5), Sexp::from(vec![7; 300]), Sexp::list([])]),
        Sexp::from(-1),
    ];
    let mut bytes = Vec::new();
    for value in &values {
        bytes.extend_from_slice(&encode(value));
    }
    for at in 0..=bytes.len() {
        let (a, b) = bytes.split_at(at);
        let split = decode_chunks([a, b], |_| MSGPACK);
        assert!(all_same(&split, &values), "split at {at}");
    }
    let trickle = decode_chunks(bytes.chunks(1), |_| MSGPACK);
    assert!(all_same(&trickle, &values));
}

#[test]
fn nothing_is_consumed_until_the_frame_is_whole() {
    let bytes = encode(&Sexp::from("hello"));
    for mut decoder in AnyDecoder::both(Limits::default(), MSGPACK) {
        let mut buf = BytesMut::new();
        for &byte in &bytes[..bytes.len() - 1] {
            buf.extend_from_slice(&[byte]);
            assert_eq!(decoder.decode(&mut buf), Ok(None));
            assert!(
                !decoder.is_mid_expression(),
                "partial frames stay in the buffer"
            );
        }
        assert_eq!(buf.len(), bytes.len() - 1);
        buf.extend_from_slice(&bytes[bytes.len() - 1..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Sexp::from("hello"))));
        assert!(buf.is_empty());
    }
}

#[test]
fn byte_strings_are_sliced_from_the_received_buffer() {
    let payload = vec![0x5a; 1000];
    let bytes = encode(&Sexp::list([
        Sexp::from(payload.clone()),
        Sexp::from(vec![1, 2, 3]),
    ]));
    let mut buf = BytesMut::from(&bytes[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut decoder = Decoder::new(Limits::default()).with_dialect(MSGPACK);
    let sexp = decoder.decode(&mut buf).unwrap().unwrap();
    let items = sexp.as_list().unwrap();
    for item in items {
        let Sexp::Bytes(b) = item else { panic!() };
        let start = b.as_ptr() as usize;
        assert!(
            range.contains(&start) && start + b.len() <= range.end,
            "copied"
        );
    }
    assert_eq!(items[0].as_bytes(), Some(&payload[..]));

    // The token decoder too: as a borrowed slice, as shared `Bytes`, and
    // in the tree a node reads back as.
    let mut buf = BytesMut::from(&bytes[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let in_buffer = |b: &[u8]| {
        let start = b.as_ptr() as usize;
        range.contains(&start) && start + b.len() <= range.end
    };
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(MSGPACK);
    let node = decoder.decode(&mut buf).unwrap().unwrap();
    for item in node.as_list().unwrap() {
        assert!(in_buffer(item.as_bytes().unwrap()), "copied");
        assert!(in_buffer(&item.to_bytes().unwrap()), "copied");
    }
    let Sexp::List(items) = node.to_sexp() else {
        panic!()
    };
    for item in &items {
        assert!(in_buffer(item.as_bytes().unwrap()), "copied");
    }
    assert_eq!(items[0].as_bytes(), Some(&payload[..]));
}

#[test]
fn well_known_words_are_static_in_both_decoders() {
    // PB's words and Jelly's tags, sent in full, come back as static bytes
    // (no share of the frame); a near miss is sliced from the frame.
    let words: [&[u8]; 4] = [b"version", b"unicode", b"dictionary", b"versionx"];
    let bytes = encode(&Sexp::List(words.iter().map(|w| Sexp::from(*w)).collect()));
    let mut buf = BytesMut::from(&bytes[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let in_buffer = |b: &[u8]| range.contains(&(b.as_ptr() as usize));
    let expected = [false, false, false, true];

    let mut decoder = Decoder::new(Limits::default()).with_dialect(MSGPACK);
    let sexp = decoder.decode(&mut buf).unwrap().unwrap();
    let got: Vec<bool> = sexp
        .as_list()
        .unwrap()
        .iter()
        .map(|item| in_buffer(item.as_bytes().unwrap()))
        .collect();
    assert_eq!(got, expected);

    let mut buf = BytesMut::from(&bytes[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let in_buffer = |b: &[u8]| range.contains(&(b.as_ptr() as usize));
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(MSGPACK);
    let node = decoder.decode(&mut buf).unwrap().unwrap();
    let got: Vec<bool> = node
        .as_list()
        .unwrap()
        .map(|item| in_buffer(item.as_bytes().unwrap()))
        .collect();
    assert_eq!(got, expected);
    let got: Vec<bool> = node
        .as_list()
        .unwrap()
        .map(|item| in_buffer(&item.to_bytes().unwrap()))
        .collect();
    assert_eq!(got, expected);
    let Sexp::List(items) = node.to_sexp() else {
        panic!()
    };
    let got: Vec<bool> = items
        .iter()
        .map(|item| in_buffer(item.as_bytes().unwrap()))
        .collect();
    assert_eq!(got, expected);
    let back: Vec<&[u8]> = items.iter().map(|item| item.as_bytes().unwrap()).collect();
    assert_eq!(back, words);
}

#[test]
fn a_dialect_switch_within_one_buffer() {
    // The client's choice, in Banana, then its first msgpack frame.
    let mut wire = vec![0x0e, 0x82];
    wire.extend_from_slice(b"spread-msgpack");
    let version = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
    wire.extend_from_slice(&encode(&version));
    for mut decoder in AnyDecoder::both(Limits::default(), Dialect::None) {
        let mut buf = BytesMut::from(&wire[..]);
        let choice = decoder.decode(&mut buf).unwrap().unwrap();
        assert_eq!(
            Dialect::from_name(choice.as_bytes().unwrap()),
            Some(MSGPACK)
        );
        decoder.set_dialect(MSGPACK);
        assert_eq!(decoder.decode(&mut buf), Ok(Some(version.clone())));
        assert!(buf.is_empty());
    }
}

#[test]
fn a_switch_to_msgpack_mid_expression_starts_the_token_decoder_afresh() {
    // Misuse (the switch belongs between expressions), but no panic and no
    // stale tokens: the Banana list begun is dropped, and the bytes still
    // in the buffer are read as msgpack.
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
    let mut buf = BytesMut::from(&[0x02, 0x80, 0x01, 0x81][..]);
    assert!(decoder.decode(&mut buf).unwrap().is_none());
    assert!(decoder.is_mid_expression());
    decoder.set_dialect(MSGPACK);
    // 02 80 01 81 announces a frame of 0x02800181 bytes: too long.
    assert_eq!(
        decoder.decode(&mut buf).err(),
        Some(DecodeError::ExpressionTooLong {
            limit: Limits::default().max_expression_len
        })
    );
    assert!(!decoder.is_mid_expression());
    let mut buf = BytesMut::from(&[0x02, 0x80, 0x01, 0x81][..]);
    decoder.set_dialect(Dialect::Pb);
    assert!(decoder.decode(&mut buf).unwrap().is_none());
    decoder.set_dialect(MSGPACK);
    buf.clear();
    buf.extend_from_slice(&encode(&Sexp::list([Sexp::from(7)])));
    let node = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(node.to_sexp(), Sexp::list([Sexp::from(7)]));
    assert_eq!(node.as_list().map(|items| items.len()), Some(1));
}

// --- Limits -----------------------------------------------------------------

#[test]
fn a_frame_longer_than_the_expression_limit_is_refused_from_its_header() {
    let limits = Limits::default().max_expression_len(100);
    // Only the four length bytes: refused before anything is reserved.
    for mut decoder in AnyDecoder::both(limits, MSGPACK) {
        let mut buf = BytesMut::with_capacity(4);
        buf.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(DecodeError::ExpressionTooLong { limit: 100 })
        );
        assert!(buf.capacity() < 1024, "nothing reserved for the frame");
    }
    assert_eq!(
        decode_with(&101u32.to_be_bytes(), limits),
        Err(DecodeError::ExpressionTooLong { limit: 100 })
    );
    // Exactly at the limit is fine.
    let at_limit = encode(&Sexp::from(vec![0; 98]));
    assert_eq!(at_limit.len(), 4 + 100);
    assert!(decode_with(&at_limit, limits).unwrap().is_some());
    // What is reserved for a frame still arriving is bounded by the
    // frame's length...
    for mut decoder in AnyDecoder::both(Limits::default(), MSGPACK) {
        let mut buf = BytesMut::from(&frame(&[0xc4, 0x10])[..]);
        buf[..4].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(buf.capacity() < 4096);
        // ... and by what has arrived: a header announcing 16 MiB does not
        // get them, however it trickles in.
        let mut buf = BytesMut::from(&(16u32 << 20).to_be_bytes()[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(buf.capacity() <= 128 << 10, "{}", buf.capacity());
        let mut buf = BytesMut::new();
        for &byte in &(16u32 << 20).to_be_bytes() {
            buf.extend_from_slice(&[byte]);
            assert_eq!(decoder.decode(&mut buf), Ok(None));
        }
        assert!(buf.capacity() <= 128 << 10, "{}", buf.capacity());
    }
}

#[test]
fn a_string_over_the_limit_is_refused() {
    let limits = Limits::default().max_string_len(10);
    let body = |len: usize| {
        let mut body = vec![0xc4, len as u8];
        body.extend(std::iter::repeat_n(b'x', len));
        frame(&body)
    };
    assert!(decode_with(&body(10), limits).unwrap().is_some());
    assert_eq!(
        decode_with(&body(11), limits),
        Err(DecodeError::StringTooLong { len: 11, limit: 10 })
    );
}

#[test]
fn a_list_over_the_limit_is_refused_from_its_header() {
    let limits = Limits::default().max_list_len(3);
    assert!(
        decode_with(&frame(&[0x93, 1, 2, 3]), limits)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        decode_with(&frame(&[0x94, 1, 2, 3, 4]), limits),
        Err(DecodeError::ListTooLong { len: 4, limit: 3 })
    );
    // An array 32 announcing four billion elements, with none there.
    assert_eq!(
        decode_body(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
        Err(DecodeError::ListTooLong {
            len: u64::from(u32::MAX),
            limit: Limits::default().max_list_len,
        })
    );
    // Under the limit but longer than the frame: malformed, nothing huge
    // allocated.
    let limits = Limits::default().max_list_len(usize::MAX);
    assert!(matches!(
        decode_with(&frame(&[0xdd, 0xff, 0xff, 0xff, 0xff, 1]), limits),
        Err(DecodeError::MalformedMsgpack { .. })
    ));
}

fn nested(depth: usize) -> Vec<u8> {
    let mut body = vec![0x91; depth - 1];
    body.push(0x90);
    frame(&body)
}

#[test]
fn nesting_over_the_limit_is_refused() {
    let limits = Limits::default().max_depth(8);
    assert!(decode_with(&nested(8), limits).unwrap().is_some());
    assert_eq!(
        decode_with(&nested(9), limits),
        Err(DecodeError::NestingTooDeep { limit: 8 })
    );
    // The default depth is read whole, the next level refused.
    let default = Limits::default().max_depth;
    assert!(
        decode_with(&nested(default), Limits::default())
            .unwrap()
            .is_some()
    );
    assert_eq!(
        decode_with(&nested(default + 1), Limits::default()),
        Err(DecodeError::NestingTooDeep { limit: default })
    );
    // Deeper than rmp-serde's own default (1024) too: the limit decides.
    let deep = Limits::default().max_depth(1100);
    assert!(decode_with(&nested(1100), deep).unwrap().is_some());
}

#[test]
fn the_deepest_frame_allowed_needs_little_stack() {
    let depth = Limits::default().max_depth;
    // Reading keeps its own stack of open lists: a small thread will do,
    // even in a debug build.
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            assert!(
                decode_with(&nested(depth), Limits::default())
                    .unwrap()
                    .is_some()
            );
            assert_eq!(
                decode_with(&nested(depth + 1), Limits::default()),
                Err(DecodeError::NestingTooDeep { limit: depth })
            );
        })
        .unwrap()
        .join()
        .unwrap();
    // Writing recurses (through rmp-serde), within a tokio worker's 2 MiB.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut sexp = Sexp::list([]);
            for _ in 1..depth {
                sexp = Sexp::list([sexp]);
            }
            assert_eq!(encode(&sexp), nested(depth));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn tokens_over_the_limit_are_refused() {
    let limits = Limits::default().max_tokens(4);
    // The list counts as one.
    assert!(
        decode_with(&frame(&[0x93, 1, 2, 3]), limits)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        decode_with(&frame(&[0x94, 1, 2, 3, 4]), limits),
        Err(DecodeError::TooManyTokens { limit: 4 })
    );
    // An ext is one token.
    assert!(
        decode_with(&frame(&[0x93, 1, 2, 0xd4, 0x01, 0x05]), limits)
            .unwrap()
            .is_some()
    );
}

#[test]
fn integers_over_the_prefix_limit_are_refused() {
    // Two header bytes in Banana: 14 bits.
    let limits = Limits::default().max_prefix_len(2);
    let one = |sexp: Sexp| decode_with(&encode(&sexp), limits);
    assert!(one(Sexp::from(16_383)).unwrap().is_some());
    assert!(one(Sexp::from(-16_383)).unwrap().is_some());
    for n in [16_384, -16_384, i64::MIN, i64::MAX] {
        assert_eq!(
            one(Sexp::from(n)),
            Err(DecodeError::IntTooLarge { limit_bits: 14 })
        );
    }
    assert_eq!(
        one(Sexp::from(pow2(64))),
        Err(DecodeError::IntTooLarge { limit_bits: 14 })
    );
    // By default 448 bits, as in Banana.
    let max: BigInt = pow2(448) - 1;
    for n in [max.clone(), -max.clone()] {
        assert!(decode_all(&encode(&Sexp::from(n)), MSGPACK, Limits::default()).is_ok());
    }
    let mut payload = vec![0x01];
    payload.extend_from_slice(&[0; 56]);
    let mut body = vec![0xc7, payload.len() as u8, 0x01];
    body.extend_from_slice(&payload);
    assert_eq!(
        decode_body(&body),
        Err(DecodeError::IntTooLarge { limit_bits: 448 })
    );
    // A huge ext is refused by its length, before any arithmetic.
    let mut body = vec![0xc8, 0x10, 0x00, 0x01];
    body.extend_from_slice(&[0x7f; 0x1000]);
    assert_eq!(
        decode_body(&body),
        Err(DecodeError::IntTooLarge { limit_bits: 448 })
    );
}

#[test]
fn the_encoder_applies_its_limits_and_writes_nothing_on_error() {
    let limits = Limits::default()
        .max_string_len(4)
        .max_list_len(2)
        .max_depth(2)
        .max_prefix_len(2);
    let encoder = Encoder::new(MSGPACK).with_limits(limits);
    let cases = [
        (
            Sexp::from("hello"),
            EncodeError::StringTooLong { len: 5, limit: 4 },
        ),
        (
            Sexp::list([Sexp::from(1), Sexp::from(2), Sexp::from(3)]),
            EncodeError::ListTooLong { len: 3, limit: 2 },
        ),
        (
            Sexp::list([Sexp::list([Sexp::list([])])]),
            EncodeError::NestingTooDeep { limit: 2 },
        ),
        (
            Sexp::list([Sexp::from(1), Sexp::from(16_384)]),
            EncodeError::IntTooLarge {
                value: BigInt::from(16_384),
            },
        ),
        (
            Sexp::from(pow2(70)),
            EncodeError::IntTooLarge { value: pow2(70) },
        ),
    ];
    for (sexp, error) in cases {
        let mut out = vec![0xaa];
        assert_eq!(encoder.encode(&sexp, &mut out), Err(error.clone()));
        assert_eq!(out, [0xaa]);
        let mut out = BytesMut::from(&[0xaa][..]);
        assert_eq!(encoder.encode(&sexp, &mut out), Err(error));
        assert_eq!(&out[..], [0xaa]);
    }
}

// --- Malformed input ----------------------------------------------------------

#[test]
fn values_the_dialect_never_sends_are_refused() {
    let unexpected = |found| Err(DecodeError::UnexpectedMsgpack { found });
    assert_eq!(decode_body(&[0xc0]), unexpected("nil"));
    assert_eq!(decode_body(&[0xc2]), unexpected("boolean"));
    assert_eq!(decode_body(&[0xc3]), unexpected("boolean"));
    assert_eq!(decode_body(&[0xa1, b'x']), unexpected("str"));
    assert_eq!(decode_body(&[0xd9, 0x01, b'x']), unexpected("str"));
    // A str that is not UTF-8 is still not a bin.
    assert_eq!(decode_body(&[0xa1, 0xff]), unexpected("str"));
    assert_eq!(decode_body(&[0xd9, 0x01, 0xff]), unexpected("str"));
    assert_eq!(decode_body(&[0xda, 0x00, 0x01, 0xc4]), unexpected("str"));
    assert_eq!(decode_body(&[0x80]), unexpected("map"));
    assert_eq!(decode_body(&[0x81, 0x01, 0x02]), unexpected("map"));
    assert_eq!(
        decode_body(&[0xca, 0x3f, 0xc0, 0, 0]),
        unexpected("float 32")
    );
    assert_eq!(decode_body(&[0xc1]), unexpected("the reserved byte 0xc1"));
    // Inside a list too.
    assert_eq!(decode_body(&[0x92, 0x01, 0xc0]), unexpected("nil"));
    // Other ext types, the timestamp included.
    assert_eq!(
        decode_body(&[0xd4, 0x05, 0x00]),
        Err(DecodeError::UnknownExtType { ext_type: 5 })
    );
    assert_eq!(
        decode_body(&[0xd6, 0xff, 0, 0, 0, 0]),
        Err(DecodeError::UnknownExtType { ext_type: -1 })
    );
}

#[test]
fn malformed_frames_are_refused() {
    let malformed = |body: &[u8]| {
        let result = decode_body(body);
        assert!(
            matches!(result, Err(DecodeError::MalformedMsgpack { .. })),
            "{body:02x?}: {result:?}"
        );
    };
    // Truncated inside the frame: an ext, a bin, an int, a float, a list.
    malformed(&[0xc7, 0x09, 0x01, 0x01, 0x00]);
    malformed(&[0xd5, 0x01, 0x01]);
    malformed(&[0xc7]);
    malformed(&[0xc4, 0x05, b'a']);
    malformed(&[0xc5, 0x00]);
    malformed(&[0xcd, 0x01]);
    malformed(&[0xcb, 0x3f, 0xf8]);
    malformed(&[0x92, 0x01]);
    // An empty big-int ext.
    malformed(&[0xc7, 0x00, 0x01]);
    // Bytes after the value, including a whole second value.
    malformed(&[0x01, 0x02]);
    malformed(&[0x90, 0x90]);
    malformed(&[0x01, 0xc1]);
    // A frame of length zero.
    assert!(matches!(
        decode_with(&[0, 0, 0, 0], Limits::default()),
        Err(DecodeError::MalformedMsgpack { .. })
    ));
}

#[test]
fn the_decoder_is_clean_after_every_kind_of_error() {
    let bad = [
        frame(&[0xc0]),
        frame(&[0x92, 0x01]),
        frame(&[0x01, 0x02]),
        frame(&[0xd4, 0x05, 0x00]),
        vec![0xff, 0xff, 0xff, 0xff, 0x01],
        nested(600),
        vec![0, 0, 0, 0],
    ];
    for bytes in bad {
        for mut decoder in AnyDecoder::both(Limits::default(), MSGPACK) {
            let mut buf = BytesMut::from(&bytes[..]);
            buf.extend_from_slice(&encode(&Sexp::from(1)));
            assert!(decoder.decode(&mut buf).is_err(), "{bytes:02x?}");
            assert!(buf.is_empty(), "the unusable stream is discarded");
            assert!(!decoder.is_mid_expression());
            buf.extend_from_slice(&encode(&Sexp::list([Sexp::from(1)])));
            assert_eq!(
                decoder.decode(&mut buf),
                Ok(Some(Sexp::list([Sexp::Int(1)])))
            );
        }
    }
}

#[test]
fn decode_all_reports_a_partial_frame() {
    let bytes = encode(&Sexp::from("hello"));
    for end in 1..bytes.len() {
        assert_eq!(
            decode_all(&bytes[..end], MSGPACK, Limits::default()),
            Err(DecodeError::Incomplete)
        );
    }
}

// --- Properties ---------------------------------------------------------------

/// MessagePack-ish bytes: markers of every kind we read, and anything.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(0x90u8),
            Just(0x91),
            Just(0x93),
            Just(0xdc),
            Just(0xdd),
            Just(0xc4),
            Just(0xc5),
            Just(0xc7),
            Just(0xd4),
            Just(0x01),
            Just(0xcb),
            Just(0xcf),
            Just(0xd3),
            Just(0x00),
            Just(0xff),
            any::<u8>(),
        ],
        1..96,
    )
}

/// A stream of valid frames, frames around arbitrary bodies, frames whose
/// length is a little off, and loose bytes.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        sexp().prop_map(|sexp| encode(&sexp)),
        body().prop_map(|body| frame(&body)),
        (body(), -3i64..4).prop_map(|(body, off)| {
            let len = (body.len() as i64 + off).max(0) as u32;
            let mut out = len.to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            out
        }),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

/// Limits from tiny to the defaults, each on its own.
fn limits() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![Just(64usize), 0usize..5],
        prop_oneof![Just(655_360usize), 0usize..40],
        prop_oneof![Just(655_360usize), 0usize..8],
        prop_oneof![Just(512usize), 0usize..8],
        prop_oneof![Just(16usize << 20), 0usize..400],
        prop_oneof![Just(1usize << 20), 0usize..60],
    )
        .prop_map(|(prefix, string, list, depth, expression, tokens)| {
            Limits::default()
                .max_prefix_len(prefix)
                .max_string_len(string)
                .max_list_len(list)
                .max_depth(depth)
                .max_expression_len(expression)
                .max_tokens(tokens)
        })
}

proptest! {
    /// Any body in a well-formed frame: no panic, both decoders agree (see
    /// `decode_with`), and whatever decodes re-encodes to a frame that
    /// decodes to the same thing.
    #[test]
    fn arbitrary_bodies_never_panic(body in body()) {
        let tight = Limits::default()
            .max_prefix_len(3)
            .max_depth(4)
            .max_string_len(16)
            .max_list_len(8)
            .max_tokens(20);
        for limits in [Limits::default(), tight] {
            if let Ok(Some(sexp)) = decode_with(&frame(&body), limits) {
                let again = encode(&sexp);
                let back = decode_all(&again, MSGPACK, Limits::default()).unwrap();
                prop_assert!(same(&back[0], &sexp));
            }
        }
    }

    #[test]
    fn arbitrary_streams_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let _ = decode_all(&bytes, MSGPACK, Limits::default());
        agree(&[&bytes], Limits::default());
    }

    #[test]
    fn byte_strings_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let sexp = Sexp::Bytes(Bytes::from(bytes));
        let back = decode_all(&encode(&sexp), MSGPACK, Limits::default()).unwrap();
        prop_assert_eq!(&back[..], std::slice::from_ref(&sexp));
        prop_assert_eq!(agreed_frames(&encode(&sexp), 5, Limits::default()), [sexp]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `TokenDecoder` gives exactly what `Decoder` gives, call for call,
    /// on any stream, split anywhere, under any limits.
    #[test]
    fn both_decoders_agree_on_any_stream(
        bytes in stream(),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        limits in limits(),
    ) {
        let chunks = chunked(&bytes, &cuts);
        agree(&chunks.iter().map(Vec::as_slice).collect::<Vec<_>>(), limits);
    }

    #[test]
    fn both_decoders_agree_one_byte_at_a_time(bytes in stream(), limits in limits()) {
        agree(&bytes.chunks(1).collect::<Vec<_>>(), limits);
    }

    #[test]
    fn both_decoders_agree_on_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
        limits in limits(),
    ) {
        let chunks = chunked(&bytes, &cuts);
        agree(&chunks.iter().map(Vec::as_slice).collect::<Vec<_>>(), limits);
    }

    /// Valid frames come back whole through both, however they are split.
    #[test]
    fn valid_frames_come_back_through_both(
        frames in prop::collection::vec(sexp(), 1..4),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let bytes: Vec<u8> = frames.iter().flat_map(encode).collect();
        let chunks = chunked(&bytes, &cuts);
        let events = agree(&chunks.iter().map(Vec::as_slice).collect::<Vec<_>>(), Limits::default());
        let back: Vec<Sexp> = events
            .into_iter()
            .filter_map(|e| match e { Event::Frame(sexp) => Some(sexp), _ => None })
            .collect();
        prop_assert!(all_same(&back, &frames));
    }
}
