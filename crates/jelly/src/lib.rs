#![doc(test(attr(deny(warnings))))]
//! Jelly: Twisted's object serialization, between Banana s-expressions and
//! Rust values.
//!
//! Jelly is the layer of Perspective Broker that turns an object graph into
//! an s-expression and back (`twisted/spread/jelly.py`). This crate holds:
//!
//! - [`Value`], a model of everything Twisted sends: `None`, booleans, ints of
//!   any size, floats (NaN, infinities and `-0.0` included), `bytes`, `str`,
//!   lists, tuples, dicts with any keys in insertion order, sets, frozensets,
//!   dates and times, decimals, instances (a wire class name and a state),
//!   the unpersistable marker, and [`Object`]: a Rust object standing for an
//!   instance, which goes out through its copy rule ([`Jellyable`]);
//! - [`to_sexp`] (Twisted's `jelly`) and [`from_sexp`] (Twisted's `unjelly`),
//!   which keep shared and cyclic structure through `reference` and
//!   `dereference`, numbered exactly as Twisted numbers them; [`encode`]
//!   writes the bytes (Banana, or spread's msgpack dialect) without
//!   building the s-expression, and
//!   [`from_node`] unjellies a [`spread_banana::TokenDecoder`]'s expression
//!   without building it either;
//! - [`Policy`], the hook that decides what may be unjellied and what an
//!   instance of a class becomes (Twisted's `SecurityOptions`, which
//!   `spread-security` implements);
//! - a serde bridge, [`to_value`] and [`from_value`], so that a Rust type
//!   that derives `Serialize` and `Deserialize` converts to and from a
//!   [`Value`] with text keys for its fields, as Python's `__dict__` has.
//!
//! # Where it sits
//!
//! Above `spread-banana` (bytes and s-expressions) and below
//! `spread-security`, which decides which wire class names may become which
//! local types. Like Banana it does no IO. Most programs use the `spread`
//! facade; depend on this crate directly to read or write jellied data
//! without a broker.
//!
//! # Example
//!
//! ```
//! use spread_banana::Dialect;
//! use spread_jelly::{from_sexp, to_sexp, AllowAll, Shared, Value};
//!
//! // s = [1, 2]; [s, s]
//! let s = Shared::new(Value::List(vec![Value::from(1), Value::from(2)]));
//! let value = Value::List(vec![Value::Shared(s.clone()), Value::Shared(s)]);
//!
//! let sexp = to_sexp(&value)?;
//! let bytes = spread_banana::encode_to_vec(&sexp, Dialect::Pb)?;
//! assert_eq!(bytes, b"\x03\x80\x08\x87\x03\x80\x04\x87\x01\x81\x03\x80\x08\x87\x01\x81\x02\x81\x02\x80\x03\x87\x01\x81");
//!
//! let back = from_sexp(&sexp, &AllowAll)?;
//! assert_eq!(back, value);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//!
//! None.

mod debug;
mod eq;
mod error;
mod jelly;
mod object;
mod policy;
mod serde;
mod shared;
mod time;
mod unjelly;
mod value;

// The public interface is:
pub use crate::error::{Error, ErrorKind};
pub use crate::jelly::{Invoker, encode, encode_nested, encode_with, to_sexp, to_sexp_with};
pub use crate::object::{Jellyable, Object};
pub use crate::policy::{AllowAll, Policy};
pub use crate::serde::{from_value, to_value};
pub use crate::shared::Shared;
pub use crate::time::{Date, DateTime, Decimal, Time, TimeDelta, TimeError};
pub use crate::unjelly::{DEFAULT_MAX_DEPTH, Unjellier, from_node, from_sexp};
pub use crate::value::{Dict, Instance, Value};
/// The integer type of [`Value::BigInt`], re-exported so that matching on
/// it needs no other crate.
pub use num_bigint::BigInt;
