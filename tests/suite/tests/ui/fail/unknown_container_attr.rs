// Fields keep their Rust names: there is no automatic camelCase.
use spread::Copyable;

#[derive(Debug, Copyable)]
#[pb(class = "copy_sender.CopyPond", rename_all = "camelCase")]
struct CopyPond {
    color: String,
    num_frogs: i64,
}

fn main() {}
