// An argument given twice is reported, and so is the next problem.
use spread::remote;

struct Root;

#[remote(cache, cache, bogus)]
impl Root {}

fn main() {}
