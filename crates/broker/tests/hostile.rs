use std::sync::Arc;
use std::time::Duration;

use spread_banana::{Dialect, Sexp, encode_to_vec};
use spread_broker::{Broker, BrokerOptions, ConnectionError, Limit, ProtocolError, Role, Table};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::support::TestRoot;

/// A Rust server and a raw peer that has chosen the pb dialect.
async fn server(
    options: BrokerOptions,
) -> (
    DuplexStream,
    tokio::task::JoinHandle<Result<(), ConnectionError>>,
) {
    let (mut raw, theirs) = tokio::io::duplex(1 << 20);
    let (_broker, driver) = Broker::new(
        theirs,
        Role::Server,
        options.with_root(Arc::new(TestRoot::default())),
    );
    let task = tokio::spawn(driver);
    let mut offer = [0u8; 12];
    raw.read_exact(&mut offer).await.unwrap();
    assert_eq!(offer, *b"\x02\x80\x02\x82pb\x04\x82none");
    raw.write_all(b"\x02\x82pb").await.unwrap();
    let mut version = [0u8; 6];
    raw.read_exact(&mut version).await.unwrap();
    assert_eq!(version, [0x02, 0x80, 0x13, 0x87, 0x06, 0x81]);
    (raw, task)
}

fn frame(items: Vec<Sexp>) -> Vec<u8> {
    encode_to_vec(&Sexp::List(items), Dialect::Pb).unwrap()
}

/// Sends `bytes` and expects the broker to close with a reason.
async fn closes(bytes: &[u8], options: BrokerOptions) -> ProtocolError {
    let (mut raw, task) = server(options).await;
    raw.write_all(bytes).await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the broker did not close")
        .unwrap();
    let mut rest = Vec::new();
    // The peer sees EOF, as Twisted's peers do.
    tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    protocol_error(reason)
}

/// The protocol error a driver ended with.
fn protocol_error(ended: Result<(), ConnectionError>) -> ProtocolError {
    match ended {
        Err(ConnectionError::Protocol(e)) => e,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn violations_close_the_connection_with_a_reason() {
    let default = BrokerOptions::default;
    type Expect = fn(&ProtocolError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        ("non-list frame", vec![0x01, 0x81], |e| {
            matches!(e, ProtocolError::NotACommand)
        }),
        (
            "unknown command",
            frame(vec![Sexp::from("bogus"), Sexp::from(1)]),
            |e| matches!(e, ProtocolError::UnknownCommand { command, arity: 1 } if command == "bogus"),
        ),
        (
            "wrong arity",
            frame(vec![Sexp::from("answer"), Sexp::from(1)]),
            |e| matches!(e, ProtocolError::UnknownCommand { arity: 1, .. }),
        ),
        (
            "wrong argument type",
            frame(vec![Sexp::from("decref"), Sexp::from("x")]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Malformed {
                        command: "decref",
                        field: "luid"
                    }
                )
            },
        ),
        (
            "wrong version",
            frame(vec![Sexp::from("version"), Sexp::from(5)]),
            |e| matches!(e, ProtocolError::Version { peer: 5 }),
        ),
        (
            "unknown decref",
            frame(vec![Sexp::from("decref"), Sexp::from(4242)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::References,
                        id: 4242
                    }
                )
            },
        ),
        (
            "unknown decache",
            frame(vec![Sexp::from("decache"), Sexp::from(4242)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::Caches,
                        id: 4242
                    }
                )
            },
        ),
        (
            "unknown uncache",
            frame(vec![Sexp::from("uncache"), Sexp::from(4242)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::RemoteCaches,
                        id: 4242
                    }
                )
            },
        ),
        (
            "unknown answer",
            frame(vec![Sexp::from("answer"), Sexp::from(777), Sexp::from(1)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::Requests,
                        id: 777
                    }
                )
            },
        ),
        (
            "unknown error",
            frame(vec![Sexp::from("error"), Sexp::from(777), Sexp::from(1)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::Requests,
                        id: 777
                    }
                )
            },
        ),
        ("bad type byte", vec![0x88], |e| {
            matches!(e, ProtocolError::Banana(_))
        }),
        (
            "huge string header",
            vec![0x01, 0x00, 0x00, 0x01, 0x82],
            |e| matches!(e, ProtocolError::Banana(_)),
        ),
        ("65-byte prefix", vec![0x7f; 65], |e| {
            matches!(e, ProtocolError::Banana(_))
        }),
    ];
    for (name, bytes, expected) in cases {
        let reason = closes(&bytes, default()).await;
        assert!(expected(&reason), "{name}: {reason}");
    }
}

#[tokio::test]
async fn a_bad_dialect_choice_closes_without_a_word() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let (_broker, driver) = Broker::new(theirs, Role::Server, BrokerOptions::default());
    let task = tokio::spawn(driver);
    let mut offer = [0u8; 12];
    raw.read_exact(&mut offer).await.unwrap();
    raw.write_all(b"\x03\x82foo").await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(protocol_error(reason), ProtocolError::UnknownDialect { chosen } if chosen == "foo"),
    );
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).await.unwrap();
    assert!(
        rest.is_empty(),
        "the broker answered a bad choice: {rest:?}"
    );
}

#[tokio::test]
async fn too_many_incoming_calls_close_the_connection() {
    let call = |id: i64| {
        frame(vec![
            Sexp::from("message"),
            Sexp::from(id),
            Sexp::from("root"),
            Sexp::from("hang"),
            Sexp::from(1),
            Sexp::list([Sexp::from("tuple")]),
            Sexp::list([Sexp::from("dictionary")]),
        ])
    };
    let mut bytes = call(1);
    bytes.extend(call(2));
    bytes.extend(call(3));
    let reason = closes(&bytes, BrokerOptions::default().with_max_incoming_calls(2)).await;
    assert!(
        matches!(
            reason,
            ProtocolError::Limit {
                limit: Limit::IncomingCalls,
                max: 2
            }
        ),
        "{reason}"
    );
}

#[tokio::test]
async fn an_unknown_object_gets_an_error_reply_and_the_connection_stays() {
    let (mut raw, task) = server(BrokerOptions::default()).await;
    let message = frame(vec![
        Sexp::from("message"),
        Sexp::from(1),
        Sexp::from(99),
        Sexp::from("echo"),
        Sexp::from(1),
        Sexp::list([Sexp::from("tuple")]),
        Sexp::list([Sexp::from("dictionary")]),
    ]);
    raw.write_all(&message).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let reply = spread_banana::decode_all(&buf[..n], Dialect::Pb, Default::default()).unwrap();
    let items = reply[0].as_list().unwrap();
    assert_eq!(items[0], Sexp::from("error"));
    assert_eq!(items[1], Sexp::from(1));
    let text = format!("{:?}", items[2]);
    assert!(
        text.contains("Invalid Object ID") && text.contains("twisted.spread.pb.Error"),
        "{text}"
    );
    assert!(!task.is_finished());
}

/// A peer that sends calls and never reads the answers is disconnected once
/// the answers waiting for it pass the limit. On a paused clock, the write
/// that cannot finish times out exactly when nothing else can run.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_reads_is_disconnected() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let options = BrokerOptions::default().with_max_output_buffer(64 * 1024);
    let (_broker, driver) = Broker::new(
        theirs,
        Role::Server,
        options.with_root(Arc::new(TestRoot::default())),
    );
    let task = tokio::spawn(driver);
    raw.write_all(b"\x02\x82pb").await.unwrap();
    let big = Sexp::from(vec![b'x'; 16 * 1024]);
    let mut request = 1;
    let reason = loop {
        let message = frame(vec![
            Sexp::from("message"),
            Sexp::from(request),
            Sexp::from("root"),
            Sexp::from("echo"),
            Sexp::from(1),
            Sexp::list([Sexp::from("tuple"), big.clone()]),
            Sexp::list([Sexp::from("dictionary")]),
        ]);
        request += 1;
        assert!(request < 1000, "never disconnected");
        // Bounded: the write stalls once the pipe is full, and the broker's
        // answers pile up on its side.
        match tokio::time::timeout(Duration::from_millis(500), raw.write_all(&message)).await {
            Ok(Ok(())) => continue,
            _ => {
                break tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .expect("did not close")
                    .unwrap();
            }
        }
    };
    assert!(matches!(
        protocol_error(reason),
        ProtocolError::Limit {
            limit: Limit::OutputBuffer,
            ..
        }
    ));
}

/// A peer that chooses the `none` dialect (the spec's `none_dialect` probe):
/// no vocabulary either way, and everything else unchanged.
#[tokio::test]
async fn the_none_dialect_works_without_vocabulary() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let (_broker, driver) = Broker::new(
        theirs,
        Role::Server,
        BrokerOptions::default().with_root(Arc::new(TestRoot::default())),
    );
    tokio::spawn(driver);
    let mut offer = [0u8; 12];
    raw.read_exact(&mut offer).await.unwrap();
    raw.write_all(b"\x04\x82none").await.unwrap();
    // ["version", 6] with "version" spelled out: 02 80 07 82 version 06 81.
    let mut version = [0u8; 13];
    raw.read_exact(&mut version).await.unwrap();
    assert_eq!(version, *b"\x02\x80\x07\x82version\x06\x81");
    let message = encode_to_vec(
        &Sexp::list([
            Sexp::from("message"),
            Sexp::from(1),
            Sexp::from("root"),
            Sexp::from("echo"),
            Sexp::from(1),
            Sexp::list([Sexp::from("tuple"), Sexp::from(5)]),
            Sexp::list([Sexp::from("dictionary")]),
        ]),
        Dialect::None,
    )
    .unwrap();
    raw.write_all(&message).await.unwrap();
    let expected = encode_to_vec(
        &Sexp::list([Sexp::from("answer"), Sexp::from(1), Sexp::from(5)]),
        Dialect::None,
    )
    .unwrap();
    let mut answer = vec![0u8; expected.len()];
    tokio::time::timeout(Duration::from_secs(5), raw.read_exact(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer, expected);
}

/// A peer that connects and never answers the dialect offer is
/// disconnected when the handshake timeout passes.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_finishes_the_handshake_is_disconnected() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let options = BrokerOptions::default().with_handshake_timeout(Duration::from_secs(2));
    let (broker, driver) = Broker::new(theirs, Role::Server, options);
    let task = tokio::spawn(driver);
    let mut offer = [0u8; 12];
    raw.read_exact(&mut offer).await.unwrap();
    let reason = task.await.unwrap();
    assert!(
        matches!(reason, Err(ConnectionError::HandshakeTimeout(d)) if d == Duration::from_secs(2)),
        "{reason:?}"
    );
    assert!(broker.root_object().await.is_err());
}

/// A peer that closes in the middle of a frame (a float cut short here)
/// ends the connection with a reason, not as an orderly close.
#[tokio::test]
async fn a_peer_that_closes_mid_frame_is_reported() {
    for partial in [
        &b"\x02\x80\x07\x82message\x84\x01\x02\x03"[..],
        b"\x01\x02\x03",
    ] {
        let (mut raw, task) = server(BrokerOptions::default()).await;
        raw.write_all(partial).await.unwrap();
        raw.shutdown().await.unwrap();
        drop(raw);
        let reason = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the broker did not close")
            .unwrap();
        assert!(
            matches!(reason, Err(ConnectionError::ClosedMidFrame)),
            "{partial:?}: {reason:?}"
        );
    }
}
