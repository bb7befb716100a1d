use std::cell::Cell;

use spread_banana::Sexp;
use spread_jelly::{AllowAll, Error, ErrorKind, Policy, Unjellier, Value, from_sexp};

fn tag(word: &'static str) -> Sexp {
    Sexp::from(word)
}

fn unicode(s: &'static str) -> Sexp {
    Sexp::list([tag("unicode"), Sexp::from(s)])
}

#[test]
fn errors_name_the_path_to_the_problem() {
    // [1, {"x": <bad boolean>}]
    let sexp = Sexp::list([
        tag("list"),
        Sexp::from(1),
        Sexp::list([
            tag("dictionary"),
            Sexp::list([
                unicode("x"),
                Sexp::list([tag("boolean"), Sexp::from("maybe")]),
            ]),
        ]),
    ]);
    let err = from_sexp(&sexp, &AllowAll).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Malformed { tag: "boolean", .. }),
        "{err}"
    );
    assert_eq!(err.path(), "list[1].dict[\"x\"]");
    assert_eq!(
        err.to_string(),
        "at list[1].dict[\"x\"]: malformed boolean: expected \"true\" or \"false\""
    );
}

#[test]
fn malformed_forms() {
    let cases: Vec<(Sexp, &str)> = vec![
        (Sexp::list([]), "list"),
        (Sexp::list([Sexp::from(1)]), "list"),
        (Sexp::list([tag("unicode")]), "unicode"),
        (
            Sexp::list([tag("dictionary"), Sexp::list([Sexp::from(1)])]),
            "dictionary",
        ),
        (Sexp::list([tag("decimal"), Sexp::from(1)]), "decimal"),
        (
            Sexp::list([tag("reference"), Sexp::from("one"), Sexp::from(1)]),
            "reference",
        ),
        (Sexp::list([tag("m.Cls")]), "instance"),
    ];
    for (sexp, expected) in cases {
        match from_sexp(&sexp, &AllowAll).unwrap_err().kind() {
            ErrorKind::Malformed { tag, .. } => assert_eq!(*tag, expected, "{sexp:?}"),
            other => panic!("{sexp:?}: {other}"),
        }
    }
}

#[test]
fn invalid_utf8_is_refused() {
    let sexp = Sexp::list([tag("unicode"), Sexp::from(vec![0xff, 0xfe])]);
    assert_eq!(
        from_sexp(&sexp, &AllowAll).unwrap_err().kind(),
        &ErrorKind::InvalidUtf8("unicode")
    );
}

#[test]
fn unknown_and_unsupported_types() {
    let unknown = Sexp::list([tag("copy"), Sexp::from(1)]);
    assert!(
        matches!(from_sexp(&unknown, &AllowAll).unwrap_err().kind(), ErrorKind::UnknownType { tag } if tag == "copy")
    );
    let class = Sexp::list([tag("class"), Sexp::from("os.system")]);
    assert!(
        matches!(from_sexp(&class, &AllowAll).unwrap_err().kind(), ErrorKind::Unsupported { tag } if tag == "class")
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let deep = (0..100).fold(Sexp::from(1), |inner, _| Sexp::list([tag("list"), inner]));
    let err = Unjellier::new(AllowAll)
        .max_depth(50)
        .unjelly(&deep)
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::TooDeep { limit: 50 });
    assert!(
        Unjellier::new(AllowAll)
            .max_depth(101)
            .unjelly(&deep)
            .is_ok()
    );
}

/// A policy that refuses sets and every class, and counts what it was asked
/// to build.
#[derive(Default)]
struct Strict {
    built: Cell<usize>,
}

impl Policy for Strict {
    fn allows_type(&self, tag: &str) -> bool {
        tag != "set"
    }
    fn unjelly_instance(&self, class: &str, _state: Value) -> Result<Value, Error> {
        self.built.set(self.built.get() + 1);
        Err(ErrorKind::Insecure {
            tag: class.to_owned(),
            reason: Some("not registered".into()),
        }
        .into())
    }
}

#[test]
fn the_policy_decides_and_its_refusal_carries_the_path() {
    let policy = Strict::default();
    let refused_type = Sexp::list([tag("tuple"), Sexp::list([tag("set"), Sexp::from(1)])]);
    let err = from_sexp(&refused_type, &policy).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Insecure { tag, .. } if tag == "set"));
    assert_eq!(err.path(), "tuple[0]");

    // A refused type inside a class's state is refused before the class is
    // even asked about.
    let nested = Sexp::list([Sexp::from("m.Cls"), Sexp::list([tag("set")])]);
    assert!(from_sexp(&nested, &policy).is_err());
    assert_eq!(policy.built.get(), 0);

    let class = Sexp::list([
        tag("list"),
        Sexp::list([Sexp::from("evil.Thing"), Sexp::list([tag("dictionary")])]),
    ]);
    let err = from_sexp(&class, &policy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at list[0].evil.Thing: insecure jelly: evil.Thing is not allowed (not registered)"
    );
}

#[test]
fn persistent_ids_become_unpersistable_as_in_twisted() {
    let sexp = Sexp::list([tag("persistent"), Sexp::from("42")]);
    assert_eq!(
        from_sexp(&sexp, &AllowAll).unwrap(),
        Value::Unpersistable("Persistent callback not found".into())
    );
}
