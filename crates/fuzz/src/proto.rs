//! The protocol core after a valid handshake, fed frames and driver actions.

use std::collections::VecDeque;
use std::sync::Arc;

use arbitrary::Unstructured;
use bytes::{Bytes, BytesMut};
use spread_banana::{Dialect, Sexp, encode_to_vec};
use spread_broker::BrokerOptions;
use spread_broker::proto::{
    Callee, Core, Event, IncomingCall, ObjectId, PeerObject, Release, Role, Token, Tokens,
};
use spread_flavors::{
    BoxFuture, Cacheable, Call, Observer, Perspective, Referenceable, RemoteCache, RemoteError,
    allow_remote_cache, cache, reference,
};
use spread_jelly::{Dict, Value, to_sexp};
use spread_security::SecurityOptions;

use crate::split_dialect;
use crate::values::arbitrary_value;

/// The limits the core is given: small, so that inputs reach them.
const MAX_LOCAL_OBJECTS: usize = 8;
const MAX_CALLS_IN_FLIGHT: usize = 8;
const MAX_INCOMING_CALLS: usize = 8;
const MAX_OUTPUT_BUFFER: usize = 1 << 16;

/// The most peer tokens the driver keeps to release or send back later.
const MAX_TOKENS: usize = 64;

/// `proto` as the server: the input plays the client.
pub fn proto_server(data: &[u8]) {
    proto(Role::Server, data);
}

/// `proto` as the client: the input plays the server.
pub fn proto_client(data: &[u8]) {
    proto(Role::Client, data);
}

/// Runs a [`Core`] in `role` through a valid handshake in the dialect the
/// first byte picks, then reads the rest of `data` as records:
///
/// - a byte `n` below `0x80`: the next `n + 1` bytes arrive from the peer
///   (frames, or parts of them; a partial frame waits for the next record);
/// - `0x80`: answer the oldest call from the peer, how is the next byte;
/// - `0x81`: make a call, what kind is the next byte;
/// - `0x82`: release the token the next byte picks;
/// - `0x83`: the transport takes everything waiting to be sent;
/// - `0x84`: the transport is gone;
/// - `0x85`: a well-formed call from the peer: the next byte picks its
///   callee, the byte after it is a length `n`, and the `n` bytes after
///   that make its argument (an arbitrary value, see [`crate::values`]);
/// - `0x86`: a well-formed frame from the peer that names an object, a
///   cache or a request (a `remote` token, a first cache, `decref` and so
///   on): the next byte picks which, the byte after it which id;
/// - any other byte: answer every call waiting, with its first argument.
///
/// The last two are shortcuts: the fuzzer could spell those frames byte by
/// byte, but handing it whole ones lets it spend its time on what the
/// frames do to the tables rather than on their spelling.
///
/// Checks that nothing panics, that every table stays within its limit
/// after each step, and that after an error (the driver then closes, as
/// the broker does) or a close every table is empty.
fn proto(role: Role, data: &[u8]) {
    let (dialect, records) = split_dialect(data);
    let mut driver = Driver::new(role, dialect);
    let mut records = records.iter();
    while let Some(&op) = records.next() {
        let step = match op {
            0x00..=0x7f => {
                let n = usize::from(op) + 1;
                let chunk: Vec<u8> = records.by_ref().take(n).copied().collect();
                driver.receive(&chunk)
            }
            0x80 => {
                let how = records.next().copied().unwrap_or(0);
                driver.answer_oldest(how)
            }
            0x81 => {
                let what = records.next().copied().unwrap_or(0);
                driver.call(what)
            }
            0x82 => {
                let which = records.next().copied().unwrap_or(0);
                driver.release(which)
            }
            0x83 => {
                let n = driver.core.transmit().len();
                driver.core.advance(n);
                Ok(())
            }
            0x84 => Err(()),
            0x85 => {
                let callee = records.next().copied().unwrap_or(0);
                let n = usize::from(records.next().copied().unwrap_or(0));
                let argument: Vec<u8> = records.by_ref().take(n).copied().collect();
                driver.peer_call(callee, &argument)
            }
            0x86 => {
                let kind = records.next().copied().unwrap_or(0);
                let id = records.next().copied().unwrap_or(0);
                driver.peer_token(kind, id)
            }
            _ => driver.answer_all(),
        };
        if step.is_err() {
            driver.close();
            return;
        }
        driver.check_limits();
    }
    driver.close();
}

struct Driver {
    core: Core<u32>,
    dialect: Dialect,
    /// The request id of the peer's next call.
    peer_request: i64,
    /// Bytes from the peer not yet read: a frame split across records.
    input: BytesMut,
    /// Calls from the peer, waiting for their answers.
    pending: VecDeque<IncomingCall>,
    /// Tokens the peer sent (each a `Value::Object` holding a [`Token`]).
    tokens: Vec<Value>,
    /// The reply tag of the next call.
    next_tag: u32,
}

impl Driver {
    /// A core with the handshake done.
    fn new(role: Role, dialect: Dialect) -> Driver {
        let mut core: Core<u32> = Core::new(role, options()).expect("the options are valid");
        // `["version", 6]` as a msgpack frame.
        const MSGPACK_VERSION: &[u8] = b"\x00\x00\x00\x0b\x92\xc4\x07version\x06";
        let msgpack_server = [&b"\x0e\x82spread-msgpack"[..], MSGPACK_VERSION].concat();
        let msgpack_client = [
            &b"\x03\x80\x0e\x82spread-msgpack\x02\x82pb\x04\x82none"[..],
            MSGPACK_VERSION,
        ]
        .concat();
        let peer: &[u8] = match (role, dialect) {
            // The client's choice, then its version in that dialect.
            (Role::Server, Dialect::Pb) => b"\x02\x82pb\x02\x80\x13\x87\x06\x81",
            (Role::Server, Dialect::None) => b"\x04\x82none\x02\x80\x07\x82version\x06\x81",
            // The server's offer (its first name is the one chosen), then
            // its version in that dialect.
            (Role::Client, Dialect::Pb) => {
                b"\x02\x80\x02\x82pb\x04\x82none\x02\x80\x13\x87\x06\x81"
            }
            (Role::Client, Dialect::None) => b"\x01\x80\x04\x82none\x02\x80\x07\x82version\x06\x81",
            (Role::Server, Dialect::Msgpack) => &msgpack_server,
            (Role::Client, Dialect::Msgpack) => &msgpack_client,
        };
        let mut input = BytesMut::from(peer);
        core.receive(&mut input, &Tokens)
            .expect("a valid handshake is accepted");
        assert!(input.is_empty(), "the handshake is read whole");
        assert!(core.is_ready());
        assert_eq!(core.dialect(), Some(dialect));
        assert!(matches!(core.poll_event(), Some(Event::Ready)));
        let n = core.transmit().len();
        core.advance(n);
        Driver {
            core,
            dialect,
            peer_request: 0,
            input: BytesMut::new(),
            pending: VecDeque::new(),
            tokens: Vec::new(),
            next_tag: 0,
        }
    }

    /// Bytes from the peer, then whatever they made happen.
    fn receive(&mut self, chunk: &[u8]) -> Result<(), ()> {
        self.input.extend_from_slice(chunk);
        let result = self.core.receive(&mut self.input, &Tokens);
        // Events queued before an error still stand.
        self.events();
        result.map_err(drop)
    }

    /// A frame from the peer, whole.
    fn peer_frame(&mut self, frame: Vec<Sexp>) -> Result<(), ()> {
        let Ok(bytes) = encode_to_vec(&Sexp::List(frame), self.dialect) else {
            return Ok(());
        };
        self.receive(&bytes)
    }

    /// A call from the peer, with an arbitrary argument made of `argument`.
    fn peer_call(&mut self, callee: u8, argument: &[u8]) -> Result<(), ()> {
        let value = arbitrary_value(&mut Unstructured::new(argument)).unwrap_or(Value::None);
        let Ok(args) = to_sexp(&Value::Tuple(vec![value])) else {
            return Ok(());
        };
        self.peer_request += 1;
        let luid = Sexp::Int(i64::from(callee >> 1 & 7));
        let (command, object) = match callee & 0x21 {
            0x20 | 0x21 => ("cachemessage", luid),
            0x01 => ("message", luid),
            _ => ("message", word("root")),
        };
        self.peer_frame(vec![
            word(command),
            Sexp::Int(self.peer_request),
            object,
            word("echo"),
            Sexp::Int(i64::from(callee & 0x10 == 0)),
            args,
            Sexp::list([word("dictionary")]),
        ])
    }

    /// A frame from the peer that names an id: a luid (the high nibble of
    /// `id`) or one of our request ids (the low nibble, plus one).
    fn peer_token(&mut self, kind: u8, id: u8) -> Result<(), ()> {
        let luid = Sexp::Int(i64::from(id >> 4));
        let request = Sexp::Int(i64::from(id & 15) + 1);
        let first_cache = || {
            Sexp::list([
                word("cache_classes.MasterDuckPond"),
                luid.clone(),
                Sexp::list([word("list")]),
            ])
        };
        let token = |tag: &'static str| Sexp::list([word(tag), luid.clone()]);
        let answer = |result: Sexp| vec![word("answer"), request.clone(), result];
        let frame = match kind % 14 {
            0 => answer(token("remote")),
            1 => answer(first_cache()),
            2 => answer(token("cached")),
            3 => answer(token("local")),
            4 => answer(token("lcache")),
            5 => vec![
                word("error"),
                request.clone(),
                Sexp::list([
                    word("twisted.spread.pb.CopyableFailure"),
                    Sexp::list([word("dictionary")]),
                ]),
            ],
            6 => vec![word("decref"), luid.clone()],
            7 => vec![word("decache"), luid.clone()],
            8 => vec![word("uncache"), luid.clone()],
            kind => {
                let argument = match kind {
                    9 => token("remote"),
                    10 => first_cache(),
                    11 => token("cached"),
                    12 => token("local"),
                    _ => token("lcache"),
                };
                self.peer_request += 1;
                vec![
                    word("message"),
                    Sexp::Int(self.peer_request),
                    word("root"),
                    word("echo"),
                    Sexp::Int(1),
                    Sexp::list([word("tuple"), argument]),
                    Sexp::list([word("dictionary")]),
                ]
            }
        };
        self.peer_frame(frame)
    }

    fn events(&mut self) {
        while let Some(event) = self.core.poll_event() {
            match event {
                // Only once, and already taken in `new`.
                Event::Ready => panic!("a second Ready event"),
                Event::Call(call) => {
                    for arg in &call.call.args {
                        self.keep_tokens(arg);
                    }
                    self.pending.push_back(call);
                }
                Event::Reply { result, .. } => {
                    if let Ok(value) = result {
                        self.keep_tokens(&value);
                    }
                }
            }
        }
    }

    /// Keeps the peer's tokens found in `value`, to release them or send
    /// them back later; a bounded walk, as shared structure may be a DAG
    /// with exponentially many paths.
    fn keep_tokens(&mut self, value: &Value) {
        let mut budget = 4096;
        let mut stack = vec![value.clone()];
        while let Some(value) = stack.pop() {
            if budget == 0 || self.tokens.len() >= MAX_TOKENS {
                return;
            }
            budget -= 1;
            match value {
                Value::Object(_) if value.downcast_ref::<Token>().is_some() => {
                    self.tokens.push(value)
                }
                Value::List(items)
                | Value::Tuple(items)
                | Value::Set(items)
                | Value::FrozenSet(items) => stack.extend(items),
                Value::Dict(d) => stack.extend(d.into_iter().flat_map(|(k, v)| [k, v])),
                Value::Instance(i) => stack.push(i.state),
                // A back reference leads into a cycle: its owner is walked.
                Value::Shared(s) if !s.is_back_reference() => stack.extend(s.get().cloned()),
                _ => {}
            }
        }
    }

    /// Answers the oldest call from the peer; `how` picks the answer.
    fn answer_oldest(&mut self, how: u8) -> Result<(), ()> {
        let Some(call) = self.pending.pop_front() else {
            return Ok(());
        };
        let result = match how % 7 {
            0 => Ok(first_arg(&call)),
            1 => Ok(Value::None),
            2 => Err(RemoteError::value_error("a fuzzed failure")),
            3 => Ok(reference(Arc::new(Leaf))),
            4 => Ok(cache(Arc::new(Ducks))),
            5 => Ok(Value::List(self.tokens.clone())),
            _ => Err(RemoteError::value_error(
                "x".repeat(usize::from(how) * 4096),
            )),
        };
        let answered = self.core.answer(call.request, result, &Tokens);
        self.events();
        answered.map_err(drop)
    }

    fn answer_all(&mut self) -> Result<(), ()> {
        while !self.pending.is_empty() {
            self.answer_oldest(0)?;
        }
        Ok(())
    }

    /// Calls the peer; `what` picks the callee, the arguments and whether
    /// an answer is wanted.
    fn call(&mut self, what: u8) -> Result<(), ()> {
        let callee = match what & 3 {
            0 => Callee::Object(ObjectId::root()),
            1 => match self.pick_token(what >> 2) {
                Some(PeerObject::Reference(id)) => Callee::Object(id),
                Some(PeerObject::Cache(luid)) => Callee::Object(ObjectId::Luid(luid)),
                None => Callee::Object(ObjectId::root()),
            },
            // The peer's cache of one of ours: real only if we sent one.
            2 => Callee::Cache(i64::from(what >> 2 & 7)),
            _ => Callee::Object(ObjectId::Luid(i64::from(what >> 2 & 7))),
        };
        let args = match what >> 4 & 3 {
            0 => vec![],
            1 => self.tokens.clone(),
            2 => vec![reference(Arc::new(Leaf))],
            _ => vec![cache(Arc::new(Ducks))],
        };
        let reply = (what & 0x40 == 0).then(|| {
            self.next_tag += 1;
            self.next_tag
        });
        let called = self.core.call(
            callee,
            Bytes::from_static(b"echo"),
            args,
            Dict::new(),
            reply,
            &Tokens,
        );
        self.events();
        called.map_err(drop)
    }

    fn pick_token(&self, which: u8) -> Option<PeerObject> {
        let token = self
            .tokens
            .get(usize::from(which) % self.tokens.len().max(1))?;
        Some(token.downcast_ref::<Token>()?.0.clone())
    }

    /// Drops one of the peer's tokens, as a program drops a handle: once.
    fn release(&mut self, which: u8) -> Result<(), ()> {
        if self.tokens.is_empty() {
            return Ok(());
        }
        let token = self
            .tokens
            .swap_remove(usize::from(which) % self.tokens.len());
        let release = match token.downcast_ref::<Token>().map(|t| &t.0) {
            Some(PeerObject::Reference(ObjectId::Luid(luid))) => Release::Reference(*luid),
            Some(PeerObject::Cache(luid)) => Release::Cache(*luid),
            // A name (the root) is not counted, and nothing is sent for it.
            _ => return Ok(()),
        };
        let released = self.core.release(release);
        self.events();
        released.map_err(drop)
    }

    /// Every table within its configured limit.
    fn check_limits(&self) {
        let stats = self.core.stats();
        assert!(
            stats.local_objects + stats.caches <= MAX_LOCAL_OBJECTS,
            "{stats:?}"
        );
        assert!(stats.remote_caches <= MAX_LOCAL_OBJECTS, "{stats:?}");
        assert!(stats.calls_in_flight <= MAX_CALLS_IN_FLIGHT, "{stats:?}");
        assert!(stats.calls_serving <= MAX_INCOMING_CALLS, "{stats:?}");
        assert!(self.core.transmit().len() <= MAX_OUTPUT_BUFFER);
    }

    /// The transport is gone, or the core said to close it: every table
    /// empties, and whatever the driver does next is harmless.
    fn close(&mut self) {
        self.core.close();
        self.events();
        let stats = self.core.stats();
        assert_eq!(
            (
                stats.local_objects,
                stats.caches,
                stats.remote_caches,
                stats.calls_in_flight,
                stats.remote_references,
            ),
            (0, 0, 0, 0, 0),
            "tables left after close: {stats:?}"
        );
        assert!(self.core.transmit().is_empty());
        assert!(self.answer_all().is_ok(), "answers after close are ignored");
        assert!(self.call(0).is_ok(), "calls after close fail as replies");
        assert!(self.release(0).is_ok(), "releases after close are ignored");
        // Whatever still arrives is not acted on (the decoder may still
        // find it malformed, which is harmless now).
        let _ = self.receive(b"\x02\x80\x13\x87\x06\x81");
        assert!(self.pending.is_empty(), "a closed core serves no call");
        assert_eq!(
            self.core.stats().calls_serving,
            0,
            "every call was answered"
        );
    }
}

fn word(word: &'static str) -> Sexp {
    Sexp::from(word)
}

fn first_arg(call: &IncomingCall) -> Value {
    call.call.args.first().cloned().unwrap_or(Value::None)
}

/// The options of the core under test: the strict default security, plus
/// the two classes of the session traces (a copy and a cache), a root, and
/// small limits.
fn options() -> BrokerOptions {
    let mut security = SecurityOptions::new();
    security
        .allow_instances("copy_sender.CopyPond")
        .expect("a valid class name");
    allow_remote_cache(&mut security, "cache_classes.MasterDuckPond", |_| {
        Ok(DuckCache)
    })
    .expect("a valid class name");
    BrokerOptions::default()
        .with_root(Arc::new(Leaf))
        .with_security(security)
        .with_max_local_objects(MAX_LOCAL_OBJECTS)
        .with_max_calls_in_flight(MAX_CALLS_IN_FLIGHT)
        .with_max_incoming_calls(MAX_INCOMING_CALLS)
        .with_max_output_buffer(MAX_OUTPUT_BUFFER)
}

/// A local object; the driver answers calls itself, so its method never runs.
struct Leaf;

impl Referenceable for Leaf {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
    }
}

/// A Cacheable, sent as the traces' `MasterDuckPond`.
struct Ducks;

impl Cacheable for Ducks {
    fn type_to_copy(&self) -> &str {
        "cache_classes.MasterDuckPond"
    }

    fn state_to_cache_and_observe_for(
        &self,
        _: Option<&Perspective>,
        _: Observer,
    ) -> Result<Value, spread_jelly::Error> {
        Ok(Value::List(vec![Value::from("one duck")]))
    }

    fn stopped_observing(&self, _: Option<&Perspective>, _: &Observer) {}
}

/// The holder's cache of a `MasterDuckPond`.
struct DuckCache;

impl RemoteCache for DuckCache {
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
    }
}
