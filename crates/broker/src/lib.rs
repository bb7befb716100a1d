#![doc(test(attr(deny(warnings))))]
//! The Perspective Broker protocol on tokio: Twisted's `twisted/spread/pb.py`.
//!
//! A [`Broker`] is one PB connection. Its handles ([`Broker`],
//! [`RemoteReference`]) are cheap to clone, `Send + Sync`, and work from any
//! task of a multi-threaded runtime; the connection itself runs in one task
//! that drives [`proto::Core`], a deterministic protocol core (bytes in,
//! bytes and events out) with no runtime in it, which other runtimes,
//! tests and fuzzers can drive directly.
//!
//! - Connect with [`connect`] and call [`Broker::root_object`]
//!   (Twisted's `PBClientFactory.getRootObject`), or serve a root object
//!   with [`serve`] (Twisted's `PBServerFactory(root)`). [`Reconnecting`]
//!   keeps a client connected across server restarts.
//! - Call remote methods with [`RemoteReference::call_remote`]; many calls
//!   may be in flight on one connection, answered in any order.
//! - Objects implementing [`Referenceable`](spread_flavors::Referenceable)
//!   travel by reference both ways ([`reference`](spread_flavors::reference));
//!   a reference sent back to its owner arrives as the owner's own object;
//!   dropping the last handle of a reference tells the owner (`decref`).
//! - Remote failures arrive as [`CallError::Remote`] with the remote type
//!   and message, and travel as Twisted's `CopyableFailure`.
//! - What may be unjellied is the connection's
//!   [`SecurityOptions`](spread_security::SecurityOptions); every limit is
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
//! - `tls`: PB over TLS with rustls, in the `tls` module.

pub mod cred;
mod driver;
mod error;
mod options;
pub mod proto;

// The public interface is:
pub use crate::driver::{
    Backoff, Broker, Reconnecting, RemoteCacheRef, RemoteReference, Server, connect, serve,
    serve_with,
};
pub use crate::error::{CallError, ConnectionError, Limit, OptionsError, ProtocolError, Table};
pub use crate::options::BrokerOptions;
pub use crate::proto::{Role, Stats};

/// PB over TLS, with rustls (feature `tls`).
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls {
    #[doc(inline)]
    pub use crate::driver::tls::*;
}
