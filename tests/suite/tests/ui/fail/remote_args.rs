// An unknown argument of `#[remote(...)]`, reported with the kinds it
// could have been.
use spread::remote;

struct A;

#[remote(bogus)]
impl A {}

fn main() {}
