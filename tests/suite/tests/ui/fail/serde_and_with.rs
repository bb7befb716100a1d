// A field converts one way: `serde` and `with` together are refused.
use spread::{Copyable, RemoteCopy};

mod stamp {
    use spread::Value;
    use spread::jelly::Error;

    pub fn to_value(n: &u32) -> Result<Value, Error> {
        Ok(Value::from(*n))
    }

    pub fn from_value(_: &Value) -> Result<u32, Error> {
        Ok(0)
    }
}

#[derive(Debug, Clone, Copyable, RemoteCopy)]
#[pb(class = "m.Holder")]
struct Holder {
    #[pb(serde, with = "stamp")]
    stamp: u32,
}

fn main() {}
