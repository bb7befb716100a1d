//! `encode` against `to_sexp` + `Encoder::encode`: the same bytes, the same
//! errors, the same questions to the invoker, on random values and limits.

use bytes::BytesMut;
use num_bigint::BigInt;
use proptest::prelude::*;
use spread_banana::{Dialect, Encoder, Limits, Sexp};
use spread_jelly::{
    Date, Decimal, Error, ErrorKind, Invoker, Object, Shared, TimeDelta, Value, encode_with,
    to_sexp_with,
};

use crate::proptests::containers;

#[derive(Debug)]
struct Thing(i64);

/// Answers for handles whose number is even, refuses odd ones, and writes
/// down every question, to compare what both paths ask.
#[derive(Default)]
struct Recorder {
    asked: Vec<String>,
}

impl Invoker for Recorder {
    fn jelly_object(&mut self, object: &Object) -> Option<Result<Sexp, Error>> {
        let n = object.downcast_ref::<Thing>().map_or(-1, |t| t.0);
        self.asked.push(format!("{}:{n}", object.class()));
        match n {
            n if n % 7 == 0 => Some(Err(Error::custom("invoker refused"))),
            n if n % 2 == 0 => Some(Ok(Sexp::list([Sexp::from("remote"), Sexp::from(n)]))),
            _ => None,
        }
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (0i64..300).prop_map(Value::Int),
        prop::collection::vec(any::<u32>(), 3..18)
            .prop_map(|d| Value::from(BigInt::from_slice(num_bigint::Sign::Minus, &d))),
        any::<f64>().prop_map(Value::Float),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Bytes(b.into())),
        prop::sample::select(vec!["list", "None", "unicode", "dictionary", "x.Y"])
            .prop_map(|w| Value::Bytes(bytes::Bytes::from_static(w.as_bytes()))),
        any::<String>().prop_map(Value::Str),
        prop::sample::select(vec!["list", "version", "copy"]).prop_map(Value::from),
        (1i32..=9999, 1u8..=12, 1u8..=28)
            .prop_map(|(y, m, d)| Value::Date(Date::new(y, m, d).unwrap())),
        (-999_999_000i64..999_999_000, -86_400i64..86_400)
            .prop_map(|(d, s)| Value::TimeDelta(TimeDelta::normalized(d, s, 0).unwrap())),
        (any::<i64>(), any::<i32>()).prop_map(|(c, e)| Value::Decimal(Decimal::new(c, e.into()))),
        ".{0,20}".prop_map(Value::Unpersistable),
        (0i64..20).prop_map(|n| Value::Object(Object::receive_only("m.Handle", Thing(n)))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            8 => containers(inner.clone(), 8),
            // A Copyable, once or twice: an identity for the shared scan.
            1 => (inner, any::<bool>()).prop_map(|(state, twice)| {
                let o = Object::with_copy_rule("m.Copy", Thing(1), move |_| Ok(state.clone()));
                let o = Value::Object(o);
                Value::List(if twice { vec![o.clone(), o] } else { vec![o] })
            }),
        ]
    })
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        3 => Just(Limits::default()),
        1 => (1usize..12, 0usize..48, 0usize..10, 0usize..12).prop_map(|(p, s, l, d)| {
            Limits::default()
                .max_prefix_len(p)
                .max_string_len(s)
                .max_list_len(l)
                .max_depth(d)
        }),
    ]
}

/// Equal errors: the same kind at the same path, or the Banana error that
/// the tree path's `Encoder::encode` gave.
fn same_error(
    direct: &Error,
    tree: &Result<Sexp, Error>,
    encoded: Option<&spread_banana::EncodeError>,
) -> bool {
    match (tree, encoded) {
        (Err(e), _) => direct.kind() == e.kind() && direct.path() == e.path(),
        (Ok(_), Some(b)) => {
            matches!(direct.kind(), ErrorKind::Encode(d) if d == b) && direct.path().is_empty()
        }
        (Ok(_), None) => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_writes_what_the_tree_path_writes(
        value in value(),
        // msgpack too: its frames are written from the tree, so the same.
        dialect in prop::sample::select(&Dialect::DEFAULT_OFFER[..]),
        limits in limits(),
        prefix in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let encoder = Encoder::new(dialect).with_limits(limits);

        let mut tree_invoker = Recorder::default();
        let tree = to_sexp_with(&value, &mut tree_invoker);
        let mut tree_bytes = BytesMut::from(&prefix[..]);
        let encoded = tree.as_ref().ok().map(|s| encoder.encode(s, &mut tree_bytes));

        let mut direct_invoker = Recorder::default();
        let mut direct_bytes = BytesMut::from(&prefix[..]);
        let direct = encode_with(&value, &encoder, &mut direct_invoker, &mut direct_bytes);

        prop_assert_eq!(&direct_invoker.asked, &tree_invoker.asked);
        match (&direct, &encoded) {
            (Ok(()), Some(Ok(()))) => prop_assert_eq!(&direct_bytes, &tree_bytes),
            (Err(e), _) => {
                prop_assert!(
                    same_error(e, &tree, encoded.as_ref().and_then(|r| r.as_ref().err())),
                    "direct {:?}, tree {:?}, encoded {:?}", e, tree.as_ref().err(), encoded
                );
                prop_assert_eq!(&direct_bytes[..], &prefix[..], "out is left as it was");
            }
            _ => prop_assert!(false, "direct {:?}, tree {:?}, encoded {:?}", direct, tree.as_ref().err(), encoded),
        }
    }
}

#[test]
fn deep_values_fail_alike() {
    for depth in [400, 511, 512, 513, 600] {
        let deep = (0..depth).fold(Value::from(1), |inner, _| Value::List(vec![inner]));
        let shared = Value::List(vec![deep.clone(), Value::from(Shared::new(Value::None))]);
        for value in [deep, shared] {
            let encoder = Encoder::new(Dialect::Pb).with_limits(Limits::default().max_depth(1000));
            let tree = to_sexp_with(&value, &mut Recorder::default());
            let encoded = tree
                .as_ref()
                .ok()
                .map(|s| encoder.encode(s, &mut Vec::new()));
            let mut out = Vec::new();
            match encode_with(&value, &encoder, &mut Recorder::default(), &mut out) {
                Ok(()) => {
                    assert!(matches!(encoded, Some(Ok(()))));
                    let mut want = Vec::new();
                    encoder.encode(&tree.unwrap(), &mut want).unwrap();
                    assert_eq!(out, want);
                }
                Err(e) => assert!(
                    same_error(&e, &tree, encoded.as_ref().and_then(|r| r.as_ref().err())),
                    "{e:?}"
                ),
            }
        }
    }
}

#[test]
fn a_large_byte_string_is_decoded_without_copying_its_payload() {
    use spread_banana::Decoder;
    use spread_jelly::{AllowAll, encode, from_sexp};

    let value = Value::Bytes(vec![0xa5; 655_360].into());
    let mut buf = BytesMut::new();
    encode(&value, &Encoder::new(Dialect::Pb), &mut buf).unwrap();
    let wire = buf.as_ptr_range();
    let sexp = Decoder::new(Limits::default())
        .with_dialect(Dialect::Pb)
        .decode(&mut buf)
        .unwrap()
        .unwrap();
    let back = from_sexp(&sexp, &AllowAll).unwrap();
    let payload = back.as_bytes().unwrap();
    assert_eq!(payload.len(), 655_360);
    // Still the bytes that arrived: a share of the read buffer, not a copy.
    assert!(wire.contains(&payload.as_ptr()));
}
