//! Interop support: reading the typed JSON of `tests/vectors/README.md` into
//! spread's values, and driving a Python peer that runs real Twisted.
//!
//! Not published; `cargo xtask ci` runs its tests against the Twisted that
//! it installs in `target/interop-venv`.

pub mod certs;
pub mod cred;
pub mod peer;
pub mod scenario;
pub mod typed;
