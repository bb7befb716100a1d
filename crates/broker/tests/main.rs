//! spread-broker's integration tests, one binary. Two brokers talk over an
//! in-memory pipe, or a test plays a hostile peer byte by byte.

// The sans-IO core alone: two cores stepped by hand, no runtime.
mod core;

// Shared fixtures: a test root object and connected pairs.
mod support;

// Calls, pipelining, references and errors between two Rust brokers.
mod calls;

// A misbehaving peer: every violation closes the connection, with a reason.
mod hostile;

// Copyables and caches between two Rust brokers.
mod flavors;

// A client that reconnects with backoff when its server comes back.
mod reconnect;

// Cred login: portals, checkers, realms, refusals, logout.
mod cred;

// PB over TLS, with certificates made on the fly.
#[cfg(feature = "tls")]
mod tls;
