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

pub use spread_broker::{
    Broker, BrokerOptions, CallError, RemoteReference, Server, connect, serve,
};
pub use spread_flavors::{
    BoxFuture, Call, Copyable, LocalReferenceable, Referenceable, RemoteCopy, RemoteError,
    allow_copy, allow_remote_copy, copy,
};
pub use spread_jelly::{Dict, Object, Value, from_sexp, from_value, to_sexp, to_value};
pub use spread_security::SecurityOptions;
