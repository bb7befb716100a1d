// A block with an error still implements Referenceable (a stub), so serving
// it as a root adds no "trait not implemented" error to the macro's own.
use std::sync::Arc;

use spread::{Referenceable, remote};

struct Root;

#[remote]
impl Root {
    async fn echo(&self, x: spread::Value) -> spread::Value {
        x
    }
    async fn owned(self) {}
}

fn main() {
    let root: Arc<dyn Referenceable> = Arc::new(Root);
    drop(root);
}
