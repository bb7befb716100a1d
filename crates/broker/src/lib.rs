#![doc(test(attr(deny(warnings))))]
//! The Perspective Broker protocol on tokio: Twisted's `twisted/spread/pb.py`.
//!
//! A [`Broker`] is one PB connection. Its handles ([`Broker`],
//! [`RemoteReference`]) are cheap to clone, `Send + Sync`, and work from any
//! task of a multi-threaded runtime; the connection itself runs in one task
//! that owns a deterministic protocol core (bytes in, bytes and events out).
//!
//! - Connect with [`connect`] and call [`Broker::root_object`]
//!   (Twisted's `PBClientFactory.getRootObject`), or serve a root object
//!   with [`serve`] (Twisted's `PBServerFactory(root)`).
//! - Call remote methods with [`RemoteReference::call_remote`]; many calls
//!   may be in flight on one connection, answered in any order.
//! - Objects implementing [`Referenceable`]
//!   travel by reference both ways; a reference sent back to its owner
//!   arrives as the owner's own object; dropping the last handle of a
//!   reference tells the owner (`decref`).
//! - Remote failures arrive as [`CallError::Remote`] with the remote type
//!   and message, and travel as Twisted's `CopyableFailure`.
//! - What may be unjellied is the connection's
//!   [`SecurityOptions`]; every limit is
//!   in [`BrokerOptions`], and a peer that breaks one is disconnected with
//!   the reason logged.
//!
//! # Where it sits
//!
//! Above `spread-flavors` (what crosses the wire) and below the `spread`
//! facade.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use spread_broker::{connect, serve, BrokerOptions};
//! use spread_flavors::{BoxFuture, Call, Referenceable, RemoteError};
//! use spread_jelly::Value;
//!
//! struct Adder;
//!
//! impl Referenceable for Adder {
//!     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
//!         Box::pin(async move {
//!             match call.method.as_str() {
//!                 "add" => Ok(Value::from(call.arg_as::<i64>(0)? + call.arg_as::<i64>(1)?)),
//!                 _ => Err(RemoteError::no_such_method(&call.method)),
//!             }
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let server = serve(listener, BrokerOptions::default().with_root(Arc::new(Adder)));
//!
//! let broker = connect(addr, BrokerOptions::default()).await?;
//! let root = broker.root_object().await?;
//! assert_eq!(root.call_remote("add", vec![Value::from(2), Value::from(3)]).await?, Value::from(5));
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! None.

mod cache;
mod codec;
mod connection;
mod error;
mod failure;
mod policy;
mod proto;
mod reference;

use std::fmt;
use std::sync::Arc;

use spread_banana::Limits;
use spread_flavors::Referenceable;
use spread_security::SecurityOptions;

// The public interface is:
pub use crate::cache::RemoteCacheRef;
pub use crate::codec::{BananaCodec, CodecError};
pub use crate::connection::{Broker, Server, connect, serve, serve_with};
pub use crate::error::{CallError, ProtocolError};
pub use crate::proto::Role;
pub use crate::reference::RemoteReference;

/// A connection's settings and limits.
///
/// The defaults are Twisted's where Twisted has one (`MAX_BROKER_REFS`, the
/// Banana limits) and generous bounds elsewhere.
#[derive(Clone)]
#[non_exhaustive]
pub struct BrokerOptions {
    /// The object the peer reaches as `"root"`, if any.
    pub root: Option<Arc<dyn Referenceable>>,
    /// What may be unjellied from the peer.
    pub security: Arc<SecurityOptions>,
    /// Banana's limits: string and list length, nesting depth, frame size.
    pub banana: Limits,
    /// Local objects the peer may hold references to (Twisted's
    /// `MAX_BROKER_REFS`): a hostile peer cannot make this side remember an
    /// unbounded number of objects.
    pub max_local_objects: usize,
    /// Calls this side may have waiting for answers on the connection.
    pub max_calls_in_flight: usize,
    /// Calls from the peer being served at once; more closes the connection,
    /// so a peer cannot pile up unbounded work.
    pub max_incoming_calls: usize,
    /// Bytes written but not yet read by the peer; past this the peer is
    /// not keeping up (or not reading at all) and is disconnected.
    pub max_output_buffer: usize,
    /// Send tracebacks with errors (Twisted's `unsafeTracebacks`).
    pub unsafe_tracebacks: bool,
}

impl Default for BrokerOptions {
    fn default() -> BrokerOptions {
        BrokerOptions {
            root: None,
            security: Arc::new(SecurityOptions::new()),
            banana: Limits::default(),
            max_local_objects: 1024,
            max_calls_in_flight: 4096,
            max_incoming_calls: 1024,
            max_output_buffer: 64 << 20,
            unsafe_tracebacks: false,
        }
    }
}

impl BrokerOptions {
    /// Sets the root object.
    #[must_use]
    pub fn with_root(mut self, root: Arc<dyn Referenceable>) -> BrokerOptions {
        self.root = Some(root);
        self
    }

    /// Sets the security options.
    #[must_use]
    pub fn with_security(mut self, security: SecurityOptions) -> BrokerOptions {
        self.security = Arc::new(security);
        self
    }

    /// Sets the Banana limits.
    #[must_use]
    pub fn with_banana_limits(mut self, limits: Limits) -> BrokerOptions {
        self.banana = limits;
        self
    }

    /// Sets the limit on local objects the peer may reference.
    #[must_use]
    pub fn with_max_local_objects(mut self, n: usize) -> BrokerOptions {
        self.max_local_objects = n;
        self
    }

    /// Sets the limit on this side's calls awaiting answers.
    #[must_use]
    pub fn with_max_calls_in_flight(mut self, n: usize) -> BrokerOptions {
        self.max_calls_in_flight = n;
        self
    }

    /// Sets the limit on the peer's calls in progress.
    #[must_use]
    pub fn with_max_incoming_calls(mut self, n: usize) -> BrokerOptions {
        self.max_incoming_calls = n;
        self
    }

    /// Sets the limit on bytes waiting for the peer to read them.
    #[must_use]
    pub fn with_max_output_buffer(mut self, bytes: usize) -> BrokerOptions {
        self.max_output_buffer = bytes;
        self
    }

    /// Sends tracebacks with errors.
    #[must_use]
    pub fn with_unsafe_tracebacks(mut self, on: bool) -> BrokerOptions {
        self.unsafe_tracebacks = on;
        self
    }
}

impl fmt::Debug for BrokerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerOptions")
            .field("root", &self.root.is_some())
            .field("security", &self.security)
            .field("banana", &self.banana)
            .field("max_local_objects", &self.max_local_objects)
            .field("max_calls_in_flight", &self.max_calls_in_flight)
            .field("max_incoming_calls", &self.max_incoming_calls)
            .field("max_output_buffer", &self.max_output_buffer)
            .field("unsafe_tracebacks", &self.unsafe_tracebacks)
            .finish()
    }
}
