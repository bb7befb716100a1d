use std::sync::Arc;
use std::time::Duration;

use spread_banana::{DecodeError, Dialect, Sexp, encode_to_vec};
use spread_broker::{Broker, BrokerOptions, ConnectionError, Limit, ProtocolError, Role, Table};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::support::TestRoot;

/// What a spread server offers, in Banana before any dialect is chosen:
/// `["spread-msgpack", "pb", "none"]`.
const OFFER: &[u8] = b"\x03\x80\x0e\x82spread-msgpack\x02\x82pb\x04\x82none";

/// A Rust server and a raw peer that has chosen `dialect` (pb is what a
/// Twisted client chooses from the default offer).
async fn server_in(
    dialect: Dialect,
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
    let mut offer = vec![0u8; OFFER.len()];
    raw.read_exact(&mut offer).await.unwrap();
    assert_eq!(offer, OFFER);
    let choice = encode_to_vec(&Sexp::from(dialect.name()), Dialect::None).unwrap();
    raw.write_all(&choice).await.unwrap();
    let expected = frame_in(dialect, vec![Sexp::from("version"), Sexp::from(6)]);
    let mut version = vec![0u8; expected.len()];
    raw.read_exact(&mut version).await.unwrap();
    assert_eq!(version, expected);
    (raw, task)
}

fn frame(items: Vec<Sexp>) -> Vec<u8> {
    frame_in(Dialect::Pb, items)
}

fn frame_in(dialect: Dialect, items: Vec<Sexp>) -> Vec<u8> {
    encode_to_vec(&Sexp::List(items), dialect).unwrap()
}

/// Sends `bytes` and expects the broker to close with a reason.
async fn closes(bytes: &[u8], options: BrokerOptions) -> ProtocolError {
    closes_in(Dialect::Pb, bytes, options).await
}

/// Sends `bytes` in `dialect` and expects the broker to close with a reason.
async fn closes_in(dialect: Dialect, bytes: &[u8], options: BrokerOptions) -> ProtocolError {
    let (mut raw, task) = server_in(dialect, options).await;
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
    for dialect in [Dialect::Pb, Dialect::Msgpack] {
        violations_close_the_connection_in(dialect).await;
    }
}

/// Every frame that breaks PB, in `dialect`, and then the malformed bytes
/// of that dialect.
async fn violations_close_the_connection_in(dialect: Dialect) {
    let default = BrokerOptions::default;
    let frame = |items| frame_in(dialect, items);
    type Expect = fn(&ProtocolError) -> bool;
    let mut cases: Vec<(&str, Vec<u8>, Expect)> = vec![
        (
            "non-list frame",
            encode_to_vec(&Sexp::from(1), dialect).unwrap(),
            |e| matches!(e, ProtocolError::NotACommand),
        ),
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
    ];
    let malformed: Vec<(&str, Vec<u8>, Expect)> = match dialect {
        Dialect::Msgpack => vec![
            (
                "frame over the expression limit",
                vec![0xff, 0xff, 0xff, 0xff],
                |e| {
                    matches!(
                        e,
                        ProtocolError::Banana(DecodeError::ExpressionTooLong { .. })
                    )
                },
            ),
            ("nil", vec![0, 0, 0, 1, 0xc0], |e| {
                matches!(
                    e,
                    ProtocolError::Banana(DecodeError::UnexpectedMsgpack { .. })
                )
            }),
            ("str for bin", vec![0, 0, 0, 3, 0x91, 0xa1, b'x'], |e| {
                matches!(
                    e,
                    ProtocolError::Banana(DecodeError::UnexpectedMsgpack { .. })
                )
            }),
            ("bytes after the value", vec![0, 0, 0, 2, 0x90, 0x90], |e| {
                matches!(
                    e,
                    ProtocolError::Banana(DecodeError::MalformedMsgpack { .. })
                )
            }),
            (
                "array announcing four billion",
                vec![0, 0, 0, 5, 0xdd, 0xff, 0xff, 0xff, 0xff],
                |e| matches!(e, ProtocolError::Banana(DecodeError::ListTooLong { .. })),
            ),
            ("a Banana frame", vec![0x01, 0x81, 0x01, 0x81], |e| {
                matches!(e, ProtocolError::Banana(_))
            }),
        ],
        _ => vec![
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
        ],
    };
    cases.extend(malformed);
    for (name, bytes, expected) in cases {
        let reason = closes_in(dialect, &bytes, default()).await;
        assert!(expected(&reason), "{dialect:?}, {name}: {reason}");
    }
}

#[tokio::test]
async fn a_bad_dialect_choice_closes_without_a_word() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let (_broker, driver) = Broker::new(theirs, Role::Server, BrokerOptions::default());
    let task = tokio::spawn(driver);
    let mut offer = vec![0u8; OFFER.len()];
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
    for dialect in [Dialect::Pb, Dialect::Msgpack] {
        let (mut raw, task) = server_in(dialect, BrokerOptions::default()).await;
        let message = frame_in(
            dialect,
            vec![
                Sexp::from("message"),
                Sexp::from(1),
                Sexp::from(99),
                Sexp::from("echo"),
                Sexp::from(1),
                Sexp::list([Sexp::from("tuple")]),
                Sexp::list([Sexp::from("dictionary")]),
            ],
        );
        raw.write_all(&message).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let mut n = 0;
        let reply = loop {
            n += tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf[n..]))
                .await
                .unwrap()
                .unwrap();
            if let Ok(reply) = spread_banana::decode_all(&buf[..n], dialect, Default::default()) {
                break reply;
            }
        };
        let items = reply[0].as_list().unwrap();
        assert_eq!(items[0], Sexp::from("error"));
        assert_eq!(items[1], Sexp::from(1));
        let text = format!("{:?}", items[2]);
        assert!(
            text.contains("Invalid Object ID") && text.contains("twisted.spread.pb.Error"),
            "{dialect:?}: {text}"
        );
        assert!(!task.is_finished());
    }
}

/// A server told to speak only Twisted's dialects offers only those, and
/// refuses a choice of msgpack as it would any name it did not offer.
#[tokio::test]
async fn a_dialect_not_offered_is_refused() {
    let (mut raw, theirs) = tokio::io::duplex(4096);
    let options = BrokerOptions::default()
        .with_dialects(&Dialect::KNOWN)
        .unwrap();
    let (_broker, driver) = Broker::new(theirs, Role::Server, options);
    let task = tokio::spawn(driver);
    let mut offer = [0u8; 12];
    raw.read_exact(&mut offer).await.unwrap();
    assert_eq!(
        offer, *b"\x02\x80\x02\x82pb\x04\x82none",
        "Twisted's own offer"
    );
    raw.write_all(b"\x0e\x82spread-msgpack").await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(protocol_error(reason), ProtocolError::UnknownDialect { chosen } if chosen == "spread-msgpack"),
    );
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
    let mut offer = vec![0u8; OFFER.len()];
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
    let mut offer = vec![0u8; OFFER.len()];
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
    for (dialect, partial) in [
        (Dialect::Pb, &b"\x02\x80\x07\x82message\x84\x01\x02\x03"[..]),
        (Dialect::Pb, b"\x01\x02\x03"),
        // A msgpack frame's length alone, or cut short.
        (Dialect::Msgpack, b"\x00\x00"),
        (Dialect::Msgpack, b"\x00\x00\x00\x05\x92\x01"),
    ] {
        let (mut raw, task) = server_in(dialect, BrokerOptions::default()).await;
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
