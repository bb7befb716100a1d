use spread::remote;

struct A;
struct B;
struct C;

#[remote(bogus)]
impl A {}

#[remote(perspective)]
impl B {}

#[remote(view)]
impl C {}

fn main() {}
