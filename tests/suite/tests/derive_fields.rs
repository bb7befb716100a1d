//! Fields of derived copies convert with `FromValue` and `IntoValue`, so a
//! copy can hold a `Value`, other copies, `Option`s and `Vec`s of them,
//! Python bytes and tuples, maps, references, and (with `#[pb(serde)]`)
//! serde types; and it survives a round trip through Jelly under a
//! `SecurityOptions` that registers every class in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spread::jelly::{ErrorKind, Object};
use spread::{
    BoxFuture, Call, Copyable, Dict, FromValue, IntoValue, LocalReferenceable, Referenceable,
    RemoteCopy, RemoteError, RemoteReference, SecurityOptions, Value,
};

/// A copy that other copies hold.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "ponds.Duck")]
struct Duck {
    name: String,
    age: u8,
}

/// A type with only serde's traits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stamp {
    seconds: i64,
}

/// A field of each kind.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "ponds.Pond")]
struct Pond {
    /// Whatever Python put there, as it came.
    extra: Value,
    keeper: Duck,
    visitor: Option<Duck>,
    ducks: Vec<Duck>,
    /// Python `bytes`.
    photo: Bytes,
    /// A Python tuple.
    position: (f64, f64),
    depths: BTreeMap<String, i64>,
    #[pb(serde)]
    stamp: Stamp,
}

fn duck(name: &str, age: u8) -> Duck {
    Duck {
        name: name.into(),
        age,
    }
}

fn pond() -> Pond {
    Pond {
        extra: Value::List(vec![Value::from("reeds"), Value::Int(3), Value::None]),
        keeper: duck("Donald", 7),
        visitor: Some(duck("Daisy", 5)),
        ducks: vec![duck("Huey", 1), duck("Dewey", 1)],
        photo: Bytes::from_static(b"\x89PNG"),
        position: (51.5, -0.1),
        depths: BTreeMap::from([("north".to_owned(), 3), ("south".to_owned(), 5)]),
        stamp: Stamp {
            seconds: 1_700_000_000,
        },
    }
}

/// What a receiver registers: every class the message may hold.
fn options() -> SecurityOptions {
    let mut options = SecurityOptions::new();
    spread::allow_copy::<Pond>(&mut options, "ponds.Pond").unwrap();
    spread::allow_copy::<Duck>(&mut options, "ponds.Duck").unwrap();
    options
}

/// `to_sexp` and `from_sexp`, as one side sends and the other receives.
fn through_jelly(value: &Value, options: &SecurityOptions) -> Result<Value, spread::jelly::Error> {
    let sexp = spread::to_sexp(value)?;
    spread::from_sexp(&sexp, options)
}

#[test]
fn state_holds_each_field_as_python_sees_it() {
    let state = pond().state_to_copy().unwrap();
    let dict = state.as_dict().unwrap();
    let field = |key: &str| dict.get_str(key).unwrap();

    assert_eq!(field("extra"), &pond().extra);
    // A nested copy is an object under its class, sent by copy.
    let Value::Object(keeper) = field("keeper") else {
        panic!("keeper is not an object: {state:?}")
    };
    assert_eq!(keeper.class(), "ponds.Duck");
    assert_eq!(keeper.downcast_ref::<Duck>(), Some(&duck("Donald", 7)));
    assert!(matches!(field("visitor"), Value::Object(_)));
    assert_eq!(field("ducks").as_seq().unwrap().len(), 2);
    assert_eq!(
        field("photo"),
        &Value::Bytes(Bytes::from_static(b"\x89PNG"))
    );
    assert_eq!(
        field("position"),
        &Value::Tuple(vec![Value::Float(51.5), Value::Float(-0.1)])
    );
    assert_eq!(
        field("depths"),
        &Value::Dict(Dict::from_iter([
            (Value::from("north"), Value::Int(3)),
            (Value::from("south"), Value::Int(5)),
        ]))
    );
    // The serde bridge's form of a struct: a dict of its fields.
    assert_eq!(
        field("stamp"),
        &Value::Dict(Dict::from_iter([(
            Value::from("seconds"),
            Value::Int(1_700_000_000)
        )]))
    );
}

#[test]
fn round_trip_through_jelly() {
    let options = options();
    let received = through_jelly(&spread::copy(pond()), &options).unwrap();
    assert_eq!(Pond::from_value(&received).unwrap(), pond());

    // `None` and an empty list travel too.
    let sparse = Pond {
        visitor: None,
        ducks: Vec::new(),
        ..pond()
    };
    let received = through_jelly(&sparse.clone().into_value().unwrap(), &options).unwrap();
    assert_eq!(Pond::from_value(&received).unwrap(), sparse);
}

#[test]
fn round_trip_without_jelly() {
    // State to object directly, as a local `allow_copy` factory does.
    let back = Pond::from_copyable_state(pond().state_to_copy().unwrap()).unwrap();
    assert_eq!(back, pond());
}

#[test]
fn one_copy_in_two_fields_is_read_through_the_reference() {
    // The keeper also visits: both fields hold the same object, which Jelly
    // sends once and references the second time, so it arrives shared.
    let keeper = duck("Donald", 7).into_value().unwrap();
    let mut state = pond().state_to_copy().unwrap();
    let Value::Dict(dict) = &mut state else {
        unreachable!()
    };
    dict.insert(Value::from("keeper"), keeper.clone());
    dict.insert(Value::from("visitor"), keeper);
    let outer = Value::Object(Object::with_copy_rule("ponds.Pond", (), move |_: &()| {
        Ok(state.clone())
    }));
    let received = through_jelly(&outer, &options()).unwrap();
    let back = Pond::from_value(&received).unwrap();
    assert_eq!(back.keeper, duck("Donald", 7));
    assert_eq!(back.visitor, Some(duck("Donald", 7)));
}

#[test]
fn nested_class_must_be_registered_too() {
    // Default deny reaches inside the state: the pond's class alone is not
    // enough, the ducks in it are refused.
    let mut options = SecurityOptions::new();
    spread::allow_copy::<Pond>(&mut options, "ponds.Pond").unwrap();
    let err = through_jelly(&spread::copy(pond()), &options).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Insecure { tag, .. } if tag == "ponds.Duck"),
        "{err}"
    );
}

#[test]
fn field_errors_name_the_field() {
    let with = |key: &str, value: Value| {
        let mut state = pond().state_to_copy().unwrap();
        let Value::Dict(dict) = &mut state else {
            unreachable!()
        };
        dict.insert(Value::from(key), value);
        Pond::from_copyable_state(state).unwrap_err()
    };

    let err = with("keeper", Value::Int(7));
    assert_eq!(err.path(), "keeper");
    assert_eq!(
        err.kind(),
        &ErrorKind::Custom("builtins.TypeError: expected ponds.Duck, got int".into())
    );

    let err = with("photo", Value::from("not bytes"));
    assert_eq!(err.path(), "photo");
    assert!(err.to_string().contains("expected bytes, got str"), "{err}");

    let err = with("position", Value::Tuple(vec![Value::Float(1.0)]));
    assert_eq!(err.path(), "position");

    // A serde field keeps the bridge's path inside the field.
    let err = with("stamp", Value::Dict(Dict::new()));
    assert_eq!(err.path(), "stamp.seconds");
    assert_eq!(err.kind(), &ErrorKind::MissingField("seconds".into()));

    // An int too large for the field is Python's OverflowError.
    let mut state = duck("Donald", 7).state_to_copy().unwrap();
    let Value::Dict(dict) = &mut state else {
        unreachable!()
    };
    dict.insert(Value::from("age"), Value::Int(300));
    let err = Duck::from_copyable_state(state).unwrap_err();
    assert_eq!(err.path(), "age");
    assert_eq!(
        err.to_string(),
        "at age: builtins.OverflowError: 300 does not fit in u8"
    );
}

/// A referenceable for [`Offer`] to hold.
struct Counter;

impl Referenceable for Counter {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
    }
}

/// The sender's side of a copy that carries a reference.
#[derive(Debug, Clone, Copyable)]
#[pb(class = "m.Offer")]
struct Offer {
    name: String,
    counter: LocalReferenceable,
}

/// The receiver's side: the reference arrives as a `RemoteReference`.
#[derive(Debug, Clone, RemoteCopy)]
struct Offered {
    name: String,
    counter: RemoteReference,
}

#[test]
fn references_are_fields_too() {
    let counter = LocalReferenceable::new(Arc::new(Counter));
    let offer = Offer {
        name: "count".into(),
        counter: counter.clone(),
    };
    let state = offer.state_to_copy().unwrap();
    let sent = state.as_dict().unwrap().get_str("counter").unwrap();
    // The field is this side's object, which the broker sends by reference.
    assert_eq!(sent.downcast_ref::<LocalReferenceable>(), Some(&counter));

    // Without a broker no reference can arrive: an int in its place is the
    // `FromValue` error of `RemoteReference`, at the field.
    let state = Value::Dict(Dict::from_iter([
        (Value::from("name"), Value::from("count")),
        (Value::from("counter"), Value::Int(1)),
    ]));
    let err = Offered::from_copyable_state(state).unwrap_err();
    assert_eq!(err.path(), "counter");
    assert!(
        err.to_string().contains("expected a remote reference"),
        "{err}"
    );
    assert!(
        Offered::from_copyable_state(Value::None)
            .map(|o| (o.name, o.counter))
            .is_err()
    );
}
