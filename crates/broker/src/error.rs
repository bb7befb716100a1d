//! How calls and connections fail.

use spread_flavors::RemoteError;

/// Why a remote call did not give a result.
///
/// How to react: [`CallError::Remote`] is the callee's own answer (handle it
/// like an error from a local function); [`CallError::DeadReference`] and
/// [`CallError::ConnectionLost`] mean the connection is gone (reconnect to
/// go on); the others are mistakes in what was sent or in the peer.
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
    /// The arguments could not be sent (an object with no copy rule, a
    /// reference to another connection, ...); nothing was sent.
    #[error("cannot send the arguments: {0}")]
    Jelly(#[from] spread_jelly::Error),
    /// The answer arrived but could not be read (refused by the security
    /// options, or malformed); the connection is closed, as Twisted closes it.
    #[error("cannot read the answer: {0}")]
    Answer(spread_jelly::Error),
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

/// Why a connection was closed by this side: the reason that is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Malformed Banana.
    #[error("bad banana: {0}")]
    Banana(#[from] spread_banana::DecodeError),
    /// No common dialect, or a malformed offer or choice.
    #[error("dialect negotiation failed: {0}")]
    Dialect(String),
    /// The peer speaks another PB protocol version.
    #[error("version incompatibility: we speak 6, the peer {0}")]
    Version(String),
    /// A frame that is not a known command of the right shape.
    #[error("malformed frame: {0}")]
    Frame(String),
    /// An answer, error, decref or cache command for something unknown.
    #[error("unknown {what} {id}")]
    Unknown {
        /// Which table.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// A per-connection limit was exceeded.
    #[error("limit exceeded: {0}")]
    Limit(String),
}
