// The perspective parameter is `Option<Perspective>` or `Perspective`, not
// a call argument.
use spread::remote;

struct Board;

#[remote(view)]
impl Board {
    async fn post(&self, text: String) -> String {
        text
    }
}

fn main() {}
