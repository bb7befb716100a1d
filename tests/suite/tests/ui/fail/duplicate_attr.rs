use spread::Copyable;

#[derive(Debug, Copyable)]
struct CopyPond {
    #[pb(rename = "numFrogs")]
    #[pb(rename = "frogs")]
    num_frogs: i64,
}

fn main() {}
