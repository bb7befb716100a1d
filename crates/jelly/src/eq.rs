//! Structural equality that terminates on cycles and shared structure.

use std::collections::HashMap;

use crate::{Shared, Value};

/// Pairs of shared objects already matched, both ways, so that each pair is
/// compared once (sharing costs nothing) and a cycle compares equal when it
/// closes on the same pair (coinduction).
#[derive(Default)]
struct Matched {
    left: HashMap<usize, usize>,
    right: HashMap<usize, usize>,
}

pub(crate) fn value_eq(a: &Value, b: &Value) -> bool {
    eq(a, b, &mut Matched::default())
}

pub(crate) fn shared_eq(a: &Shared, b: &Shared) -> bool {
    eq_shared(a, b, &mut Matched::default())
}

fn eq_seq(a: &[Value], b: &[Value], m: &mut Matched) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| eq(x, y, m))
}

fn eq(a: &Value, b: &Value, m: &mut Matched) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y))
        | (Value::Tuple(x), Value::Tuple(y))
        | (Value::Set(x), Value::Set(y))
        | (Value::FrozenSet(x), Value::FrozenSet(y)) => eq_seq(x, y, m),
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| eq(k1, k2, m) && eq(v1, v2, m))
        }
        (Value::DateTime(x), Value::DateTime(y)) => x == y,
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::TimeDelta(x), Value::TimeDelta(y)) => x == y,
        (Value::Decimal(x), Value::Decimal(y)) => x == y,
        (Value::Instance(x), Value::Instance(y)) => x.class == y.class && eq(&x.state, &y.state, m),
        (Value::Unpersistable(x), Value::Unpersistable(y)) => x == y,
        (Value::Shared(x), Value::Shared(y)) => eq_shared(x, y, m),
        (Value::Object(x), Value::Object(y)) => x == y,
        _ => false,
    }
}

fn eq_shared(a: &Shared, b: &Shared, m: &mut Matched) -> bool {
    let (pa, pb) = (a.addr(), b.addr());
    match (m.left.get(&pa), m.right.get(&pb)) {
        (Some(&qb), Some(&qa)) => return qb == pb && qa == pa,
        (None, None) => {}
        // One side is already paired with something else: the identities do
        // not line up.
        _ => return false,
    }
    m.left.insert(pa, pb);
    m.right.insert(pb, pa);
    let (Some(a), Some(b)) = (a.upgrade(), b.upgrade()) else {
        return false;
    };
    match (a.get(), b.get()) {
        (Some(x), Some(y)) => eq(x, y, m),
        (None, None) => true,
        _ => false,
    }
}
