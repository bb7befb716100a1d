//! The broker against Twisted 26.10, both ways: a Rust client against
//! Twisted's scenario server (`pb_server.py`), and Twisted's scenario client
//! (`pb_client.py`) against the Rust scenario server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spread_broker::{
    Broker, BrokerOptions, CallError, RemoteReference, Stats, connect, serve_with,
};
use spread_flavors::{
    BoxFuture, Call, FromValue, LocalReferenceable, Referenceable, RemoteError, reference,
};
use spread_interop::peer::{debug_dir, python, workspace_root};
use spread_interop::scenario::ScenarioRoot;
use spread_interop::typed;
use spread_jelly::{Dict, Value};

/// A child process that is killed if the test ends early.
pub(crate) struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Python server and returns it with the port it announced.
pub(crate) fn start_server(python: &Path, script: &str) -> (Process, u16) {
    let mut child = Command::new(python)
        .arg(workspace_root().join("tests/interop/python").join(script))
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let process = Process(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (process, port)
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn remote_type(result: Result<Value, CallError>) -> String {
    match result {
        Err(CallError::Remote(e)) => format!("{}: {}", e.remote_type, e.value),
        other => panic!("expected a remote error, got {other:?}"),
    }
}

/// Waits, a bounded time, until the broker's tables satisfy `condition`:
/// the broker says when they change, so nothing polls.
async fn tables(what: &str, broker: &Broker, condition: impl FnMut(&Stats) -> bool) {
    tokio::time::timeout(Duration::from_secs(10), broker.wait_for_stats(condition))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// A local object Twisted calls back.
#[derive(Default)]
struct Notified {
    got: Mutex<Vec<Value>>,
}

impl Referenceable for Notified {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "notify" => {
                    let v = call.arg(0)?.clone();
                    self.got.lock().unwrap().push(v.clone());
                    Ok(Value::from(format!("got {}", v.as_str().unwrap_or("?"))))
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// Whether a class instance is anywhere inside `value`.
fn contains_instance(value: &Value) -> bool {
    match value {
        Value::Instance(_) => true,
        // A back reference leads to a value already being looked at.
        Value::Shared(s) => s.get().is_some_and(contains_instance),
        Value::Dict(d) => d
            .iter()
            .any(|(k, v)| contains_instance(k) || contains_instance(v)),
        other => other
            .as_seq()
            .is_some_and(|items| items.iter().any(contains_instance)),
    }
}

fn value_vectors() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(workspace_root().join("tests/vectors/twisted-vectors.json"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "value" && e.get("value").is_some())
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                typed::value(&e["value"]).unwrap(),
            )
        })
        .collect()
}

#[test]
fn rust_client_against_twisted_server() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let (_server, port) = start_server(&python, "pb_server.py");
    runtime().block_on(async move {
        let broker = connect(("127.0.0.1", port), BrokerOptions::default())
            .await
            .unwrap();
        let root = broker.root_object().await.unwrap();
        // Twisted offers only what it knows.
        assert_eq!(broker.dialect(), Some(spread_banana::Dialect::Pb));

        // Every value kind of the vectors, echoed: equal, types included.
        for (name, value) in value_vectors() {
            let echoed = root.call_remote("echo", vec![value.clone()]).await;
            if contains_instance(&value) {
                // Twisted registers no classes: its security refuses them.
                assert!(
                    remote_type(echoed).starts_with("twisted.spread.jelly.InsecureJelly"),
                    "{name}"
                );
            } else if matches!(value, Value::Unpersistable(_)) {
                // Twisted unjellies the marker into an object of its own
                // unregistered class, then sends that as a new marker.
                let rewritten =
                    "instance of class twisted.spread.jelly.Unpersistable deemed insecure";
                assert_eq!(
                    echoed.unwrap(),
                    Value::Unpersistable(rewritten.into()),
                    "{name}"
                );
            } else {
                assert_eq!(echoed.unwrap(), value, "{name}");
            }
        }

        // Many calls in flight at once, answered by request id.
        let calls: Vec<_> = (0..50i64)
            .map(|i| {
                let root = root.clone();
                tokio::spawn(async move {
                    root.call_remote("add", vec![Value::from(i), Value::from(1)])
                        .await
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().unwrap(), Value::from(i as i64 + 1));
        }

        let kwargs = Dict::from_iter([(Value::from("c"), Value::from("three"))]);
        let kw = root
            .call_remote_kw("kw", vec![Value::from(1)], kwargs)
            .await
            .unwrap();
        let expected = Dict::from_iter([
            (Value::from("a"), Value::from(1)),
            (Value::from("b"), Value::None),
            (Value::from("c"), Value::from("three")),
        ]);
        assert_eq!(kw, Value::Dict(expected));

        assert_eq!(
            remote_type(root.call_remote("fail", vec![Value::from("boom")]).await),
            "builtins.ValueError: boom"
        );
        assert_eq!(
            remote_type(
                root.call_remote("failExpected", vec![Value::from("known")])
                    .await
            ),
            "__main__.KnownError: known"
        );
        // Twisted's real traceback text, sent because its factory opts in.
        match root.call_remote("failWithTraceback", vec![]).await {
            Err(CallError::Remote(e)) => {
                let traceback = e.traceback.expect("a traceback");
                assert!(
                    traceback.contains("remote_failWithTraceback"),
                    "{traceback}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            remote_type(root.call_remote("noSuchMethod", vec![]).await),
            "twisted.spread.flavors.NoSuchMethod: No such method: remote_noSuchMethod"
        );

        // A Referenceable of ours, called back by Twisted.
        let notified = Arc::new(Notified::default());
        let as_value = reference(notified.clone());
        let answer = root
            .call_remote("callBack", vec![as_value.clone(), Value::from("hi")])
            .await
            .unwrap();
        assert_eq!(answer, Value::from("got hi"));
        assert_eq!(*notified.got.lock().unwrap(), vec![Value::from("hi")]);

        // Sent back to its owner, it is our own object again.
        let back = root
            .call_remote("returnIt", vec![as_value.clone()])
            .await
            .unwrap();
        let back = back
            .downcast_ref::<LocalReferenceable>()
            .expect("our own object");
        assert!(Arc::ptr_eq(
            back.object(),
            &(notified.clone() as Arc<dyn Referenceable>)
        ));

        // Fire and forget: nothing comes back, the call still happens.
        root.call_remote_no_answer("record", vec![Value::from(42)])
            .unwrap();
        let recorded = root.call_remote("recorded", vec![]).await.unwrap();
        assert_eq!(recorded, Value::List(vec![Value::from(42)]));

        // Reference accounting, both tables back to where they started.
        tables("our table to empty", &broker, |s| s.local_objects == 0).await;
        let other = reference(Arc::new(Notified::default()));
        root.call_remote("keep", vec![as_value.clone()])
            .await
            .unwrap();
        root.call_remote("keep", vec![as_value.clone()])
            .await
            .unwrap();
        root.call_remote("keep", vec![other]).await.unwrap();
        assert_eq!(
            broker.stats().local_objects,
            2,
            "the same object keeps one luid"
        );
        root.call_remote("dropKept", vec![]).await.unwrap();
        tables("Twisted's decrefs", &broker, |s| s.local_objects == 0).await;

        let size = async || {
            root.call_remote("tableSize", vec![])
                .await
                .unwrap()
                .as_i64()
                .unwrap()
        };
        let before = size().await;
        let child = root.call_remote("makeChild", vec![]).await.unwrap();
        let child_ref = RemoteReference::from_value(&child).unwrap();
        let pong = child_ref
            .call_remote("ping", vec![Value::from(7)])
            .await
            .unwrap();
        assert_eq!(pong, Value::List(vec![Value::from("pong"), Value::from(7)]));
        assert_eq!(size().await, before + 1);
        assert_eq!(broker.stats().remote_references, 1);
        drop((child, child_ref));
        tables("our handle's release", &broker, |s| {
            s.remote_references == 0
        })
        .await;
        // The decref went out before this call, on the same ordered stream,
        // so Twisted has dropped its object by the time it answers.
        assert_eq!(size().await, before);

        disconnect_with_calls_in_flight(&broker, &root).await;
    });
}

/// The peer drops the connection while calls wait: every one fails at once,
/// later calls fail as dead references, and disconnect callbacks run.
async fn disconnect_with_calls_in_flight(broker: &Broker, root: &RemoteReference) {
    let notified = Arc::new(Mutex::new(false));
    let flag = notified.clone();
    broker.notify_on_disconnect(move || *flag.lock().unwrap() = true);
    // `join!` polls `hang` first, and a call is sent on its first poll, so
    // Twisted gets `hang` before `hangUp`.
    let hang = root.call_remote("hang", vec![]);
    let hang_up = root.call_remote("hangUp", vec![]);
    let both = async {
        let (b, a) = tokio::join!(hang, hang_up);
        (a, b)
    };
    let (a, b) = tokio::time::timeout(Duration::from_secs(5), both)
        .await
        .expect("pending calls hung");
    assert!(matches!(a, Err(CallError::ConnectionLost)), "{a:?}");
    assert!(matches!(b, Err(CallError::ConnectionLost)), "{b:?}");
    broker.closed().await;
    assert!(*notified.lock().unwrap());
    assert!(matches!(
        root.call_remote("echo", vec![Value::None]).await,
        Err(CallError::DeadReference)
    ));
}

#[test]
fn twisted_client_against_rust_server() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let runtime = runtime();
    let brokers: Arc<Mutex<Vec<Broker>>> = Arc::default();
    let (server, port) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Tracebacks on, as pb_server.py has them: the client checks they travel.
        let options = BrokerOptions::default().with_unsafe_tracebacks(true);
        let seen = brokers.clone();
        let server = serve_with(listener, options, move |broker| {
            seen.lock().unwrap().push(broker.clone());
            Some(ScenarioRoot::new(broker) as Arc<dyn Referenceable>)
        });
        (server, port)
    });
    let output = Command::new(&python)
        .arg(workspace_root().join("tests/interop/python/pb_client.py"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        output.status.success() && failures.is_empty(),
        "Twisted's client failed against the Rust server:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.lines().any(|l| l.ends_with(" passed, 0 failed")),
        "{stdout}"
    );
    // Offered msgpack first, Twisted took pb on every connection.
    let brokers = brokers.lock().unwrap().clone();
    assert!(!brokers.is_empty());
    for broker in brokers {
        assert_eq!(broker.dialect(), Some(spread_banana::Dialect::Pb));
    }
    runtime.block_on(server.shutdown());
}

#[test]
fn echo_examples_interoperate_with_twisted() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let examples = debug_dir().join("examples");
    let run = |program: &Path, port: u16| {
        let out = Command::new(program)
            .arg(port.to_string())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}: {text}\n{}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    // Rust's echo_client against Twisted's echo server.
    let (_twisted, port) = start_server(&python, "echo_server.py");
    let printed = run(&examples.join("echo_client"), port);
    assert!(
        printed.contains("add -> 5") && printed.contains("fail -> error builtins.ValueError: boom"),
        "{printed}"
    );

    // Twisted's echo client against Rust's echo_server.
    let mut server = Command::new(examples.join("echo_server"))
        .arg("0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Process(server);
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    let out = Command::new(&python)
        .arg(workspace_root().join("tests/interop/python/echo_client.py"))
        .arg(port.to_string())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("add -> 5"), "{printed}");
    assert!(
        printed.contains("add -> 1180591620717411303429"),
        "{printed}"
    );
}
