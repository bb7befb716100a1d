// RemoteCopy implements FromValue too, which clones the received object.
use spread::RemoteCopy;

#[derive(Debug, RemoteCopy)]
struct CopyPond {
    color: String,
}

fn main() {}
