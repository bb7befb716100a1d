//! Interop tests: spread against what real Twisted 26.10 produces and reads.

// Every golden vector, at the value level, both ways (no Python needed).
mod vectors;

// Random values sent through a live Twisted and back.
mod through_twisted;

// The same accept-or-refuse decisions as Twisted's PB security.
mod security;

// The broker against Twisted's PB, both ways.
mod broker;

// Dialect negotiation: spread's msgpack offered, Twisted keeps pb.
mod dialects;

// The howto's Copyable examples, Rust and Twisted mixed.
mod seed;

// A derived Copyable through Twisted and back.
mod derived;

// Cred login, perspectives, viewables and per-perspective caches, both ways.
mod cred;

// The login examples over TLS, against Twisted's own TLS.
mod tls;

// `spread proxy` between Twisted's echo client and server.
mod proxy;

// `spread call` against Twisted's and Rust's echo servers.
mod cli;

// `spread bench` against Twisted's and Rust's echo servers, answers checked.
mod cli_bench;
