use spread::remote;

struct Root;

#[remote]
impl Root {
    async fn generic<T>(&self, x: spread::Value) -> spread::Value {
        x
    }
    async fn pattern(&self, (a, b): (i64, i64)) -> i64 {
        a + b
    }
}

fn main() {}
