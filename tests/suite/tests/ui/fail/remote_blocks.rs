use spread::remote;

struct Root;
struct Generic<T>(T);

trait Thing {}

#[remote]
impl Thing for Root {}

#[remote]
impl<T: Send + Sync + 'static> Generic<T> {
    async fn get(&self) {}
}

fn main() {}
