use spread::Copyable;

#[derive(Debug, Copyable)]
struct CopyPond {
    #[pb(rename = "numFrogs")]
    frogs: i64,
    #[pb(rename = "numFrogs")]
    toads: i64,
}

fn main() {}
