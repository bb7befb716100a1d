use spread::{Copyable, RemoteCopy};

#[derive(Debug, Clone, Copyable, RemoteCopy)]
struct User {
    name: String,
    #[pb(skip, rename = "pw")]
    password: String,
    #[pb(skip, default)]
    session: Option<u64>,
    #[pb(skip, serde)]
    token: String,
}

fn main() {}
