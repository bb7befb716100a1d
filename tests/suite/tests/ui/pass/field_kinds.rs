// Fields of every kind, under the workspace's strictest lints: the
// generated conversions must not trip any of them in user crates.
#![deny(warnings, missing_docs, unused_qualifications, missing_debug_implementations)]
#![deny(clippy::all)]

//! A pass case.

use std::collections::{BTreeMap, HashMap};

use spread::{Copyable, Dict, FromValue, IntoValue, RemoteCopy, Value};

/// Nested in [`Pond`].
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "m.Duck")]
pub struct Duck {
    age: u8,
}

/// A serde-only type.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stamp(i64);

/// Every kind of field.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "m.Pond")]
pub struct Pond {
    a: i8,
    b: u64,
    c: i128,
    d: usize,
    e: f32,
    f: f64,
    g: bool,
    h: String,
    i: Option<Duck>,
    j: Vec<Duck>,
    k: HashMap<String, i64>,
    l: BTreeMap<String, Vec<String>>,
    m: Dict,
    n: Value,
    o: bytes::Bytes,
    p: (i64,),
    q: (i64, String, Duck, Option<bool>),
    #[pb(serde)]
    r: Stamp,
    #[pb(serde, default)]
    s: Option<Stamp>,
}

fn main() {
    let pond = Pond {
        a: -1,
        b: u64::MAX,
        c: i128::MIN,
        d: 3,
        e: 0.5,
        f: 0.25,
        g: true,
        h: "h".into(),
        i: Some(Duck { age: 1 }),
        j: vec![Duck { age: 2 }],
        k: HashMap::new(),
        l: BTreeMap::new(),
        m: Dict::new(),
        n: Value::None,
        o: bytes::Bytes::from_static(b"o"),
        p: (1,),
        q: (2, "q".into(), Duck { age: 3 }, None),
        r: Stamp(4),
        s: None,
    };
    let back = Pond::from_copyable_state(pond.state_to_copy().unwrap()).unwrap();
    assert_eq!(back, pond);
    let sent = pond.clone().into_value().unwrap();
    assert_eq!(Pond::from_value(&sent).unwrap(), pond);
}
