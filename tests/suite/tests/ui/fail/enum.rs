use spread::Copyable;

#[derive(Debug, Copyable)]
enum Pond {
    Frogs(i64),
    Toads(i64),
}

fn main() {}
