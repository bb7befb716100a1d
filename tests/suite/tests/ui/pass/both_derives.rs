// Every attribute, under the workspace's strictest lints: the generated
// code must not trip any of them in user crates.
#![deny(warnings, missing_docs, unused_qualifications, missing_debug_implementations)]
#![deny(clippy::all)]

//! A pass case.

use spread::{Copyable, FromValue, RemoteCopy, SecurityOptions, Value};

/// A pond.
#[derive(Debug, Clone, PartialEq, Copyable, RemoteCopy)]
#[pb(class = "copy_sender.CopyPond", crate = "::spread")]
pub struct CopyPond {
    color: String,
    #[pb(rename = "numFrogs")]
    num_frogs: i64,
    #[pb(skip)]
    visits: u64,
    #[pb(default)]
    ducks: Option<Vec<String>>,
    #[pb(with = "as_text")]
    depth: u32,
}

mod as_text {
    use spread::Value;
    use spread::jelly::Error;

    pub fn to_value(n: &u32) -> Result<Value, Error> {
        Ok(Value::from(n.to_string()))
    }

    pub fn from_value(v: &Value) -> Result<u32, Error> {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::custom("expected digits"))
    }
}

/// Fields named like the generated code's locals.
#[derive(Debug, Clone, Copyable, RemoteCopy)]
#[pb(class = "m.Shadowing")]
pub struct Shadowing {
    state: i64,
    value: i64,
    e: i64,
    r#type: i64,
}

/// Derived in a function body, with no fields.
fn local() -> Value {
    #[derive(Debug, Clone, Copyable, RemoteCopy)]
    struct Nothing {}
    spread::copy(Nothing {})
}

fn main() {
    let pond = CopyPond {
        color: "green".into(),
        num_frogs: 7,
        visits: 3,
        ducks: None,
        depth: 2,
    };
    let mut options = SecurityOptions::new();
    spread::allow_copy::<CopyPond>(&mut options, pond.type_to_copy()).unwrap();
    let back = CopyPond::from_copyable_state(pond.state_to_copy().unwrap()).unwrap();
    assert_eq!(back, CopyPond { visits: 0, ..pond.clone() });
    let _ = CopyPond::from_value(&spread::copy(pond));
    let _ = local();
    let s = Shadowing { state: 1, value: 2, e: 3, r#type: 4 };
    let s = Shadowing::from_copyable_state(s.state_to_copy().unwrap()).unwrap();
    assert_eq!((s.state, s.value, s.e, s.r#type), (1, 2, 3, 4));
}
