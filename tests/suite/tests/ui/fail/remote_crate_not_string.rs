use spread::remote;

struct Root;

#[remote(crate = spread)]
impl Root {}

fn main() {}
