use spread::Copyable;

#[derive(Debug, Copyable)]
#[pb(class = copy_sender.CopyPond)]
struct CopyPond {
    color: String,
}

// A string, but not Twisted's `module.Class`.
#[derive(Debug, Copyable)]
#[pb(class = "CopyPond")]
struct NoModule {
    color: String,
}

fn main() {}
