use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use spread_banana::Sexp;
use spread_jelly::{ErrorKind, Instance, Value, from_sexp};
use spread_security::{RegistrationError, SecurityOptions};

#[derive(Debug, Deserialize, PartialEq)]
struct ReceiverPond {
    color: String,
    #[serde(rename = "numFrogs")]
    num_frogs: i64,
}

fn tag(word: &'static str) -> Sexp {
    Sexp::from(word)
}

fn unicode(s: &'static str) -> Sexp {
    Sexp::list([tag("unicode"), Sexp::from(s)])
}

fn pond(entries: Vec<Sexp>) -> Sexp {
    let mut dict = vec![tag("dictionary")];
    dict.extend(entries);
    Sexp::list([tag("copy_sender.CopyPond"), Sexp::List(dict)])
}

fn entry(key: &'static str, value: Sexp) -> Sexp {
    Sexp::list([unicode(key), value])
}

fn options() -> SecurityOptions {
    let mut options = SecurityOptions::new();
    options
        .allow_deserialize::<ReceiverPond>("copy_sender.CopyPond")
        .unwrap();
    options
}

#[test]
fn a_registered_class_becomes_its_local_type() {
    let sent = pond(vec![
        entry("color", unicode("green")),
        entry("numFrogs", Sexp::from(7)),
    ]);
    let Value::Object(object) = from_sexp(&sent, &options()).unwrap() else {
        panic!()
    };
    assert_eq!(object.class(), "copy_sender.CopyPond");
    assert_eq!(
        object.downcast_ref::<ReceiverPond>(),
        Some(&ReceiverPond {
            color: "green".into(),
            num_frogs: 7
        })
    );
}

#[test]
fn bytes_keys_are_accepted_as_twisted_accepts_them() {
    let sent = pond(vec![
        Sexp::list([Sexp::from("color"), unicode("green")]),
        Sexp::list([Sexp::from("numFrogs"), Sexp::from(7)]),
    ]);
    assert!(matches!(
        from_sexp(&sent, &options()).unwrap(),
        Value::Object(_)
    ));
}

#[test]
fn a_bad_state_names_the_field_and_builds_nothing() {
    let missing = pond(vec![entry("color", unicode("green"))]);
    let err = from_sexp(&missing, &options()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::MissingField("numFrogs".into()));
    assert_eq!(err.path(), "copy_sender.CopyPond.numFrogs");

    let wrong = pond(vec![
        entry("color", Sexp::from(3)),
        entry("numFrogs", Sexp::from(7)),
    ]);
    let err = from_sexp(&wrong, &options()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnexpectedShape { .. }),
        "{err}"
    );
    assert_eq!(err.path(), "copy_sender.CopyPond.color");

    let not_a_dict = Sexp::list([tag("copy_sender.CopyPond"), Sexp::from(7)]);
    assert!(from_sexp(&not_a_dict, &options()).is_err());
}

#[test]
fn registered_classes_deep_inside_references_are_built_once_and_shared() {
    let one = pond(vec![
        entry("color", unicode("green")),
        entry("numFrogs", Sexp::from(7)),
    ]);
    // [{"a": ("reference" 1 pond)}, ("dereference" 1)]
    let sent = Sexp::list([
        tag("list"),
        Sexp::list([
            tag("dictionary"),
            entry("a", Sexp::list([tag("reference"), Sexp::from(1), one])),
        ]),
        Sexp::list([tag("dereference"), Sexp::from(1)]),
    ]);
    let value = from_sexp(&sent, &options()).unwrap();
    let items = value.as_seq().unwrap();
    let Value::Shared(second) = &items[1] else {
        panic!("{value:?}")
    };
    let Some(Value::Object(object)) = second.get() else {
        panic!()
    };
    assert_eq!(object.downcast_ref::<ReceiverPond>().unwrap().num_frogs, 7);
}

#[test]
fn generic_instances_can_be_allowed_without_a_local_type() {
    let mut options = SecurityOptions::new();
    options.allow_instances("m.Plain").unwrap();
    let sent = Sexp::list([tag("m.Plain"), Sexp::from(1)]);
    assert_eq!(
        from_sexp(&sent, &options).unwrap(),
        Value::from(Instance::new("m.Plain", Value::from(1)))
    );
}

#[test]
fn registering_a_name_twice_is_an_error_not_an_overwrite() {
    let built = Arc::new(AtomicUsize::new(0));
    let mut options = options();
    let counter = built.clone();
    let err = options
        .allow_factory("copy_sender.CopyPond", move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(
        err,
        RegistrationError::DuplicateClass {
            class: "copy_sender.CopyPond".into()
        }
    );
    let sent = pond(vec![
        entry("color", unicode("green")),
        entry("numFrogs", Sexp::from(7)),
    ]);
    let Value::Object(object) = from_sexp(&sent, &options).unwrap() else {
        panic!()
    };
    assert!(
        object.downcast_ref::<ReceiverPond>().is_some(),
        "the first registration still holds"
    );
    assert_eq!(built.load(Ordering::SeqCst), 0);
}

#[test]
fn class_names_must_be_module_dot_class() {
    let mut options = SecurityOptions::new();
    for bad in [
        "CopyPond",
        "list",
        "",
        ".Pond",
        "copy_sender.",
        "a..b",
        "a.b c",
        "1mod.Pond",
    ] {
        assert_eq!(
            options.allow_instances(bad).unwrap_err(),
            RegistrationError::InvalidClassName { class: bad.into() },
            "{bad:?}"
        );
    }
    assert!(
        options
            .allow_instances("twisted.spread.pb.CopyableFailure")
            .is_ok()
    );
}
