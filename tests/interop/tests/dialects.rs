//! Dialect negotiation against Twisted 26.10. A spread server offers its
//! own `spread-msgpack` first; Twisted does not know it and must pick `pb`
//! (banana.py: a client takes the first name of the server's offer that it
//! knows), and a spread client offered Twisted's `[pb, none]` picks `pb`.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use spread_banana::Dialect;
use spread_broker::{Broker, BrokerOptions, CallError, ConnectionError, ProtocolError};
use spread_broker::{connect, serve_with};
use spread_flavors::Referenceable;
use spread_interop::peer::{python, workspace_root};
use spread_interop::scenario::ScenarioRoot;

use crate::broker::{runtime, start_server};

#[test]
fn a_twisted_client_picks_pb_from_a_spread_servers_offer() {
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
        let seen = brokers.clone();
        // The default options: msgpack offered first.
        let server = serve_with(listener, BrokerOptions::default(), move |broker| {
            seen.lock().unwrap().push(broker.clone());
            Some(ScenarioRoot::new(broker) as Arc<dyn Referenceable>)
        });
        (server, port)
    });
    let output = Command::new(&python)
        .arg(workspace_root().join("tests/interop/python/dialect_client.py"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "Twisted's client failed against the spread server:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "offer [b'spread-msgpack', b'pb', b'none']",
            "chosen b'pb'",
            "echo ok 4",
        ],
        "{stdout}"
    );
    // The server saw the same choice.
    let brokers = brokers.lock().unwrap().clone();
    assert_eq!(brokers.len(), 1);
    assert_eq!(brokers[0].dialect(), Some(Dialect::Pb));
    runtime.block_on(server.shutdown());
}

/// A spread client picks pb from Twisted's offer (`broker.rs` checks that
/// with every call); one that will speak nothing but msgpack finds nothing
/// it speaks there, and says so.
#[test]
fn a_msgpack_only_client_finds_nothing_in_twisteds_offer() {
    let Some(python) = python().unwrap() else {
        eprintln!(
            "SKIPPED: Twisted is not installed here; `cargo xtask ci` installs it and runs this test"
        );
        return;
    };
    let (_server, port) = start_server(&python, "pb_server.py");
    runtime().block_on(async move {
        let options = BrokerOptions::default()
            .with_dialects(&[Dialect::Msgpack])
            .unwrap();
        let broker = connect(("127.0.0.1", port), options).await.unwrap();
        match broker.root_object().await {
            Err(CallError::Handshake(ConnectionError::Protocol(
                ProtocolError::NoCommonDialect,
            ))) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(broker.dialect(), None);
    });
}
