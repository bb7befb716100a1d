// A field's type must convert both ways: the errors point at the field.
use spread::{Copyable, RemoteCopy};

/// Neither `IntoValue` nor `FromValue`, so it cannot be in a state.
#[derive(Debug, Clone)]
struct Opaque;

#[derive(Debug, Clone, Copyable, RemoteCopy)]
#[pb(class = "m.Holder")]
struct Holder {
    name: String,
    opaque: Opaque,
}

fn main() {}
