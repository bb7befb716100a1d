//! Cred login against Twisted 26.10, both ways: the login examples with
//! their Python twins, and the cred scenarios (perspectives, a mind called
//! back, errors, a viewable, a Cacheable each perspective sees its own way,
//! refused and anonymous logins, logout when the connection goes).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spread::cred::LoginError;
use spread::{
    BrokerOptions, CallError, Dict, FromValue, RemoteCacheRef, RemoteReference, SecurityOptions,
    Value, allow_remote_cache, connect, remote, serve_with,
};
use spread_interop::peer::{Process, debug_dir, python, workspace_root};
use tokio::sync::watch;

/// The venv's Python, or `None` (said aloud) where Twisted is not installed
/// and this is not CI.
fn twisted() -> Option<PathBuf> {
    let python = python().unwrap();
    if python.is_none() {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
    }
    python
}

fn python_script(python: &Path, script: &str) -> Command {
    let mut command = Command::new(python);
    command.arg(workspace_root().join("tests/interop/python").join(script));
    command
}

fn example(name: &str) -> Command {
    Command::new(debug_dir().join("examples").join(name))
}

/// Runs a login client to the end: its exit code and stdout.
fn run_client(mut command: Command) -> (i32, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), out)
}

const LOGGED_IN: &str =
    "logged in as alice\nwhoami -> 'alice'\necho -> 'hello'\ncallMeBack -> 'hello, there'\n";

/// Each login client against the other side's login server: the right
/// password, a wrong one, an unknown user; the server sees the login and
/// the logout.
#[test]
fn login_examples_interoperate_with_twisted() {
    let Some(python) = twisted() else { return };
    type Client = fn(&Path) -> Command;
    let pairs: [(&str, Command, Client); 2] = [
        (
            "Rust client, Twisted server",
            python_script(&python, "login_server.py"),
            |_| example("login_client"),
        ),
        (
            "Twisted client, Rust server",
            example("login_server"),
            |python| python_script(python, "login_client.py"),
        ),
    ];
    for (what, mut server, client) in pairs {
        let server = Process::spawn({
            server.arg("0");
            server
        });
        let port = server.port().to_string();
        let (code, out) = run_client({
            let mut c = client(&python);
            c.arg(&port);
            c
        });
        assert_eq!((code, out.as_str()), (0, LOGGED_IN), "{what}");
        server.wait_for("login alice");
        server.wait_for("logout alice");
        for (user, password) in [("alice", "rabbit"), ("bob", "wonderland")] {
            let (code, out) = run_client({
                let mut c = client(&python);
                c.args([&port, user, password]);
                c
            });
            assert_eq!(code, 1, "{what}: {user}/{password} gave {out}");
            assert!(out.starts_with("UnauthorizedLogin:"), "{what}: {out}");
        }
    }
}

/// The holder's side of `cred_server.Board`: its viewer and notes, with
/// every note posted since.
struct Board {
    viewer: String,
    notes: watch::Sender<Vec<String>>,
}

#[remote(cache)]
impl Board {
    async fn post(&self, note: String) {
        self.notes.send_modify(|notes| notes.push(note));
    }
}

fn board_options() -> BrokerOptions {
    let mut security = SecurityOptions::new();
    allow_remote_cache(&mut security, "cred_server.Board", |state: Value| {
        let field = |name: &str| state.as_dict().and_then(|d| d.get_str(name)).cloned();
        let viewer = field("viewer").and_then(|v| v.as_str().map(str::to_owned));
        let notes = field("notes").map(|n| Vec::<String>::from_value(&n));
        match (viewer, notes) {
            (Some(viewer), Some(Ok(notes))) => Ok(Board {
                viewer,
                notes: watch::Sender::new(notes),
            }),
            _ => Err(spread_jelly::Error::custom(
                "a Board state without viewer or notes",
            )),
        }
    })
    .unwrap();
    BrokerOptions::default().with_security(security)
}

/// What the server may call at login: `hello(x)` -> `["mind", x]`.
struct Mind;

#[remote]
impl Mind {
    async fn hello(&self, x: Value) -> Value {
        Value::List(vec![Value::from("mind"), x])
    }
}

async fn login(port: u16, user: &str, password: &str) -> Result<RemoteReference, LoginError> {
    let broker = connect(("127.0.0.1", port), board_options()).await.unwrap();
    broker.login(user, password, Some(Arc::new(Mind))).await
}

/// The board a perspective's `getBoard` gives.
async fn board(me: &RemoteReference) -> RemoteCacheRef {
    RemoteCacheRef::from_value(&me.call_remote("getBoard", vec![]).await.unwrap()).unwrap()
}

fn notes(board: &RemoteCacheRef) -> watch::Receiver<Vec<String>> {
    board.get::<Board>().unwrap().notes.subscribe()
}

/// The Rust client through the cred scenarios of `cred_client.py`, against
/// Twisted's `cred_server.py`.
#[test]
fn rust_client_against_twisted_cred_server() {
    let Some(python) = twisted() else { return };
    let server = Process::spawn({
        let mut c = python_script(&python, "cred_server.py");
        c.arg("0");
        c
    });
    let port = server.port();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(scenarios(port));
    // The connections are gone, in whatever order: every login logged out,
    // each after its observer stopped.
    let mut seen: Vec<String> = Vec::new();
    let logouts = ["logout alice", "logout bob", "logout anonymous"];
    while !logouts.iter().all(|l| seen.iter().any(|s| s == l)) {
        let (line, before) = server.wait_for("logout ");
        seen.extend(before);
        seen.push(line);
    }
    for who in ["alice", "bob"] {
        let at = |line: String| seen.iter().position(|s| *s == line);
        let (stopped, logout) = (
            at(format!("stopped observing {who}")),
            at(format!("logout {who}")),
        );
        assert!(
            matches!((stopped, logout), (Some(a), Some(b)) if a < b),
            "{who}: {seen:?}"
        );
    }
}

async fn scenarios(port: u16) {
    let alice = login(port, "alice", "wonderland").await.unwrap();
    let call = async |me: &RemoteReference, method: &str, args: Vec<Value>| {
        me.call_remote(method, args).await
    };
    assert_eq!(
        call(&alice, "whoami", vec![]).await.unwrap(),
        Value::from("alice")
    );
    let nested = Value::List(vec![
        Value::from(1),
        Value::Dict(Dict::from_iter([(
            Value::from("k"),
            Value::from(b"v".as_slice()),
        )])),
    ]);
    assert_eq!(
        call(&alice, "echo", vec![nested.clone()]).await.unwrap(),
        nested
    );
    assert_eq!(
        call(&alice, "callMeBack", vec![Value::from("x")])
            .await
            .unwrap(),
        Value::List(vec![Value::from("mind"), Value::from("x")])
    );
    match call(&alice, "fail", vec![Value::from("boom")]).await {
        Err(CallError::Remote(e)) => assert_eq!(
            (e.remote_type.as_str(), e.value.as_str()),
            ("builtins.ValueError", "boom")
        ),
        other => panic!("fail gave {other:?}"),
    }
    // The shared view tells who calls it.
    let view =
        RemoteReference::from_value(&call(&alice, "getView", vec![]).await.unwrap()).unwrap();
    assert_eq!(
        view.call_remote("whoami", vec![Value::from("hey")])
            .await
            .unwrap(),
        Value::List(vec![Value::from("hey"), Value::from("alice")])
    );
    // One Board on the server, a state for each perspective.
    let alices = board(&alice).await;
    assert_eq!(alices.get::<Board>().unwrap().viewer, "alice");
    assert_eq!(*notes(&alices).borrow(), vec!["welcome".to_owned()]);
    let bob = login(port, "bob", "rabbit").await.unwrap();
    let bobs = board(&bob).await;
    assert_eq!(bobs.get::<Board>().unwrap().viewer, "bob");
    // A post reaches both caches.
    assert_eq!(
        call(&bob, "post", vec![Value::from("hi")]).await.unwrap(),
        Value::from(2)
    );
    for board in [&alices, &bobs] {
        let mut notes = notes(board);
        tokio::time::timeout(
            Duration::from_secs(10),
            notes.wait_for(|n| n.iter().any(|note| note == "hi")),
        )
        .await
        .expect("the post never reached a cache")
        .unwrap();
    }
    // Refusals are typed; anonymous logins get their own perspective.
    for (user, password) in [("alice", "rabbit"), ("nobody", "wonderland")] {
        match login(port, user, password).await {
            Err(LoginError::Unauthorized(e)) => {
                assert_eq!(e.remote_type, "twisted.cred.error.UnauthorizedLogin")
            }
            other => panic!("{user}/{password} gave {other:?}"),
        }
    }
    let broker = connect(("127.0.0.1", port), board_options()).await.unwrap();
    let anonymous = broker.login_anonymous(None).await.unwrap();
    assert_eq!(
        call(&anonymous, "whoami", vec![]).await.unwrap(),
        Value::from("anonymous")
    );
    for me in [&alice, &bob, &anonymous] {
        me.broker().close();
        me.broker().closed().await;
    }
}

/// Twisted's `cred_client.py` against the Rust twin of `cred_server.py`.
#[test]
fn twisted_cred_client_against_rust_server() {
    let Some(python) = twisted() else { return };
    let log: spread_interop::cred::Log = Arc::new(Mutex::new(Vec::new()));
    let brokers = Arc::new(Mutex::new(Vec::new()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (server, port) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let portal = spread_interop::cred::portal(log.clone());
        let brokers = brokers.clone();
        let server = serve_with(listener, BrokerOptions::default(), move |broker| {
            brokers.lock().unwrap().push(broker.clone());
            Some(portal.root())
        });
        (server, port)
    });
    let (code, out) = run_client({
        let mut c = python_script(&python, "cred_client.py");
        c.arg(port.to_string());
        c
    });
    assert!(code == 0 && out.contains(" passed, 0 failed"), "{out}");
    // Every connection closed: the log is final once the server has stopped,
    // and every connection's tables are empty.
    runtime.block_on(server.shutdown());
    let brokers = brokers.lock().unwrap().clone();
    assert_eq!(
        brokers.len(),
        3,
        "alice, bob, and the refused and anonymous logins"
    );
    for broker in brokers {
        assert!(broker.is_closed());
        assert_eq!(broker.stats(), Default::default(), "{broker:?}");
    }
    let log = log.lock().unwrap().clone();
    for who in ["alice", "bob", "anonymous"] {
        let login = log.iter().position(|l| *l == format!("login {who}"));
        let logout = log.iter().position(|l| *l == format!("logout {who}"));
        assert!(
            matches!((login, logout), (Some(a), Some(b)) if a < b),
            "{who}: {log:?}"
        );
    }
    for who in ["alice", "bob"] {
        let stopped = log
            .iter()
            .position(|l| *l == format!("stopped observing {who}"));
        let logout = log.iter().position(|l| *l == format!("logout {who}"));
        assert!(
            matches!((stopped, logout), (Some(a), Some(b)) if a < b),
            "{who}: {log:?}"
        );
    }
}
