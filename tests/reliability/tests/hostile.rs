//! The Rust echo server against peers that break every rule, one
//! connection each, while a well-behaved client keeps calling: each
//! offence closes only its own connection (with the reason in the server's
//! log) or refuses only its own call, and the server's memory stays
//! bounded.

use std::time::Duration;

use spread_banana::{Dialect, Sexp};
use spread_interop::peer::Process;
use spread_reliability::{Caller, Memory, RawPeer, frame, message};

use crate::echo_server;

/// `n` as a Banana header: base-128 digits, least significant first.
fn header(mut n: u64, type_byte: u8) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        out.push((n & 0x7f) as u8);
        n >>= 7;
        if n == 0 {
            break;
        }
    }
    out.push(type_byte);
    out
}

fn list(n: u64) -> Vec<u8> {
    header(n, 0x80)
}

fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = header(bytes.len() as u64, 0x82);
    out.extend_from_slice(bytes);
    out
}

/// Frames the server must answer by closing the connection, and a word of
/// the reason it must log.
fn closing_cases() -> Vec<(String, Vec<u8>, &'static str)> {
    let s = |text: &'static str| Sexp::from(text);
    let n = Sexp::from;
    let tuple = || Sexp::list([s("tuple")]);
    let dict = || Sexp::list([s("dictionary")]);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a header of 70 bytes", vec![0x01; 70], "bad banana"),
        (
            "a string claiming 1 GiB",
            header(1 << 30, 0x82),
            "bad banana",
        ),
        (
            "a list claiming 2^40 items",
            header(1 << 40, 0x80),
            "bad banana",
        ),
        (
            "lists nested 100 000 deep",
            [0x01, 0x80].repeat(100_000),
            "bad banana",
        ),
        (
            "a long int of 65 header bytes, past the 448 bits Twisted sends",
            [vec![0x7f; 65], vec![0x85]].concat(),
            "bad banana",
        ),
        (
            "1.2 million empty lists in one frame, 2.4 MB on the wire",
            [
                list(2),
                [list(600_000), [0x00, 0x80].repeat(600_000)]
                    .concat()
                    .repeat(2),
            ]
            .concat(),
            "tokens",
        ),
        (
            "a vocab index out of range",
            [list(1), header(120, 0x87)].concat(),
            "bad banana",
        ),
        (
            "a vocab index past 64 bits",
            [vec![0x7f; 12], vec![0x87]].concat(),
            "bad banana",
        ),
        ("an unknown type byte", vec![0x05, 0x89], "bad banana"),
        (
            "a frame that is not a command",
            header(5, 0x81),
            "not a command",
        ),
        (
            "an unknown command",
            frame(vec![s("frobnicate"), n(1)]),
            "unknown command",
        ),
        (
            "a version the server does not speak",
            frame(vec![s("version"), n(5)]),
            "version",
        ),
        (
            "an answer to a request never sent",
            frame(vec![s("answer"), n(99), n(1)]),
            "unknown id 99",
        ),
        (
            "an error for a request never sent",
            frame(vec![s("error"), n(99), s("x")]),
            "unknown id 99",
        ),
        (
            "a decref of an unknown object",
            frame(vec![s("decref"), n(4242)]),
            "unknown id 4242",
        ),
        (
            "a decache of an unknown cache",
            frame(vec![s("decache"), n(4242)]),
            "unknown id 4242",
        ),
        (
            "an uncache of an unknown cache",
            frame(vec![s("uncache"), n(4242)]),
            "unknown id 4242",
        ),
    ];
    let mut wrong = Vec::new();
    // Every command with one argument too few and one too many, and with
    // an argument of the wrong type.
    let good: Vec<(&str, Vec<Sexp>)> = vec![
        (
            "message",
            vec![n(1), s("root"), s("echo"), n(1), tuple(), dict()],
        ),
        (
            "cachemessage",
            vec![n(1), n(7), s("echo"), n(1), tuple(), dict()],
        ),
        ("answer", vec![n(1), n(1)]),
        ("error", vec![n(1), s("x")]),
        ("decref", vec![n(1)]),
        ("decache", vec![n(1)]),
        ("uncache", vec![n(1)]),
        ("version", vec![n(6)]),
    ];
    for (command, args) in good {
        let with = |args: Vec<Sexp>| frame([vec![s(command)], args].concat());
        let short = args[..args.len() - 1].to_vec();
        let long = [args.clone(), vec![n(0)]].concat();
        let mut typed = args.clone();
        // The first argument is an int everywhere; a list is never right.
        typed[0] = Sexp::list([n(1)]);
        wrong.push((
            format!("{command} with an argument too few"),
            with(short),
            "unknown command",
        ));
        wrong.push((
            format!("{command} with an argument too many"),
            with(long),
            "unknown command",
        ));
        wrong.push((
            format!("{command} with a list for an int"),
            with(typed),
            "malformed",
        ));
    }
    // A method name that is not UTF-8 cannot name a method.
    cases.push((
        "a method name that is not UTF-8",
        frame(vec![
            s("message"),
            n(1),
            s("root"),
            Sexp::from(&b"\xff\xfe"[..]),
            n(1),
            tuple(),
            dict(),
        ]),
        "malformed message",
    ));
    // The peer half-closes with a float's 8 bytes cut to 3.
    cases.push((
        "a float cut short, then EOF",
        [list(2), string(b"answer"), vec![0x84, 1, 2, 3]].concat(),
        "middle of a frame",
    ));
    cases
        .into_iter()
        .map(|(name, bytes, reason)| (name.to_owned(), bytes, reason))
        .chain(wrong)
        .collect()
}

/// Calls the server must refuse with an error answer, keeping the
/// connection, and a word of the error.
fn refused_calls() -> Vec<(&'static str, Vec<Sexp>, &'static str)> {
    let s = |text: &'static str| Sexp::from(text);
    let remote = |luid: i64| Sexp::list([s("remote"), Sexp::from(luid)]);
    vec![
        (
            "non-UTF-8 in a unicode",
            vec![Sexp::list([s("unicode"), Sexp::from(&b"\xc3\x28 bad"[..])])],
            "invalid UTF-8",
        ),
        (
            "an unknown jelly type",
            vec![Sexp::list([s("frobnicate"), Sexp::from(1)])],
            "InsecureJelly",
        ),
        (
            "a class nobody registered",
            vec![Sexp::list([s("os.system"), Sexp::list([s("dictionary")])])],
            "InsecureJelly",
        ),
        (
            "a reference to an undefined id",
            vec![Sexp::list([s("dereference"), Sexp::from(99)])],
            "99",
        ),
        (
            "a local reference to an object the server never sent",
            vec![Sexp::list([s("local"), Sexp::from(77)])],
            "77",
        ),
        (
            "more references than the per-connection limit (65 536)",
            vec![Sexp::List(
                std::iter::once(s("list"))
                    .chain((1..=70_000).map(remote))
                    .collect(),
            )],
            "Maximum PB reference count exceeded",
        ),
    ]
}

/// Sends `bytes` on a fresh connection in `dialect` (a name ending in
/// "then EOF" closes it after), and checks that the server closes that
/// connection with `reason` in its log while the caller's still answers.
fn closes_alone(
    (server, port): (&Process, u16),
    caller: &Caller,
    dialect: Dialect,
    name: &str,
    bytes: &[u8],
    reason: &str,
) {
    let mut peer = RawPeer::connect_in(port, dialect);
    // The server may close before all is written.
    let _ = peer.send(bytes);
    if name.ends_with("then EOF") {
        peer.finish();
    }
    peer.expect_closed();
    let (logged, _) = server.wait_for_stderr("closed a PB connection");
    assert!(
        logged.contains(reason),
        "{name}: expected a reason with {reason:?}, the server logged {logged:?}"
    );
    caller.wait_for_answers(5);
}

#[test]
fn hostile_peers_cost_only_their_own_connection() {
    let (server, port) = echo_server();
    let caller = Caller::start(port);
    caller.wait_for_answers(10);
    let before = Memory::of(server.pid());

    for (name, bytes, reason) in closing_cases() {
        closes_alone((&server, port), &caller, Dialect::Pb, &name, &bytes, reason);
    }

    for (name, args, error) in refused_calls() {
        let mut peer = RawPeer::connect(port);
        let reply = peer.call(1, "echo", args);
        let items = reply.as_list().unwrap();
        assert_eq!(items[0], Sexp::from("error"), "{name}: {reply:?}");
        let text = format!("{:?}", items[2]);
        assert!(text.contains(error), "{name}: expected {error:?} in {text}");
        // The same connection still answers.
        let reply = peer.call(2, "echo", vec![Sexp::from(5)]);
        assert_eq!(
            reply,
            Sexp::list([Sexp::from("answer"), Sexp::from(2), Sexp::from(5)]),
            "{name}: the connection did not survive"
        );
        caller.wait_for_answers(5);
    }

    let after = Memory::of(server.pid());
    eprintln!("hostile frames: memory before {before:?}, after {after:?}");
    // A 1 GiB string or 2^40 list taken at its word would show here; what
    // the cases do hold (a 16 MiB frame at most) stays well under this.
    assert!(
        after.peak_kib < before.rss_kib + 96 * 1024,
        "the server grew from {before:?} to {after:?}"
    );
    assert!(caller.finish() > 100);
}

/// The same in spread's own dialect, which a peer that chooses it gets:
/// frames that claim more than the limits allow, or hold what msgpack
/// frames never do, close their own connection and nothing else, and a
/// refused call leaves the connection answering.
#[test]
fn hostile_msgpack_peers_cost_only_their_own_connection() {
    let (server, port) = echo_server();
    let caller = Caller::start(port);
    caller.wait_for_answers(10);
    let before = Memory::of(server.pid());
    let framed = |body: Vec<u8>| [(body.len() as u32).to_be_bytes().to_vec(), body].concat();
    // 16 arrays of 65,535 empty arrays: one value past the token limit.
    let mut tokens = vec![0xdc, 0x00, 0x10];
    for _ in 0..16 {
        tokens.extend([0xdc, 0xff, 0xff]);
        tokens.extend(vec![0x90; 0xffff]);
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a frame claiming 4 GiB", vec![0xff; 4], "bad banana"),
        (
            "an array claiming 4 billion items",
            framed(vec![0xdd, 0xff, 0xff, 0xff, 0xff]),
            "bad banana",
        ),
        (
            "a bin claiming 4 GiB",
            framed(vec![0xc6, 0xff, 0xff, 0xff, 0xff]),
            "bad banana",
        ),
        (
            "arrays nested 100 000 deep",
            framed([vec![0x91; 99_999], vec![0x90]].concat()),
            "bad banana",
        ),
        ("a frame of 1 048 577 values", framed(tokens), "bad banana"),
        ("a nil", framed(vec![0xc0]), "bad banana"),
        ("a map", framed(vec![0x81, 0x01, 0x02]), "bad banana"),
        ("a str", framed(vec![0xa1, b'x']), "bad banana"),
        (
            "a frame cut short, then EOF",
            vec![0, 0, 0, 9, 0x92, 0x01],
            "middle of a frame",
        ),
    ];
    for (name, bytes, reason) in cases {
        closes_alone(
            (&server, port),
            &caller,
            Dialect::Msgpack,
            name,
            &bytes,
            reason,
        );
    }

    let mut peer = RawPeer::connect_in(port, Dialect::Msgpack);
    let reply = peer.call(1, "echo", vec![Sexp::list([Sexp::from("bogus.Class")])]);
    assert_eq!(
        reply.as_list().unwrap()[0],
        Sexp::from("error"),
        "{reply:?}"
    );
    let reply = peer.call(2, "echo", vec![Sexp::from(5)]);
    assert_eq!(
        reply,
        Sexp::list([Sexp::from("answer"), Sexp::from(2), Sexp::from(5)])
    );

    let after = Memory::of(server.pid());
    eprintln!("hostile msgpack frames: memory before {before:?}, after {after:?}");
    assert!(
        after.peak_kib < before.rss_kib + 96 * 1024,
        "the server grew from {before:?} to {after:?}"
    );
    assert!(caller.finish() > 10);
}

/// A peer that sends calls and never reads their answers: the server keeps
/// at most its output limit (64 MiB) for it, then disconnects it, and the
/// well-behaved client is answered throughout.
#[test]
fn a_peer_that_never_reads_costs_bounded_memory() {
    let (server, port) = echo_server();
    let caller = Caller::start(port);
    caller.wait_for_answers(10);
    let before = Memory::of(server.pid());
    let mut peer = RawPeer::connect(port);
    let payload = Sexp::from(vec![b'x'; 600 * 1024]);
    // 1 GiB of calls, if it were all taken: the write fails long before.
    let mut sent = 0usize;
    let mut request = 1;
    while sent < 1 << 30 {
        let call = message(request, "echo", vec![payload.clone()]);
        if peer.send(&call).is_err() {
            break;
        }
        sent += call.len();
        request += 1;
    }
    assert!(
        sent < 1 << 30,
        "the server took 1 GiB of calls it could not answer"
    );
    let (logged, _) = server.wait_for_stderr("closed a PB connection");
    assert!(logged.contains("OutputBuffer"), "{logged}");
    caller.wait_for_answers(10);
    let after = Memory::of(server.pid());
    eprintln!("a peer that never reads: memory before {before:?}, after {after:?}");
    assert!(
        after.peak_kib < before.rss_kib + 160 * 1024,
        "the server grew from {before:?} to {after:?}"
    );
    caller.finish();
}

/// Connections that never finish the handshake are closed when its timeout
/// passes (30 s by default), whatever else goes on.
#[test]
fn connections_that_never_finish_the_handshake_are_closed() {
    let (server, port) = echo_server();
    let caller = Caller::start(port);
    let mut idle: Vec<RawPeer> = (0..200).map(|_| RawPeer::connect_only(port)).collect();
    // Half of them read the offer; none of them answers it.
    for peer in idle.iter_mut().step_by(2) {
        assert!(peer.next_frame().is_some());
    }
    caller.wait_for_answers(10);
    for peer in &mut idle {
        peer.expect_closed_within(Duration::from_secs(60));
    }
    let (logged, _) = server.wait_for_stderr("closed a PB connection");
    assert!(logged.contains("did not finish the handshake"), "{logged}");
    caller.wait_for_answers(10);
    caller.finish();
}
