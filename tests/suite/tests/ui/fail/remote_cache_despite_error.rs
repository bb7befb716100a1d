// The same for a cache: `#[remote(cache)]` with an error still implements
// RemoteCache, so the type can be registered as one.
use std::sync::Arc;

use spread::{RemoteCache, remote};

struct Mirror;

#[remote(cache)]
impl Mirror {
    #[pb(name = "")]
    async fn set_color(&self, color: String) {
        let _ = color;
    }
}

fn main() {
    let cache: Arc<dyn RemoteCache> = Arc::new(Mirror);
    drop(cache);
}
