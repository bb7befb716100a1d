use spread::remote;

struct Root;

#[remote]
impl Root {
    fn echo(&self, x: spread::Value) -> spread::Value {
        x
    }
}

fn main() {}
