// On anything but an impl block, the item is left as it is: one error.
use spread::remote;

#[remote]
struct Root;

fn main() {
    let _ = Root;
}
