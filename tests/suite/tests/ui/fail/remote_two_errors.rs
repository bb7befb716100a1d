// Two independent mistakes in one block are both reported, in source order.
use spread::remote;

struct Root;

#[remote]
impl Root {
    fn not_async(&self) {}
    async fn take_pond(&self) {}
    #[pb(name = "takePond")]
    async fn take_pond_again(&self) {}
}

fn main() {}
