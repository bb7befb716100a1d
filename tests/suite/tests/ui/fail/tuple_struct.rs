use spread::{Copyable, RemoteCopy};

#[derive(Debug, Clone, Copyable, RemoteCopy)]
struct Pond(String, i64);

#[derive(Debug, Clone, Copyable)]
struct Marker;

fn main() {}
