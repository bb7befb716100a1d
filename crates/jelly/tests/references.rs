use spread_banana::Sexp;
use spread_jelly::{AllowAll, ErrorKind, Shared, Value, from_sexp, to_sexp};

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn tag(word: &'static str) -> Sexp {
    Sexp::from(word)
}

#[test]
fn a_cycle_unjellies_to_a_back_reference_and_jellies_back_the_same() {
    // l = []; l.append(l)
    let sexp = Sexp::list([
        tag("reference"),
        Sexp::from(1),
        Sexp::list([tag("list"), Sexp::list([tag("dereference"), Sexp::from(1)])]),
    ]);
    let value = from_sexp(&sexp, &AllowAll).unwrap();
    let Value::Shared(owner) = &value else {
        panic!("{value:?}")
    };
    let Some(Value::List(items)) = owner.get() else {
        panic!()
    };
    let Value::Shared(back) = &items[0] else {
        panic!()
    };
    assert!(back.is_back_reference());
    assert!(back.ptr_eq(owner));
    assert_eq!(to_sexp(&value).unwrap(), sexp);
}

#[test]
fn debug_and_equality_terminate_on_cycles() {
    let a = Value::Shared(Shared::cyclic(|me| {
        list(vec![Value::from(1), Value::Shared(me)])
    }));
    let b = Value::Shared(Shared::cyclic(|me| {
        list(vec![Value::from(1), Value::Shared(me)])
    }));
    let c = Value::Shared(Shared::cyclic(|me| {
        list(vec![Value::from(2), Value::Shared(me)])
    }));
    assert_eq!(format!("{a:?}"), "#1=[1, #1]");
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn dropping_a_cycle_frees_it() {
    let cycle = Shared::cyclic(|me| list(vec![Value::Shared(me)]));
    let back = cycle.downgrade();
    assert!(back.upgrade().is_some());
    drop(cycle);
    assert!(back.upgrade().is_none(), "the cycle leaked");
    // Jellying through a dangling back reference is an error, not a crash.
    let err = to_sexp(&Value::Shared(back)).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::DanglingReference);
}

#[test]
fn identity_must_line_up_for_equality() {
    let s = Shared::new(list(vec![]));
    let shared_twice = list(vec![Value::Shared(s.clone()), Value::Shared(s)]);
    let two_objects = list(vec![list(vec![]).shared(), list(vec![]).shared()]);
    assert_ne!(shared_twice, two_objects);
    assert_ne!(shared_twice, list(vec![list(vec![]), list(vec![])]));
}

/// A hostile peer can send `a1 = [x, x]; a2 = [a1, a1]; …` whose expansion
/// doubles at each level. Printing, comparing and jellying it must stay
/// linear in what was sent.
#[test]
fn heavily_shared_values_stay_cheap() {
    let mut v = Value::from(0);
    for _ in 0..200 {
        let s = Shared::new(v);
        v = list(vec![Value::Shared(s.clone()), Value::Shared(s)]);
    }
    let debug = format!("{v:?}");
    assert!(debug.len() < 10_000, "Debug expanded the sharing");
    assert_eq!(v, v.clone());
    let sexp = to_sexp(&v).unwrap();
    // Each level is sent once and referred to once after: linear in size,
    // where expanding the sharing would need 2^200 nodes.
    assert!(nodes(&sexp) < 20 * 200, "jelly expanded the sharing");
    assert_eq!(from_sexp(&sexp, &AllowAll).unwrap(), v);
}

/// How many s-expression nodes `sexp` holds.
fn nodes(sexp: &Sexp) -> usize {
    1 + sexp
        .as_list()
        .map_or(0, |items| items.iter().map(nodes).sum())
}

#[test]
fn reference_errors() {
    let deref = |id: i64| Sexp::list([tag("dereference"), Sexp::from(id)]);
    let err = from_sexp(&Sexp::list([tag("list"), deref(3)]), &AllowAll).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::UnknownReference(3));
    assert_eq!(err.path(), "list[0]");

    let twice = Sexp::list([
        tag("list"),
        Sexp::list([tag("reference"), Sexp::from(1), Sexp::list([tag("list")])]),
        Sexp::list([tag("reference"), Sexp::from(1), Sexp::list([tag("list")])]),
    ]);
    let err = from_sexp(&twice, &AllowAll).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::DuplicateReference(1));
}

/// Each unjelly call has its own reference ids, as each PB argument list,
/// answer and error does.
#[test]
fn reference_ids_do_not_leak_between_calls() {
    let define = Sexp::list([tag("reference"), Sexp::from(1), Sexp::list([tag("list")])]);
    from_sexp(&define, &AllowAll).unwrap();
    let err = from_sexp(&Sexp::list([tag("dereference"), Sexp::from(1)]), &AllowAll).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::UnknownReference(1));
}

#[test]
fn debug_reads_like_python() {
    let v = Value::List(vec![
        Value::Bytes("raw".into()),
        Value::from("text"),
        Value::from(spread_jelly::Instance::new("m.Pond", Value::from(1))),
    ]);
    assert_eq!(format!("{v:?}"), "[b\"raw\", \"text\", m.Pond(1)]");
}
