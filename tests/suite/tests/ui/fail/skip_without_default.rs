use spread::RemoteCopy;

#[derive(Debug, Clone)]
struct Session {
    id: u64,
}

#[derive(Debug, Clone, RemoteCopy)]
struct User {
    name: String,
    #[pb(skip)]
    session: Session,
}

fn main() {}
