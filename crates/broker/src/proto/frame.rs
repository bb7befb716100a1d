//! PB's commands as typed frames: the shape of every command is written
//! here once, both ways (Twisted's `proto_*` and `sendCall` in `pb.py`).

use bytes::Bytes;
use spread_banana::Sexp;

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

    fn from_sexp(sexp: Sexp) -> Option<ObjectId> {
        match sexp {
            Sexp::Bytes(name) => Some(ObjectId::Name(name)),
            Sexp::Int(luid) => Some(ObjectId::Luid(luid)),
            _ => None,
        }
    }
}

/// One PB command, after the handshake.
///
/// Arguments, answers and failures stay s-expressions here: they are
/// unjellied with the connection's tables, which a frame does not know.
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
pub enum Frame {
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
        args: Sexp,
        /// The keyword arguments, a jellied dict.
        kwargs: Sexp,
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
        args: Sexp,
        /// The keyword arguments, a jellied dict.
        kwargs: Sexp,
    },
    /// `["answer", request, result]`.
    Answer {
        /// The request answered.
        request: i64,
        /// The jellied result.
        result: Sexp,
    },
    /// `["error", request, failure]`.
    Error {
        /// The request answered.
        request: i64,
        /// The jellied failure (a `CopyableFailure`, or anything else).
        failure: Sexp,
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
        rest: Vec<Sexp>,
    },
}

/// A PB keyword: a command name or a token's tag.
pub(super) fn word(word: &'static str) -> Sexp {
    Sexp::Bytes(Bytes::from_static(word.as_bytes()))
}

fn int(sexp: Sexp, command: &'static str, field: &'static str) -> Result<i64, ProtocolError> {
    match sexp {
        Sexp::Int(n) => Ok(n),
        _ => Err(ProtocolError::Malformed { command, field }),
    }
}

fn name(sexp: Sexp, command: &'static str) -> Result<Bytes, ProtocolError> {
    match sexp {
        Sexp::Bytes(name) => Ok(name),
        _ => Err(ProtocolError::Malformed {
            command,
            field: "method",
        }),
    }
}

impl Frame {
    /// Reads one frame; an error means the connection must close, as
    /// Twisted closes it.
    pub fn parse(sexp: Sexp) -> Result<Frame, ProtocolError> {
        let Sexp::List(items) = sexp else {
            return Err(ProtocolError::NotACommand);
        };
        let mut items = items.into_iter();
        let Some(Sexp::Bytes(command)) = items.next() else {
            return Err(ProtocolError::NotACommand);
        };
        let rest: Vec<Sexp> = items.collect();
        let arity = rest.len();
        let unknown = || ProtocolError::UnknownCommand {
            command: String::from_utf8_lossy(&command).into_owned(),
            arity,
        };
        if &command[..] == b"didNotUnderstand" {
            return Ok(Frame::DidNotUnderstand { rest });
        }
        let frame = match (&command[..], <[Sexp; 1]>::try_from(rest)) {
            (b"version", Ok([version])) => Frame::Version {
                version: int(version, "version", "version")?,
            },
            (b"decref", Ok([luid])) => Frame::Decref {
                luid: int(luid, "decref", "luid")?,
            },
            (b"decache", Ok([luid])) => Frame::Decache {
                luid: int(luid, "decache", "luid")?,
            },
            (b"uncache", Ok([luid])) => Frame::Uncache {
                luid: int(luid, "uncache", "luid")?,
            },
            (_, Ok(_)) => return Err(unknown()),
            (_, Err(rest)) => return Frame::parse_long(&command, rest).ok_or_else(unknown)?,
        };
        Ok(frame)
    }

    /// The commands with more than one argument; `None` for an unknown
    /// command or arity.
    fn parse_long(command: &[u8], rest: Vec<Sexp>) -> Option<Result<Frame, ProtocolError>> {
        match command {
            b"answer" | b"error" => {
                let [request, payload] = <[Sexp; 2]>::try_from(rest).ok()?;
                let is_answer = command == b"answer";
                let name = if is_answer { "answer" } else { "error" };
                Some(int(request, name, "request").map(|request| {
                    if is_answer {
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
                }))
            }
            b"message" | b"cachemessage" => {
                let [request, object, method, answer, args, kwargs] =
                    <[Sexp; 6]>::try_from(rest).ok()?;
                let cache = command == b"cachemessage";
                let name_of = if cache { "cachemessage" } else { "message" };
                Some((|| {
                    let request = int(request, name_of, "request")?;
                    let method = name(method, name_of)?;
                    let answer = int(answer, name_of, "answer")? != 0;
                    Ok(if cache {
                        Frame::CacheMessage {
                            request,
                            luid: int(object, name_of, "luid")?,
                            method,
                            answer,
                            args,
                            kwargs,
                        }
                    } else {
                        Frame::Message {
                            request,
                            object: ObjectId::from_sexp(object).ok_or(
                                ProtocolError::Malformed {
                                    command: name_of,
                                    field: "object",
                                },
                            )?,
                            method,
                            answer,
                            args,
                            kwargs,
                        }
                    })
                })())
            }
            _ => None,
        }
    }

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
