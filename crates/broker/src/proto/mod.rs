//! The PB protocol as a deterministic state machine: bytes in, bytes and
//! events out. No sockets and no clock, so it can be driven by tests and
//! fuzzers directly; `connection` drives it with tokio.
//!
//! This module reads and writes frames; `invoker` jellies PB's own objects
//! with the connection's tables, and `caches` keeps the caches both ways.

mod caches;
mod invoker;
mod locals;

use self::caches::CacheEntry;
use self::invoker::PbInvoker;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use spread_banana::{Dialect, Sexp};
use spread_flavors::{BoxFuture, Call, NewRemoteCache, Referenceable, RemoteCache, RemoteError};
use spread_jelly::{Dict, Error as JellyError, Unjellier, Value, to_sexp_with};
use tokio_util::codec::{Decoder as _, Encoder as _};

use crate::codec::{BananaCodec, CodecError};
use crate::connection::Link;
use crate::failure;
use crate::policy::PbPolicy;
use crate::{BrokerOptions, CallError, ProtocolError};

/// The protocol version Twisted 26.10 speaks.
pub(crate) const PROTOCOL_VERSION: i64 = 6;

/// Which end of the connection this is: the server offers the dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The accepting side (Twisted's `PBServerFactory`).
    Server,
    /// The connecting side (Twisted's `PBClientFactory`).
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitOffer,
    AwaitChoice,
    Ready,
}

/// An object id on the wire: a registered name (`"root"`) or a luid.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ObjectId {
    Name(Bytes),
    Luid(i64),
}

impl ObjectId {
    pub(crate) fn to_sexp(&self) -> Sexp {
        match self {
            ObjectId::Name(name) => Sexp::Bytes(name.clone()),
            ObjectId::Luid(luid) => Sexp::Int(*luid),
        }
    }

    fn from_sexp(sexp: &Sexp) -> Option<ObjectId> {
        match sexp {
            Sexp::Bytes(name) => Some(ObjectId::Name(name.clone())),
            Sexp::Int(luid) => Some(ObjectId::Luid(*luid)),
            _ => None,
        }
    }
}

/// A local object the peer may call, and how many reference tokens for it
/// the peer holds (names are never counted).
pub(crate) struct Local {
    pub(crate) object: Arc<dyn Referenceable>,
    count: u64,
}

/// What a call from the peer runs on.
pub(crate) enum Target {
    /// A local object, through `message`.
    Object(Arc<dyn Referenceable>),
    /// A cache this side holds, through `cachemessage`.
    Cache(Arc<dyn RemoteCache>),
}

impl Target {
    pub(crate) fn run(self, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        match self {
            Target::Object(object) => object.remote_message(call),
            Target::Cache(cache) => cache.observe_message(call),
        }
    }
}

/// What one jelly call took, to give back if the send fails.
#[derive(Default)]
pub(crate) struct Taken {
    refs: Vec<i64>,
    caches: Vec<i64>,
}

/// What the core asks its driver to do.
pub(crate) enum Event {
    /// The handshake is done: calls may go out.
    Ready,
    /// Run a remote method and hand the result to [`Core::answer`].
    Call {
        request: Option<i64>,
        target: Target,
        call: Call,
    },
    /// The answer to one of our calls.
    Reply {
        request: i64,
        result: Result<Value, CallError>,
    },
}

pub(crate) struct Core {
    phase: Phase,
    codec: BananaCodec,
    out: BytesMut,
    events: Vec<Event>,
    next_request: i64,
    next_luid: i64,
    locals: HashMap<ObjectId, Local>,
    /// Local objects by identity, so the same object keeps its luid.
    luid_of: HashMap<usize, i64>,
    outstanding: HashSet<i64>,
    /// Objects whose last reference the peer released while answers to our
    /// calls were still due, kept with the highest request id sent then.
    /// Twisted releases a reference it received before it sends the answer
    /// that returns it, so `["local", luid]` can arrive after the `decref`;
    /// the object must still be found (Twisted's own client finds `None`).
    lingering: HashMap<i64, (Arc<dyn Referenceable>, i64)>,
    /// Local Cacheables the peer holds caches of, by luid (the same counter
    /// as references), and by identity.
    caches: HashMap<i64, CacheEntry>,
    cache_luid_of: HashMap<usize, i64>,
    /// Caches this side holds of the peer's objects, until the peer says
    /// `uncache`. Filled while unjellying, hence the cell.
    remote_caches: RefCell<HashMap<i64, NewRemoteCache>>,
    serving: usize,
    options: Arc<BrokerOptions>,
    link: Arc<Link>,
}

fn tag(word: &'static str) -> Sexp {
    Sexp::Bytes(Bytes::from_static(word.as_bytes()))
}

fn frame_error(what: impl Into<String>) -> ProtocolError {
    ProtocolError::Frame(what.into())
}

impl Core {
    pub(crate) fn new(role: Role, options: Arc<BrokerOptions>, link: Arc<Link>) -> Core {
        let mut core = Core {
            phase: match role {
                Role::Server => Phase::AwaitChoice,
                Role::Client => Phase::AwaitOffer,
            },
            codec: BananaCodec::new(options.banana),
            out: BytesMut::new(),
            events: Vec::new(),
            next_request: 1,
            next_luid: 1,
            locals: HashMap::new(),
            luid_of: HashMap::new(),
            outstanding: HashSet::new(),
            lingering: HashMap::new(),
            caches: HashMap::new(),
            cache_luid_of: HashMap::new(),
            remote_caches: RefCell::new(HashMap::new()),
            serving: 0,
            options,
            link,
        };
        if let Some(root) = core.options.root.clone() {
            core.locals.insert(
                ObjectId::Name(Bytes::from_static(b"root")),
                Local {
                    object: root,
                    count: 0,
                },
            );
        }
        if role == Role::Server {
            // The offer is plain strings: no dialect is active yet.
            let offer = Sexp::List(
                Dialect::KNOWN
                    .iter()
                    .map(|d| Sexp::Bytes(Bytes::from_static(d.name())))
                    .collect(),
            );
            core.write(&offer)
                .expect("the dialect offer always encodes");
        }
        core
    }

    /// How many written bytes may wait for the peer to read them.
    pub(crate) fn max_output(&self) -> usize {
        self.options.max_output_buffer
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    pub(crate) fn take_output(&mut self) -> BytesMut {
        self.out.split()
    }

    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn write(&mut self, frame: &Sexp) -> Result<(), CodecError> {
        self.codec.encode(frame, &mut self.out)
    }

    /// Reads every whole frame in `buf`. An error means the connection must
    /// be closed, as Twisted closes it.
    pub(crate) fn receive(&mut self, buf: &mut BytesMut) -> Result<(), ProtocolError> {
        loop {
            let frame = match self.codec.decode(buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(CodecError::Decode(e)) => return Err(e.into()),
                Err(e) => return Err(frame_error(e.to_string())),
            };
            tracing::trace!(?frame, "received");
            match self.phase {
                Phase::AwaitOffer => self.choose_dialect(&frame)?,
                Phase::AwaitChoice => self.accept_choice(&frame)?,
                Phase::Ready => self.dispatch(frame)?,
            }
        }
    }

    fn become_ready(&mut self, dialect: Dialect) {
        self.codec.set_dialect(dialect);
        self.phase = Phase::Ready;
        let version = Sexp::List(vec![tag("version"), Sexp::Int(PROTOCOL_VERSION)]);
        self.write(&version)
            .expect("the version frame always encodes");
        self.events.push(Event::Ready);
    }

    fn choose_dialect(&mut self, offer: &Sexp) -> Result<(), ProtocolError> {
        let offered = offer
            .as_list()
            .ok_or_else(|| ProtocolError::Dialect("the offer is not a list".into()))?;
        // The server's order decides, as in Twisted.
        let dialect = offered
            .iter()
            .find_map(|name| name.as_bytes().and_then(Dialect::from_name))
            .ok_or_else(|| ProtocolError::Dialect(format!("no known dialect in {offer:?}")))?;
        self.write(&Sexp::Bytes(Bytes::from_static(dialect.name())))
            .expect("a dialect name always encodes");
        self.become_ready(dialect);
        Ok(())
    }

    fn accept_choice(&mut self, choice: &Sexp) -> Result<(), ProtocolError> {
        let dialect = choice
            .as_bytes()
            .and_then(Dialect::from_name)
            .ok_or_else(|| ProtocolError::Dialect(format!("unknown choice {choice:?}")))?;
        self.become_ready(dialect);
        Ok(())
    }

    fn dispatch(&mut self, frame: Sexp) -> Result<(), ProtocolError> {
        let Sexp::List(items) = frame else {
            return Err(frame_error("a frame that is not a list"));
        };
        let Some((Sexp::Bytes(command), rest)) = items.split_first() else {
            return Err(frame_error("a frame without a command"));
        };
        match (&command[..], rest) {
            (b"version", [version]) => match version {
                Sexp::Int(PROTOCOL_VERSION) => Ok(()),
                other => Err(ProtocolError::Version(format!("{other:?}"))),
            },
            (b"message", [request, object, method, answer, args, kwargs]) => {
                self.message(request, object, method, answer, args, kwargs)
            }
            (b"answer", [request, result]) => self.reply(request, Ok(result)),
            (b"error", [request, failure]) => self.reply(request, Err(failure)),
            (b"decref", [luid]) => self.peer_decref(luid),
            (b"cachemessage", [request, cache, method, answer, args, kwargs]) => {
                self.cache_message(request, cache, method, answer, args, kwargs)
            }
            (b"decache", [luid]) => self.peer_decache(luid),
            (b"uncache", [luid]) => {
                let removed = match luid {
                    Sexp::Int(luid) => self.remote_caches.borrow_mut().remove(luid),
                    _ => None,
                };
                removed.map(drop).ok_or_else(|| ProtocolError::Unknown {
                    what: "cache in uncache",
                    id: format!("{luid:?}"),
                })
            }
            (b"didNotUnderstand", _) => {
                tracing::info!(?rest, "peer did not understand a frame of ours");
                Ok(())
            }
            _ => Err(frame_error(format!(
                "unknown command or arity: {:?} with {} arguments",
                String::from_utf8_lossy(command),
                rest.len()
            ))),
        }
    }

    fn unjellier(&self, generic_instances: bool) -> Unjellier<PbPolicy<'_>> {
        Unjellier::new(PbPolicy {
            security: &self.options.security,
            core: self,
            link: &self.link,
            generic_instances,
        })
    }

    fn message(
        &mut self,
        request: &Sexp,
        object: &Sexp,
        method: &Sexp,
        answer: &Sexp,
        args: &Sexp,
        kwargs: &Sexp,
    ) -> Result<(), ProtocolError> {
        let (Sexp::Int(request), Some(object), Some(method), Sexp::Int(answer)) = (
            request,
            ObjectId::from_sexp(object),
            method.as_bytes(),
            answer,
        ) else {
            return Err(frame_error("malformed message"));
        };
        let method = std::str::from_utf8(method)
            .map_err(|_| frame_error("a method name that is not UTF-8"))?
            .to_owned();
        let request = (*answer != 0).then_some(*request);
        let Some(target) = self
            .locals
            .get(&object)
            .map(|l| Target::Object(l.object.clone()))
        else {
            if let Some(request) = request {
                self.send_error(request, &RemoteError::pb_error("Invalid Object ID"));
            }
            return Ok(());
        };
        self.start_call(request, target, method, args, kwargs)
    }

    fn cache_message(
        &mut self,
        request: &Sexp,
        cache: &Sexp,
        method: &Sexp,
        answer: &Sexp,
        args: &Sexp,
        kwargs: &Sexp,
    ) -> Result<(), ProtocolError> {
        let (Sexp::Int(request), Sexp::Int(cache), Some(method), Sexp::Int(answer)) =
            (request, cache, method.as_bytes(), answer)
        else {
            return Err(frame_error("malformed cachemessage"));
        };
        let method = std::str::from_utf8(method)
            .map_err(|_| frame_error("a method name that is not UTF-8"))?
            .to_owned();
        let request = (*answer != 0).then_some(*request);
        let target = self
            .remote_caches
            .borrow()
            .get(cache)
            .map(|c| Target::Cache(c.cache.clone()));
        let Some(target) = target else {
            // What Twisted answers for a cache id it does not hold.
            if let Some(request) = request {
                self.send_error(
                    request,
                    &RemoteError::new("builtins.KeyError", cache.to_string()),
                );
            }
            return Ok(());
        };
        self.start_call(request, target, method, args, kwargs)
    }

    fn start_call(
        &mut self,
        request: Option<i64>,
        target: Target,
        method: String,
        args: &Sexp,
        kwargs: &Sexp,
    ) -> Result<(), ProtocolError> {
        let call = match self.read_call(method, args, kwargs) {
            Ok(call) => call,
            Err(error) => {
                if let Some(request) = request {
                    self.send_error(request, &error);
                }
                return Ok(());
            }
        };
        if self.serving >= self.options.max_incoming_calls {
            return Err(ProtocolError::Limit(format!(
                "more than {} calls from the peer in progress",
                self.options.max_incoming_calls
            )));
        }
        self.serving += 1;
        self.events.push(Event::Call {
            request,
            target,
            call,
        });
        Ok(())
    }

    fn read_call(&self, method: String, args: &Sexp, kwargs: &Sexp) -> Result<Call, RemoteError> {
        let unjellier = self.unjellier(false);
        // The peer gets Twisted's wording; the log gets the path and reason.
        let refuse = |e: spread_jelly::Error| {
            tracing::info!(error = %e, method, "refusing a call's arguments");
            failure::from_jelly_error(&e)
        };
        let args = match unjellier.unjelly(args).map_err(refuse)? {
            Value::Tuple(args) | Value::List(args) => args,
            other => {
                return Err(RemoteError::type_error(format!(
                    "arguments must be a tuple, not {}",
                    other.type_name()
                )));
            }
        };
        let kwargs = match unjellier.unjelly(kwargs).map_err(refuse)? {
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
            method,
            args,
            kwargs,
        })
    }

    fn reply(
        &mut self,
        request: &Sexp,
        payload: Result<&Sexp, &Sexp>,
    ) -> Result<(), ProtocolError> {
        let Sexp::Int(request) = request else {
            return Err(frame_error("an answer without a request id"));
        };
        if !self.outstanding.remove(request) {
            return Err(ProtocolError::Unknown {
                what: "request",
                id: request.to_string(),
            });
        }
        let result = match payload {
            Ok(sexp) => self
                .unjellier(false)
                .unjelly(sexp)
                .map_err(CallError::Answer),
            // Errors are read leniently: a Twisted peer may send the
            // exception object itself, which is data here, never a local type.
            Err(sexp) => match self.unjellier(true).unjelly(sexp) {
                Ok(value) => Err(CallError::from(failure::from_value(&value))),
                Err(e) => Err(CallError::Answer(e)),
            },
        };
        self.expire_lingering();
        let unreadable = matches!(result, Err(CallError::Answer(_)));
        let reason = match &result {
            Err(CallError::Answer(e)) => e.to_string(),
            _ => String::new(),
        };
        self.events.push(Event::Reply {
            request: *request,
            result,
        });
        if unreadable {
            // Twisted closes here too (and leaves the call hanging; ours got
            // its error above).
            return Err(frame_error(format!("unreadable answer: {reason}")));
        }
        Ok(())
    }

    /// Jellies `value` with this connection's tables; on failure, undoes the
    /// reference counts it took.
    fn jelly(&mut self, value: &Value, taken: &mut Taken) -> Result<Sexp, JellyError> {
        let mut invoker = PbInvoker { core: self, taken };
        to_sexp_with(value, &mut invoker)
    }

    /// Sends a call; `Some(request id)` when an answer is expected.
    pub(crate) fn call(
        &mut self,
        target: &ObjectId,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
        answer: bool,
    ) -> Result<Option<i64>, CallError> {
        self.send_message("message", target.to_sexp(), method, args, kwargs, answer)
    }

    /// Writes a `message` or `cachemessage`; `Some(request id)` when an
    /// answer is expected. Nothing is written, and nothing kept, on failure.
    fn send_message(
        &mut self,
        command: &'static str,
        target: Sexp,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
        answer: bool,
    ) -> Result<Option<i64>, CallError> {
        if answer && self.outstanding.len() >= self.options.max_calls_in_flight {
            return Err(CallError::TooManyCalls {
                limit: self.options.max_calls_in_flight,
            });
        }
        let mut taken = Taken::default();
        // Arguments and keywords are two jelly calls, with their own
        // reference ids, as Twisted sends them.
        let jellied = self
            .jelly(&Value::Tuple(args), &mut taken)
            .and_then(|args| Ok((args, self.jelly(&Value::Dict(kwargs), &mut taken)?)));
        let (args, kwargs) = match jellied {
            Ok(both) => both,
            Err(e) => {
                self.release(taken);
                return Err(e.into());
            }
        };
        let request = self.next_request;
        self.next_request += 1;
        let frame = Sexp::List(vec![
            tag(command),
            Sexp::Int(request),
            target,
            Sexp::Bytes(Bytes::copy_from_slice(method.as_bytes())),
            Sexp::Int(i64::from(answer)),
            args,
            kwargs,
        ]);
        if let Err(e) = self.write(&frame) {
            self.release(taken);
            return Err(CallError::Jelly(JellyError::custom(e)));
        }
        self.link
            .local_objects
            .store(self.local_count(), Ordering::Relaxed);
        if answer {
            self.outstanding.insert(request);
        }
        Ok(answer.then_some(request))
    }

    /// Sends the result of a call the peer made.
    pub(crate) fn answer(&mut self, request: Option<i64>, result: Result<Value, RemoteError>) {
        self.serving = self.serving.saturating_sub(1);
        let Some(request) = request else {
            if let Err(error) = result {
                tracing::info!(%error, "a call that wanted no answer failed");
            }
            return;
        };
        match result {
            Ok(value) => {
                let mut taken = Taken::default();
                let sent = self
                    .jelly(&value, &mut taken)
                    .map_err(|e| e.to_string())
                    .and_then(|sexp| {
                        let frame = Sexp::List(vec![tag("answer"), Sexp::Int(request), sexp]);
                        self.write(&frame).map_err(|e| e.to_string())
                    });
                if let Err(reason) = sent {
                    self.release(taken);
                    tracing::warn!(%reason, "cannot send a result");
                    self.send_error(
                        request,
                        &RemoteError::type_error(format!("cannot send the result: {reason}")),
                    );
                }
                self.link
                    .local_objects
                    .store(self.local_count(), Ordering::Relaxed);
            }
            Err(error) => self.send_error(request, &error),
        }
    }

    fn send_error(&mut self, request: i64, error: &RemoteError) {
        let payload = failure::to_sexp(error, self.options.unsafe_tracebacks);
        let frame = Sexp::List(vec![tag("error"), Sexp::Int(request), payload]);
        if let Err(e) = self.write(&frame) {
            tracing::warn!(%e, "cannot send an error frame");
        }
    }

    /// One of our references to the peer's objects was dropped.
    pub(crate) fn decref(&mut self, id: &ObjectId) {
        if let (ObjectId::Luid(luid), Phase::Ready) = (id, self.phase) {
            let frame = Sexp::List(vec![tag("decref"), Sexp::Int(*luid)]);
            self.write(&frame).expect("a decref always encodes");
        }
    }
}
