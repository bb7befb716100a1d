//! The PB protocol as a deterministic state machine: bytes in, bytes and
//! events out (Twisted's `pb.Broker` without its transport). No sockets, no
//! clock, no runtime: tests and fuzzers drive it directly, and
//! [`crate::Broker`] drives it with tokio. Another runtime can drive it the
//! same way, as quinn drives quinn-proto.
//!
//! A [`Core`] owns every table of one connection: its calls awaiting
//! answers, the objects the peer holds tokens for, the caches it holds of
//! the peer's objects, and the bytes waiting to be sent. Its driver:
//!
//! - feeds what the transport read to [`Core::receive`], writes
//!   [`Core::transmit`] and reports it with [`Core::advance`];
//! - takes [`Event`]s with [`Core::poll_event`]: the handshake is done, a
//!   call from the peer to run (answered with [`Core::answer`]), the reply
//!   to one of its own calls;
//! - makes calls with [`Core::call`] and reports dropped handles with
//!   [`Core::release`];
//! - makes the handles the core asks for through [`Handles`], since only it
//!   knows how a handle reaches the connection;
//! - calls [`Core::close`] when the transport is gone.
//!
//! ```
//! use bytes::BytesMut;
//! use spread_broker::proto::{Core, Event, Role, Tokens};
//! use spread_broker::BrokerOptions;
//!
//! let handles = Tokens::default();
//! let mut server: Core<()> = Core::new(Role::Server, BrokerOptions::default())?;
//! let mut client: Core<()> = Core::new(Role::Client, BrokerOptions::default())?;
//! // Two steps each way finish the handshake.
//! for _ in 0..2 {
//!     let mut bytes = BytesMut::from(server.transmit());
//!     server.advance(bytes.len());
//!     client.receive(&mut bytes, &handles)?;
//!     let mut bytes = BytesMut::from(client.transmit());
//!     client.advance(bytes.len());
//!     server.receive(&mut bytes, &handles)?;
//! }
//! assert!(matches!(client.poll_event(), Some(Event::Ready)));
//! assert!(matches!(server.poll_event(), Some(Event::Ready)));
//! # Ok::<(), spread_broker::ProtocolError>(())
//! ```

mod failure;
mod frame;
mod objects;
mod outgoing;
mod tokens;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use spread_banana::{Dialect, Encoder, Node, Sexp, TokenDecoder};
use spread_flavors::{
    BoxFuture, Call, Observer, Perspective, Referenceable, RemoteCache, RemoteError,
};
use spread_jelly::{Dict, Error as JellyError, ErrorKind, Object, Unjellier, Value};

use self::objects::{Objects, Released, Taken};
use self::outgoing::{Addressee, OutgoingCall};
use self::tokens::PbPolicy;
use crate::{BrokerOptions, CallError, Limit, ProtocolError, Table};

// The public interface is:
pub use self::frame::{Frame, ObjectId};

/// The protocol version Twisted 26.10 speaks.
pub const PROTOCOL_VERSION: i64 = 6;

/// Which end of the connection this is: the server offers the dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The accepting side (Twisted's `PBServerFactory`).
    Server,
    /// The connecting side (Twisted's `PBClientFactory`).
    Client,
}

/// What a handle made by [`Handles`] names on the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerObject {
    /// A reference to the peer's object: sent back as `["local", id]`.
    Reference(ObjectId),
    /// A cache of the peer's Cacheable: sent back as `["lcache", luid]`.
    Cache(i64),
}

/// A handle of another connection, which cannot be sent on this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForeignHandle;

/// What the core asks of its driver: handles for the peer's objects, made
/// while unjellying, and recognised again while jellying.
///
/// A handle made by [`Handles::remote_reference`] or
/// [`Handles::remote_cache`] stands for one token the peer sent; the driver
/// calls [`Core::release`] once for it when the program drops it, and the
/// core tells the peer (`decref`, `decache`).
pub trait Handles {
    /// A handle for the peer's object `luid`, sent to us in a `remote`
    /// token.
    fn remote_reference(&self, luid: i64) -> Value;

    /// A handle for the cache `luid` of the peer's Cacheable, which this
    /// side holds as `cache`.
    fn remote_cache(&self, luid: i64, cache: Arc<dyn RemoteCache>) -> Value;

    /// The observer through which one of our Cacheables, sent under `luid`,
    /// calls the peer's cache (`cachemessage`).
    fn observer(&self, luid: i64) -> Observer;

    /// What `object` names, if it is a handle made by a `Handles`: `Err`
    /// for a handle of another connection, `None` for any other object.
    fn peer_object(&self, object: &Object) -> Option<Result<PeerObject, ForeignHandle>>;
}

/// A token the peer sent, in a [`Value`] made by [`Tokens`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token(pub PeerObject);

/// The plainest [`Handles`]: a token is a [`Value::Object`] holding a
/// [`Token`], and dropping it releases nothing (call [`Core::release`]
/// yourself). For tests, fuzzers and tools that look at traffic; an
/// observer made here cannot call the peer.
#[derive(Debug, Default)]
pub struct Tokens;

struct NoLink;

impl spread_flavors::__private::ObserverLink for NoLink {
    fn call(&self, _: &str, _: Vec<Value>, _: Dict) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async {
            Err(RemoteError::new(
                "twisted.spread.pb.DeadReferenceError",
                "this observer has no connection",
            ))
        })
    }

    fn notify(&self, _: &str, _: Vec<Value>) {}
}

impl Handles for Tokens {
    fn remote_reference(&self, luid: i64) -> Value {
        let token = Token(PeerObject::Reference(ObjectId::Luid(luid)));
        Value::Object(Object::receive_only(
            "twisted.spread.pb.RemoteReference",
            token,
        ))
    }

    fn remote_cache(&self, luid: i64, _cache: Arc<dyn RemoteCache>) -> Value {
        let token = Token(PeerObject::Cache(luid));
        Value::Object(Object::receive_only("twisted.spread.pb.RemoteCache", token))
    }

    fn observer(&self, _luid: i64) -> Observer {
        Observer::new(Arc::new(NoLink))
    }

    fn peer_object(&self, object: &Object) -> Option<Result<PeerObject, ForeignHandle>> {
        object.downcast_ref::<Token>().map(|t| Ok(t.0.clone()))
    }
}

/// What a call is aimed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callee {
    /// One of the peer's objects: a `message`.
    Object(ObjectId),
    /// The peer's cache of one of our Cacheables: a `cachemessage`.
    Cache(i64),
}

/// One of our handles was dropped: what [`Core::release`] tells the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// A reference token: `decref`.
    Reference(i64),
    /// A cache token: `decache`.
    Cache(i64),
}

/// What a call from the peer runs on.
pub enum Target {
    /// A local object, through `message`.
    Object(Arc<dyn Referenceable>),
    /// A cache this side holds, through `cachemessage`.
    Cache(Arc<dyn RemoteCache>),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Object(_) => "Target::Object",
            Target::Cache(_) => "Target::Cache",
        })
    }
}

/// A call from the peer, to run and answer with [`Core::answer`] (also
/// when no answer is wanted: the core counts calls in progress).
#[derive(Debug)]
pub struct IncomingCall {
    /// The request id to answer, or `None` when the caller wants no answer.
    pub request: Option<i64>,
    /// What the call runs on.
    pub target: Target,
    /// The method and its arguments.
    pub call: Call,
}

impl IncomingCall {
    /// Starts the method: the future gives what to pass to [`Core::answer`].
    pub fn run(self) -> BoxFuture<Result<Value, RemoteError>> {
        match self.target {
            Target::Object(object) => object.remote_message(self.call),
            Target::Cache(cache) => cache.observe_message(self.call),
        }
    }
}

/// What the core tells its driver.
#[derive(Debug)]
pub enum Event<R> {
    /// The handshake is done: calls go out from now on.
    Ready,
    /// The peer called one of our objects or caches.
    Call(IncomingCall),
    /// The outcome of one of our calls, with the reply slot it was made
    /// with.
    Reply {
        /// The slot given to [`Core::call`].
        reply: R,
        /// The answer, or why there is none.
        result: Result<Value, CallError>,
    },
}

/// The sizes of a connection's tables.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Our Referenceables the peer holds references to (the root is not
    /// counted).
    pub local_objects: usize,
    /// Our Cacheables the peer holds caches of.
    pub caches: usize,
    /// References to the peer's objects we hold (each token the peer sent
    /// counts once, however often its handle was cloned).
    pub remote_references: usize,
    /// Caches of the peer's Cacheables we hold, until the owner says
    /// `uncache`.
    pub remote_caches: usize,
    /// Our calls waiting for answers.
    pub calls_in_flight: usize,
    /// The peer's calls in progress here.
    pub calls_serving: usize,
}

/// A call made before the handshake finished, sent when it does.
struct Queued<R> {
    callee: Callee,
    method: Bytes,
    args: Vec<Value>,
    kwargs: Dict,
    reply: Option<R>,
}

/// The one readiness state.
enum Phase<R> {
    /// Waiting for the dialect offer (client) or choice (server); calls
    /// made meanwhile wait here, in order.
    Handshake(Vec<Queued<R>>),
    Ready,
    Closed,
}

/// One PB connection's protocol state. `R` is what the driver keeps for
/// each call awaiting an answer (a channel to the caller); it comes back in
/// [`Event::Reply`].
pub struct Core<R> {
    role: Role,
    phase: Phase<R>,
    /// Reads frames as tokens, without building their trees: frames and
    /// payloads are read from borrowed `Node`s.
    decoder: TokenDecoder,
    encoder: Encoder,
    /// The dialect negotiated, once the handshake is done.
    dialect: Option<Dialect>,
    /// The one output buffer: bytes waiting for the transport.
    out: BytesMut,
    events: VecDeque<Event<R>>,
    /// Our calls awaiting answers, by request id; ordered, so the oldest
    /// one due is at hand for lingering objects.
    requests: BTreeMap<i64, R>,
    next_request: i64,
    objects: Objects,
    root: Option<Arc<dyn Referenceable>>,
    /// Caches this side holds of the peer's objects, until `uncache`.
    remote_caches: HashMap<i64, Arc<dyn RemoteCache>>,
    remote_references: usize,
    serving: usize,
    /// The perspective each call served for one is answered for (Twisted's
    /// `serializingPerspective`); only such calls have an entry.
    serializing: HashMap<i64, Perspective>,
    options: BrokerOptions,
}

impl<R> fmt::Debug for Core<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("role", &self.role)
            .field("ready", &self.is_ready())
            .field("dialect", &self.dialect)
            .field("stats", &self.stats())
            .finish()
    }
}

/// The error that stands in for one too big to send.
fn short_error() -> RemoteError {
    RemoteError::new("builtins.Exception", "the error was too large to send")
}

impl<R> Core<R> {
    /// A connection's core; the server's has its dialect offer ready to
    /// send.
    pub fn new(role: Role, options: BrokerOptions) -> Result<Core<R>, ProtocolError> {
        let limits = options.banana;
        let mut core = Core {
            role,
            phase: Phase::Handshake(Vec::new()),
            decoder: TokenDecoder::new(limits),
            encoder: Encoder::new(Dialect::None).with_limits(limits),
            dialect: None,
            out: BytesMut::new(),
            events: VecDeque::new(),
            requests: BTreeMap::new(),
            next_request: 1,
            objects: Objects::default(),
            root: options.root.clone(),
            remote_caches: HashMap::new(),
            remote_references: 0,
            serving: 0,
            serializing: HashMap::new(),
            options,
        };
        if role == Role::Server {
            // The offer is plain strings: no dialect is active yet.
            let offer = core
                .options
                .dialects
                .iter()
                .map(|d| Sexp::Bytes(Bytes::from_static(d.name())))
                .collect();
            core.write(&Sexp::List(offer))?;
        }
        Ok(core)
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the handshake is done and the connection not closed.
    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// The dialect the handshake chose (`None` until it is done): what
    /// the frames after it are encoded in.
    pub fn dialect(&self) -> Option<Dialect> {
        self.dialect
    }

    /// Whether [`Core::close`] was called.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The settings the core was made with (the driver takes its timeouts
    /// from them).
    pub fn options(&self) -> &BrokerOptions {
        &self.options
    }

    /// Whether the peer's input ends in the middle of a frame: part of one
    /// held by the decoder, or unread bytes left in `input`. A peer that
    /// closes then lost what it was sending.
    pub fn is_mid_frame(&self, input: &[u8]) -> bool {
        !input.is_empty() || self.decoder.is_mid_expression()
    }

    /// The sizes of the tables.
    pub fn stats(&self) -> Stats {
        let (local_objects, caches) = self.objects.counts();
        Stats {
            local_objects,
            caches,
            remote_references: self.remote_references,
            remote_caches: self.remote_caches.len(),
            calls_in_flight: self.requests.len(),
            calls_serving: self.serving,
        }
    }

    /// Bytes waiting to be sent, oldest first.
    pub fn transmit(&self) -> &[u8] {
        &self.out
    }

    /// The transport took the first `n` bytes of [`Core::transmit`].
    pub fn advance(&mut self, n: usize) {
        self.out.advance(n.min(self.out.len()));
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event<R>> {
        self.events.pop_front()
    }

    /// Encodes one expression into the output buffer, and checks that the
    /// peer is reading.
    fn write(&mut self, sexp: &Sexp) -> Result<(), ProtocolError> {
        self.encoder.encode(sexp, &mut self.out)?;
        self.check_output()
    }

    /// A peer that sends calls but never reads the answers would make the
    /// output buffer grow without end.
    fn check_output(&self) -> Result<(), ProtocolError> {
        let max = self.options.max_output_buffer;
        if self.out.len() > max {
            return Err(ProtocolError::Limit {
                limit: Limit::OutputBuffer,
                max,
            });
        }
        Ok(())
    }

    fn write_frame(&mut self, frame: Frame) -> Result<(), ProtocolError> {
        self.write(&frame.into_sexp())
    }

    /// Reads every whole frame in `input`, leaving a partial one there for
    /// the next call. An error means the connection must be closed, as
    /// Twisted closes it; events queued before it still stand.
    pub fn receive(
        &mut self,
        input: &mut BytesMut,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        // A frame borrows the decoder while it is dispatched, which needs
        // all of `self`: the decoder is taken out meanwhile (no allocation).
        let mut decoder = std::mem::take(&mut self.decoder);
        let received = self.receive_with(&mut decoder, input, handles);
        self.decoder = decoder;
        received
    }

    fn receive_with(
        &mut self,
        decoder: &mut TokenDecoder,
        input: &mut BytesMut,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        while let Some(node) = decoder.decode(input)? {
            tracing::trace!(frame = ?node, "received");
            match &self.phase {
                Phase::Handshake(_) => {
                    // Two small frames per connection: read as trees.
                    let sexp = node.to_sexp();
                    if self.role == Role::Client {
                        self.choose_dialect(&sexp, handles)?;
                    } else {
                        self.accept_choice(&sexp, handles)?;
                    }
                    // The next frame, maybe in this same input, is in the
                    // dialect just chosen.
                    decoder.set_dialect(self.encoder.dialect());
                }
                Phase::Ready => self.dispatch(Frame::parse(node)?, handles)?,
                // Nothing more is read from a closed connection.
                Phase::Closed => return Ok(()),
            }
        }
        Ok(())
    }

    /// Gives back what reading the last frames made the core hold, for a
    /// connection about to wait on a quiet peer.
    pub fn shrink(&mut self) {
        self.decoder.shrink();
    }

    fn choose_dialect(&mut self, offer: &Sexp, handles: &dyn Handles) -> Result<(), ProtocolError> {
        // The server's order decides, as in Twisted: the first name offered
        // that this side speaks.
        let speaks = &self.options.dialects;
        let dialect = offer
            .as_list()
            .and_then(|offered| {
                offered.iter().find_map(|name| {
                    name.as_bytes()
                        .and_then(Dialect::from_name)
                        .filter(|d| speaks.contains(d))
                })
            })
            .ok_or(ProtocolError::NoCommonDialect)?;
        self.write(&Sexp::Bytes(Bytes::from_static(dialect.name())))?;
        self.become_ready(dialect, handles)
    }

    fn accept_choice(&mut self, choice: &Sexp, handles: &dyn Handles) -> Result<(), ProtocolError> {
        // Only what was offered (Twisted checks against the same list).
        let dialect = choice
            .as_bytes()
            .and_then(Dialect::from_name)
            .filter(|d| self.options.dialects.contains(d))
            .ok_or_else(|| ProtocolError::UnknownDialect {
                chosen: match choice.as_bytes() {
                    Some(name) => String::from_utf8_lossy(name).into_owned(),
                    None => format!("{choice:?}"),
                },
            })?;
        self.become_ready(dialect, handles)
    }

    fn become_ready(
        &mut self,
        dialect: Dialect,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        self.encoder.set_dialect(dialect);
        self.dialect = Some(dialect);
        let queued = match std::mem::replace(&mut self.phase, Phase::Ready) {
            Phase::Handshake(queued) => queued,
            _ => Vec::new(),
        };
        self.write_frame(Frame::Version {
            version: PROTOCOL_VERSION,
        })?;
        self.events.push_back(Event::Ready);
        for q in queued {
            self.send_call(q.callee, q.method, q.args, q.kwargs, q.reply, handles)?;
        }
        Ok(())
    }

    fn dispatch(
        &mut self,
        frame: Frame<Node<'_>>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        match frame {
            Frame::Version { version } if version == PROTOCOL_VERSION => Ok(()),
            Frame::Version { version } => Err(ProtocolError::Version { peer: version }),
            Frame::Message {
                request,
                object,
                method,
                answer,
                args,
                kwargs,
            } => {
                let request = answer.then_some(request);
                let target = match &object {
                    ObjectId::Name(name) if &name[..] == b"root" => {
                        self.root.clone().map(|root| (root, None))
                    }
                    ObjectId::Name(_) => None,
                    ObjectId::Luid(luid) => self
                        .objects
                        .callable(*luid)
                        .map(|local| (local.object().clone(), local.perspective().cloned())),
                };
                match target {
                    Some((target, perspective)) => self.start_call(
                        request,
                        perspective,
                        Target::Object(target),
                        &method,
                        args,
                        kwargs,
                        handles,
                    ),
                    // What Twisted answers for an object it does not have.
                    None => self.send_error(request, &RemoteError::pb_error("Invalid Object ID")),
                }
            }
            Frame::CacheMessage {
                request,
                luid,
                method,
                answer,
                args,
                kwargs,
            } => {
                let request = answer.then_some(request);
                match self.remote_caches.get(&luid).cloned() {
                    Some(cache) => self.start_call(
                        request,
                        None,
                        Target::Cache(cache),
                        &method,
                        args,
                        kwargs,
                        handles,
                    ),
                    // What Twisted answers for a cache id it does not hold.
                    None => self.send_error(
                        request,
                        &RemoteError::new("builtins.KeyError", luid.to_string()),
                    ),
                }
            }
            Frame::Answer { request, result } => self.reply(request, Ok(result), handles),
            Frame::Error { request, failure } => self.reply(request, Err(failure), handles),
            Frame::Decref { luid } => {
                let linger = !self.requests.is_empty();
                match self.objects.release(luid, false, linger) {
                    Some(_) => Ok(()),
                    None => Err(ProtocolError::Unknown {
                        table: Table::References,
                        id: luid,
                    }),
                }
            }
            Frame::Decache { luid } => {
                match self.objects.release(luid, true, !self.requests.is_empty()) {
                    Some(Some(released)) => {
                        self.stopped(released);
                        self.write_frame(Frame::Uncache { luid })
                    }
                    Some(None) => Ok(()),
                    None => Err(ProtocolError::Unknown {
                        table: Table::Caches,
                        id: luid,
                    }),
                }
            }
            Frame::Uncache { luid } => match self.remote_caches.remove(&luid) {
                Some(_) => Ok(()),
                None => Err(ProtocolError::Unknown {
                    table: Table::RemoteCaches,
                    id: luid,
                }),
            },
            Frame::DidNotUnderstand { rest } => {
                tracing::info!(?rest, "the peer did not understand a frame of ours");
                Ok(())
            }
        }
    }

    /// An observer has gone: its Cacheable hears of it. A panic in the
    /// hook is the hook's bug, logged, as Twisted logs it.
    fn stopped(&self, released: Released) {
        if let Released::Cache {
            object,
            observer,
            perspective,
        } = released
        {
            let hook =
                AssertUnwindSafe(|| object.stopped_observing(perspective.as_ref(), &observer));
            if std::panic::catch_unwind(hook).is_err() {
                tracing::error!(class = object.type_to_copy(), "stoppedObserving panicked");
            }
        }
    }

    fn policy<'a>(&'a mut self, handles: &'a dyn Handles, generic_instances: bool) -> PbPolicy<'a> {
        PbPolicy {
            security: &self.options.security,
            objects: &self.objects,
            root: self.root.as_ref(),
            remote_caches: RefCell::new(&mut self.remote_caches),
            max_remote_caches: self.options.max_local_objects,
            handles,
            new_references: RefCell::new(Vec::new()),
            references_left: self
                .options
                .max_remote_references
                .saturating_sub(self.remote_references),
            generic_instances,
        }
    }

    /// Unjellies one payload; references made on the way are counted.
    fn unjelly(
        &mut self,
        node: Node<'_>,
        handles: &dyn Handles,
        generic_instances: bool,
    ) -> Result<Value, JellyError> {
        let policy = self.policy(handles, generic_instances);
        let value = Unjellier::new(&policy).unjelly_node(node);
        let mut made = policy.new_references.into_inner();
        self.remote_references += made.len();
        if value.is_err() {
            // The peer counted every `remote` token it sent as a reference
            // we hold: the ones a refused payload never reached get a handle
            // too, dropped at once, so each is released with its decref and
            // nothing stays in the peer's table.
            let mut all = Vec::new();
            // Rare: the payload is read again as a tree.
            tokens::remote_tokens(&node.to_sexp(), &mut all);
            all.sort_unstable();
            made.sort_unstable();
            let mut made = made.into_iter().peekable();
            for luid in all {
                if made.next_if_eq(&luid).is_none() {
                    self.remote_references += 1;
                    drop(handles.remote_reference(luid));
                }
            }
        }
        value
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of one incoming message, taken apart once"
    )]
    fn start_call(
        &mut self,
        request: Option<i64>,
        perspective: Option<Perspective>,
        target: Target,
        method: &[u8],
        args: Node<'_>,
        kwargs: Node<'_>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        let Ok(method) = std::str::from_utf8(method) else {
            let command = match target {
                Target::Object(_) => "message",
                Target::Cache(_) => "cachemessage",
            };
            return Err(ProtocolError::Malformed {
                command,
                field: "method",
            });
        };
        let call = match self.read_call(method, args, kwargs, handles) {
            Ok(call) => call,
            Err(error) => return self.send_error(request, &error),
        };
        let max = self.options.max_incoming_calls;
        if self.serving >= max {
            return Err(ProtocolError::Limit {
                limit: Limit::IncomingCalls,
                max,
            });
        }
        self.serving += 1;
        // The answer is sent for the perspective the call was served for.
        if let (Some(request), Some(perspective)) = (request, perspective) {
            self.serializing.insert(request, perspective);
        }
        self.events.push_back(Event::Call(IncomingCall {
            request,
            target,
            call,
        }));
        Ok(())
    }

    fn read_call(
        &mut self,
        method: &str,
        args: Node<'_>,
        kwargs: Node<'_>,
        handles: &dyn Handles,
    ) -> Result<Call, RemoteError> {
        // The peer gets Twisted's wording; the log gets the path and reason.
        let refuse = |e: JellyError| {
            tracing::info!(error = %e, method, "refusing a call's arguments");
            failure::from_jelly_error(&e)
        };
        let args = match self.unjelly(args, handles, false).map_err(refuse)? {
            Value::Tuple(args) | Value::List(args) => args,
            other => {
                return Err(RemoteError::type_error(format!(
                    "arguments must be a tuple, not {}",
                    other.type_name()
                )));
            }
        };
        let kwargs = match self.unjelly(kwargs, handles, false).map_err(refuse)? {
            Value::Dict(d) => d
                .into_iter()
                .map(|(k, v)| match k {
                    Value::Str(_) => Ok((k, v)),
                    // Python 2 peers sent keyword names as bytes.
                    Value::Bytes(b) => String::from_utf8(b.to_vec())
                        .map(|s| (Value::Str(s), v))
                        .map_err(|_| RemoteError::type_error("keywords must be strings")),
                    _ => Err(RemoteError::type_error("keywords must be strings")),
                })
                .collect::<Result<Dict, _>>()?,
            other => {
                return Err(RemoteError::type_error(format!(
                    "keyword arguments must be a dict, not {}",
                    other.type_name()
                )));
            }
        };
        Ok(Call {
            method: method.to_owned(),
            args,
            kwargs,
        })
    }

    fn reply(
        &mut self,
        request: i64,
        payload: Result<Node<'_>, Node<'_>>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        let Some(reply) = self.requests.remove(&request) else {
            return Err(ProtocolError::Unknown {
                table: Table::Requests,
                id: request,
            });
        };
        let result = match payload {
            Ok(sexp) => self
                .unjelly(sexp, handles, false)
                .map_err(CallError::Answer),
            // Errors are read leniently: a Twisted peer may send the
            // exception object itself, which is data here, never a local type.
            Err(sexp) => match self.unjelly(sexp, handles, true) {
                Ok(value) => Err(CallError::from(failure::from_value(&value))),
                Err(e) => Err(CallError::Answer(e)),
            },
        };
        // Twisted sends a release right before the answer that may name
        // what it released; once that answer is read, nothing lingers.
        self.objects.expire_lingering();
        let unreadable = matches!(result, Err(CallError::Answer(_)));
        if let Err(CallError::Answer(e)) = &result {
            tracing::info!(request, error = %e, "an answer we cannot read");
        }
        self.events.push_back(Event::Reply { reply, result });
        if unreadable {
            // Twisted closes here too (and leaves the call hanging; ours got
            // its error above).
            return Err(ProtocolError::UnreadableAnswer { request });
        }
        Ok(())
    }

    /// Gives back the tokens of a frame that was not sent.
    fn give_back(&mut self, taken: Taken) {
        for released in self.objects.give_back(taken) {
            // A cache the peer never received: its observer stops at once.
            self.stopped(released);
        }
    }

    /// Calls `method` (its wire name) on the peer's object or cache. With a `reply` slot, the
    /// outcome comes back as an [`Event::Reply`] — also when the call cannot
    /// be sent; without one the peer sends no answer (Twisted's
    /// `pbanswer=False`). A call made before the handshake is done is sent
    /// when it is; after [`Core::close`] it fails with
    /// [`CallError::ConnectionLost`].
    ///
    /// An error means the connection must be closed (the peer does not read
    /// what we send).
    pub fn call(
        &mut self,
        callee: Callee,
        method: Bytes,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<R>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        match &mut self.phase {
            Phase::Handshake(queued) => {
                queued.push(Queued {
                    callee,
                    method,
                    args,
                    kwargs,
                    reply,
                });
                Ok(())
            }
            Phase::Closed => {
                self.fail(reply, CallError::ConnectionLost);
                Ok(())
            }
            Phase::Ready => self.send_call(callee, method, args, kwargs, reply, handles),
        }
    }

    fn fail(&mut self, reply: Option<R>, error: CallError) {
        match reply {
            Some(reply) => self.events.push_back(Event::Reply {
                reply,
                result: Err(error),
            }),
            None => tracing::info!(%error, "a call that wanted no answer was not sent"),
        }
    }

    fn send_call(
        &mut self,
        callee: Callee,
        method: Bytes,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<R>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        if reply.is_some() && self.requests.len() >= self.options.max_calls_in_flight {
            let limit = self.options.max_calls_in_flight;
            self.fail(reply, CallError::TooManyCalls { limit });
            return Ok(());
        }
        if let Callee::Cache(luid) = callee
            && !self.objects.is_cache(luid)
        {
            // The observer stopped: nobody holds that cache any more.
            self.fail(reply, CallError::DeadReference);
            return Ok(());
        }
        let mut taken = Taken::default();
        let request = self.next_request;
        let call = OutgoingCall {
            request,
            to: match &callee {
                Callee::Object(object) => Addressee::Object(object),
                Callee::Cache(luid) => Addressee::Cache(*luid),
            },
            method: &method,
            answer: reply.is_some(),
            args: &Value::Tuple(args),
            kwargs: &Value::Dict(kwargs),
        };
        if let Err(e) = self.write_call(call, handles, &mut taken) {
            self.give_back(taken);
            let error = match e.kind() {
                ErrorKind::Encode(e) => CallError::Encode(e.clone()),
                _ => CallError::Jelly(e),
            };
            self.fail(reply, error);
            return Ok(());
        }
        self.next_request += 1;
        if let Some(reply) = reply {
            self.requests.insert(request, reply);
        }
        self.check_output()
    }

    /// Answers a call from the peer ([`Event::Call`]), with its result or
    /// its error. A result that cannot be sent is answered with an error
    /// that says why, and an error that cannot be sent with a shorter one:
    /// every call that wants an answer gets one.
    ///
    /// An error means the connection must be closed.
    pub fn answer(
        &mut self,
        request: Option<i64>,
        result: Result<Value, RemoteError>,
        handles: &dyn Handles,
    ) -> Result<(), ProtocolError> {
        self.serving = self.serving.saturating_sub(1);
        let perspective = request.and_then(|r| self.serializing.remove(&r));
        if self.is_closed() {
            return Ok(());
        }
        let Some(request) = request else {
            if let Err(error) = result {
                tracing::info!(%error, "a call that wanted no answer failed");
            }
            return Ok(());
        };
        let value = match result {
            Ok(value) => value,
            Err(error) => return self.send_error(Some(request), &error),
        };
        let mut taken = Taken::default();
        let sent = self
            .write_answer(request, &value, perspective.as_ref(), handles, &mut taken)
            .map_err(|e| e.to_string());
        match sent {
            Ok(()) => self.check_output(),
            Err(reason) => {
                self.give_back(taken);
                tracing::warn!(%reason, request, "cannot send a result");
                let error = RemoteError::type_error(format!("cannot send the result: {reason}"));
                self.send_error(Some(request), &error)
            }
        }
    }

    /// Sends `error` as the answer to `request`, or a shorter error when it
    /// is too large for the Banana limits.
    fn send_error(
        &mut self,
        request: Option<i64>,
        error: &RemoteError,
    ) -> Result<(), ProtocolError> {
        let Some(request) = request else {
            return Ok(());
        };
        let tracebacks = self.options.unsafe_tracebacks;
        for error in [error, &short_error()] {
            let encoded = failure::to_sexp(error, tracebacks).map(|failure| {
                let frame = Frame::Error { request, failure }.into_sexp();
                self.encoder.encode(&frame, &mut self.out)
            });
            if let Ok(Ok(())) = encoded {
                return self.check_output();
            }
        }
        // Not with the limits' floors; but if it happens, the peer hears of
        // it by the connection closing, not by a call left hanging.
        tracing::warn!(request, "cannot send even a short error");
        Err(ProtocolError::CannotAnswer { request })
    }

    /// One of our handles was dropped: the peer hears of it (`decref`,
    /// `decache`), unless the connection is not up or the peer has already
    /// forgotten the cache.
    ///
    /// An error means the connection must be closed.
    pub fn release(&mut self, release: Release) -> Result<(), ProtocolError> {
        match release {
            Release::Reference(luid) => {
                self.remote_references = self.remote_references.saturating_sub(1);
                if self.is_ready() {
                    return self.write_frame(Frame::Decref { luid });
                }
            }
            Release::Cache(luid) => {
                if self.is_ready() && self.remote_caches.contains_key(&luid) {
                    return self.write_frame(Frame::Decache { luid });
                }
            }
        }
        Ok(())
    }

    /// The transport is gone: every call waiting for an answer fails with
    /// [`CallError::ConnectionLost`] (as [`Event::Reply`]s), every observer
    /// of our Cacheables stops, and the tables empty.
    pub fn close(&mut self) {
        let queued = match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Handshake(queued) => queued,
            _ => Vec::new(),
        };
        for q in queued {
            self.fail(q.reply, CallError::ConnectionLost);
        }
        for (_, reply) in std::mem::take(&mut self.requests) {
            self.fail(Some(reply), CallError::ConnectionLost);
        }
        let (released, objects) = self.objects.clear();
        for released in released {
            self.stopped(released);
        }
        // Logins' logouts run as their avatars go: after their observers.
        drop(objects);
        self.remote_caches.clear();
        self.serializing.clear();
        // Handles that outlive the connection name nothing any more.
        self.remote_references = 0;
        // The peer's calls still running will never be answered: the
        // driver drops them with the connection.
        self.serving = 0;
        self.out.clear();
    }
}
