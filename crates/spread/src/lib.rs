#![doc(test(attr(deny(warnings))))]
#![doc = include_str!("../README.md")]

// The public interface is:
#[doc(inline)]
pub use spread_banana as banana;
#[doc(inline)]
pub use spread_broker as broker;
#[doc(inline)]
pub use spread_flavors as flavors;
#[doc(inline)]
pub use spread_jelly as jelly;
#[doc(inline)]
pub use spread_security as security;

pub use bytes::Bytes;
#[doc(inline)]
pub use spread_broker::cred;
#[cfg(feature = "tls")]
#[doc(inline)]
pub use spread_broker::tls;
pub use spread_broker::{
    Backoff, Broker, BrokerOptions, CallError, Reconnecting, RemoteCacheRef, RemoteReference,
    Server, Stats, connect, serve, serve_with,
};
pub use spread_flavors::{
    BoxFuture, Cacheable, Call, Copyable, FromValue, IntoValue, LocalCacheable, LocalReferenceable,
    LocalViewable, Observer, Perspective, Referenceable, RemoteCache, RemoteCopy, RemoteError,
    Viewable, allow_copy, allow_remote_cache, allow_remote_copy, cache, copy, reference, viewable,
};
pub use spread_jelly::{BigInt, Dict, Object, Value, from_sexp, from_value, to_sexp, to_value};
pub use spread_security::SecurityOptions;

#[cfg(feature = "derive")]
pub use spread_derive::{Copyable, RemoteCopy, remote};
