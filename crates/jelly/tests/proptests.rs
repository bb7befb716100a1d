use num_bigint::BigInt;
use proptest::prelude::*;
use spread_banana::{Dialect, Limits, decode_all, encode_to_vec};
use spread_jelly::{
    AllowAll, Date, Decimal, Dict, Instance, Shared, TimeDelta, Value, from_sexp, to_sexp,
};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop::collection::vec(any::<u32>(), 3..12)
            .prop_map(|d| Value::from(-BigInt::from_slice(num_bigint::Sign::Plus, &d))),
        any::<f64>().prop_map(Value::Float),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::Bytes(b.into())),
        any::<String>().prop_map(Value::Str),
        (1i32..=9999, 1u8..=12, 1u8..=28)
            .prop_map(|(y, m, d)| Value::Date(Date::new(y, m, d).unwrap())),
        // Python's range is ±999 999 999 days.
        (-999_999_000i64..999_999_000, -86_400i64..86_400)
            .prop_map(|(d, s)| Value::TimeDelta(TimeDelta::normalized(d, s, 0).unwrap())),
        (any::<i64>(), any::<i32>()).prop_map(|(c, e)| Value::Decimal(Decimal::new(c, e.into()))),
        ".*".prop_map(Value::Unpersistable),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| containers(inner, 6))
}

/// Every container around `inner` values, up to `max_len` items: lists,
/// tuples, sets, dicts, instances, shared and cyclic structure.
pub(crate) fn containers(
    inner: BoxedStrategy<Value>,
    max_len: usize,
) -> impl Strategy<Value = Value> {
    let seq = prop::collection::vec(inner.clone(), 0..max_len);
    prop_oneof![
        seq.clone().prop_map(Value::List),
        seq.clone().prop_map(Value::Tuple),
        seq.clone().prop_map(Value::Set),
        seq.clone().prop_map(Value::FrozenSet),
        prop::collection::vec((inner.clone(), inner.clone()), 0..5)
            .prop_map(|e| Value::Dict(e.into_iter().collect::<Dict>())),
        ("[a-z]{1,5}\\.[A-Z][a-z]{0,5}", inner.clone())
            .prop_map(|(c, s)| Value::from(Instance::new(c, s))),
        (seq, inner.clone()).prop_map(|(items, other)| {
            let s = Value::Shared(Shared::new(Value::Tuple(items)));
            Value::List(vec![s.clone(), other, s])
        }),
        inner.prop_map(
            |v| Value::Shared(Shared::cyclic(|me| Value::Dict(Dict::from_iter([(
                v,
                Value::Shared(me)
            )]))))
        ),
    ]
}

proptest! {
    #[test]
    fn values_survive_jelly_and_banana(value in value(), pb in any::<bool>()) {
        let dialect = if pb { Dialect::Pb } else { Dialect::None };
        let sexp = to_sexp(&value).unwrap();
        let bytes = encode_to_vec(&sexp, dialect).unwrap();
        let decoded = decode_all(&bytes, dialect, Limits::default()).unwrap();
        prop_assert_eq!(decoded.len(), 1);
        prop_assert_eq!(&from_sexp(&decoded[0], &AllowAll).unwrap(), &value);
    }

    #[test]
    fn jelly_is_deterministic(value in value()) {
        let a = to_sexp(&value).unwrap();
        let b = to_sexp(&value.clone()).unwrap();
        prop_assert_eq!(encode_to_vec(&a, Dialect::Pb).unwrap(), encode_to_vec(&b, Dialect::Pb).unwrap());
    }
}
