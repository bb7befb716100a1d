//! Value → s-expression or Banana bytes (Twisted's `jelly`).
//!
//! One emitter walks the value and hands tokens to a [`Sink`]: [`Tree`]
//! builds the [`Sexp`] of [`to_sexp`], [`Wire`] writes the Banana bytes of
//! [`encode`] straight away. Both see the same tokens in the same order, so
//! `encode` writes exactly what `Encoder::encode(&to_sexp(v)?)` writes.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use num_bigint::BigInt;
use spread_banana::{EncodeBuf, EncodeError, Encoder, Sexp, Word};

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
    let mut tree = Tree::default();
    jelly_into(value, invoker, &mut tree)?;
    Ok(tree.finish())
}

/// Jellies `value` and appends its Banana encoding to `out`, without
/// building the [`Sexp`] in between.
///
/// The bytes are exactly those of `encoder.encode(&to_sexp(value)?, out)`,
/// and so are the failures: a jelly error (see [`to_sexp`]) if there is
/// one, else the first Banana limit the value breaks, as
/// [`ErrorKind::Encode`]. On error `out` is left as it was. Every dialect
/// is written token by token, msgpack included (its frame's length is
/// filled in at the end).
///
/// ```
/// use spread_banana::{Dialect, Encoder};
/// use spread_jelly::{Value, encode, to_sexp};
///
/// let value = Value::List(vec![Value::from(1), Value::from("two"), Value::None]);
/// let encoder = Encoder::new(Dialect::Pb);
/// let mut out = Vec::new();
/// encode(&value, &encoder, &mut out)?;
///
/// let mut via_tree = Vec::new();
/// encoder.encode(&to_sexp(&value)?, &mut via_tree)?;
/// assert_eq!(out, via_tree);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode<B: EncodeBuf>(value: &Value, encoder: &Encoder, out: &mut B) -> Result<(), Error> {
    encode_with(value, encoder, &mut NoInvoker, out)
}

/// [`encode`], with an [`Invoker`] for the objects that are not copies, as
/// [`to_sexp_with`]. The invoker is asked exactly as `to_sexp_with` asks it.
/// The value is one frame, in any dialect.
///
/// ```
/// use spread_banana::{Dialect, Encoder, Sexp};
/// use spread_jelly::{Error, Invoker, Object, Value, encode_with};
///
/// /// Sends every object as a remote reference number 7.
/// struct Remote;
///
/// impl Invoker for Remote {
///     fn jelly_object(&mut self, _: &Object) -> Option<Result<Sexp, Error>> {
///         Some(Ok(Sexp::list([Sexp::from("remote"), Sexp::from(7)])))
///     }
/// }
///
/// #[derive(Debug)]
/// struct Handle;
///
/// let value = Value::Object(Object::receive_only("m.Handle", Handle));
/// let mut out = Vec::new();
/// encode_with(&value, &Encoder::new(Dialect::Pb), &mut Remote, &mut out)?;
/// assert_eq!(out, [0x02, 0x80, 0x10, 0x87, 0x07, 0x81]);
/// # Ok::<(), Error>(())
/// ```
pub fn encode_with<B: EncodeBuf>(
    value: &Value,
    encoder: &Encoder,
    invoker: &mut dyn Invoker,
    out: &mut B,
) -> Result<(), Error> {
    let frame = encoder.begin_frame(out);
    let result = encode_nested(value, encoder, invoker, 0, out)
        .and_then(|()| Ok(encoder.end_frame(frame, out)?));
    if result.is_err() {
        out.truncate_encoded(frame.offset());
    }
    result
}

/// Appends the encoding of `value` as an element inside lists already begun
/// with [`Encoder::encode_list_header`]; `depth` is how many enclose it, as
/// for [`Encoder::encode_nested`]. This is how a frame that carries jellied
/// values (a PB call's arguments, say) is written in one go.
///
/// Bytes and errors are those of [`encode_with`], except that on error
/// `out` holds a partial expression: the caller truncates it to where the
/// enclosing expression began. The frame around it is the caller's to
/// begin and end ([`Encoder::begin_frame`]).
///
/// ```
/// use spread_banana::{Dialect, EncodeBuf, Encoder, Sexp};
/// use spread_jelly::{Invoker, Object, Value, encode_nested, to_sexp};
///
/// struct NoObjects;
/// impl Invoker for NoObjects {
///     fn jelly_object(&mut self, _: &Object) -> Option<Result<Sexp, spread_jelly::Error>> {
///         None
///     }
/// }
///
/// let encoder = Encoder::new(Dialect::Pb);
/// let value = Value::from("forty-two");
/// let mut out = Vec::new();
/// let start = out.encoded_len();
/// let written = encoder
///     .encode_list_header(3, 0, &mut out)
///     .map_err(spread_jelly::Error::from)
///     .and_then(|()| Ok(encoder.encode_bytes(b"answer", &mut out)?))
///     .and_then(|()| Ok(encoder.encode_int(1, &mut out)?))
///     .and_then(|()| encode_nested(&value, &encoder, &mut NoObjects, 1, &mut out));
/// if written.is_err() {
///     out.truncate_encoded(start);
/// }
///
/// let frame = Sexp::list([Sexp::from("answer"), Sexp::from(1), to_sexp(&value)?]);
/// assert_eq!(out, spread_banana::encode_to_vec(&frame, Dialect::Pb)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_nested<B: EncodeBuf>(
    value: &Value,
    encoder: &Encoder,
    invoker: &mut dyn Invoker,
    depth: usize,
    out: &mut B,
) -> Result<(), Error> {
    let mut wire = Wire {
        encoder,
        start: out.encoded_len(),
        out,
        base_depth: depth,
        depth,
        error: None,
    };
    jelly_into(value, invoker, &mut wire)?;
    match wire.error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Where the emitter's tokens go.
///
/// Banana errors are not returned here but kept by the sink: jelly errors
/// come first (as with `to_sexp` then `Encoder::encode`), so the walk goes
/// on to find any after the first Banana error.
trait Sink {
    /// A list of `len` elements begins; `end_list` closes it.
    fn begin_list(&mut self, len: usize);
    fn end_list(&mut self);
    fn int(&mut self, n: i64);
    fn bigint(&mut self, n: &BigInt);
    fn float(&mut self, x: f64);
    fn bytes(&mut self, b: &Bytes);
    /// A byte string held as text, not as [`Bytes`].
    fn text(&mut self, s: &str);
    fn word(&mut self, w: Word);
    /// A whole expression from an [`Invoker`].
    fn sexp(&mut self, s: Sexp);
    /// Forgets everything since the sink was made.
    fn reset(&mut self);
}

/// Builds the [`Sexp`]: elements of open lists wait on one stack, and each
/// list takes its elements off it when it closes.
#[derive(Default)]
struct Tree {
    items: Vec<Sexp>,
    starts: Vec<usize>,
}

impl Tree {
    fn finish(mut self) -> Sexp {
        debug_assert!(self.starts.is_empty() && self.items.len() == 1);
        self.items.pop().unwrap_or(Sexp::List(Vec::new()))
    }
}

impl Sink for Tree {
    #[inline]
    fn begin_list(&mut self, len: usize) {
        self.starts.push(self.items.len());
        self.items.reserve(len);
    }
    #[inline]
    fn end_list(&mut self) {
        let start = self.starts.pop().unwrap_or_default();
        let list = self.items.split_off(start);
        self.items.push(Sexp::List(list));
    }
    #[inline]
    fn int(&mut self, n: i64) {
        self.items.push(Sexp::Int(n));
    }
    fn bigint(&mut self, n: &BigInt) {
        self.items.push(Sexp::from(n.clone()));
    }
    #[inline]
    fn float(&mut self, x: f64) {
        self.items.push(Sexp::Float(x));
    }
    #[inline]
    fn bytes(&mut self, b: &Bytes) {
        self.items.push(Sexp::Bytes(b.clone()));
    }
    #[inline]
    fn text(&mut self, s: &str) {
        self.items
            .push(Sexp::Bytes(Bytes::copy_from_slice(s.as_bytes())));
    }
    #[inline]
    fn word(&mut self, w: Word) {
        self.items
            .push(Sexp::Bytes(Bytes::from_static(w.as_bytes())));
    }
    fn sexp(&mut self, s: Sexp) {
        self.items.push(s);
    }
    fn reset(&mut self) {
        self.items.clear();
        self.starts.clear();
    }
}

/// Writes Banana bytes as the tokens come.
struct Wire<'a, B> {
    encoder: &'a Encoder,
    out: &'a mut B,
    /// Where this value's bytes begin in `out`, and how deep it sits.
    start: usize,
    base_depth: usize,
    /// How many lists enclose the next token.
    depth: usize,
    /// The first Banana error; the tokens after it are written anyway (the
    /// caller truncates) so that the hot path has no test for it.
    error: Option<EncodeError>,
}

impl<B: EncodeBuf> Wire<'_, B> {
    #[inline]
    fn check(&mut self, result: Result<(), EncodeError>) {
        if let Err(e) = result {
            self.fail(e);
        }
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, e: EncodeError) {
        self.error.get_or_insert(e);
    }
}

impl<B: EncodeBuf> Sink for Wire<'_, B> {
    #[inline]
    fn begin_list(&mut self, len: usize) {
        let r = self.encoder.encode_list_header(len, self.depth, self.out);
        self.check(r);
        self.depth += 1;
    }
    #[inline]
    fn end_list(&mut self) {
        self.depth -= 1;
    }
    #[inline]
    fn int(&mut self, n: i64) {
        let r = self.encoder.encode_int(n, self.out);
        self.check(r);
    }
    fn bigint(&mut self, n: &BigInt) {
        let r = self.encoder.encode_bigint(n, self.out);
        self.check(r);
    }
    #[inline]
    fn float(&mut self, x: f64) {
        self.encoder.encode_float(x, self.out);
    }
    #[inline]
    fn bytes(&mut self, b: &Bytes) {
        let r = self.encoder.encode_bytes(b, self.out);
        self.check(r);
    }
    #[inline]
    fn text(&mut self, s: &str) {
        let r = self.encoder.encode_bytes(s.as_bytes(), self.out);
        self.check(r);
    }
    #[inline]
    fn word(&mut self, w: Word) {
        let r = self.encoder.encode_word(w, self.out);
        self.check(r);
    }
    fn sexp(&mut self, s: Sexp) {
        let r = self.encoder.encode_nested(&s, self.depth, self.out);
        self.check(r);
    }
    fn reset(&mut self) {
        self.out.truncate_encoded(self.start);
        self.depth = self.base_depth;
        self.error = None;
    }
}

/// Jellies `value` into `sink`.
///
/// Most values hold nothing with an identity, and for them one pass is
/// enough. So the first try emits straight away and gives up at the first
/// [`Value::Shared`] or [`Value::Object`] (before asking anything of it);
/// only then does the full two-pass jelly run, from a reset sink.
fn jelly_into<S: Sink>(
    value: &Value,
    invoker: &mut dyn Invoker,
    sink: &mut S,
) -> Result<(), Error> {
    let mut plain = Emitter {
        sink: &mut *sink,
        tracking: None,
        invoker: &mut *invoker,
    };
    match plain.emit(value, 0) {
        Ok(()) => return Ok(()),
        Err(Stop::Error(e)) => return Err(e),
        Err(Stop::Identity) => {}
    }
    sink.reset();
    let mut ids = Ids::default();
    ids.scan(value, 0)?;
    let mut emitter = Emitter {
        sink,
        tracking: Some(Tracking {
            ids: ids.ids,
            states: ids.states,
            emitted: HashSet::new(),
        }),
        invoker,
    };
    match emitter.emit(value, 0) {
        Ok(()) => Ok(()),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Identity) => Err(Error::custom("identity met without tracking")),
    }
}

/// Why the emitter stopped.
enum Stop {
    Error(Error),
    /// A value with an identity, met by the single-pass try.
    Identity,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Error(e)
    }
}

impl From<ErrorKind> for Stop {
    fn from(kind: ErrorKind) -> Stop {
        Stop::Error(kind.into())
    }
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
            return Err(too_deep());
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

#[cold]
fn too_deep() -> Error {
    ErrorKind::TooDeep {
        limit: DEFAULT_MAX_DEPTH,
    }
    .into()
}

fn with_shared<R>(s: &Shared, f: impl FnOnce(&Value) -> Result<R, Error>) -> Result<R, Error> {
    s.with(f)
        .unwrap_or_else(|| Err(ErrorKind::DanglingReference.into()))
}

/// What pass one found, for pass two.
struct Tracking {
    ids: HashMap<usize, Option<i64>>,
    states: HashMap<usize, Value>,
    emitted: HashSet<usize>,
}

/// Pass two (or the only pass): emit, wrapping the first occurrence of every
/// numbered object in `reference` and turning the later ones into
/// `dereference`.
struct Emitter<'i, S> {
    sink: S,
    /// `None` in the single-pass try, which stops at the first identity.
    tracking: Option<Tracking>,
    invoker: &'i mut dyn Invoker,
}

const NONE: Word = Word::new(b"None");
const BOOLEAN: Word = Word::new(b"boolean");
const TRUE: Word = Word::new(b"true");
const FALSE: Word = Word::new(b"false");
const UNICODE: Word = Word::new(b"unicode");
const LIST: Word = Word::new(b"list");
const TUPLE: Word = Word::new(b"tuple");
const SET: Word = Word::new(b"set");
const FROZENSET: Word = Word::new(b"frozenset");
const DICTIONARY: Word = Word::new(b"dictionary");
const DATETIME: Word = Word::new(b"datetime");
const DATE: Word = Word::new(b"date");
const TIME: Word = Word::new(b"time");
const TIMEDELTA: Word = Word::new(b"timedelta");
const DECIMAL: Word = Word::new(b"decimal");
const UNPERSISTABLE: Word = Word::new(b"unpersistable");
const REFERENCE: Word = Word::new(b"reference");
const DEREFERENCE: Word = Word::new(b"dereference");

impl<S: Sink> Emitter<'_, &mut S> {
    fn emit(&mut self, value: &Value, depth: usize) -> Result<(), Stop> {
        // Pass one checked this already, but the single-pass try has no
        // pass one; it meets values in the same order, so fails alike.
        if depth > DEFAULT_MAX_DEPTH {
            return Err(too_deep().into());
        }
        let sink = &mut *self.sink;
        match value {
            Value::None => {
                sink.begin_list(1);
                sink.word(NONE);
                sink.end_list();
            }
            Value::Bool(b) => {
                sink.begin_list(2);
                sink.word(BOOLEAN);
                sink.word(if *b { TRUE } else { FALSE });
                sink.end_list();
            }
            Value::Int(n) => sink.int(*n),
            Value::BigInt(n) => sink.bigint(n),
            Value::Float(x) => sink.float(*x),
            Value::Bytes(b) => sink.bytes(b),
            Value::Str(s) => self.text(UNICODE, s),
            Value::List(items) => return self.seq(LIST, items, depth),
            Value::Tuple(items) => return self.seq(TUPLE, items, depth),
            Value::Set(items) => return self.seq(SET, items, depth),
            Value::FrozenSet(items) => return self.seq(FROZENSET, items, depth),
            Value::Dict(d) => {
                sink.begin_list(d.len() + 1);
                sink.word(DICTIONARY);
                for (k, v) in d {
                    self.sink.begin_list(2);
                    self.emit(k, depth + 2)?;
                    self.emit(v, depth + 2)?;
                    self.sink.end_list();
                }
                self.sink.end_list();
            }
            Value::DateTime(x) => self.text(DATETIME, &x.to_string()),
            Value::Date(x) => self.text(DATE, &x.to_string()),
            Value::Time(x) => self.text(TIME, &x.to_string()),
            Value::TimeDelta(x) => self.text(TIMEDELTA, &x.to_string()),
            Value::Decimal(x) => {
                sink.begin_list(3);
                sink.word(DECIMAL);
                sink.bigint(&x.coefficient);
                sink.int(x.exponent);
                sink.end_list();
            }
            Value::Instance(i) => {
                sink.begin_list(2);
                sink.text(&i.class);
                self.emit(&i.state, depth + 1)?;
                self.sink.end_list();
            }
            Value::Unpersistable(reason) => self.text(UNPERSISTABLE, reason),
            Value::Shared(s) => {
                return self.tracked(s.addr(), |j| {
                    with_shared(s, |v| j.emit(v, depth).map_err(Stop::into_error))
                        .map_err(Stop::Error)
                });
            }
            Value::Object(_) if self.tracking.is_none() => return Err(Stop::Identity),
            Value::Object(o) if !o.is_sendable() => {
                let sexp = match self.invoker.jelly_object(o) {
                    Some(sexp) => sexp,
                    None => Err(ErrorKind::Unsendable {
                        class: o.class().to_owned(),
                    }
                    .into()),
                }
                .map_err(|e| e.within(o.class().to_owned()))?;
                self.sink.sexp(sexp);
            }
            Value::Object(o) => return self.tracked(o.addr(), |j| j.object(o, depth)),
        }
        Ok(())
    }

    /// `[tag, text]`.
    #[inline]
    fn text(&mut self, tag: Word, text: &str) {
        self.sink.begin_list(2);
        self.sink.word(tag);
        self.sink.text(text);
        self.sink.end_list();
    }

    fn seq(&mut self, tag: Word, items: &[Value], depth: usize) -> Result<(), Stop> {
        self.sink.begin_list(items.len() + 1);
        self.sink.word(tag);
        for item in items {
            self.emit(item, depth + 1)?;
        }
        self.sink.end_list();
        Ok(())
    }

    /// Emits an object with an identity: plainly if it occurs once, else
    /// wrapped in `reference` the first time and `dereference` after.
    fn tracked(
        &mut self,
        addr: usize,
        body: impl FnOnce(&mut Self) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        let Some(tracking) = &mut self.tracking else {
            return Err(Stop::Identity);
        };
        match tracking.ids.get(&addr).copied().flatten() {
            None => body(self),
            Some(id) if tracking.emitted.contains(&addr) => {
                self.sink.begin_list(2);
                self.sink.word(DEREFERENCE);
                self.sink.int(id);
                self.sink.end_list();
                Ok(())
            }
            Some(id) => {
                // Marked before the body, so that a cycle back to this object
                // inside the body becomes a dereference.
                tracking.emitted.insert(addr);
                self.sink.begin_list(3);
                self.sink.word(REFERENCE);
                self.sink.int(id);
                body(self)?;
                self.sink.end_list();
                Ok(())
            }
        }
    }

    fn object(&mut self, o: &Object, depth: usize) -> Result<(), Stop> {
        let state = self
            .tracking
            .as_mut()
            .and_then(|t| t.states.remove(&o.addr()))
            .ok_or_else(|| Error::custom("object state missing from the first pass"))?;
        self.sink.begin_list(2);
        self.sink.text(o.class());
        self.emit(&state, depth + 1)?;
        self.sink.end_list();
        Ok(())
    }
}

impl Stop {
    fn into_error(self) -> Error {
        match self {
            Stop::Error(e) => e,
            Stop::Identity => Error::custom("identity met without tracking"),
        }
    }
}
