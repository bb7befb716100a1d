use spread::Copyable;

mod seconds {}

#[derive(Debug, Copyable)]
struct Timer {
    #[pb(with = seconds)]
    idle: std::time::Duration,
}

fn main() {}
