//! How calls and connections fail.

use std::io;
use std::sync::Arc;

use spread_flavors::RemoteError;

/// Why a remote call did not give a result.
///
/// How to react: [`CallError::Remote`] is the callee's own answer (handle it
/// like an error from a local function); [`CallError::DeadReference`],
/// [`CallError::ConnectionLost`] and [`CallError::Handshake`] mean the
/// connection is gone (reconnect to go on); the others are mistakes in what
/// was sent or in the peer.
///
/// Inside a remote method, `?` turns it into the [`RemoteError`] the method's
/// own caller gets: the remote error itself, or the error Twisted raises for
/// a lost connection.
///
/// ```
/// use spread_broker::CallError;
/// use spread_flavors::RemoteError;
///
/// fn onward(result: Result<i64, CallError>) -> Result<i64, RemoteError> {
///     Ok(result? + 1)
/// }
/// let lost = onward(Err(CallError::ConnectionLost)).unwrap_err();
/// assert_eq!(lost.remote_type, "twisted.spread.pb.PBConnectionLost");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The remote method failed; its error, as the peer sent it.
    #[error("remote error: {0}")]
    Remote(Box<RemoteError>),
    /// The connection was already closed when the call was made.
    #[error("dead reference: the connection is closed")]
    DeadReference,
    /// The connection closed while the call was waiting for its answer.
    #[error("connection lost before the answer arrived")]
    ConnectionLost,
    /// The connection closed before the PB handshake finished.
    #[error("the PB handshake failed: {0}")]
    Handshake(ConnectionError),
    /// The arguments could not be sent (an object with no copy rule, a
    /// reference to another connection, a value over the Banana limits);
    /// nothing was sent.
    #[error("cannot send the arguments: {0}")]
    Jelly(#[from] spread_jelly::Error),
    /// The answer arrived but could not be read (refused by the security
    /// options, or malformed); the connection is closed, as Twisted closes it.
    #[error("cannot read the answer: {0}")]
    Answer(spread_jelly::Error),
    /// The call is larger than the Banana limits allow; nothing was sent.
    #[error("cannot send the call: {0}")]
    Encode(spread_banana::EncodeError),
    /// Too many calls are already waiting on this connection.
    #[error("more than {limit} calls in flight on this connection")]
    TooManyCalls {
        /// The configured limit.
        limit: usize,
    },
}

impl From<RemoteError> for CallError {
    fn from(e: RemoteError) -> CallError {
        CallError::Remote(Box::new(e))
    }
}

impl From<CallError> for RemoteError {
    /// What a remote method's caller gets when a call the method made
    /// failed: the remote error as it came, or Twisted's own error for a
    /// dead connection (`DeadReferenceError`, `PBConnectionLost`).
    fn from(e: CallError) -> RemoteError {
        match e {
            CallError::Remote(e) => *e,
            CallError::DeadReference => RemoteError::new(
                "twisted.spread.pb.DeadReferenceError",
                "Calling Stale Broker",
            ),
            CallError::ConnectionLost | CallError::Handshake(_) => {
                RemoteError::new("twisted.spread.pb.PBConnectionLost", e.to_string())
            }
            CallError::Jelly(_) | CallError::Answer(_) | CallError::Encode(_) => {
                RemoteError::new("twisted.spread.jelly.InsecureJelly", e.to_string())
            }
            CallError::TooManyCalls { .. } => RemoteError::new("builtins.Exception", e.to_string()),
        }
    }
}

/// Which of a connection's tables a frame named an unknown id of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Table {
    /// Our calls awaiting answers (`answer`, `error`).
    Requests,
    /// Our objects the peer holds references to (`decref`).
    References,
    /// Our Cacheables the peer holds caches of (`decache`).
    Caches,
    /// The peer's Cacheables we hold caches of (`uncache`).
    RemoteCaches,
}

/// A per-connection limit a peer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The peer's calls being served at once
    /// ([`BrokerOptions::with_max_incoming_calls`](crate::BrokerOptions::with_max_incoming_calls)).
    IncomingCalls,
    /// Bytes written and not read by the peer
    /// ([`BrokerOptions::with_max_output_buffer`](crate::BrokerOptions::with_max_output_buffer)).
    OutputBuffer,
}

/// Why a connection was closed by this side: the reason that is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Malformed Banana.
    #[error("bad banana: {0}")]
    Banana(#[from] spread_banana::DecodeError),
    /// The server's dialect offer is not a list of names, or names none we
    /// speak.
    #[error("no common dialect in the server's offer")]
    NoCommonDialect,
    /// The client chose a dialect the server did not offer.
    #[error("the client chose an unknown dialect {chosen:?}")]
    UnknownDialect {
        /// What the client sent, as text.
        chosen: String,
    },
    /// The peer speaks another PB protocol version.
    #[error("version incompatibility: we speak 6, the peer {peer}")]
    Version {
        /// The version the peer sent.
        peer: i64,
    },
    /// A frame that is not a list starting with a command name.
    #[error("a frame that is not a command")]
    NotACommand,
    /// A command this side does not know, or with the wrong number of
    /// arguments.
    #[error("unknown command {command:?} with {arity} arguments")]
    UnknownCommand {
        /// The command, as text.
        command: String,
        /// How many arguments came with it.
        arity: usize,
    },
    /// A known command with an argument of the wrong type.
    #[error("malformed {command}: bad {field}")]
    Malformed {
        /// The command.
        command: &'static str,
        /// The argument that is wrong.
        field: &'static str,
    },
    /// An answer, error, decref or cache command for an id this side does
    /// not know.
    #[error("unknown id {id} in {table:?}")]
    Unknown {
        /// Which table.
        table: Table,
        /// The id.
        id: i64,
    },
    /// An answer this side could not read; the call got the reason.
    #[error("unreadable answer to request {request}")]
    UnreadableAnswer {
        /// The request whose answer it was.
        request: i64,
    },
    /// A per-connection limit was exceeded.
    #[error("limit exceeded: {limit:?} (at most {max})")]
    Limit {
        /// Which limit.
        limit: Limit,
        /// The configured maximum.
        max: usize,
    },
    /// The answer to the peer's request could not be encoded, nor a short
    /// error in its place.
    #[error("cannot answer request {request} within the Banana limits")]
    CannotAnswer {
        /// The request.
        request: i64,
    },
    /// One of our own frames could not be encoded within the Banana limits.
    #[error("cannot encode our own frame: {0}")]
    Encode(#[from] spread_banana::EncodeError),
}

/// Why a connection ended, as its driver reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer broke the protocol or a limit; this side closed.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// Reading or writing failed; the cause, shared so that every handle
    /// that asks can have it.
    #[error("transport failed: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The peer closed the connection before the PB handshake finished.
    #[error("the peer closed the connection during the handshake")]
    ClosedDuringHandshake,
    /// The peer did not finish the PB handshake in time
    /// ([`BrokerOptions::with_handshake_timeout`](crate::BrokerOptions::with_handshake_timeout)).
    #[error("the peer did not finish the handshake within {0:?}")]
    HandshakeTimeout(std::time::Duration),
    /// The peer closed the connection in the middle of a frame: what it
    /// was sending is lost.
    #[error("the peer closed the connection in the middle of a frame")]
    ClosedMidFrame,
    /// A graceful close did not finish in time
    /// ([`BrokerOptions::with_close_timeout`](crate::BrokerOptions::with_close_timeout)):
    /// calls still running were dropped, or the peer did not read what was
    /// queued.
    #[error("the graceful close did not finish within {0:?}")]
    CloseTimeout(std::time::Duration),
}

impl From<io::Error> for ConnectionError {
    fn from(e: io::Error) -> ConnectionError {
        ConnectionError::Io(Arc::new(e))
    }
}

/// A setting that PB cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A Banana limit below what PB's own frames need.
    #[error("banana limit {limit} = {value} is below the {floor} PB's own frames need")]
    BananaLimitTooLow {
        /// The field of [`spread_banana::Limits`].
        limit: &'static str,
        /// The value given.
        value: usize,
        /// The least that works.
        floor: usize,
    },
    /// [`BrokerOptions::with_dialects`](crate::BrokerOptions::with_dialects)
    /// was given no dialect.
    #[error("no dialect to offer or accept")]
    NoDialects,
}
