//! The serde bridge: `to_value` and `from_value` on derived types.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use num_bigint::BigInt;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use spread_jelly::{Dict, ErrorKind, Instance, Shared, Value, from_value, to_value};

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Dict(Dict::from_iter(
        entries.into_iter().map(|(k, v)| (Value::from(k), v)),
    ))
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(x: &T) {
    let value = to_value(x).unwrap();
    let back: T = from_value(&value).unwrap();
    assert_eq!(&back, x, "through {value:?}");
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Pond {
    color: String,
    num_frogs: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Inner {
    count: u32,
    label: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Outer {
    name: String,
    inner: Inner,
    items: Vec<Inner>,
    scores: HashMap<String, i64>,
    pair: (i32, String),
    ratio: f64,
    flag: bool,
    nothing: Option<i64>,
    shape: Shape,
    shapes: Vec<Shape>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Shape {
    Empty,
    Circle(f64),
    Rect(u16, u16),
    Named { name: String, sides: u8 },
}

fn outer() -> Outer {
    Outer {
        name: "pond".into(),
        inner: Inner {
            count: 3,
            label: Some("x".into()),
        },
        items: vec![
            Inner {
                count: 1,
                label: None,
            },
            Inner {
                count: 2,
                label: Some("two".into()),
            },
        ],
        scores: HashMap::from([("a".into(), 1), ("b".into(), -2)]),
        pair: (-7, "seven".into()),
        ratio: 0.5,
        flag: true,
        nothing: None,
        shape: Shape::Named {
            name: "tri".into(),
            sides: 3,
        },
        shapes: vec![Shape::Empty, Shape::Circle(1.5), Shape::Rect(2, 3)],
    }
}

#[test]
fn nested_struct_round_trips() {
    round_trip(&outer());
}

#[test]
fn struct_is_an_instance_dict() {
    let value = to_value(&Pond {
        color: "green".into(),
        num_frogs: 7,
    })
    .unwrap();
    // What `pb.Copyable.getStateToCopy` sends for `self.color = "green";
    // self.num_frogs = 7`: the `__dict__`, text keys in assignment order.
    assert_eq!(
        value,
        dict([
            ("color", Value::from("green")),
            ("num_frogs", Value::from(7))
        ])
    );
    let keys: Vec<_> = value
        .as_dict()
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(keys, [Value::from("color"), Value::from("num_frogs")]);
}

#[test]
fn serde_data_model_maps_to_python_values() {
    assert_eq!(to_value(&()).unwrap(), Value::None);
    assert_eq!(to_value(&None::<i32>).unwrap(), Value::None);
    assert_eq!(to_value(&Some(5u8)).unwrap(), Value::Int(5));
    assert_eq!(to_value(&'x').unwrap(), Value::from("x"));
    assert_eq!(to_value(&1.5f32).unwrap(), Value::Float(1.5));
    assert_eq!(
        to_value(&vec![1, 2]).unwrap(),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        to_value(&(1, "a")).unwrap(),
        Value::Tuple(vec![Value::Int(1), Value::from("a")])
    );
    // A `Vec<u8>` is a sequence to serde, so it is a list of ints, not bytes.
    assert_eq!(
        to_value(&vec![1u8, 2]).unwrap(),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(to_value(&Shape::Empty).unwrap(), Value::from("Empty"));
    assert_eq!(
        to_value(&Shape::Circle(2.0)).unwrap(),
        dict([("Circle", Value::Float(2.0))])
    );
    assert_eq!(
        to_value(&Shape::Rect(1, 2)).unwrap(),
        dict([("Rect", Value::Tuple(vec![Value::Int(1), Value::Int(2)]))])
    );
    assert_eq!(
        to_value(&Shape::Named {
            name: "n".into(),
            sides: 4
        })
        .unwrap(),
        dict([(
            "Named",
            dict([("name", Value::from("n")), ("sides", Value::Int(4))])
        )])
    );
    let map = BTreeMap::from([(1, "one"), (2, "two")]);
    assert_eq!(
        to_value(&map).unwrap(),
        Value::Dict(Dict::from_iter([
            (Value::Int(1), Value::from("one")),
            (Value::Int(2), Value::from("two")),
        ]))
    );
    round_trip(&BTreeMap::from([(1, "one".to_owned())]));
}

#[test]
fn skipped_fields_are_left_out() {
    #[derive(Serialize)]
    struct S {
        a: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<i32>,
    }
    assert_eq!(
        to_value(&S { a: 1, b: None }).unwrap(),
        dict([("a", Value::Int(1))])
    );
}

/// A byte buffer that serializes as Python `bytes`, as `serde_bytes` does.
#[derive(Debug, PartialEq)]
struct Buf(Vec<u8>);

impl Serialize for Buf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Buf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Buf, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Buf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<Buf, E> {
                Ok(Buf(b.to_vec()))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[test]
fn bytes_round_trip_as_python_bytes() {
    let value = to_value(&Buf(b"\x00\xff".to_vec())).unwrap();
    assert_eq!(value, Value::Bytes(Bytes::from_static(b"\x00\xff")));
    round_trip(&Buf(b"abc".to_vec()));
    // Python bytes also fill a `Vec<u8>`.
    let v: Vec<u8> = from_value(&value).unwrap();
    assert_eq!(v, [0, 255]);
}

#[test]
fn str_is_not_read_from_bytes() {
    let err = from_value::<String>(&Value::Bytes(Bytes::from_static(b"abc"))).unwrap_err();
    match err.kind() {
        ErrorKind::UnexpectedShape { expected, found } => {
            assert_eq!(expected, "str");
            assert!(found.contains("Python bytes"), "{found}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn struct_reads_from_bytes_keys() {
    let state = Value::Dict(Dict::from_iter([
        (
            Value::Bytes(Bytes::from_static(b"color")),
            Value::from("blue"),
        ),
        (
            Value::Bytes(Bytes::from_static(b"num_frogs")),
            Value::Int(2),
        ),
        (Value::Bytes(Bytes::from_static(b"\xff")), Value::Int(0)),
    ]));
    let pond: Pond = from_value(&state).unwrap();
    assert_eq!(
        pond,
        Pond {
            color: "blue".into(),
            num_frogs: 2
        }
    );
}

#[test]
fn last_of_repeated_keys_wins() {
    let state = Value::Dict(Dict::from_iter([
        (Value::from("color"), Value::from("red")),
        (Value::from("num_frogs"), Value::Int(1)),
        (
            Value::Bytes(Bytes::from_static(b"color")),
            Value::from("blue"),
        ),
    ]));
    let pond: Pond = from_value(&state).unwrap();
    assert_eq!(pond.color, "blue");
}

#[test]
fn unknown_fields_are_ignored_unless_denied() {
    let state = dict([
        ("color", Value::from("red")),
        ("num_frogs", Value::Int(1)),
        ("extra", Value::List(vec![])),
    ]);
    assert!(from_value::<Pond>(&state).is_ok());

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only the error is looked at")]
    struct Strict {
        color: String,
        num_frogs: i64,
    }
    let err = from_value::<Strict>(&state).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Custom(m) if m.contains("unknown field")));
    assert_eq!(err.path(), "extra");
}

#[test]
fn missing_field_names_its_path() {
    let value = dict([("inner", dict([("label", Value::None)]))]);
    #[derive(Deserialize, Debug)]
    #[expect(dead_code, reason = "only the error is looked at")]
    struct Wrapper {
        inner: Inner,
    }
    let err = from_value::<Wrapper>(&value).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::MissingField("count".into()));
    assert_eq!(err.path(), "inner.count");
    assert_eq!(err.to_string(), "at inner.count: missing field `count`");
}

#[test]
fn wrong_type_names_its_path() {
    let mut value = to_value(&outer()).unwrap();
    let Value::Dict(d) = &mut value else {
        unreachable!()
    };
    let items = Value::List(vec![
        dict([("count", Value::Int(1))]),
        dict([("count", Value::from("many"))]),
    ]);
    d.insert(Value::from("items"), items);
    let err = from_value::<Outer>(&value).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnexpectedShape {
            expected: "u32".into(),
            found: "str \"many\"".into()
        }
    );
    assert_eq!(err.path(), "items[1].count");
}

#[test]
fn integers_are_range_checked() {
    let err = from_value::<u8>(&Value::Int(300)).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnexpectedShape {
            expected: "u8".into(),
            found: "int 300".into()
        }
    );
    assert!(from_value::<u32>(&Value::Int(-1)).is_err());
    assert!(from_value::<i64>(&Value::from(u64::MAX)).is_err());
    assert!(from_value::<i64>(&Value::Float(1.0)).is_err());
    assert!(from_value::<i64>(&Value::Bool(true)).is_err());
    assert!(from_value::<bool>(&Value::Int(1)).is_err());
    assert_eq!(from_value::<f64>(&Value::Int(2)).unwrap(), 2.0);
}

#[test]
fn big_integers_round_trip_via_bigint() {
    assert_eq!(
        to_value(&u64::MAX).unwrap(),
        Value::BigInt(BigInt::from(u64::MAX))
    );
    assert_eq!(to_value(&5u128).unwrap(), Value::Int(5));
    assert_eq!(to_value(&-5i128).unwrap(), Value::Int(-5));
    round_trip(&u64::MAX);
    round_trip(&i128::MIN);
    round_trip(&u128::MAX);
    round_trip(&(i64::MIN, i64::MAX));
    let huge = Value::from(BigInt::from(u128::MAX) * 2);
    assert!(from_value::<u128>(&huge).is_err());
    assert!(from_value::<serde_json::Value>(&huge).is_err());
}

#[test]
fn instance_reads_as_its_state() {
    let pond = Instance::new(
        "copy_sender.CopyPond",
        Dict::from_iter([
            (Value::from("color"), Value::from("green")),
            (Value::from("num_frogs"), Value::Int(7)),
        ]),
    );
    let pond: Pond = from_value(&Value::from(pond)).unwrap();
    assert_eq!(pond.num_frogs, 7);
}

#[test]
fn shared_values_read_through() {
    let s = Shared::new(dict([("count", Value::Int(4)), ("label", Value::None)]));
    let value = Value::List(vec![Value::Shared(s.clone()), Value::Shared(s)]);
    let items: Vec<Inner> = from_value(&value).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].count, 4);

    // A back reference that is not a cycle reads through too.
    let target = Shared::new(Value::Int(9));
    let value = Value::List(vec![
        Value::Shared(target.clone()),
        Value::Shared(target.downgrade()),
    ]);
    assert_eq!(from_value::<Vec<i32>>(&value).unwrap(), [9, 9]);
}

#[test]
fn cycle_is_an_error() {
    #[derive(Deserialize, Debug)]
    #[expect(dead_code, reason = "only the error is looked at")]
    struct Node {
        next: Option<Box<Node>>,
    }
    let l = Shared::cyclic(|me| dict([("next", Value::Shared(me))]));
    let err = from_value::<Node>(&Value::Shared(l)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnexpectedShape { .. }),
        "{err:?}"
    );
    assert_eq!(err.path(), "next");
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
#[expect(dead_code, reason = "only the error is looked at")]
enum Tree {
    Leaf(i64),
    Node(Vec<Tree>),
}

/// `a1 = [x, x]; a2 = [a1, a1]; ...`: 2^40 leaves from 40 list objects.
fn exponential(levels: usize) -> Value {
    let mut a = Value::Int(1);
    for _ in 0..levels {
        let s = Shared::new(Value::List(vec![a.clone(), a]));
        a = Value::Shared(s);
    }
    a
}

#[test]
fn exponential_sharing_hits_the_budget() {
    // 2^40 nodes if expanded: the budget must stop it, or this never ends.
    let value = exponential(40);
    let err = from_value::<Tree>(&value).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Custom(m) if m.contains("shared structure expands past")),
        "{err:?}"
    );

    // Moderate sharing is copied.
    let small = exponential(8);
    assert!(from_value::<serde_json::Value>(&small).is_ok());
}

#[test]
fn ignored_fields_are_not_expanded() {
    let state = dict([
        ("color", Value::from("red")),
        ("num_frogs", Value::Int(1)),
        ("huge", exponential(60)),
    ]);
    assert!(from_value::<Pond>(&state).is_ok());
}

#[test]
fn deep_nesting_is_an_error() {
    let mut value = Value::None;
    for _ in 0..10_000 {
        value = Value::List(vec![value]);
    }
    let err = from_value::<serde_json::Value>(&value).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::TooDeep { .. }), "{err:?}");
    // Drop iteratively-ish: peel in steps so the test thread's stack is not
    // the subject of this test.
    let mut v = value;
    while let Value::List(mut items) = v {
        v = items.pop().unwrap_or(Value::None);
    }
}

#[test]
fn tuple_length_is_checked() {
    let value = Value::Tuple(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
    assert!(from_value::<(i32, i32)>(&value).is_err());
    assert_eq!(from_value::<(i32, i32, i32)>(&value).unwrap(), (1, 2, 3));
    let list = Value::List(vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(from_value::<(u8, u8)>(&list).unwrap(), (1, 2));
    let set = Value::Set(vec![Value::Int(1)]);
    assert!(from_value::<(u8,)>(&set).is_err());
    assert_eq!(from_value::<Vec<u8>>(&set).unwrap(), [1]);
}

#[test]
fn any_reads_every_python_value() {
    let value = Value::List(vec![
        Value::None,
        Value::Bool(true),
        Value::Float(0.25),
        Value::Tuple(vec![Value::from("t")]),
        dict([("k", Value::Int(1))]),
    ]);
    let json: serde_json::Value = from_value(&value).unwrap();
    assert_eq!(json, serde_json::json!([null, true, 0.25, ["t"], {"k": 1}]));
    assert!(from_value::<serde_json::Value>(&Value::Unpersistable("no".into())).is_err());
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Prim {
    Unit,
    Int(i64),
    Text(String),
    Pair(bool, Option<u16>),
    Rec { x: f64, list: Vec<i32> },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Gen {
    a: i64,
    b: Option<String>,
    c: Vec<u64>,
    d: BTreeMap<String, Vec<i8>>,
    e: (u8, i128),
    f: Vec<Prim>,
    g: Option<Box<Gen>>,
}

fn prim() -> impl Strategy<Value = Prim> {
    prop_oneof![
        Just(Prim::Unit),
        any::<i64>().prop_map(Prim::Int),
        ".*".prop_map(Prim::Text),
        (any::<bool>(), any::<Option<u16>>()).prop_map(|(a, b)| Prim::Pair(a, b)),
        (
            any::<f64>().prop_filter("NaN is not equal to itself", |x| !x.is_nan()),
            prop::collection::vec(any::<i32>(), 0..4)
        )
            .prop_map(|(x, list)| Prim::Rec { x, list }),
    ]
}

fn gen_leaf() -> impl Strategy<Value = Gen> {
    (
        any::<i64>(),
        any::<Option<String>>(),
        prop::collection::vec(any::<u64>(), 0..4),
        prop::collection::btree_map(".*", prop::collection::vec(any::<i8>(), 0..3), 0..3),
        any::<(u8, i128)>(),
        prop::collection::vec(prim(), 0..4),
    )
        .prop_map(|(a, b, c, d, e, f)| Gen {
            a,
            b,
            c,
            d,
            e,
            f,
            g: None,
        })
}

fn any_gen() -> impl Strategy<Value = Gen> {
    gen_leaf().prop_recursive(3, 8, 1, |inner| {
        (gen_leaf(), inner).prop_map(|(mut g, child)| {
            g.g = Some(Box::new(child));
            g
        })
    })
}

proptest! {
    #[test]
    fn derived_types_round_trip(x in any_gen()) {
        let value = to_value(&x).unwrap();
        prop_assert_eq!(from_value::<Gen>(&value).unwrap(), x);
    }
}
