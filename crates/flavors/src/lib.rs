#![doc(test(attr(deny(warnings))))]
//! Twisted PB's flavors: the kinds of object that cross a PB connection
//! (`twisted/spread/flavors.py`).
//!
//! - [`Referenceable`]: an object whose methods the peer can call; it
//!   travels by reference ([`reference()`]), and the peer holds a
//!   `RemoteReference` to it.
//! - [`Copyable`] and [`RemoteCopy`]: objects that travel by copy
//!   ([`copy`]), as a class name and a state; the receiver registers which
//!   local type each class name becomes ([`allow_remote_copy`]).
//! - [`RemoteError`]: the error a remote method gives, which travels as
//!   Twisted's `CopyableFailure`.
//! - [`Cacheable`] and [`RemoteCache`]: objects whose copy on the peer is
//!   kept up to date ([`cache()`]); the owner tells each [`Observer`] what
//!   changed.
//! - [`Perspective`] and [`Viewable`]: who is calling, after a cred login;
//!   a viewable's methods receive the calling perspective ([`viewable()`]).
//! - [`FromValue`] and [`IntoValue`]: how remote methods and derived copies
//!   read their arguments and fields and give their results.
//!
//! # Where it sits
//!
//! Above `spread-security` and below `spread-broker`, which runs the
//! connections and calls these objects. Nothing here does IO.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use spread_flavors::{BoxFuture, Call, Referenceable, RemoteError};
//! use spread_jelly::Value;
//!
//! /// The echo server's root.
//! struct Echo;
//!
//! impl Referenceable for Echo {
//!     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
//!         Box::pin(async move {
//!             match call.method.as_str() {
//!                 "echo" => Ok(call.arg(0)?.clone()),
//!                 _ => Err(RemoteError::no_such_method(&call.method)),
//!             }
//!         })
//!     }
//! }
//!
//! // What a broker serves as the root, or sends to the peer by reference.
//! let root: Arc<dyn Referenceable> = Arc::new(Echo);
//! # drop(root);
//! ```
//!
//! # Feature flags
//!
//! None.

mod cacheable;
mod convert;
mod copyable;
mod error;
mod perspective;
mod referenceable;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

// The public interface is:
pub use crate::cacheable::{
    Cacheable, LocalCacheable, Observer, RemoteCache, allow_remote_cache, cache,
};
pub use crate::convert::{FromValue, IntoValue};
pub use crate::copyable::{Copyable, RemoteCopy, allow_copy, allow_remote_copy, copy};
pub use crate::error::RemoteError;
pub use crate::perspective::{LocalViewable, Perspective, Viewable, viewable};
pub use crate::referenceable::{BoxFuture, Call, LocalReferenceable, Referenceable, reference};
