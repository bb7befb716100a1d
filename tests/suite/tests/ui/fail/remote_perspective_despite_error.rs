// A perspective block with an error still implements Referenceable (a
// stub), so a realm can return it as an avatar.
use std::sync::Arc;

use spread::{Referenceable, remote};

struct User;

#[remote(perspective)]
impl User {
    fn not_async(&self) {}
}

fn main() {
    let avatar: Arc<dyn Referenceable> = Arc::new(User);
    drop(avatar);
}
