//! Random values sent through a live Twisted: Rust jellies and encodes,
//! Twisted decodes and unjellies, tells us what it got, and jellies it back;
//! both directions must agree with Rust to the byte.

use std::cell::RefCell;

use num_bigint::BigInt;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use spread_banana::{Dialect, Limits, decode_all, encode_to_vec};
use spread_interop::peer::{Peer, python};
use spread_interop::typed;
use spread_jelly::{
    AllowAll, Date, DateTime, Decimal, Dict, Instance, Shared, Time, TimeDelta, Value, from_sexp,
    to_sexp,
};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (any::<bool>(), prop::collection::vec(any::<u32>(), 2..14)).prop_map(|(neg, digits)| {
            let n = BigInt::from_slice(num_bigint::Sign::Plus, &digits);
            Value::from(if neg { -n } else { n })
        }),
        prop_oneof![
            any::<f64>().prop_filter("one NaN", |x| !x.is_nan()),
            Just(f64::NAN),
            Just(-0.0),
            Just(f64::INFINITY)
        ]
        .prop_map(Value::Float),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(|b| Value::Bytes(b.into())),
        // Vocabulary words are compressed wherever they occur.
        prop::sample::select(vec!["None", "list", "remote", "login", "x"])
            .prop_map(|w| Value::Bytes(w.as_bytes().to_vec().into())),
        any::<String>().prop_map(Value::Str),
        (
            1i32..=9999,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
            0u32..1_000_000
        )
            .prop_map(|(y, mo, d, h, mi, s, us)| {
                Value::DateTime(DateTime::new(
                    Date::new(y, mo, d).unwrap(),
                    Time::new(h, mi, s, us).unwrap(),
                ))
            }),
        (1i32..=9999, 1u8..=12, 1u8..=28)
            .prop_map(|(y, m, d)| Value::Date(Date::new(y, m, d).unwrap())),
        (-999_999_999i64..=999_999_999, 0i64..86_400, 0i64..1_000_000)
            .prop_map(|(d, s, us)| Value::TimeDelta(TimeDelta::normalized(d, s, us).unwrap())),
        (any::<i64>(), -12i64..12).prop_map(|(c, e)| Value::Decimal(Decimal::new(c, e))),
    ]
}

/// Values whose Python object survives a Twisted round trip unchanged: sets
/// only of small ascending ints (CPython iterates those in order), tuples and
/// frozensets never empty (CPython shares one empty tuple, which Twisted then
/// sends as a reference), identity only on containers.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        let small_set = prop::collection::btree_set(0i64..8, 0..6)
            .prop_map(|s| s.into_iter().map(Value::Int).collect::<Vec<_>>());
        let dict = prop::collection::btree_map("[a-z_]{1,8}", inner.clone(), 0..5).prop_map(|m| {
            Value::Dict(
                m.into_iter()
                    .map(|(k, v)| (Value::Str(k), v))
                    .collect::<Dict>(),
            )
        });
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec(inner.clone(), 1..6).prop_map(Value::Tuple),
            dict.clone(),
            small_set.clone().prop_map(Value::Set),
            small_set
                .prop_filter("non-empty", |s| !s.is_empty())
                .prop_map(Value::FrozenSet),
            // Python 3.11's default __getstate__ sends an empty __dict__ as None.
            dict.clone()
                .prop_filter("non-empty state", |d| d
                    .as_dict()
                    .is_some_and(|d| !d.is_empty()))
                .prop_map(|state| Value::from(Instance::new("interop_classes.Thing", state))),
            // The same container twice, and a list that contains itself.
            (prop::collection::vec(inner.clone(), 0..4), inner.clone()).prop_map(
                |(items, other)| {
                    let s = Value::Shared(Shared::new(Value::List(items)));
                    Value::List(vec![s.clone(), other, s])
                }
            ),
            inner.prop_map(|v| Value::Shared(Shared::cyclic(|me| Value::List(vec![
                v,
                Value::Shared(me)
            ])))),
        ]
    })
}

#[test]
fn random_values_survive_twisted_byte_for_byte() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let peer = RefCell::new(Peer::start(&python).unwrap());
    // A fixed seed: CI runs the same 300 values every time.
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 300,
            ..Config::default()
        },
        rng,
    );
    runner
        .run(&value(), |value| {
            let ours = encode_to_vec(&to_sexp(&value).unwrap(), Dialect::Pb).unwrap();
            let reply = peer
                .borrow_mut()
                .roundtrip(&ours)
                .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
            let twisted_saw = typed::value(&reply.value).unwrap();
            prop_assert_eq!(&twisted_saw, &value, "what Twisted unjellied");
            prop_assert_eq!(
                typed::to_hex(&reply.banana_pb),
                typed::to_hex(&ours),
                "Twisted's bytes for the same value"
            );
            let sexps = decode_all(&reply.banana_pb, Dialect::Pb, Limits::default()).unwrap();
            prop_assert_eq!(
                &from_sexp(&sexps[0], &AllowAll).unwrap(),
                &value,
                "Twisted's bytes read back"
            );
            Ok(())
        })
        .unwrap();
}
