//! PB's commands as typed frames: the shape of every command is written
//! here once, both ways (Twisted's `proto_*` and `sendCall` in `pb.py`).

use std::fmt;

use bytes::Bytes;
use spread_banana::{Node, Nodes, Sexp};

use crate::ProtocolError;

/// An object id on the wire: a registered name (`"root"`) or a luid, a
/// number the object's owner chose.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ObjectId {
    /// A name the owner registered; PB registers only `"root"`.
    Name(Bytes),
    /// A luid the owner gave out with a `remote` token.
    Luid(i64),
}

impl ObjectId {
    /// The root object every broker serves under the name `"root"`.
    pub const fn root() -> ObjectId {
        ObjectId::Name(Bytes::from_static(b"root"))
    }

    pub(super) fn to_sexp(&self) -> Sexp {
        match self {
            ObjectId::Name(name) => Sexp::Bytes(name.clone()),
            ObjectId::Luid(luid) => Sexp::Int(*luid),
        }
    }

    fn from_payload<P: Payload>(item: P) -> Option<ObjectId> {
        match item.int() {
            Some(luid) => Some(ObjectId::Luid(luid)),
            None => item.into_bytes().map(ObjectId::Name),
        }
    }
}

/// What a frame is read from: an owned [`Sexp`], or a [`Node`] of a frame
/// a [`TokenDecoder`](spread_banana::TokenDecoder) holds (how the broker
/// reads, without building the tree). A frame's payloads are of the same
/// kind. The trait is sealed.
pub trait Payload: Sized + fmt::Debug + sealed::Sealed {
    /// A list's elements, in order.
    #[doc(hidden)]
    type Items: ExactSizeIterator<Item = Self>;
    #[doc(hidden)]
    fn into_items(self) -> Option<Self::Items>;
    #[doc(hidden)]
    fn int(&self) -> Option<i64>;
    #[doc(hidden)]
    fn bytes(&self) -> Option<&[u8]>;
    #[doc(hidden)]
    fn into_bytes(self) -> Option<Bytes>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for spread_banana::Sexp {}
    impl Sealed for spread_banana::Node<'_> {}
}

impl Payload for Sexp {
    type Items = std::vec::IntoIter<Sexp>;

    fn into_items(self) -> Option<Self::Items> {
        match self {
            Sexp::List(items) => Some(items.into_iter()),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        self.as_i64()
    }

    fn bytes(&self) -> Option<&[u8]> {
        self.as_bytes()
    }

    fn into_bytes(self) -> Option<Bytes> {
        match self {
            Sexp::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }
}

impl<'a> Payload for Node<'a> {
    type Items = Nodes<'a>;

    fn into_items(self) -> Option<Nodes<'a>> {
        self.as_list()
    }

    fn int(&self) -> Option<i64> {
        self.as_i64()
    }

    fn bytes(&self) -> Option<&[u8]> {
        self.as_bytes()
    }

    fn into_bytes(self) -> Option<Bytes> {
        self.to_bytes()
    }
}

/// One PB command, after the handshake.
///
/// Arguments, answers and failures stay as they were read (`P`, a
/// [`Sexp`] or a [`Node`]): they are unjellied with the connection's
/// tables, which a frame does not know.
///
/// ```
/// use spread_banana::Sexp;
/// use spread_broker::proto::Frame;
///
/// let sexp = Sexp::list([Sexp::from("decref"), Sexp::from(7)]);
/// let frame = Frame::parse(sexp.clone())?;
/// assert_eq!(frame, Frame::Decref { luid: 7 });
/// assert_eq!(frame.into_sexp(), sexp);
/// # Ok::<(), spread_broker::ProtocolError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Frame<P = Sexp> {
    /// `["version", n]`: the protocol version, sent once by each side.
    Version {
        /// The version the sender speaks (Twisted 26.10: 6).
        version: i64,
    },
    /// `["message", request, object, method, answer, args, kwargs]`: a call
    /// of a Referenceable's method.
    Message {
        /// The request id the answer will carry.
        request: i64,
        /// The object called.
        object: ObjectId,
        /// The method's wire name, without `remote_`.
        method: Bytes,
        /// Whether the caller wants an answer (`pbanswer`).
        answer: bool,
        /// The positional arguments, a jellied tuple.
        args: P,
        /// The keyword arguments, a jellied dict.
        kwargs: P,
    },
    /// `["cachemessage", request, luid, method, answer, args, kwargs]`: an
    /// owner's call of an `observe_*` method on the peer's cache.
    CacheMessage {
        /// The request id the answer will carry.
        request: i64,
        /// The cache called.
        luid: i64,
        /// The method's wire name, without `observe_`.
        method: Bytes,
        /// Whether the caller wants an answer.
        answer: bool,
        /// The positional arguments, a jellied tuple.
        args: P,
        /// The keyword arguments, a jellied dict.
        kwargs: P,
    },
    /// `["answer", request, result]`.
    Answer {
        /// The request answered.
        request: i64,
        /// The jellied result.
        result: P,
    },
    /// `["error", request, failure]`.
    Error {
        /// The request answered.
        request: i64,
        /// The jellied failure (a `CopyableFailure`, or anything else).
        failure: P,
    },
    /// `["decref", luid]`: the peer dropped one reference token.
    Decref {
        /// The object's luid.
        luid: i64,
    },
    /// `["decache", luid]`: the peer dropped one cache token.
    Decache {
        /// The Cacheable's luid.
        luid: i64,
    },
    /// `["uncache", luid]`: the owner forgot a cache the peer holds.
    Uncache {
        /// The cache's luid.
        luid: i64,
    },
    /// `["didNotUnderstand", ...]`: the peer could not read one of ours.
    DidNotUnderstand {
        /// What the peer said after the command.
        rest: Vec<P>,
    },
}

/// A PB keyword: a command name or a token's tag.
pub(super) fn word(word: &'static str) -> Sexp {
    Sexp::Bytes(Bytes::from_static(word.as_bytes()))
}

fn int<P: Payload>(
    item: P,
    command: &'static str,
    field: &'static str,
) -> Result<i64, ProtocolError> {
    item.int()
        .ok_or(ProtocolError::Malformed { command, field })
}

fn name<P: Payload>(item: P, command: &'static str) -> Result<Bytes, ProtocolError> {
    item.into_bytes().ok_or(ProtocolError::Malformed {
        command,
        field: "method",
    })
}

/// The next of a frame's items, whose count was checked.
fn next<P>(items: &mut impl Iterator<Item = P>, command: &'static str) -> Result<P, ProtocolError> {
    items.next().ok_or(ProtocolError::Malformed {
        command,
        field: "arity",
    })
}

impl<P: Payload> Frame<P> {
    /// Reads one frame; an error means the connection must close, as
    /// Twisted closes it.
    pub fn parse(frame: P) -> Result<Frame<P>, ProtocolError> {
        let mut items = frame.into_items().ok_or(ProtocolError::NotACommand)?;
        let head = items.next().ok_or(ProtocolError::NotACommand)?;
        let command = head.bytes().ok_or(ProtocolError::NotACommand)?;
        let arity = items.len();
        let known: &'static str = match (command, arity) {
            (b"didNotUnderstand", _) => {
                return Ok(Frame::DidNotUnderstand {
                    rest: items.collect(),
                });
            }
            (b"version", 1) => "version",
            (b"decref", 1) => "decref",
            (b"decache", 1) => "decache",
            (b"uncache", 1) => "uncache",
            (b"answer", 2) => "answer",
            (b"error", 2) => "error",
            (b"message", 6) => "message",
            (b"cachemessage", 6) => "cachemessage",
            _ => {
                return Err(ProtocolError::UnknownCommand {
                    command: String::from_utf8_lossy(command).into_owned(),
                    arity,
                });
            }
        };
        let items = &mut items;
        Ok(match known {
            "version" => Frame::Version {
                version: int(next(items, known)?, known, "version")?,
            },
            "decref" => Frame::Decref {
                luid: int(next(items, known)?, known, "luid")?,
            },
            "decache" => Frame::Decache {
                luid: int(next(items, known)?, known, "luid")?,
            },
            "uncache" => Frame::Uncache {
                luid: int(next(items, known)?, known, "luid")?,
            },
            "answer" | "error" => {
                let request = int(next(items, known)?, known, "request")?;
                let payload = next(items, known)?;
                if known == "answer" {
                    Frame::Answer {
                        request,
                        result: payload,
                    }
                } else {
                    Frame::Error {
                        request,
                        failure: payload,
                    }
                }
            }
            _ => {
                let request = int(next(items, known)?, known, "request")?;
                let object = next(items, known)?;
                let method = name(next(items, known)?, known)?;
                let answer = int(next(items, known)?, known, "answer")? != 0;
                let (args, kwargs) = (next(items, known)?, next(items, known)?);
                if known == "cachemessage" {
                    Frame::CacheMessage {
                        request,
                        luid: int(object, known, "luid")?,
                        method,
                        answer,
                        args,
                        kwargs,
                    }
                } else {
                    Frame::Message {
                        request,
                        object: ObjectId::from_payload(object).ok_or(ProtocolError::Malformed {
                            command: known,
                            field: "object",
                        })?,
                        method,
                        answer,
                        args,
                        kwargs,
                    }
                }
            }
        })
    }
}

impl Frame {
    /// The frame as PB sends it.
    pub fn into_sexp(self) -> Sexp {
        let list = |items: Vec<Sexp>| Sexp::List(items);
        match self {
            Frame::Version { version } => list(vec![word("version"), Sexp::Int(version)]),
            Frame::Message {
                request,
                object,
                method,
                answer,
                args,
                kwargs,
            } => list(vec![
                word("message"),
                Sexp::Int(request),
                object.to_sexp(),
                Sexp::Bytes(method),
                Sexp::Int(i64::from(answer)),
                args,
                kwargs,
            ]),
            Frame::CacheMessage {
                request,
                luid,
                method,
                answer,
                args,
                kwargs,
            } => list(vec![
                word("cachemessage"),
                Sexp::Int(request),
                Sexp::Int(luid),
                Sexp::Bytes(method),
                Sexp::Int(i64::from(answer)),
                args,
                kwargs,
            ]),
            Frame::Answer { request, result } => {
                list(vec![word("answer"), Sexp::Int(request), result])
            }
            Frame::Error { request, failure } => {
                list(vec![word("error"), Sexp::Int(request), failure])
            }
            Frame::Decref { luid } => list(vec![word("decref"), Sexp::Int(luid)]),
            Frame::Decache { luid } => list(vec![word("decache"), Sexp::Int(luid)]),
            Frame::Uncache { luid } => list(vec![word("uncache"), Sexp::Int(luid)]),
            Frame::DidNotUnderstand { rest } => {
                let mut items = vec![word("didNotUnderstand")];
                items.extend(rest);
                list(items)
            }
        }
    }
}
