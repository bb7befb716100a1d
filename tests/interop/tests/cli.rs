//! `spread call` against Twisted's echo server and the Rust one: every golden
//! vector with a Python value, written as the literal Python's `repr`
//! gives, comes back printed exactly as Python's `repr` prints it; and the
//! exit statuses of a remote error, a refused connection and a bad literal;
//! and `--login` over `--tls` against Twisted's and Rust's login servers.
//!
//! The `spread` binary must be built first (`cargo build -p spread-cli`;
//! `cargo xtask interop` does it), as must the `echo_server` and
//! `login_server` examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;
use spread_interop::certs::Certs;
use spread_interop::peer::{Process, debug_dir, python, workspace_root};

/// The value vectors no literal can write, and why: they are skipped, and
/// the test checks that each still has its reason, and that no other vector does.
const NO_LITERAL: &[(&str, &str)] = &[
    ("cyclic_list", "a cycle"),
    ("cyclic_list_middle", "a cycle"),
    ("tuple_cycle_via_list", "a cycle"),
    ("copyable_CopyPond", "an instance"),
    ("copyable_CopyPond_twice_in_list", "an instance"),
    ("plain_instance_jelly_only", "an instance"),
    ("plain_instance_via_pb", "an unpersistable"),
];

fn spread() -> PathBuf {
    let path = debug_dir().join("spread");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spread-cli` first (`cargo xtask interop` does)",
        path.display()
    );
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(spread())
        .args(args)
        .output()
        .expect("running spread")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The servers to call: Twisted's `echo_server.py` and the Rust example.
fn servers(python: &Path) -> Vec<(&'static str, Process)> {
    let mut twisted = Command::new(python);
    // A fixed hash seed, as for `python_reprs`: a set of str or bytes is
    // iterated in an order that depends on it.
    twisted
        .env("PYTHONHASHSEED", "0")
        .arg(workspace_root().join("tests/interop/python/echo_server.py"))
        .arg("0");
    let mut rust = Command::new(debug_dir().join("examples/echo_server"));
    rust.arg("0");
    vec![
        ("Twisted", Process::spawn(twisted)),
        ("Rust", Process::spawn(rust)),
    ]
}

/// `repr` of every value vector's Python value, as real Python prints it,
/// by name (`null` where Python cannot build the value).
fn python_reprs(python: &Path) -> BTreeMap<String, Option<String>> {
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import typed
vectors = json.load(open(sys.argv[2]))["vectors"]
out = {}
for v in vectors:
    if "value" in v:
        try:
            out[v["name"]] = repr(typed.python_value(v["value"]))
        except Exception:
            out[v["name"]] = None
print(json.dumps(out))
"#;
    let root = workspace_root();
    let output = Command::new(python)
        .env("PYTHONHASHSEED", "0")
        .arg("-c")
        .arg(script)
        .arg(root.join("tests/interop/python"))
        .arg(root.join("tests/vectors/twisted-vectors.json"))
        .output()
        .expect("running python");
    assert!(output.status.success(), "python: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("python's reprs as JSON")
}

/// Whether a vector's value has no literal: an instance, an unpersistable
/// or a cycle (which Python's repr shows as `...`).
fn has_no_literal(typed: &Json, repr: Option<&str>) -> bool {
    let json = typed.to_string();
    json.contains("\"instance\"")
        || json.contains("\"unpersistable\"")
        || repr.is_none_or(|r| r.contains("..."))
}

#[test]
fn call_prints_every_vector_as_python_repr() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let spread = spread();
    let file = workspace_root().join("tests/vectors/twisted-vectors.json");
    let vectors: Json = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let reprs = python_reprs(&python);
    let servers = servers(&python);
    let ports: Vec<(&str, u16)> = servers.iter().map(|(name, p)| (*name, p.port())).collect();

    let mut failures = Vec::new();
    let mut called = 0;
    for vector in vectors["vectors"].as_array().unwrap() {
        let Some(value) = vector.get("value") else {
            continue;
        };
        let name = vector["name"].as_str().unwrap();
        let repr = reprs.get(name).cloned().flatten();
        let skipped = NO_LITERAL.iter().any(|(n, _)| *n == name);
        assert_eq!(
            skipped,
            has_no_literal(value, repr.as_deref()),
            "{name}: NO_LITERAL is out of date"
        );
        let Some(repr) = repr.filter(|_| !skipped) else {
            continue;
        };
        for (server, port) in &ports {
            let output = Command::new(&spread)
                .args([
                    "call",
                    "--timeout",
                    "20",
                    &format!("127.0.0.1:{port}"),
                    "echo",
                ])
                .arg(&repr)
                .output()
                .unwrap();
            called += 1;
            let stdout = text(&output.stdout);
            if output.status.code() != Some(0) || stdout != format!("{repr}\n") {
                failures.push(format!(
                    "{name} via {server}: sent {repr}, got {stdout:?}, status {:?}, stderr {:?}",
                    output.status.code(),
                    text(&output.stderr)
                ));
            }
        }
    }
    for (name, _) in NO_LITERAL {
        assert!(
            reprs.contains_key(*name),
            "{name} is no longer a value vector"
        );
    }
    assert!(called > 100, "only {called} calls made");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn call_remote_error_exits_1() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    for (server, process) in servers(&python) {
        let address = format!("127.0.0.1:{}", process.port());
        let output = run(&["call", &address, "fail", "'boom'"]);
        assert_eq!(output.status.code(), Some(1), "{server}");
        assert_eq!(text(&output.stdout), "", "{server}");
        assert_eq!(
            text(&output.stderr),
            "RemoteError: builtins.ValueError: boom\n",
            "{server}"
        );
    }
}

#[test]
fn call_refused_connection_exits_2() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = run(&["call", &format!("127.0.0.1:{port}"), "echo", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot connect to 127.0.0.1:"), "{stderr}");
}

#[test]
fn call_bad_literal_exits_64() {
    // Refused before connecting: nothing listens on port 1.
    let output = run(&["call", "127.0.0.1:1", "echo", "[1,"]);
    assert_eq!(output.status.code(), Some(64));
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("invalid value '[1,'") && stderr.contains("expected a value"),
        "{stderr}"
    );
}

#[test]
fn call_logs_in_over_tls_to_twisted_and_rust() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let certs = Certs::generate();
    let (cert, key) = (certs.path("server.pem"), certs.path("server-key.pem"));
    let mut twisted = Command::new(&python);
    twisted
        .arg(workspace_root().join("tests/interop/python/login_server.py"))
        .args(["0", "--tls", &cert, &key]);
    let mut rust = Command::new(debug_dir().join("examples/login_server"));
    rust.args(["0", "--tls", &cert, &key]);
    for (server, command) in [("Twisted", twisted), ("Rust", rust)] {
        let process = Process::spawn(command);
        let address = format!("127.0.0.1:{}", process.port());
        let ca = certs.path("ca.pem");
        let call = |login: &str, ca: &str, method: &str, args: &[&str]| {
            let mut all = vec!["call", "--login", login, "--tls", ca, &address, method];
            all.extend_from_slice(args);
            let output = run(&all);
            (
                output.status.code(),
                text(&output.stdout),
                text(&output.stderr),
            )
        };

        let (code, stdout, stderr) = call("alice:wonderland", &ca, "whoami", &[]);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(0), "'alice'\n"),
            "{server}: {stderr}"
        );
        let literal = "{'a': [1, 2.5, b'x'], 'when': datetime.date(2024, 1, 31)}";
        let (code, stdout, stderr) = call("alice:wonderland", &ca, "echo", &[literal]);
        assert_eq!(code, Some(0), "{server}: {stderr}");
        assert_eq!(stdout, format!("{literal}\n"), "{server}");

        // A wrong password: the login fails, exit 2.
        let (code, stdout, stderr) = call("alice:rabbit", &ca, "whoami", &[]);
        assert_eq!((code, stdout.as_str()), (Some(2), ""), "{server}");
        assert!(
            stderr.contains("login as \"alice\" failed: unauthorized login"),
            "{server}: {stderr}"
        );

        // A server certificate that does not verify: refused, exit 2.
        let (code, stdout, stderr) = call(
            "alice:wonderland",
            &certs.path("other-ca.pem"),
            "whoami",
            &[],
        );
        assert_eq!((code, stdout.as_str()), (Some(2), ""), "{server}");
        assert!(stderr.contains("cannot connect to"), "{server}: {stderr}");
    }
}
