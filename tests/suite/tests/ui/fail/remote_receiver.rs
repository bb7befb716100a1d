use spread::remote;

struct Root;

#[remote]
impl Root {
    async fn owned(self) {}
    async fn mutable(&mut self) {}
    async fn none() {}
}

fn main() {}
