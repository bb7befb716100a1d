// Copyable alone needs neither Clone nor Default, and a `where` clause is
// passed through.
use spread::Copyable;

#[derive(Debug)]
struct Handle;

#[derive(Debug, Copyable)]
#[pb(class = "m.Sender")]
struct Sender
where
    Handle: std::fmt::Debug,
{
    name: String,
    #[pb(skip)]
    handle: Handle,
}

fn main() {
    let s = Sender { name: "a".into(), handle: Handle };
    assert_eq!(s.type_to_copy(), "m.Sender");
    assert!(s.state_to_copy().is_ok());
    let _ = &s.handle;
}
