// The state is made from `&self`, and `IntoValue` takes its value, so a sent
// field is cloned: its type must be `Clone`.
use spread::{Copyable, IntoValue, RemoteError, Value};

/// Sendable, but only once.
#[derive(Debug)]
struct Ticket;

impl IntoValue for Ticket {
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from("ticket"))
    }
}

#[derive(Debug, Copyable)]
#[pb(class = "m.Holder")]
struct Holder {
    ticket: Ticket,
}

fn main() {}
