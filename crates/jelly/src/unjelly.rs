//! S-expression → value (Twisted's `unjelly`).

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;
use num_bigint::BigInt;
use spread_banana::{Node, NodeKind, Nodes, Sexp};

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

/// Unjellies a [`TokenDecoder`]'s expression (or any part of it) with
/// `policy` deciding what may be built: the same as [`from_sexp`] on the
/// expression that [`Decoder`] would have built, without building it.
///
/// Shorthand for `Unjellier::new(policy).unjelly_node(node)`.
///
/// ```
/// use bytes::BytesMut;
/// use spread_banana::{Dialect, Limits, TokenDecoder};
/// use spread_jelly::{from_node, AllowAll, Value};
///
/// let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
/// let mut buf = BytesMut::from(&b"\x02\x80\x07\x82unicode\x05\x82hello"[..]);
/// while let Some(node) = decoder.decode(&mut buf)? {
///     assert_eq!(from_node(node, &AllowAll)?, Value::from("hello"));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`TokenDecoder`]: spread_banana::TokenDecoder
/// [`Decoder`]: spread_banana::Decoder
pub fn from_node(node: Node<'_>, policy: &dyn Policy) -> Result<Value, Error> {
    Unjellier::new(policy).unjelly_node(node)
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
        self.run().value(sexp, 0)
    }

    /// Unjellies one value straight from a [`TokenDecoder`]'s tokens, with
    /// exactly the result [`Unjellier::unjelly`] gives on the same
    /// expression as a [`Sexp`], and without building that tree.
    ///
    /// `node` may be any part of a decoded expression, such as one argument
    /// list of a PB message. Only a form handed to
    /// [`Policy::unjelly_tag`] is turned into [`Sexp`]s, as that is what the
    /// policy reads.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use spread_banana::{Dialect, Limits, TokenDecoder};
    /// use spread_jelly::{AllowAll, Unjellier, Value};
    ///
    /// // ["list", 1, ["unicode", "hi"]] as Twisted sends it.
    /// let mut buf = BytesMut::from(&b"\x03\x80\x08\x87\x01\x81\x02\x80\x07\x82unicode\x02\x82hi"[..]);
    /// let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
    /// let node = decoder.decode(&mut buf)?.expect("a whole frame");
    /// let value = Unjellier::new(AllowAll).unjelly_node(node)?;
    /// assert_eq!(value, Value::List(vec![Value::from(1), Value::from("hi")]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`TokenDecoder`]: spread_banana::TokenDecoder
    pub fn unjelly_node(&self, node: Node<'_>) -> Result<Value, Error> {
        self.run().value(node, 0)
    }

    fn run(&self) -> Run<'_, P> {
        Run {
            policy: &self.policy,
            max_depth: self.max_depth,
            references: HashMap::new(),
        }
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

/// What unjelly needs to see of an s-expression, so that one copy of it
/// reads both a [`Sexp`] tree and a [`TokenDecoder`](spread_banana::TokenDecoder)'s
/// flat tokens.
trait View<'s>: Copy {
    /// A list's elements.
    type Items: ExactSizeIterator<Item = Self> + Clone;

    fn shape(self) -> Shape<'s, Self>;

    /// The bytes of a byte-string node as a [`Value::Bytes`] owns them.
    fn owned_bytes(self) -> Bytes;

    /// Elements as the [`Policy`] sees them.
    fn sexps(items: Self::Items) -> Cow<'s, [Sexp]>;
}

enum Shape<'s, V: View<'s>> {
    List(V::Items),
    Int(i64),
    BigInt(&'s BigInt),
    Float(f64),
    Bytes(&'s [u8]),
    /// A form added to Banana later.
    Other,
}

impl<'s> View<'s> for &'s Sexp {
    type Items = std::slice::Iter<'s, Sexp>;

    #[inline]
    fn shape(self) -> Shape<'s, Self> {
        match self {
            Sexp::List(items) => Shape::List(items.iter()),
            Sexp::Int(n) => Shape::Int(*n),
            Sexp::BigInt(n) => Shape::BigInt(n),
            Sexp::Float(x) => Shape::Float(*x),
            Sexp::Bytes(b) => Shape::Bytes(b),
            _ => Shape::Other,
        }
    }

    #[inline]
    fn owned_bytes(self) -> Bytes {
        match self {
            Sexp::Bytes(b) => b.clone(),
            _ => Bytes::new(),
        }
    }

    fn sexps(items: Self::Items) -> Cow<'s, [Sexp]> {
        Cow::Borrowed(items.as_slice())
    }
}

impl<'s> View<'s> for Node<'s> {
    type Items = Nodes<'s>;

    #[inline]
    fn shape(self) -> Shape<'s, Self> {
        match self.kind() {
            NodeKind::List(items) => Shape::List(items),
            NodeKind::Int(n) => Shape::Int(n),
            NodeKind::BigInt(n) => Shape::BigInt(n),
            NodeKind::Float(x) => Shape::Float(x),
            NodeKind::Bytes(b) => Shape::Bytes(b),
            _ => Shape::Other,
        }
    }

    #[inline]
    fn owned_bytes(self) -> Bytes {
        self.to_bytes().unwrap_or_default()
    }

    fn sexps(items: Self::Items) -> Cow<'s, [Sexp]> {
        Cow::Owned(items.map(Node::to_sexp).collect())
    }
}

/// The only element, if there is exactly one.
#[inline]
fn only<I: ExactSizeIterator>(mut items: I) -> Option<I::Item> {
    if items.len() == 1 { items.next() } else { None }
}

/// The two elements, if there are exactly two.
#[inline]
fn pair<I: ExactSizeIterator>(mut items: I) -> Option<(I::Item, I::Item)> {
    if items.len() == 2 {
        Some((items.next()?, items.next()?))
    } else {
        None
    }
}

/// The payload of a `[tag, "text"]` form.
fn one_bytes<'s, V: View<'s>>(tag: &'static str, rest: V::Items) -> Result<&'s [u8], Error> {
    match only(rest).map(View::shape) {
        Some(Shape::Bytes(b)) => Ok(b),
        _ => Err(malformed(tag, "one byte string")),
    }
}

#[inline]
fn is_int<'s, V: View<'s>>(node: V) -> bool {
    matches!(node.shape(), Shape::Int(_))
}

fn int_of<'s, V: View<'s>>(node: V) -> Option<BigInt> {
    match node.shape() {
        Shape::Int(n) => Some(n.into()),
        Shape::BigInt(n) => Some(n.clone()),
        _ => None,
    }
}

impl<P: Policy> Run<'_, P> {
    fn value<'s, V: View<'s>>(&mut self, node: V, depth: usize) -> Result<Value, Error> {
        let mut items = match node.shape() {
            Shape::Int(n) => return Ok(Value::Int(n)),
            Shape::BigInt(n) => return Ok(Value::from(n.clone())),
            Shape::Float(x) => return Ok(Value::Float(x)),
            Shape::Bytes(_) => return Ok(Value::Bytes(node.owned_bytes())),
            Shape::List(items) => items,
            // A form added to Banana later: refuse rather than guess.
            Shape::Other => return Err(malformed("s-expression", "an atom or a list")),
        };
        if depth >= self.max_depth {
            return Err(ErrorKind::TooDeep {
                limit: self.max_depth,
            }
            .into());
        }
        let Some(Shape::Bytes(tag)) = items.next().map(View::shape) else {
            return Err(malformed("list", "a byte-string type tag first"));
        };
        let rest = items;
        // The tags Jelly knows are ASCII without a dot, so they skip the
        // UTF-8 check and the search for a class name's dot.
        let (tag, known) = match known_tag(tag) {
            Some(known) => (known.name(), Some(known)),
            None => {
                let tag =
                    std::str::from_utf8(tag).map_err(|_| ErrorKind::InvalidUtf8("type tag"))?;
                if tag.contains('.') {
                    return self.instance::<V>(tag, rest, depth);
                }
                (tag, None)
            }
        };
        if !self.policy.allows_type(tag) {
            return Err(insecure(tag));
        }
        let depth = depth + 1;
        if let Some(known) = known {
            return Ok(match known {
                Known::List => Value::List(self.seq::<V>("list", rest, depth)?),
                Known::Unicode => {
                    let utf8 = one_bytes::<V>("unicode", rest)?;
                    let s =
                        std::str::from_utf8(utf8).map_err(|_| ErrorKind::InvalidUtf8("unicode"))?;
                    Value::Str(s.to_owned())
                }
                Known::Dictionary => Value::Dict(self.dict::<V>(rest, depth)?),
                Known::Tuple => Value::Tuple(self.seq::<V>("tuple", rest, depth)?),
                Known::None => Value::None,
                Known::Boolean => match one_bytes::<V>("boolean", rest)? {
                    b"true" => Value::Bool(true),
                    b"false" => Value::Bool(false),
                    _ => return Err(malformed("boolean", "\"true\" or \"false\"")),
                },
                Known::Reference => return self.reference::<V>(rest, depth),
                Known::Dereference => return self.dereference::<V>(rest),
                Known::Set => Value::Set(self.seq::<V>("set", rest, depth)?),
                Known::FrozenSet => Value::FrozenSet(self.seq::<V>("frozenset", rest, depth)?),
            });
        }
        // The other tags Jelly knows; `known_tag` has taken the ones above.
        Ok(match tag {
            "datetime" => Value::DateTime(DateTime::from_wire(one_bytes::<V>("datetime", rest)?)?),
            "date" => Value::Date(Date::from_wire(one_bytes::<V>("date", rest)?)?),
            "time" => Value::Time(Time::from_wire(one_bytes::<V>("time", rest)?)?),
            "timedelta" => {
                Value::TimeDelta(TimeDelta::from_wire(one_bytes::<V>("timedelta", rest)?)?)
            }
            "decimal" => match pair(rest).map(|(c, e)| (c, e.shape())) {
                Some((coefficient, Shape::Int(exponent))) => {
                    let coefficient = int_of(coefficient)
                        .ok_or_else(|| malformed("decimal", "an integer coefficient"))?;
                    Value::Decimal(Decimal::new(coefficient, exponent))
                }
                _ => return Err(malformed("decimal", "a coefficient and an exponent")),
            },
            "unpersistable" => Value::Unpersistable(
                String::from_utf8_lossy(one_bytes::<V>("unpersistable", rest)?).into_owned(),
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
                return self
                    .policy
                    .unjelly_tag(tag, &V::sexps(rest))
                    .unwrap_or_else(|| {
                        Err(ErrorKind::UnknownType {
                            tag: tag.to_owned(),
                        }
                        .into())
                    });
            }
        })
    }

    fn seq<'s, V: View<'s>>(
        &mut self,
        tag: &'static str,
        rest: V::Items,
        depth: usize,
    ) -> Result<Vec<Value>, Error> {
        let mut out = Vec::with_capacity(rest.len());
        let mut items = rest;
        let mut i = 0;
        loop {
            // Plain integers, the commonest element by far, are written in
            // place a run at a time: extending from a mapped range reserves
            // once, where pushing one by one copies each through a
            // temporary whose reload stalls. Nothing in the run recurses,
            // so the adapters' frames never pile up on deep input.
            let run = items.clone().take_while(|n| is_int(*n)).count();
            if run > 0 {
                out.extend((0..run).map(|_| match items.next().map(View::shape) {
                    Some(Shape::Int(n)) => Value::Int(n),
                    _ => Value::None,
                }));
                i += run;
            }
            let Some(item) = items.next() else {
                return Ok(out);
            };
            out.push(
                self.value(item, depth)
                    .map_err(|e| e.within(format!("{tag}[{i}]")))?,
            );
            i += 1;
        }
    }

    fn dict<'s, V: View<'s>>(&mut self, rest: V::Items, depth: usize) -> Result<Dict, Error> {
        let mut out = Dict::with_capacity(rest.len());
        for (i, entry) in rest.enumerate() {
            let Shape::List(pair_items) = entry.shape() else {
                return Err(
                    malformed("dictionary", "[key, value] entries").within(format!("dict#{i}"))
                );
            };
            let Some((k, v)) = pair(pair_items) else {
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

    fn instance<'s, V: View<'s>>(
        &mut self,
        class: &str,
        rest: V::Items,
        depth: usize,
    ) -> Result<Value, Error> {
        let Some(state) = only(rest.clone()) else {
            // Other forms under a class name belong to the policy if it
            // knows them (PB's first send of a Cacheable is
            // `[class, luid, state]`).
            return self
                .policy
                .unjelly_tag(class, &V::sexps(rest))
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

    fn reference<'s, V: View<'s>>(&mut self, rest: V::Items, depth: usize) -> Result<Value, Error> {
        let Some((Shape::Int(id), body)) = pair(rest).map(|(id, body)| (id.shape(), body)) else {
            return Err(malformed("reference", "an integer id and a body"));
        };
        if self.references.contains_key(&id) {
            return Err(ErrorKind::DuplicateReference(id).into());
        }
        // Registered before the body, so that the body can refer back to it.
        let owner = Shared::pending();
        self.references.insert(id, owner.clone());
        let body = self.value(body, depth)?;
        owner.fill(body);
        Ok(Value::Shared(owner))
    }

    fn dereference<'s, V: View<'s>>(&mut self, rest: V::Items) -> Result<Value, Error> {
        let Some(Shape::Int(id)) = only(rest).map(View::shape) else {
            return Err(malformed("dereference", "an integer id"));
        };
        let target = self
            .references
            .get(&id)
            .ok_or(ErrorKind::UnknownReference(id))?;
        Ok(Value::Shared(if target.is_filled() {
            target.clone()
        } else {
            // Still being built, so this is a cycle: point back without owning.
            target.downgrade()
        }))
    }
}

/// The commonest tags, which are matched without a UTF-8 check, a search
/// for a class name's dot or a second string comparison.
#[derive(Clone, Copy)]
enum Known {
    List,
    Unicode,
    Dictionary,
    Tuple,
    None,
    Boolean,
    Reference,
    Dereference,
    Set,
    FrozenSet,
}

impl Known {
    fn name(self) -> &'static str {
        match self {
            Known::List => "list",
            Known::Unicode => "unicode",
            Known::Dictionary => "dictionary",
            Known::Tuple => "tuple",
            Known::None => "None",
            Known::Boolean => "boolean",
            Known::Reference => "reference",
            Known::Dereference => "dereference",
            Known::Set => "set",
            Known::FrozenSet => "frozenset",
        }
    }
}

#[inline]
fn known_tag(tag: &[u8]) -> Option<Known> {
    Some(match tag {
        b"list" => Known::List,
        b"unicode" => Known::Unicode,
        b"dictionary" => Known::Dictionary,
        b"tuple" => Known::Tuple,
        b"None" => Known::None,
        b"boolean" => Known::Boolean,
        b"reference" => Known::Reference,
        b"dereference" => Known::Dereference,
        b"set" => Known::Set,
        b"frozenset" => Known::FrozenSet,
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
