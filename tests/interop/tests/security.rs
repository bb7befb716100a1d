//! spread-security's default decisions against Twisted PB's own
//! (`jelly.globalSecurity`), on the same bytes, through a live Twisted.

use spread_banana::{Dialect, Sexp, encode_to_vec};
use spread_interop::peer::{PbDecision, Peer, python};
use spread_interop::typed;
use spread_jelly::{ErrorKind, from_sexp};
use spread_security::SecurityOptions;

fn tag(word: &str) -> Sexp {
    Sexp::from(word.as_bytes().to_vec())
}

fn unicode(s: &str) -> Sexp {
    Sexp::list([tag("unicode"), tag(s)])
}

fn cases() -> Vec<(&'static str, Sexp)> {
    let dict_state = Sexp::list([tag("dictionary"), Sexp::list([unicode("a"), Sexp::from(1)])]);
    let instance = |class: &str| Sexp::list([tag(class), dict_state.clone()]);
    vec![
        ("None", Sexp::list([tag("None")])),
        ("boolean", Sexp::list([tag("boolean"), tag("true")])),
        ("unicode", unicode("héllo")),
        ("list", Sexp::list([tag("list"), Sexp::from(1)])),
        ("tuple", Sexp::list([tag("tuple"), Sexp::from(1)])),
        ("dictionary", dict_state.clone()),
        ("set", Sexp::list([tag("set"), Sexp::from(1)])),
        ("frozenset", Sexp::list([tag("frozenset"), Sexp::from(1)])),
        (
            "datetime",
            Sexp::list([tag("datetime"), tag("2020 7 11 1 16 5 344")]),
        ),
        ("date", Sexp::list([tag("date"), tag("2020 7 11")])),
        ("time", Sexp::list([tag("time"), tag("1 16 5 344")])),
        (
            "timedelta",
            Sexp::list([tag("timedelta"), tag("8 4565 344")]),
        ),
        (
            "decimal",
            Sexp::list([tag("decimal"), Sexp::from(995), Sexp::from(-2)]),
        ),
        (
            "reference",
            Sexp::list([
                tag("list"),
                Sexp::list([tag("reference"), Sexp::from(1), Sexp::list([tag("list")])]),
                Sexp::list([tag("dereference"), Sexp::from(1)]),
            ]),
        ),
        (
            "unpersistable",
            Sexp::list([tag("unpersistable"), tag("why")]),
        ),
        ("persistent", Sexp::list([tag("persistent"), tag("42")])),
        ("class", Sexp::list([tag("class"), tag("os.system")])),
        (
            "instance (legacy)",
            Sexp::list([
                tag("instance"),
                Sexp::list([tag("class"), tag("m.C")]),
                dict_state.clone(),
            ]),
        ),
        ("copy", Sexp::list([tag("copy"), Sexp::from(1)])),
        ("cache", Sexp::list([tag("cache"), Sexp::from(1)])),
        (
            "undotted unknown",
            Sexp::list([tag("bogus"), Sexp::from(1)]),
        ),
        ("unregistered class", instance("copy_sender.CopyPond")),
        ("a module that exists", instance("os.Foo")),
        ("builtins", instance("builtins.dict")),
        (
            "nested deep",
            Sexp::list([
                tag("list"),
                Sexp::list([
                    tag("dictionary"),
                    Sexp::list([
                        unicode("k"),
                        Sexp::list([tag("tuple"), instance("evil.Thing")]),
                    ]),
                ]),
            ]),
        ),
        (
            "allowed type inside refused instance",
            Sexp::list([tag("evil.Wrapper"), Sexp::list([tag("set"), Sexp::from(1)])]),
        ),
    ]
}

#[test]
fn default_options_decide_as_twisted_pb_does() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let mut twisted = Peer::start(&python).unwrap();
    let options = SecurityOptions::new();
    let mut disagreements = Vec::new();
    for (name, sexp) in cases() {
        let bytes = encode_to_vec(&sexp, Dialect::Pb).unwrap();
        let theirs = twisted.pb_unjelly(&bytes).unwrap();
        let ours = from_sexp(&sexp, &options);
        match (&theirs, &ours) {
            (PbDecision::Accepted(json), Ok(value)) => {
                let expected = typed::value(json).unwrap();
                if &expected != value {
                    disagreements.push(format!(
                        "{name}: Twisted built {expected:?}, we built {value:?}"
                    ));
                }
            }
            (PbDecision::Insecure(message), Err(err)) => match err.kind() {
                ErrorKind::Insecure { tag, .. } if message.contains(tag.as_str()) => {}
                _ => disagreements.push(format!("{name}: Twisted says {message:?}, we say {err}")),
            },
            _ => disagreements.push(format!("{name}: Twisted {theirs:?}, we {ours:?}")),
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
