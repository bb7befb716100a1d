//! `spread call` against a Rust root object served in this process.

use std::process::{Command, Output};
use std::sync::Arc;

use spread::jelly::{Instance, Shared};
use spread::{BoxFuture, BrokerOptions, Call, Dict, Referenceable, RemoteError, Value, reference};

/// A root whose methods answer what `spread call` must print specially.
struct Root;

impl Referenceable for Root {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "echo" => Ok(call.args.into_iter().next().unwrap_or(Value::None)),
                "args" => Ok(Value::Tuple(call.args)),
                // l = []; l.append(l)
                "cycle" => Ok(Value::Shared(Shared::cyclic(|me| {
                    Value::List(vec![Value::Shared(me)])
                }))),
                "reference" => Ok(Value::List(vec![reference(Arc::new(Root))])),
                "instance" => Ok(Value::from(Instance::new(
                    "pond.Pond",
                    Value::Dict(Dict::from_iter([(Value::from("frogs"), Value::from(7))])),
                ))),
                "never" => std::future::pending().await,
                other => Err(RemoteError::no_such_method(other)),
            }
        })
    }
}

/// [`Root`] served on a free port, until this is dropped.
struct Served {
    address: String,
    _server: spread::Server,
    // Dropped last: the server's tasks run on it.
    _runtime: tokio::runtime::Runtime,
}

fn serve() -> Served {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (address, server) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = spread::serve(listener, BrokerOptions::default().with_root(Arc::new(Root)));
        (address, server)
    });
    Served {
        address,
        _server: server,
        _runtime: runtime,
    }
}

fn spread(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spread"))
        .args(args)
        .output()
        .unwrap()
}

/// Exit status, stdout and stderr.
fn call(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    let output = spread(&all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn arguments_arrive_as_python_would_send_them() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&[
        address,
        "args",
        "-1",
        "-inf",
        "'it''s'",
        "{1, 1.0, True}",
        "(1,)",
        "frozenset()",
        "Decimal('-0.50')",
        "datetime.timedelta(hours=-1)",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "(-1, -inf, 'its', {1}, (1,), frozenset(), Decimal('-0.50'), \
         datetime.timedelta(days=-1, seconds=82800))\n"
    );
}

#[test]
fn an_argument_that_is_not_a_literal_is_refused_before_connecting() {
    let served = serve();
    let (code, stdout, stderr) = call(&[&served.address, "echo", "1", "2**0"]);
    assert_eq!((code, stdout.as_str()), (Some(64), ""));
    assert!(stderr.contains("invalid value '2**0'"), "{stderr}");
}

#[test]
fn a_cycle_prints_as_python_prints_it() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&[address, "cycle"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "[[...]]\n"), "{stderr}");
}

#[test]
fn a_remote_reference_prints_as_a_placeholder() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&[address, "reference"]);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(0), "[<RemoteReference>]\n"),
        "{stderr}"
    );
}

#[test]
fn an_instance_is_refused_as_twisted_refuses_it() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&[address, "instance"]);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(stderr.contains("cannot read the answer"), "{stderr}");
    assert!(stderr.contains("pond.Pond"), "{stderr}");
}

#[test]
fn a_remote_error_exits_1() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&[address, "nosuch"]);
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    assert_eq!(
        stderr,
        "RemoteError: twisted.spread.flavors.NoSuchMethod: No such method: remote_nosuch\n"
    );
}

#[test]
fn no_answer_within_the_timeout_exits_2() {
    let served = serve();
    let address = served.address.as_str();
    let (code, stdout, stderr) = call(&["--timeout", "0.5", address, "never"]);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(stderr.contains("no answer from 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("within 0.5 s"), "{stderr}");
}

#[test]
fn a_server_that_never_speaks_times_out() {
    // Accepts, and never says a word: the handshake must not hang the call.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (code, _, stderr) = call(&["--timeout", "0.5", &address, "echo", "1"]);
    assert_eq!(code, Some(2), "{stderr}");
    drop(listener);
}

#[test]
fn bad_arguments_exit_64_with_usage() {
    let cases: [&[&str]; 9] = [
        &["127.0.0.1", "echo"],
        &["127.0.0.1:http", "echo"],
        &["127.0.0.1:0", "echo"],
        &["::1:8800", "echo"],
        &["--login", "alice", "127.0.0.1:8800", "echo"],
        &["--timeout", "-1", "127.0.0.1:8800", "echo"],
        &["--timeout", "nan", "127.0.0.1:8800", "echo"],
        &["127.0.0.1:8800", "echo", "[1,"],
        &["127.0.0.1:8800"],
    ];
    for args in cases {
        let (code, stdout, stderr) = call(args);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(64), ""),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("Usage") || stderr.contains("--help"),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, stderr) = call(&["--tls", "/nonexistent/ca.pem", "127.0.0.1:8800", "echo"]);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("--tls: cannot read /nonexistent/ca.pem"),
        "{stderr}"
    );
}

#[test]
fn help_shows_examples() {
    let output = spread(&["call", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for want in [
        "Examples:",
        "--login",
        "--tls",
        "--timeout",
        "HOST:PORT",
        "Exit status",
    ] {
        assert!(help.contains(want), "{want} not in {help}");
    }
}
