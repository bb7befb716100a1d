//! What each call sends and which answer it must get back.
//!
//! `echo` calls each send a distinct argument, so that an answer delivered
//! to the wrong call, or a stale one, is caught, not only a corrupted one:
//! the call's sequence number, or `[N, ARG]` when an argument was given.
//! Any other method gets the same arguments every time and must give the
//! same answer every time: the first answer of the run is the reference.

use std::sync::OnceLock;

use spread::Value;

/// The calls of one run: the method, its arguments, and the rule.
#[derive(Debug)]
pub(crate) struct Plan {
    method: String,
    /// `echo`: the optional argument wrapped with each call's number.
    /// Others: every argument, sent as given.
    args: Vec<Value>,
    echo: bool,
    /// The first answer, for methods other than `echo`.
    reference: OnceLock<Value>,
}

/// Why an answer is not the one its call had to get.
#[derive(Debug)]
pub(crate) struct Mismatch {
    pub(crate) expected: Value,
    pub(crate) got: Value,
}

impl Plan {
    /// The plan for `method`; `echo` takes at most one argument (the
    /// caller checks).
    pub(crate) fn new(method: &str, args: Vec<Value>) -> Plan {
        Plan {
            echo: method == "echo",
            method: method.to_owned(),
            args,
            reference: OnceLock::new(),
        }
    }

    /// The remote method's name.
    pub(crate) fn method(&self) -> &str {
        &self.method
    }

    /// The arguments of call number `seq`.
    pub(crate) fn args(&self, seq: u64) -> Vec<Value> {
        if self.echo {
            vec![self.echoed(seq)]
        } else {
            self.args.clone()
        }
    }

    /// What `echo` must answer to call number `seq`.
    fn echoed(&self, seq: u64) -> Value {
        match self.args.first() {
            None => Value::from(seq),
            Some(arg) => Value::List(vec![Value::from(seq), arg.clone()]),
        }
    }

    /// Checks the answer to call number `seq`.
    pub(crate) fn check(&self, seq: u64, got: Value) -> Result<(), Box<Mismatch>> {
        let expected = if self.echo {
            self.echoed(seq)
        } else {
            let reference = self.reference.get_or_init(|| got.clone());
            if same(reference, &got) {
                return Ok(());
            }
            reference.clone()
        };
        if same(&expected, &got) {
            Ok(())
        } else {
            Err(Box::new(Mismatch { expected, got }))
        }
    }
}

/// Whether an answer is the value sent: [`Value`]'s own equality (floats by
/// their bits, so a NaN echoes as itself), except that a set or frozenset
/// may come back in another order, as Python iterates a set in hash order.
pub(crate) fn same(sent: &Value, got: &Value) -> bool {
    sent == got || same_unordered(sent, got)
}

fn same_unordered(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Set(x), Value::Set(y)) | (Value::FrozenSet(x), Value::FrozenSet(y)) => {
            // Elements of a set are distinct, so a match for each, both
            // ways, is equality.
            x.len() == y.len()
                && x.iter().all(|x| y.iter().any(|y| same(x, y)))
                && y.iter().all(|y| x.iter().any(|x| same(x, y)))
        }
        (Value::List(x), Value::List(y)) | (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((kx, vx), (ky, vy))| same(kx, ky) && same(vx, vy))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_sends_each_call_its_number() {
        let plan = Plan::new("echo", vec![]);
        assert_eq!(plan.args(7), vec![Value::from(7)]);
        assert!(plan.check(7, Value::from(7)).is_ok());
        let mismatch = plan.check(7, Value::from(8)).unwrap_err();
        assert_eq!(mismatch.expected, Value::from(7));
    }

    #[test]
    fn echo_wraps_the_argument_with_the_number() {
        let plan = Plan::new("echo", vec![Value::from("x")]);
        let sent = Value::List(vec![Value::from(3), Value::from("x")]);
        assert_eq!(plan.args(3), vec![sent.clone()]);
        assert!(plan.check(3, sent).is_ok());
        let other = Value::List(vec![Value::from(4), Value::from("x")]);
        assert!(plan.check(3, other).is_err());
    }

    #[test]
    fn other_methods_must_answer_as_the_first_answer() {
        let plan = Plan::new("add", vec![Value::from(2), Value::from(3)]);
        assert_eq!(plan.args(1), vec![Value::from(2), Value::from(3)]);
        assert!(plan.check(1, Value::from(5)).is_ok());
        assert!(plan.check(2, Value::from(5)).is_ok());
        let mismatch = plan.check(3, Value::from(6)).unwrap_err();
        assert_eq!(mismatch.expected, Value::from(5));
    }

    #[test]
    fn sets_may_come_back_in_another_order() {
        let set = |items: &[i64]| Value::Set(items.iter().map(|&i| Value::from(i)).collect());
        let list = |v: Value| Value::List(vec![Value::from(1), v]);
        assert!(same(&list(set(&[1, 2, 3])), &list(set(&[3, 1, 2]))));
        assert!(!same(&set(&[1, 2, 3]), &set(&[1, 2, 4])));
        assert!(!same(&set(&[1, 2]), &set(&[1, 2, 3])));
        assert!(same(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(!same(&Value::from(1), &Value::Float(1.0)));
    }
}
