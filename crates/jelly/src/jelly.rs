//! Value → s-expression (Twisted's `jelly`).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use spread_banana::Sexp;

use crate::{DEFAULT_MAX_DEPTH, Error, ErrorKind, Object, Shared, Value};

/// Jellies a value into the s-expression Twisted would send for the same
/// Python object.
///
/// Shared and cyclic structure ([`Shared`]) becomes `reference` and
/// `dereference` forms numbered as Twisted numbers them: an id is given when
/// an object is met the *second* time, so ids follow second occurrences. The
/// result is the same whichever way the value was built, so encoding it with
/// Banana gives Twisted's bytes exactly.
///
/// A [`Value::Object`] goes out as `[class, state]`, with the state from its
/// copy rule; an object without one fails with [`ErrorKind::Unsendable`]
/// before anything is produced.
///
/// Fails otherwise only on a back reference whose owner was dropped, or on
/// nesting deeper than [`DEFAULT_MAX_DEPTH`] (which no Twisted peer could
/// read).
///
/// ```
/// use spread_banana::Sexp;
/// use spread_jelly::{to_sexp, Value};
///
/// let sexp = to_sexp(&Value::List(vec![Value::from(1), Value::None]))?;
/// assert_eq!(
///     sexp,
///     Sexp::list([Sexp::from("list"), Sexp::from(1), Sexp::list([Sexp::from("None")])])
/// );
/// # Ok::<(), spread_jelly::Error>(())
/// ```
pub fn to_sexp(value: &Value) -> Result<Sexp, Error> {
    to_sexp_with(value, &mut NoInvoker)
}

/// The sending side's hook for objects that are not copies: Twisted's
/// `jellyFor(jellier)` with `jellier.invoker`, the broker.
///
/// [`to_sexp_with`] asks the invoker about every [`Object`] without a copy
/// rule, at each occurrence (such objects are not identity-tracked: a
/// reference sent twice is two tokens, as in Twisted). The broker answers
/// with `["remote", luid]` for its local objects and `["local", luid]` for
/// references going back to their owner.
pub trait Invoker {
    /// The s-expression for `object`, or `None` if this invoker does not
    /// know it (it then fails with [`ErrorKind::Unsendable`]).
    fn jelly_object(&mut self, object: &Object) -> Option<Result<Sexp, Error>>;
}

struct NoInvoker;

impl Invoker for NoInvoker {
    fn jelly_object(&mut self, _: &Object) -> Option<Result<Sexp, Error>> {
        None
    }
}

/// [`to_sexp`], with an [`Invoker`] for the objects that are not copies.
pub fn to_sexp_with(value: &Value, invoker: &mut dyn Invoker) -> Result<Sexp, Error> {
    let mut ids = Ids::default();
    ids.scan(value, 0)?;
    let mut jellier = Jellier {
        ids: ids.ids,
        states: ids.states,
        emitted: HashSet::new(),
        invoker,
    };
    jellier.emit(value)
}

/// Pass one: which shared objects are met twice, numbered in the order their
/// second occurrence is met. Twisted finds the same order by rewriting the
/// first occurrence in place when the second one turns up; two passes give it
/// without mutation.
#[derive(Default)]
struct Ids {
    ids: HashMap<usize, Option<i64>>,
    next: i64,
    /// Each object's state, asked for once (a copy rule may be costly, and
    /// must give both passes the same answer).
    states: HashMap<usize, Value>,
}

impl Ids {
    fn scan(&mut self, value: &Value, depth: usize) -> Result<(), Error> {
        if depth > DEFAULT_MAX_DEPTH {
            return Err(ErrorKind::TooDeep {
                limit: DEFAULT_MAX_DEPTH,
            }
            .into());
        }
        match value {
            Value::List(items)
            | Value::Tuple(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => items.iter().try_for_each(|v| self.scan(v, depth + 1)),
            Value::Dict(d) => d.iter().try_for_each(|(k, v)| {
                self.scan(k, depth + 2)?;
                self.scan(v, depth + 2)
            }),
            Value::Instance(i) => self.scan(&i.state, depth + 1),
            Value::Shared(s) => {
                if self.first_meeting(s.addr()) {
                    with_shared(s, |v| self.scan(v, depth))?;
                }
                Ok(())
            }
            // Left to the invoker at each occurrence.
            Value::Object(o) if !o.is_sendable() => Ok(()),
            Value::Object(o) => {
                if self.first_meeting(o.addr()) {
                    let state = o
                        .state_to_copy()
                        .map_err(|e| e.within(o.class().to_owned()))?;
                    self.scan(&state, depth + 1)?;
                    self.states.insert(o.addr(), state);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Records a meeting with the object at `addr`: `true` the first time;
    /// the second time it gets the next id.
    fn first_meeting(&mut self, addr: usize) -> bool {
        match self.ids.get_mut(&addr) {
            None => {
                self.ids.insert(addr, None);
                true
            }
            Some(id @ None) => {
                self.next += 1;
                *id = Some(self.next);
                false
            }
            Some(Some(_)) => false,
        }
    }
}

fn with_shared<R>(s: &Shared, f: impl FnOnce(&Value) -> Result<R, Error>) -> Result<R, Error> {
    s.with(f)
        .unwrap_or_else(|| Err(ErrorKind::DanglingReference.into()))
}

/// Pass two: emit, wrapping the first occurrence of every numbered object in
/// `reference` and turning the later ones into `dereference`.
struct Jellier<'i> {
    ids: HashMap<usize, Option<i64>>,
    states: HashMap<usize, Value>,
    emitted: HashSet<usize>,
    invoker: &'i mut dyn Invoker,
}

fn tag(word: &'static str) -> Sexp {
    Sexp::Bytes(Bytes::from_static(word.as_bytes()))
}

fn text(word: &'static str, body: String) -> Sexp {
    Sexp::List(vec![tag(word), Sexp::Bytes(Bytes::from(body))])
}

impl Jellier<'_> {
    fn emit(&mut self, value: &Value) -> Result<Sexp, Error> {
        Ok(match value {
            Value::None => Sexp::List(vec![tag("None")]),
            Value::Bool(b) => {
                Sexp::List(vec![tag("boolean"), tag(if *b { "true" } else { "false" })])
            }
            Value::Int(n) => Sexp::Int(*n),
            Value::BigInt(n) => Sexp::from(n.clone()),
            Value::Float(x) => Sexp::Float(*x),
            Value::Bytes(b) => Sexp::Bytes(b.clone()),
            Value::Str(s) => Sexp::List(vec![
                tag("unicode"),
                Sexp::Bytes(Bytes::copy_from_slice(s.as_bytes())),
            ]),
            Value::List(items) => return self.seq("list", items),
            Value::Tuple(items) => return self.seq("tuple", items),
            Value::Set(items) => return self.seq("set", items),
            Value::FrozenSet(items) => return self.seq("frozenset", items),
            Value::Dict(d) => {
                let mut out = Vec::with_capacity(d.len() + 1);
                out.push(tag("dictionary"));
                for (k, v) in d {
                    out.push(Sexp::List(vec![self.emit(k)?, self.emit(v)?]));
                }
                Sexp::List(out)
            }
            Value::DateTime(x) => text("datetime", x.to_string()),
            Value::Date(x) => text("date", x.to_string()),
            Value::Time(x) => text("time", x.to_string()),
            Value::TimeDelta(x) => text("timedelta", x.to_string()),
            Value::Decimal(x) => Sexp::List(vec![
                tag("decimal"),
                Sexp::from(x.coefficient.clone()),
                Sexp::Int(x.exponent),
            ]),
            Value::Instance(i) => Sexp::List(vec![
                Sexp::Bytes(Bytes::copy_from_slice(i.class.as_bytes())),
                self.emit(&i.state)?,
            ]),
            Value::Unpersistable(reason) => Sexp::List(vec![
                tag("unpersistable"),
                Sexp::Bytes(Bytes::copy_from_slice(reason.as_bytes())),
            ]),
            Value::Shared(s) => return self.tracked(s.addr(), |j| with_shared(s, |v| j.emit(v))),
            Value::Object(o) if !o.is_sendable() => {
                return match self.invoker.jelly_object(o) {
                    Some(sexp) => sexp,
                    None => Err(ErrorKind::Unsendable {
                        class: o.class().to_owned(),
                    }
                    .into()),
                }
                .map_err(|e| e.within(o.class().to_owned()));
            }
            Value::Object(o) => return self.tracked(o.addr(), |j| j.object(o)),
        })
    }

    fn seq(&mut self, word: &'static str, items: &[Value]) -> Result<Sexp, Error> {
        let mut out = Vec::with_capacity(items.len() + 1);
        out.push(tag(word));
        for item in items {
            out.push(self.emit(item)?);
        }
        Ok(Sexp::List(out))
    }

    /// Emits an object with an identity: plainly if it occurs once, else
    /// wrapped in `reference` the first time and `dereference` after.
    fn tracked(
        &mut self,
        addr: usize,
        body: impl FnOnce(&mut Self) -> Result<Sexp, Error>,
    ) -> Result<Sexp, Error> {
        match self.ids.get(&addr).copied().flatten() {
            None => body(self),
            Some(id) if self.emitted.contains(&addr) => {
                Ok(Sexp::List(vec![tag("dereference"), Sexp::Int(id)]))
            }
            Some(id) => {
                // Marked before the body, so that a cycle back to this object
                // inside the body becomes a dereference.
                self.emitted.insert(addr);
                let body = body(self)?;
                Ok(Sexp::List(vec![tag("reference"), Sexp::Int(id), body]))
            }
        }
    }

    fn object(&mut self, o: &Object) -> Result<Sexp, Error> {
        let state = self
            .states
            .remove(&o.addr())
            .ok_or_else(|| Error::custom("object state missing from the first pass"))?;
        Ok(Sexp::List(vec![
            Sexp::Bytes(Bytes::copy_from_slice(o.class().as_bytes())),
            self.emit(&state)?,
        ]))
    }
}
