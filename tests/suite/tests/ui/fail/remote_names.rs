use spread::remote;

struct Root;

#[remote]
impl Root {
    #[pb(name = "ping", name = "pong")]
    async fn ping(&self) {}
    #[pb(title = "x")]
    async fn other(&self) {}
    async fn take_pond(&self) {}
    #[pb(name = "takePond")]
    async fn take_pond_again(&self) {}
}

fn main() {}
