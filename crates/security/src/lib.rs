#![doc(test(attr(deny(warnings))))]
//! The receiving side's gate: which Jelly types may be unjellied, and which
//! wire class names may become which local types. Nothing becomes a local
//! type unless it was registered.
//!
//! This is Twisted's `SecurityOptions` and `setUnjellyableForClass`
//! (`twisted/spread/jelly.py`), as one value, [`SecurityOptions`], that
//! implements `spread-jelly`'s [`Policy`](spread_jelly::Policy) hook.
//!
//! # Where it sits
//!
//! Above `spread-jelly`, which turns s-expressions into values and asks its
//! policy about every type and class; below `spread-flavors` and the broker,
//! which hand a connection its options. Depend on it directly to unjelly
//! untrusted data without a broker.
//!
//! # The security model
//!
//! Receiving an object over PB is a request, from outside, to create an
//! object inside your program. Objects are more powerful than strings and
//! dicts: they carry code, and some mean something just by existing. The
//! Twisted howto's examples:
//!
//! - a protocol expects a file-like object to read a document from later;
//!   a peer that could choose the class might hand over one opened on
//!   `~/.gnupg/secring.gpg` instead;
//! - a program keeps `User` objects and grants a login session to every
//!   `User` that exists; if `User`'s constructor registers the account, a
//!   peer that can make you create a `User` has given itself access.
//!
//! So object creation is part of a program's security design, and the rule
//! here is default deny:
//!
//! - **Types**: only Jelly's basic types are accepted by default (what
//!   Twisted PB accepts: `None`, booleans, text, lists, tuples, dicts, sets,
//!   frozensets, dates and times, decimals, references, unpersistable
//!   markers). Each can be denied with [`SecurityOptions::deny_type`].
//!   Class, module, function and method references are never built.
//! - **Classes**: an instance is accepted only if its exact wire class name
//!   (`copy_sender.CopyPond`) was registered, and it becomes only the local
//!   type registered for it. `evil.CopyPond` is another class. Twisted lets
//!   any dotted name through its type check and then imports the module to
//!   look for the class (twisted issue 6355); nothing here looks anything up
//!   beyond the registry.
//! - **Refusal**: an unregistered class fails with
//!   [`ErrorKind::Insecure`](spread_jelly::ErrorKind::Insecure) (Twisted's
//!   `InsecureJelly`) naming the class and the path to it inside the value,
//!   and is refused *before* its state is read, so nothing inside it is
//!   built either.
//! - **Shape**: a registered class whose state is of the wrong shape fails
//!   with an error naming the field; it never panics and builds nothing.
//! - **Setup**: registering a name twice, or a name that is not
//!   `module.Class`, is a [`RegistrationError`], not a silent overwrite.
//! - **Sending**: a local object with no copy rule (such as one that arrived
//!   from a peer) fails at the sender with
//!   [`ErrorKind::Unsendable`](spread_jelly::ErrorKind::Unsendable), where
//!   Twisted would quietly send an unpersistable marker instead. Markers
//!   that Twisted sends are still read.
//!
//! The application owns its options and hands them to each connection;
//! there is no process-wide registry to modify, so tests and separate
//! services in one process each use their own.
//!
//! # Example
//!
//! ```
//! use spread_banana::Sexp;
//! use spread_jelly::{from_sexp, ErrorKind};
//! use spread_security::SecurityOptions;
//!
//! let options = SecurityOptions::new();
//! // The peer sends a User; nobody registered one, so none is created.
//! let user = Sexp::list([
//!     Sexp::from("accounts.User"),
//!     Sexp::list([Sexp::from("dictionary")]),
//! ]);
//! let err = from_sexp(&Sexp::list([Sexp::from("list"), user]), &options).unwrap_err();
//! assert!(matches!(err.kind(), ErrorKind::Insecure { tag, .. } if tag == "accounts.User"));
//! assert_eq!(err.path(), "list[0].accounts.User");
//! ```
//!
//! # Feature flags
//!
//! None.

mod error;
mod options;
mod types;

// The public interface is:
pub use crate::error::RegistrationError;
pub use crate::options::SecurityOptions;
pub use crate::types::JellyType;
