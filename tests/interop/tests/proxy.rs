//! `spread proxy` between Twisted's echo client and echo server: the client
//! must not notice it, and the proxy must show the whole session, calls
//! matched with their answers.
//!
//! Needs the `spread` binary built (`cargo build -p spread-cli`); the test
//! does not build it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value as Json;
use spread_interop::peer::{Process, debug_dir, python, workspace_root};

/// The `spread` binary, as `cargo build -p spread-cli` leaves it.
fn spread_binary() -> PathBuf {
    let path = debug_dir().join("spread");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p spread-cli` first",
        path.display()
    );
    path
}

/// Runs Twisted's echo client through a proxy in front of Twisted's echo
/// server; returns every line the proxy printed about the connection, or
/// `None` when Twisted is not installed.
fn proxied_session(extra: &[&str]) -> Option<Vec<String>> {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return None;
    };
    let scripts = workspace_root().join("tests/interop/python");
    let mut server = Command::new(&python);
    server.arg(scripts.join("echo_server.py")).arg("0");
    let server = Process::spawn(server);
    let server_port = server.port();

    let mut proxy = Command::new(spread_binary());
    proxy
        .arg("proxy")
        .arg("0")
        .arg(format!("127.0.0.1:{server_port}"))
        .args(extra);
    let proxy = Process::spawn(proxy);
    let proxy_port = proxy.port();

    // The client gives up by itself after 30 seconds, so this wait is bounded.
    let client = Command::new(&python)
        .arg(scripts.join("echo_client.py"))
        .arg(proxy_port.to_string())
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "the echo client failed through the proxy: {}\n{}",
        String::from_utf8_lossy(&client.stdout),
        String::from_utf8_lossy(&client.stderr)
    );

    // Every line up to the connection's `closed` event.
    let closed = if extra.contains(&"--json") {
        "{\"conn\":1,"
    } else {
        "#1 "
    };
    let mut lines = Vec::new();
    loop {
        let (line, _) = proxy.wait_for(closed);
        let done = line.contains("closed");
        lines.push(line);
        if done {
            return Some(lines);
        }
    }
}

#[test]
fn the_proxy_shows_a_twisted_session_and_changes_nothing() {
    let Some(lines) = proxied_session(&[]) else {
        return;
    };
    let text = lines.join("\n");
    let has = |dir: &str, rest: &str| {
        lines
            .iter()
            .any(|line| line.starts_with(&format!("#1 {dir} ")) && line.contains(rest))
    };
    assert!(has("S->C", "  dialect offer  [b'pb', b'none']"), "{text}");
    assert!(has("C->S", "  dialect choice pb  b'pb'"), "{text}");
    assert!(has("C->S", "  version 6  [b'version', 6]"), "{text}");
    assert!(has("S->C", "  version 6  [b'version', 6]"), "{text}");
    assert!(
        has(
            "C->S",
            "  message 1 root.echo  [b'message', 1, b'root', b'echo', 1, [b'tuple', [b'unicode', b'hello']], [b'dictionary']]"
        ),
        "{text}"
    );
    assert!(
        has(
            "S->C",
            "  answer 1 (to message 1 echo)  [b'answer', 1, [b'unicode', b'hello']]"
        ),
        "{text}"
    );
    assert!(
        has(
            "C->S",
            "  message 3 root.add  [b'message', 3, b'root', b'add', 1, [b'tuple', 2, 3], [b'dictionary']]"
        ),
        "{text}"
    );
    assert!(
        has("S->C", "  answer 3 (to message 3 add)  [b'answer', 3, 5]"),
        "{text}"
    );
    assert!(
        has(
            "S->C",
            "  answer 4 (to message 4 add)  [b'answer', 4, 1180591620717411303429]"
        ),
        "{text}"
    );
    assert!(
        has(
            "S->C",
            "  error 5 (to message 5 fail)  [b'error', 5, [b'twisted.spread.pb.CopyableFailure', [b'dictionary', "
        ),
        "{text}"
    );
    assert!(
        has(
            "S->C",
            "  answer 6 (to message 6 shutdown)  [b'answer', 6, [b'None']]"
        ),
        "{text}"
    );
    assert!(!text.contains("malformed"), "{text}");
    assert!(!text.contains("\x1b["), "colour on a pipe: {text}");
}

#[test]
fn the_proxy_prints_json_with_request_ids_matched() {
    let Some(lines) = proxied_session(&["--json"]) else {
        return;
    };
    let objects: Vec<Json> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let frame = |kind: &str, request: i64| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["request"] == request)
            .unwrap_or_else(|| panic!("no {kind} {request} in {lines:#?}"))
    };
    let call = frame("message", 5);
    assert_eq!(
        (&call["dir"], &call["method"]),
        (&"C->S".into(), &"fail".into())
    );
    let error = frame("error", 5);
    assert_eq!(error["dir"], "S->C");
    assert_eq!(error["method"], "fail");
    assert_eq!(error["summary"], "error 5 (to message 5 fail)");
    assert!(
        error["frame"]
            .as_str()
            .unwrap()
            .starts_with("[b'error', 5, [b'twisted.spread.pb.CopyableFailure'")
    );
    assert!(error["t"].as_f64().unwrap() >= call["t"].as_f64().unwrap());
    assert_eq!(
        frame("answer", 1)["frame"],
        "[b'answer', 1, [b'unicode', b'hello']]"
    );
    let offer = objects.iter().find(|o| o["kind"] == "offer").unwrap();
    assert_eq!(offer["frame"], "[b'pb', b'none']");
    assert!(objects.iter().all(|o| o.get("malformed").is_none()));
}
