use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use spread_banana::Sexp;
use spread_jelly::{ErrorKind, Value, from_sexp};
use spread_security::{JellyType, SecurityOptions};

fn tag(word: &'static str) -> Sexp {
    Sexp::from(word)
}

fn unicode(s: &'static str) -> Sexp {
    Sexp::list([tag("unicode"), Sexp::from(s)])
}

/// `[class, {"name": "x"}]`
fn instance(class: &'static str) -> Sexp {
    Sexp::list([
        Sexp::from(class),
        Sexp::list([
            tag("dictionary"),
            Sexp::list([unicode("name"), unicode("x")]),
        ]),
    ])
}

fn insecure_tag(err: &spread_jelly::Error) -> &str {
    match err.kind() {
        ErrorKind::Insecure { tag, .. } => tag,
        other => panic!("expected an insecure-jelly error, got {other}"),
    }
}

/// Options with `registered.User` registered through a factory that counts
/// what it builds.
fn counting() -> (SecurityOptions, Arc<AtomicUsize>) {
    let built = Arc::new(AtomicUsize::new(0));
    let counter = built.clone();
    let mut options = SecurityOptions::new();
    options
        .allow_factory("registered.User", move |state: Value| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(state)
        })
        .unwrap();
    (options, built)
}

#[test]
fn an_unregistered_class_is_refused_by_name() {
    let err = from_sexp(&instance("accounts.User"), &SecurityOptions::new()).unwrap_err();
    assert_eq!(insecure_tag(&err), "accounts.User");
    assert!(
        err.to_string().contains("accounts.User is not allowed"),
        "{err}"
    );
}

#[test]
fn a_name_that_differs_only_in_its_module_is_another_class() {
    let (options, built) = counting();
    assert!(from_sexp(&instance("registered.User"), &options).is_ok());
    let err = from_sexp(&instance("unregistered.User"), &options).unwrap_err();
    assert_eq!(insecure_tag(&err), "unregistered.User");
    // Twisted's loophole: any dotted tag passes its type check. Not here.
    let err = from_sexp(&instance("registered.User.evil"), &options).unwrap_err();
    assert_eq!(insecure_tag(&err), "registered.User.evil");
    assert_eq!(built.load(Ordering::SeqCst), 1);
}

#[test]
fn refusal_deep_inside_lists_dicts_and_references_names_the_path() {
    // [{"k": ("reference" 1 [ <evil> ])}]
    let deep = Sexp::list([
        tag("list"),
        Sexp::list([
            tag("dictionary"),
            Sexp::list([
                unicode("k"),
                Sexp::list([
                    tag("reference"),
                    Sexp::from(1),
                    Sexp::list([tag("tuple"), instance("evil.Thing")]),
                ]),
            ]),
        ]),
    ]);
    let err = from_sexp(&deep, &SecurityOptions::new()).unwrap_err();
    assert_eq!(insecure_tag(&err), "evil.Thing");
    assert_eq!(err.path(), "list[0].dict[\"k\"].tuple[0].evil.Thing");
}

#[test]
fn a_registered_class_inside_a_refused_one_is_never_built() {
    let (options, built) = counting();
    // An allowed basic type and a registered class, inside an unregistered instance.
    let state = Sexp::list([
        tag("dictionary"),
        Sexp::list([unicode("ok"), Sexp::list([tag("set"), Sexp::from(1)])]),
        Sexp::list([unicode("inner"), instance("registered.User")]),
    ]);
    let outer = Sexp::list([Sexp::from("evil.Wrapper"), state]);
    let err = from_sexp(&outer, &options).unwrap_err();
    assert_eq!(insecure_tag(&err), "evil.Wrapper");
    assert_eq!(err.path(), "evil.Wrapper");
    assert_eq!(
        built.load(Ordering::SeqCst),
        0,
        "something inside the refused class was built"
    );
}

#[test]
fn class_module_function_and_legacy_forms_are_refused_as_twisted_refuses_them() {
    for word in [
        "class", "module", "function", "method", "instance", "copy", "cache",
    ] {
        let sexp = Sexp::list([
            Sexp::from(word.as_bytes().to_vec()),
            Sexp::from("os.system"),
        ]);
        let err = from_sexp(&sexp, &SecurityOptions::new()).unwrap_err();
        assert_eq!(insecure_tag(&err), word);
    }
}

#[test]
fn denied_types_are_refused() {
    let set = Sexp::list([tag("set"), Sexp::from(1)]);
    let mut options = SecurityOptions::new();
    assert!(from_sexp(&set, &options).is_ok());
    options.deny_type(JellyType::Set);
    assert_eq!(insecure_tag(&from_sexp(&set, &options).unwrap_err()), "set");

    // Twisted's test_typeSecurity: a bare SecurityOptions refuses dicts.
    let dict = Sexp::list([tag("dictionary")]);
    let mut empty = SecurityOptions::empty();
    assert_eq!(
        insecure_tag(&from_sexp(&dict, &empty).unwrap_err()),
        "dictionary"
    );
    empty.allow_type(JellyType::Dictionary);
    assert!(from_sexp(&dict, &empty).is_ok());
    // Atoms carry no tag and always pass.
    assert_eq!(
        from_sexp(&Sexp::from(5), &SecurityOptions::empty()).unwrap(),
        Value::from(5)
    );
}

#[test]
fn unpersistable_markers_from_twisted_are_still_read() {
    let marker = Sexp::list([
        tag("unpersistable"),
        Sexp::from("instance of class __main__.PlainThing deemed insecure"),
    ]);
    assert_eq!(
        from_sexp(&marker, &SecurityOptions::new()).unwrap(),
        Value::Unpersistable("instance of class __main__.PlainThing deemed insecure".into())
    );
}
