//! The `spread` binary end to end, against servers in this process (no
//! Python needed): `call`'s exit statuses and the forms it prints for values
//! Python's repr cannot write. Twisted's side is in `tests/interop/tests/cli.rs`.

// `spread call`: answers, failures and usage errors.
mod call;
