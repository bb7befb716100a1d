use spread::Copyable;

#[derive(Debug, Copyable)]
struct Pond<T> {
    inhabitants: Vec<T>,
}

fn main() {}
