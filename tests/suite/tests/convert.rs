//! `FromValue` and `IntoValue` for Python's basic types: what a method
//! argument, a method result and a field of a derived copy can be.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use spread::{Dict, FromValue, IntoValue, Value};

/// A Python int beyond `i64`, as it arrives.
fn big(decimal: &str) -> Value {
    Value::BigInt(decimal.parse().expect("a decimal int"))
}

#[test]
fn ints_too_large_are_overflow_errors() {
    let err = i8::from_value(&Value::Int(300)).unwrap_err();
    assert!(err.is("builtins.OverflowError"), "{err:?}");
    assert_eq!(err.value, "300 does not fit in i8");

    let err = u32::from_value(&Value::Int(-1)).unwrap_err();
    assert!(err.is("builtins.OverflowError"), "{err:?}");

    // 2**70 arrives as a BigInt: too large for every fixed int but i128.
    let two_70 = big("1180591620717411303424");
    for err in [
        i64::from_value(&two_70).unwrap_err(),
        u64::from_value(&two_70).unwrap_err(),
        usize::from_value(&two_70).unwrap_err(),
    ] {
        assert_eq!(err.remote_type, "builtins.OverflowError", "{err:?}");
    }
    assert_eq!(i128::from_value(&two_70).unwrap(), 1 << 70);
    assert_eq!((1i128 << 70).into_value().unwrap(), two_70);

    // u64 beyond i64 travels as a BigInt and comes back.
    let max = u64::MAX.into_value().unwrap();
    assert!(matches!(max, Value::BigInt(_)));
    assert_eq!(u64::from_value(&max).unwrap(), u64::MAX);
    assert_eq!(u128::from(u64::MAX).into_value().unwrap(), max);

    // Small wide ints stay in the canonical `Int` form.
    assert_eq!(7u128.into_value().unwrap(), Value::Int(7));
    assert_eq!((-7isize).into_value().unwrap(), Value::Int(-7));
    assert_eq!(7usize.into_value().unwrap(), Value::Int(7));

    // A str is not an int: that is a TypeError, not an overflow.
    let err = i64::from_value(&Value::from("7")).unwrap_err();
    assert!(err.is("builtins.TypeError"));
}

#[test]
fn floats() {
    assert_eq!(f32::from_value(&Value::Float(1.5)).unwrap(), 1.5);
    assert_eq!(f64::from_value(&Value::Int(2)).unwrap(), 2.0);
    assert_eq!(1.5f32.into_value().unwrap(), Value::Float(1.5));
    assert!(f64::from_value(&Value::from("1.5")).is_err());
}

#[test]
fn bytes_are_python_bytes_not_str() {
    let b = Bytes::from_static(b"\x00\xff");
    let value = b.clone().into_value().unwrap();
    assert_eq!(value, Value::Bytes(b.clone()));
    assert_eq!(Bytes::from_value(&value).unwrap(), b);
    assert!(Bytes::from_value(&Value::from("text")).is_err());
    assert!(String::from_value(&value).is_err());
}

#[test]
fn tuples_are_python_tuples() {
    let value = (1i64, "a".to_owned(), true, None::<i64>)
        .into_value()
        .unwrap();
    assert_eq!(
        value,
        Value::Tuple(vec![
            Value::Int(1),
            Value::from("a"),
            Value::Bool(true),
            Value::None
        ])
    );
    let back = <(i64, String, bool, Option<i64>)>::from_value(&value).unwrap();
    assert_eq!(back, (1, "a".to_owned(), true, None));
    assert_eq!(
        <(i64, String, bool, Option<i64>)>::from_owned(value).unwrap(),
        back
    );

    let err = <(i64, i64)>::from_value(&Value::Tuple(vec![Value::Int(1)])).unwrap_err();
    assert_eq!(err.value, "expected a tuple of 2 items, got one of 1");
    let err = <(i64, i64)>::from_owned(Value::Tuple(vec![Value::Int(1)])).unwrap_err();
    assert_eq!(err.value, "expected a tuple of 2 items, got one of 1");
    let err = <(i64,)>::from_value(&Value::Int(1)).unwrap_err();
    assert_eq!(err.value, "expected tuple, got int");
}

#[test]
fn maps_have_text_keys() {
    let mut map = BTreeMap::new();
    map.insert("b".to_owned(), 2i64);
    map.insert("a".to_owned(), 1i64);
    let value = map.clone().into_value().unwrap();
    // In key order.
    assert_eq!(
        value,
        Value::Dict(Dict::from_iter([
            (Value::from("a"), Value::Int(1)),
            (Value::from("b"), Value::Int(2)),
        ]))
    );
    assert_eq!(
        BTreeMap::<String, i64>::from_value(&value).unwrap(),
        map.clone()
    );
    let hash: HashMap<String, i64> = HashMap::from_owned(value.clone()).unwrap();
    assert_eq!(hash.len(), 2);
    assert_eq!(
        BTreeMap::<String, i64>::from_value(&hash.into_value().unwrap()).unwrap(),
        map
    );

    // Read through a shared dict, as one referenced twice arrives.
    assert_eq!(Dict::from_value(&value.clone().shared()).unwrap().len(), 2);
    assert_eq!(
        BTreeMap::<String, i64>::from_value(&value.shared())
            .unwrap()
            .len(),
        2
    );

    let int_keys = Value::Dict(Dict::from_iter([(Value::Int(1), Value::Int(1))]));
    assert!(BTreeMap::<String, i64>::from_value(&int_keys).is_err());
    assert_eq!(Dict::from_value(&int_keys).unwrap().len(), 1);
}
