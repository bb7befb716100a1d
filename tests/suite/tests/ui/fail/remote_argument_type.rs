use spread::remote;

struct Root;

/// Not something a remote method can read from the wire.
struct Unreadable;

#[remote]
impl Root {
    async fn take(&self, thing: Unreadable) {
        let _ = thing;
    }
}

fn main() {}
