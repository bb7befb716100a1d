// A block implements one kind of object: a second kind is refused, and a
// repeated one is a duplicate.
use spread::remote;

struct A;
struct B;

#[remote(perspective, view)]
impl A {}

#[remote(view, view)]
impl B {}

fn main() {}
