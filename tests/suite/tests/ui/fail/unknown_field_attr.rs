// Every unknown attribute is reported, not only the first.
use spread::RemoteCopy;

#[derive(Debug, Clone, RemoteCopy)]
struct CopyPond {
    #[pb(renamed = "colour", skip)]
    color: String,
    #[pb(flatten)]
    num_frogs: i64,
}

fn main() {}
