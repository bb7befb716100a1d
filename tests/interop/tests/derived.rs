//! A type with `#[derive(Copyable, RemoteCopy)]`, sent to a live Twisted and
//! back: Twisted reads it as an instance whose `__dict__` has the fields
//! (text keys, the right Python types), jellies it back to the same bytes,
//! and the state Rust reads back gives the same value.

use spread::jelly::{Dict, Value, from_sexp, to_sexp};
use spread::{Copyable, RemoteCopy, copy};
use spread_banana::{Dialect, Limits, decode_all, encode_to_vec};
use spread_interop::peer::{Peer, python};
use spread_interop::typed;

#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "interop_classes.Thing")]
struct Pond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
    depth: f64,
    ducks: Vec<String>,
    owner: Option<String>,
    #[pb(skip)]
    password: String,
}

#[test]
fn a_derived_copy_survives_twisted_with_its_types() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let pond = Pond {
        color: "green".into(),
        num_frogs: 7,
        depth: 1.5,
        ducks: vec!["one duck".into(), "two duck".into()],
        owner: None,
        password: "secret".into(),
    };
    let bytes = encode_to_vec(&to_sexp(&copy(pond.clone())).unwrap(), Dialect::Pb).unwrap();
    let mut twisted = Peer::start(&python).unwrap();
    let reply = twisted.roundtrip(&bytes).unwrap();

    // What Twisted built: an instance whose __dict__ is the fields, typed as
    // Python types, in field order, without the local-only password.
    let seen = typed::value(&reply.value).unwrap();
    let Value::Instance(instance) = &seen else {
        panic!("{seen:?}")
    };
    assert_eq!(instance.class, "interop_classes.Thing");
    let expected = Dict::from_iter([
        (Value::from("color"), Value::from("green")),
        (Value::from("numFrogs"), Value::from(7)),
        (Value::from("depth"), Value::from(1.5)),
        (
            Value::from("ducks"),
            Value::List(vec![Value::from("one duck"), Value::from("two duck")]),
        ),
        (Value::from("owner"), Value::None),
    ]);
    assert_eq!(instance.state, Value::Dict(expected));

    // Twisted's own bytes for it are ours, and read back to the same pond.
    assert_eq!(typed::to_hex(&reply.banana_pb), typed::to_hex(&bytes));
    let sexp = &decode_all(&reply.banana_pb, Dialect::Pb, Limits::default()).unwrap()[0];
    let Value::Instance(back) = from_sexp(sexp, &spread::jelly::AllowAll).unwrap() else {
        panic!()
    };
    let back = Pond::from_copyable_state(back.state).unwrap();
    assert_eq!(
        back,
        Pond {
            password: String::new(),
            ..pond
        }
    );
}
