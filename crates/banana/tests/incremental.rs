//! The decoder gives the same expressions however the bytes are chunked.

use bytes::BytesMut;
use spread_banana::{Decoder, Dialect, Limits, Sexp, decode_all, encode_to_vec};

use crate::support::{all_same, decode_chunks, vectors};

/// Which dialect each frame of a byte sequence is decoded in.
type FrameDialects = Box<dyn Fn(usize) -> Dialect>;

/// Every golden byte sequence with the dialect of each of its frames.
fn cases() -> Vec<(String, Vec<u8>, FrameDialects)> {
    let mut cases: Vec<(String, Vec<u8>, FrameDialects)> = Vec::new();
    for vector in vectors() {
        if let Some(none) = vector.none.clone() {
            cases.push((
                format!("{} (none)", vector.name),
                none,
                Box::new(|_| Dialect::None),
            ));
        }
        if let Some(pb) = vector.pb.clone() {
            let name = vector.name.clone();
            cases.push((name, pb, Box::new(move |i| vector.pb_dialect_of_frame(i))));
        }
    }
    cases
}

#[test]
fn every_split_point_gives_the_same_frames() {
    for (name, bytes, dialect) in cases() {
        let whole = decode_chunks([&bytes[..]], &dialect);
        for at in 0..=bytes.len() {
            let (a, b) = bytes.split_at(at);
            let split = decode_chunks([a, b], &dialect);
            assert!(all_same(&whole, &split), "{name} split at {at}");
        }
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_frames() {
    for (name, bytes, dialect) in cases() {
        let whole = decode_chunks([&bytes[..]], &dialect);
        let trickle = decode_chunks(bytes.chunks(1), &dialect);
        assert!(all_same(&whole, &trickle), "{name}");
    }
}

#[test]
fn several_frames_in_one_read_come_out_one_by_one() {
    let frames = [
        Sexp::list([Sexp::from("version"), Sexp::from(6)]),
        Sexp::from(-1015),
        Sexp::list([]),
        Sexp::from(2.5),
        Sexp::from("hello"),
    ];
    let mut bytes = Vec::new();
    for frame in &frames {
        bytes.extend(encode_to_vec(frame, Dialect::Pb).unwrap());
    }
    let mut decoder = Decoder::new(Limits::default()).with_dialect(Dialect::Pb);
    let mut buf = BytesMut::from(&bytes[..]);
    for frame in &frames {
        assert_eq!(decoder.decode(&mut buf).unwrap().as_ref(), Some(frame));
    }
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(buf.is_empty());
    assert_eq!(
        decode_all(&bytes, Dialect::Pb, Limits::default()).unwrap(),
        frames
    );
}

#[test]
fn dialect_switch_applies_to_the_rest_of_the_same_buffer() {
    // The client's choice and its `version`, in one read.
    let bytes = [0x02, 0x82, b'p', b'b', 0x02, 0x80, 0x13, 0x87, 0x06, 0x81];
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(decoder.dialect(), Dialect::None);
    let mut buf = BytesMut::from(&bytes[..]);
    let choice = decoder.decode(&mut buf).unwrap().unwrap();
    let dialect = Dialect::from_name(choice.as_bytes().unwrap()).unwrap();
    decoder.set_dialect(dialect);
    let version = decoder.decode(&mut buf).unwrap();
    assert_eq!(
        version,
        Some(Sexp::list([Sexp::from("version"), Sexp::from(6)]))
    );
}

#[test]
fn partial_lists_survive_between_calls() {
    let mut decoder = Decoder::new(Limits::default());
    let mut buf = BytesMut::from(&[0x02, 0x80, 0x01, 0x80, 0x05][..]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(decoder.is_mid_expression());
    assert_eq!(&buf[..], [0x05], "only the unfinished header is left");
    buf.extend_from_slice(&[0x81, 0x06, 0x81]);
    let expected = Sexp::list([Sexp::list([Sexp::from(5)]), Sexp::from(6)]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(expected)));
    assert!(!decoder.is_mid_expression());
}

#[test]
fn string_payloads_share_the_read_buffer() {
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&[0x05, 0x82]);
    buf.extend_from_slice(b"hello");
    let start = buf.as_ptr() as usize;
    let mut decoder = Decoder::new(Limits::default());
    let Ok(Some(Sexp::Bytes(bytes))) = decoder.decode(&mut buf) else {
        panic!("expected a byte string");
    };
    assert_eq!(&bytes[..], b"hello");
    assert_eq!(bytes.as_ptr() as usize, start + 2, "no copy was made");
}
