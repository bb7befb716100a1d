//! S-expression → value (Twisted's `unjelly`).

use std::collections::HashMap;

use spread_banana::Sexp;

use crate::policy::insecure;
use crate::{
    Date, DateTime, Decimal, Dict, Error, ErrorKind, Policy, Shared, Time, TimeDelta, Value,
};

/// The default nesting limit of [`Unjellier`] and [`to_sexp`](crate::to_sexp).
///
/// Twisted's own unjelly is recursive and fails somewhere between 300 and 400
/// levels, so 512 accepts anything Twisted can read or write.
pub const DEFAULT_MAX_DEPTH: usize = 512;

/// Unjellies an s-expression with `policy` deciding what may be built.
///
/// Shorthand for `Unjellier::new(policy).unjelly(sexp)`.
///
/// ```
/// use spread_banana::{decode_all, Dialect, Limits};
/// use spread_jelly::{from_sexp, AllowAll, Value};
///
/// // ["unicode", "hello"] as Twisted sends it.
/// let sexps = decode_all(b"\x02\x80\x07\x82unicode\x05\x82hello", Dialect::Pb, Limits::default())?;
/// assert_eq!(from_sexp(&sexps[0], &AllowAll)?, Value::from("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_sexp(sexp: &Sexp, policy: &dyn Policy) -> Result<Value, Error> {
    Unjellier::new(policy).unjelly(sexp)
}

/// Unjellies s-expressions under a [`Policy`] and limits.
///
/// Each call to [`Unjellier::unjelly`] is one jelly call, with its own
/// reference ids, as each message argument list, answer and error is in PB.
///
/// ```
/// use spread_banana::Sexp;
/// use spread_jelly::{AllowAll, ErrorKind, Unjellier};
///
/// let deep = (0..10).fold(Sexp::list([Sexp::from("list")]), |inner, _| {
///     Sexp::list([Sexp::from("list"), inner])
/// });
/// let err = Unjellier::new(AllowAll).max_depth(5).unjelly(&deep).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::TooDeep { limit: 5 }));
/// ```
#[derive(Debug, Clone)]
pub struct Unjellier<P> {
    policy: P,
    max_depth: usize,
}

impl<P: Policy> Unjellier<P> {
    /// An unjellier that asks `policy`, with the default depth limit.
    pub fn new(policy: P) -> Unjellier<P> {
        Unjellier {
            policy,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets the nesting limit: deeper input fails with [`ErrorKind::TooDeep`]
    /// instead of exhausting the stack.
    pub fn max_depth(mut self, limit: usize) -> Unjellier<P> {
        self.max_depth = limit;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// Unjellies one value. Nothing the policy refuses is constructed.
    pub fn unjelly(&self, sexp: &Sexp) -> Result<Value, Error> {
        Run {
            policy: &self.policy,
            max_depth: self.max_depth,
            references: HashMap::new(),
        }
        .value(sexp, 0)
    }
}

/// The state of one unjelly call: the reference table lives exactly as long
/// as the call, as in Twisted.
struct Run<'a, P> {
    policy: &'a P,
    max_depth: usize,
    references: HashMap<i64, Shared>,
}

fn malformed(tag: &'static str, expected: &'static str) -> Error {
    Error::new(ErrorKind::Malformed { tag, expected })
}

/// The payload of a `[tag, "text"]` form.
fn one_bytes<'s>(tag: &'static str, rest: &'s [Sexp]) -> Result<&'s [u8], Error> {
    match rest {
        [Sexp::Bytes(b)] => Ok(b),
        _ => Err(malformed(tag, "one byte string")),
    }
}

fn int_of(sexp: &Sexp) -> Option<num_bigint::BigInt> {
    match sexp {
        Sexp::Int(n) => Some((*n).into()),
        Sexp::BigInt(n) => Some(n.clone()),
        _ => None,
    }
}

impl<P: Policy> Run<'_, P> {
    fn value(&mut self, sexp: &Sexp, depth: usize) -> Result<Value, Error> {
        let items = match sexp {
            Sexp::Int(n) => return Ok(Value::Int(*n)),
            Sexp::BigInt(n) => return Ok(Value::from(n.clone())),
            Sexp::Float(x) => return Ok(Value::Float(*x)),
            Sexp::Bytes(b) => return Ok(Value::Bytes(b.clone())),
            Sexp::List(items) => items,
            // A form added to Banana later: refuse rather than guess.
            _ => return Err(malformed("s-expression", "an atom or a list")),
        };
        if depth >= self.max_depth {
            return Err(ErrorKind::TooDeep {
                limit: self.max_depth,
            }
            .into());
        }
        let Some((Sexp::Bytes(tag), rest)) = items.split_first() else {
            return Err(malformed("list", "a byte-string type tag first"));
        };
        // The tags Jelly knows are ASCII without a dot, so they skip the
        // UTF-8 check and the search for a class name's dot.
        let tag = match known_tag(tag) {
            Some(tag) => tag,
            None => {
                let tag =
                    std::str::from_utf8(tag).map_err(|_| ErrorKind::InvalidUtf8("type tag"))?;
                if tag.contains('.') {
                    return self.instance(tag, rest, depth);
                }
                tag
            }
        };
        if !self.policy.allows_type(tag) {
            return Err(insecure(tag));
        }
        let depth = depth + 1;
        Ok(match tag {
            "None" => Value::None,
            "boolean" => match one_bytes("boolean", rest)? {
                b"true" => Value::Bool(true),
                b"false" => Value::Bool(false),
                _ => return Err(malformed("boolean", "\"true\" or \"false\"")),
            },
            "unicode" => {
                let utf8 = one_bytes("unicode", rest)?;
                let s = std::str::from_utf8(utf8).map_err(|_| ErrorKind::InvalidUtf8("unicode"))?;
                Value::Str(s.to_owned())
            }
            "list" => Value::List(self.seq("list", rest, depth)?),
            "tuple" => Value::Tuple(self.seq("tuple", rest, depth)?),
            "set" => Value::Set(self.seq("set", rest, depth)?),
            "frozenset" => Value::FrozenSet(self.seq("frozenset", rest, depth)?),
            "dictionary" => Value::Dict(self.dict(rest, depth)?),
            "reference" => return self.reference(rest, depth),
            "dereference" => return self.dereference(rest),
            "datetime" => Value::DateTime(DateTime::from_wire(one_bytes("datetime", rest)?)?),
            "date" => Value::Date(Date::from_wire(one_bytes("date", rest)?)?),
            "time" => Value::Time(Time::from_wire(one_bytes("time", rest)?)?),
            "timedelta" => Value::TimeDelta(TimeDelta::from_wire(one_bytes("timedelta", rest)?)?),
            "decimal" => match rest {
                [coefficient, Sexp::Int(exponent)] => {
                    let coefficient = int_of(coefficient)
                        .ok_or_else(|| malformed("decimal", "an integer coefficient"))?;
                    Value::Decimal(Decimal::new(coefficient, *exponent))
                }
                _ => return Err(malformed("decimal", "a coefficient and an exponent")),
            },
            "unpersistable" => Value::Unpersistable(
                String::from_utf8_lossy(one_bytes("unpersistable", rest)?).into_owned(),
            ),
            // PB passes no persistence callback, so Twisted answers every
            // persistent id with this placeholder rather than an error.
            "persistent" => Value::Unpersistable("Persistent callback not found".to_owned()),
            "class" | "module" | "function" | "method" | "instance" => {
                return Err(ErrorKind::Unsupported {
                    tag: tag.to_owned(),
                }
                .into());
            }
            _ => {
                return self.policy.unjelly_tag(tag, rest).unwrap_or_else(|| {
                    Err(ErrorKind::UnknownType {
                        tag: tag.to_owned(),
                    }
                    .into())
                });
            }
        })
    }

    fn seq(&mut self, tag: &'static str, rest: &[Sexp], depth: usize) -> Result<Vec<Value>, Error> {
        let mut out = Vec::with_capacity(rest.len());
        for (i, item) in rest.iter().enumerate() {
            out.push(
                self.value(item, depth)
                    .map_err(|e| e.within(format!("{tag}[{i}]")))?,
            );
        }
        Ok(out)
    }

    fn dict(&mut self, rest: &[Sexp], depth: usize) -> Result<Dict, Error> {
        let mut out = Dict::with_capacity(rest.len());
        for (i, entry) in rest.iter().enumerate() {
            let Sexp::List(pair) = entry else {
                return Err(
                    malformed("dictionary", "[key, value] entries").within(format!("dict#{i}"))
                );
            };
            let [k, v] = pair.as_slice() else {
                return Err(
                    malformed("dictionary", "[key, value] entries").within(format!("dict#{i}"))
                );
            };
            let key = self
                .value(k, depth + 1)
                .map_err(|e| e.within(format!("dict#{i}.key")))?;
            let value = self
                .value(v, depth + 1)
                .map_err(|e| e.within(entry_segment(&key, i)))?;
            out.push(key, value);
        }
        Ok(out)
    }

    fn instance(&mut self, class: &str, rest: &[Sexp], depth: usize) -> Result<Value, Error> {
        let [state] = rest else {
            // Other forms under a class name belong to the policy if it
            // knows them (PB's first send of a Cacheable is
            // `[class, luid, state]`).
            return self
                .policy
                .unjelly_tag(class, rest)
                .unwrap_or_else(|| Err(malformed("instance", "[class, state]")))
                .map_err(|e| e.within(class.to_owned()));
        };
        self.policy
            .allows_class(class)
            .map_err(|e| e.within(class.to_owned()))?;
        let state = self
            .value(state, depth + 1)
            .map_err(|e| e.within(class.to_owned()))?;
        self.policy
            .unjelly_instance(class, state)
            .map_err(|e| e.within(class.to_owned()))
    }

    fn reference(&mut self, rest: &[Sexp], depth: usize) -> Result<Value, Error> {
        let [Sexp::Int(id), body] = rest else {
            return Err(malformed("reference", "an integer id and a body"));
        };
        if self.references.contains_key(id) {
            return Err(ErrorKind::DuplicateReference(*id).into());
        }
        // Registered before the body, so that the body can refer back to it.
        let owner = Shared::pending();
        self.references.insert(*id, owner.clone());
        let body = self.value(body, depth)?;
        owner.fill(body);
        Ok(Value::Shared(owner))
    }

    fn dereference(&mut self, rest: &[Sexp]) -> Result<Value, Error> {
        let [Sexp::Int(id)] = rest else {
            return Err(malformed("dereference", "an integer id"));
        };
        let target = self
            .references
            .get(id)
            .ok_or(ErrorKind::UnknownReference(*id))?;
        Ok(Value::Shared(if target.is_filled() {
            target.clone()
        } else {
            // Still being built, so this is a cycle: point back without owning.
            target.downgrade()
        }))
    }
}

/// The tag as a `&str` if it is one of the tags matched below, without
/// looking at its bytes twice.
#[inline]
fn known_tag(tag: &[u8]) -> Option<&'static str> {
    Some(match tag {
        b"list" => "list",
        b"unicode" => "unicode",
        b"dictionary" => "dictionary",
        b"tuple" => "tuple",
        b"None" => "None",
        b"boolean" => "boolean",
        b"reference" => "reference",
        b"dereference" => "dereference",
        b"set" => "set",
        b"frozenset" => "frozenset",
        _ => return None,
    })
}

/// `dict["x"]` for text keys, `dict#3` otherwise.
fn entry_segment(key: &Value, index: usize) -> String {
    match key {
        Value::Str(s) if s.len() <= 64 => format!("dict[{s:?}]"),
        Value::Bytes(b) if b.len() <= 64 => format!("dict[{b:?}]"),
        _ => format!("dict#{index}"),
    }
}
