//! The test suite of spread's derive macros, one binary (`it`) for all
//! modules so that the workspace links once.

// `#[derive(Copyable, RemoteCopy)]`: exact state shape, attributes, errors
// at run time, `FromValue`, and round trips through the jelly layer.
mod derive_pass;
// Fields of every kind in derived copies (`Value`, nested copies, bytes,
// tuples, references, `#[pb(serde)]`), round trips through Jelly.
mod derive_fields;
// `FromValue`/`IntoValue` for Python's basic types: overflow, bytes,
// tuples, maps.
mod convert;
// The compile-fail and pass cases of the derives (trybuild).
mod ui;
// `#[remote]` dispatch through a broker: names, arguments, errors.
mod remote_pass;
// `#[remote(perspective)]` and `#[remote(view)]` dispatch, called directly:
// names, the calling perspective, errors.
mod perspective_pass;
// The README's example, run as written.
mod readme;
