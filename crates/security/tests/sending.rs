use serde::Deserialize;
use spread_banana::Sexp;
use spread_jelly::{Dict, Error, ErrorKind, Jellyable, Object, Value, from_sexp, to_sexp};
use spread_security::SecurityOptions;

#[derive(Debug, Deserialize)]
struct ReceiverPond {
    #[serde(rename = "numFrogs")]
    _num_frogs: i64,
}

#[test]
fn a_received_object_cannot_be_sent_on_without_a_copy_rule() {
    let mut options = SecurityOptions::new();
    options
        .allow_deserialize::<ReceiverPond>("copy_sender.CopyPond")
        .unwrap();
    let sent = Sexp::list([
        Sexp::from("copy_sender.CopyPond"),
        Sexp::list([
            Sexp::from("dictionary"),
            Sexp::list([Sexp::from("numFrogs"), Sexp::from(7)]),
        ]),
    ]);
    let received = from_sexp(&sent, &options).unwrap();
    // Echoing it back, inside a list: refused at the sender, nothing produced.
    let err = to_sexp(&Value::List(vec![Value::from(1), received])).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Unsendable {
            class: "copy_sender.CopyPond".into()
        }
    );
    assert_eq!(err.path(), "copy_sender.CopyPond");
}

#[derive(Debug)]
struct SenderPond {
    frogs: i64,
    toads: i64,
}

impl Jellyable for SenderPond {
    fn state_to_copy(&self) -> Result<Value, Error> {
        Ok(Value::Dict(Dict::from_iter([(
            Value::from("frogsAndToads"),
            Value::from(self.frogs + self.toads),
        )])))
    }
}

#[test]
fn an_object_with_a_copy_rule_is_sent_as_its_state() {
    let pond = Object::new(
        "copy2_classes.SenderPond",
        SenderPond { frogs: 3, toads: 4 },
    );
    let sexp = to_sexp(&Value::Object(pond)).unwrap();
    let expected = Sexp::list([
        Sexp::from("copy2_classes.SenderPond"),
        Sexp::list([
            Sexp::from("dictionary"),
            Sexp::list([
                Sexp::list([Sexp::from("unicode"), Sexp::from("frogsAndToads")]),
                Sexp::from(7),
            ]),
        ]),
    ]);
    assert_eq!(sexp, expected);
}

#[derive(Debug)]
struct Failing;

impl Jellyable for Failing {
    fn state_to_copy(&self) -> Result<Value, Error> {
        Err(Error::custom("state getter failed"))
    }
}

/// Twisted's test_badSerialization: a state getter that fails makes the send
/// fail locally.
#[test]
fn a_failing_copy_rule_fails_the_send() {
    let err = to_sexp(&Value::Object(Object::new("m.Failing", Failing))).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Custom("state getter failed".into()));
}
