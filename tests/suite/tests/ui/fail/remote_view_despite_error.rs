// A view block with an error still implements Viewable (a stub), so sending
// it as one adds no "trait not implemented" error to the macro's own.
use std::sync::Arc;

use spread::{Perspective, Viewable, remote};

struct Board;

#[remote(view)]
impl Board {
    async fn post(&self, who: Option<Perspective>, text: String) -> String {
        let _ = who;
        text
    }
    async fn read(&self, who: Option<Perspective>, (a, b): (i64, i64)) -> i64 {
        let _ = who;
        a + b
    }
}

fn main() {
    let board: Arc<dyn Viewable> = Arc::new(Board);
    drop(spread::viewable(board));
}
