//! `#[derive(Copyable, RemoteCopy)]` at run time: the state is what
//! Twisted's default `getStateToCopy` gives (the instance's `__dict__`:
//! text keys, in attribute order), and the state that arrives is read back
//! with errors placed at the field.

use std::time::Duration;

use spread::jelly::{ErrorKind, Object};
use spread::{Copyable, Dict, FromValue, RemoteCopy, SecurityOptions, Value};

/// The howto's pond: `{"color": ..., "numFrogs": ...}` on the wire.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "copy_sender.CopyPond")]
struct CopyPond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
}

/// Every field attribute at once.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "accounts.User")]
struct User {
    name: String,
    /// Local only: never sent, empty on arrival.
    #[pb(skip)]
    password: String,
    /// Older peers do not send it.
    #[pb(default)]
    groups: Vec<String>,
    /// Sent as float seconds, as Python code would keep it.
    #[pb(with = "seconds")]
    idle: Duration,
    /// A Python attribute named after a Rust keyword.
    r#type: Option<String>,
}

/// A custom conversion for `#[pb(with = "seconds")]`.
mod seconds {
    use std::time::Duration;

    use spread::Value;
    use spread::jelly::Error;

    pub(crate) fn to_value(d: &Duration) -> Result<Value, Error> {
        Ok(Value::Float(d.as_secs_f64()))
    }

    pub(crate) fn from_value(v: &Value) -> Result<Duration, Error> {
        match v {
            Value::Float(x) => Duration::try_from_secs_f64(*x).map_err(Error::custom),
            other => Err(Error::custom(format!(
                "expected float seconds, got {}",
                other.type_name()
            ))),
        }
    }
}

/// No `class`: the wire name comes from the Rust path.
#[derive(Debug, Clone, Copyable, RemoteCopy)]
struct Plain {
    n: i64,
}

/// An empty state is an empty dict.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "m.Empty")]
struct Empty {}

/// The facade reached through a re-export, as a crate wrapping spread would.
mod reexport {
    pub(crate) use spread as inner;
}

#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(crate = "crate::derive_pass::reexport::inner", class = "m.Wrapped")]
struct Wrapped {
    n: i64,
}

fn text(s: &str) -> Value {
    Value::from(s)
}

fn pond() -> CopyPond {
    CopyPond {
        color: "green".into(),
        num_frogs: 7,
    }
}

fn user() -> User {
    User {
        name: "alice".into(),
        password: "hunter2".into(),
        groups: vec!["admin".into()],
        idle: Duration::from_millis(1500),
        r#type: None,
    }
}

#[test]
fn state_is_twisted_dict_with_text_keys_in_field_order() {
    let state = pond().state_to_copy().unwrap();
    let Value::Dict(dict) = &state else {
        panic!("not a dict: {state:?}")
    };
    // `CopyPond(color="green", numFrogs=7).__dict__`, key for key.
    assert_eq!(
        dict.entries(),
        &[
            (Value::Str("color".into()), Value::Str("green".into())),
            (Value::Str("numFrogs".into()), Value::Int(7)),
        ]
    );
    assert_eq!(pond().type_to_copy(), "copy_sender.CopyPond");
}

#[test]
fn skip_is_not_sent_and_with_converts() {
    let state = user().state_to_copy().unwrap();
    let mut expected = Dict::new();
    expected.push(text("name"), text("alice"));
    expected.push(text("groups"), Value::List(vec![text("admin")]));
    expected.push(text("idle"), Value::Float(1.5));
    expected.push(text("type"), Value::None);
    assert_eq!(state, Value::Dict(expected));
}

#[test]
fn round_trip_restores_all_but_skipped_fields() {
    let back = User::from_copyable_state(user().state_to_copy().unwrap()).unwrap();
    assert_eq!(
        back,
        User {
            password: String::new(),
            ..user()
        }
    );
}

#[test]
fn default_field_may_be_missing() {
    let mut state = Dict::new();
    state.push(text("name"), text("bob"));
    state.push(text("idle"), Value::Float(0.0));
    state.push(text("type"), text("guest"));
    let user = User::from_copyable_state(Value::Dict(state)).unwrap();
    assert_eq!(user.groups, Vec::<String>::new());
    assert_eq!(user.r#type.as_deref(), Some("guest"));
}

#[test]
fn skipped_field_in_the_state_is_ignored() {
    let mut state = Dict::new();
    state.push(text("name"), text("bob"));
    state.push(text("password"), text("sent anyway"));
    state.push(text("idle"), Value::Float(0.0));
    state.push(text("type"), Value::None);
    let user = User::from_copyable_state(Value::Dict(state)).unwrap();
    assert_eq!(user.password, "");
}

#[test]
fn missing_field_is_reported_by_wire_name() {
    let mut state = Dict::new();
    state.push(text("color"), text("green"));
    let err = CopyPond::from_copyable_state(Value::Dict(state)).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::MissingField("numFrogs".into()));
    assert_eq!(err.path(), "numFrogs");
}

#[test]
fn wrong_type_is_reported_at_the_field() {
    let mut state = Dict::new();
    state.push(text("color"), text("green"));
    state.push(text("numFrogs"), text("seven"));
    let err = CopyPond::from_copyable_state(Value::Dict(state)).unwrap_err();
    // `FromValue`'s error, the TypeError a remote method's argument gets.
    assert_eq!(
        err.kind(),
        &ErrorKind::Custom("builtins.TypeError: expected int, got str".into())
    );
    assert_eq!(err.path(), "numFrogs");

    // Inside a field, `FromValue` has no path of its own: the error is
    // placed at the field.
    let mut state = Dict::new();
    state.push(text("name"), text("bob"));
    state.push(text("groups"), Value::List(vec![text("a"), Value::Int(2)]));
    state.push(text("idle"), Value::Float(0.0));
    state.push(text("type"), Value::None);
    let err = User::from_copyable_state(Value::Dict(state)).unwrap_err();
    assert_eq!(err.path(), "groups");
    assert!(err.to_string().contains("expected str, got int"), "{err}");

    // And a `with` module's error is placed the same way.
    let mut state = Dict::new();
    state.push(text("name"), text("bob"));
    state.push(text("idle"), text("soon"));
    state.push(text("type"), Value::None);
    let err = User::from_copyable_state(Value::Dict(state)).unwrap_err();
    assert_eq!(err.path(), "idle");
    assert!(err.to_string().contains("float seconds"), "{err}");
}

#[test]
fn state_that_is_not_a_dict_is_refused() {
    let err = CopyPond::from_copyable_state(Value::List(vec![])).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnexpectedShape {
            expected: "dict".into(),
            found: "list".into(),
        }
    );
}

#[test]
fn unknown_and_bytes_keys() {
    // Python 2 peers send bytes keys; extra attributes are ignored.
    let state = Value::Dict(Dict::from_iter([
        (Value::Bytes(b"color".to_vec().into()), text("blue")),
        (text("numFrogs"), Value::Int(3)),
        (text("numToads"), Value::Int(4)),
    ]));
    let pond = CopyPond::from_copyable_state(state).unwrap();
    assert_eq!(
        pond,
        CopyPond {
            color: "blue".into(),
            num_frogs: 3
        }
    );
}

#[test]
fn shared_state_is_read_through() {
    let state = pond().state_to_copy().unwrap().shared();
    assert_eq!(CopyPond::from_copyable_state(state).unwrap(), pond());
}

#[test]
fn default_class_name_is_the_rust_path() {
    // The test binary is `it`, this module `derive_pass`.
    assert_eq!(Plain { n: 1 }.type_to_copy(), "it.derive_pass.Plain");
    assert_eq!(
        Plain { n: 1 }.type_to_copy(),
        format!("{}.Plain", module_path!().replace("::", "."))
    );
}

#[test]
fn empty_struct_has_empty_state() {
    assert_eq!(Empty {}.state_to_copy().unwrap(), Value::Dict(Dict::new()));
    assert_eq!(
        Empty::from_copyable_state(Value::Dict(Dict::new())).unwrap(),
        Empty {}
    );
}

#[test]
fn crate_path_override() {
    let state = Wrapped { n: 3 }.state_to_copy().unwrap();
    assert_eq!(
        Wrapped::from_copyable_state(state).unwrap(),
        Wrapped { n: 3 }
    );
}

#[test]
fn from_value_takes_a_received_object() {
    let object = Value::Object(Object::receive_only("copy_sender.CopyPond", pond()));
    assert_eq!(CopyPond::from_value(&object).unwrap(), pond());
    // Through a shared value too.
    assert_eq!(CopyPond::from_value(&object.shared()).unwrap(), pond());

    let err = CopyPond::from_value(&Value::Int(7)).unwrap_err();
    assert!(err.is("builtins.TypeError"));
    assert_eq!(err.value, "expected copy_sender.CopyPond, got int");

    let other = Value::Object(Object::receive_only("m.Plain", Plain { n: 1 }));
    let err = CopyPond::from_value(&other).unwrap_err();
    assert_eq!(
        err.value,
        "expected copy_sender.CopyPond, got an object of class m.Plain"
    );
    // Without `class`, errors name the Rust type.
    assert_eq!(
        Plain::from_value(&Value::None).unwrap_err().value,
        "expected Plain, got None"
    );
}

#[test]
fn copy_round_trip() {
    let sent = spread::copy(pond());
    let Value::Object(object) = &sent else {
        panic!("not an object: {sent:?}")
    };
    assert_eq!(object.class(), "copy_sender.CopyPond");
    let back = CopyPond::from_copyable_state(object.state_to_copy().unwrap()).unwrap();
    assert_eq!(back, pond());
    assert_eq!(
        CopyPond::from_copyable_state(pond().state_to_copy().unwrap()).unwrap(),
        pond()
    );
}

#[test]
fn round_trip_through_jelly() {
    // Jellied as `["copy_sender.CopyPond", ["dictionary", ...]]`, and back
    // into a `CopyPond` under a registration, as a receiver does.
    let sexp = spread::to_sexp(&spread::copy(pond())).unwrap();
    let mut options = SecurityOptions::new();
    spread::allow_copy::<CopyPond>(&mut options, "copy_sender.CopyPond").unwrap();
    let received = spread::from_sexp(&sexp, &options).unwrap();
    assert_eq!(CopyPond::from_value(&received).unwrap(), pond());
}
