// A view method's first parameter after `&self` is the calling perspective.
use spread::remote;

struct Board;

#[remote(view)]
impl Board {
    async fn read(&self) -> i64 {
        1
    }
}

fn main() {}
