//! The proxy's reading of a session, without sockets: frames from both
//! directions of a Twisted trace, in the order they crossed.

use crate::decode::Reader;
use crate::proxy::Dir;
use crate::proxy::annotate::Session;
use crate::proxy::output::Line;

use spread::banana::{Dialect, Limits};

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn summaries(lines: Vec<Line>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| match line {
            Line::Frame { summary, frame, .. } => summary.unwrap_or(frame),
            Line::Malformed { message, .. } => format!("malformed: {message}"),
            Line::Raw { hex } => format!("raw {hex}"),
        })
        .collect()
}

#[test]
fn a_session_is_annotated_and_answers_match_their_calls() {
    use Dir::{ClientToServer as Up, ServerToClient as Down};
    // Session 2 of the traces, the start of a cred login, plus an error.
    let traffic = [
        (Down, "02800282706204826e6f6e65"),
        (Up, "02827062"),
        (Up, "028013870681"),
        (
            Up,
            "07801a8701810482726f6f741487018102800b8704827573657201800587",
        ),
        (Down, "028013870681"),
        (Down, "03801b8701810281"),
        (
            Up,
            "07801a8702810482726f6f740a82636865636b4475636b73008101800b8701800587",
        ),
        (
            Up,
            "07801a8703810482726f6f7404826661696c018101800b8701800587",
        ),
        (Down, "03801c87038101800187"),
        (Down, "03801b87098101800187"),
    ];
    let mut session = Session::default();
    let mut up = Reader::new(Limits::default(), Dialect::None, true);
    let mut down = Reader::new(Limits::default(), Dialect::None, false);
    let mut seen = Vec::new();
    for (dir, hex) in traffic {
        let reader = if dir == Up { &mut up } else { &mut down };
        seen.extend(summaries(session.describe(dir, reader, &unhex(hex))));
    }
    assert_eq!(
        seen,
        [
            "dialect offer",
            "dialect choice pb",
            "version 6",
            "message 1 root.login",
            "version 6",
            "answer 1 (to message 1 login)",
            "message 2 root.checkDucks (no answer wanted)",
            "message 3 root.fail",
            "error 3 (to message 3 fail)",
            "answer 9 (to no call seen)",
        ]
    );
}

#[test]
fn malformed_traffic_is_shown_raw_from_its_frame_on() {
    let mut session = Session::default();
    let mut up = Reader::new(Limits::default(), Dialect::None, true);
    let lines = summaries(session.describe(
        Dir::ClientToServer,
        &mut up,
        &[0x02, 0x82, b'p', b'b', 0x02, 0x80, 0x88, 0xff],
    ));
    assert_eq!(
        lines,
        [
            "dialect choice pb",
            "malformed: cannot decode frame 2 (starting at byte 4): at byte 6: unknown type byte 0x88",
            "raw 028088ff",
        ]
    );
    // Later reads are shown raw too, never decoded again.
    let lines = summaries(session.describe(Dir::ClientToServer, &mut up, &[0x01, 0x81]));
    assert_eq!(lines, ["raw 0181"]);
}

/// Two spread peers: the proxy follows the choice of msgpack both ways.
#[test]
fn a_msgpack_session_is_annotated_too() {
    use Dir::{ClientToServer as Up, ServerToClient as Down};
    use spread::banana::{Sexp, encode_to_vec};
    let msgpack = |items: Vec<Sexp>| encode_to_vec(&Sexp::List(items), Dialect::Msgpack).unwrap();
    let version = msgpack(vec![Sexp::from("version"), Sexp::from(6)]);
    let traffic = [
        (
            Down,
            b"\x03\x80\x0e\x82spread-msgpack\x02\x82pb\x04\x82none".to_vec(),
        ),
        (Up, [&b"\x0e\x82spread-msgpack"[..], &version].concat()),
        (
            Up,
            msgpack(vec![
                Sexp::from("message"),
                Sexp::from(1),
                Sexp::from("root"),
                Sexp::from("fail"),
                Sexp::from(1),
                Sexp::list([Sexp::from("tuple")]),
                Sexp::list([Sexp::from("dictionary")]),
            ]),
        ),
        (Down, version.clone()),
        (
            Down,
            msgpack(vec![Sexp::from("error"), Sexp::from(1), Sexp::from("x")]),
        ),
    ];
    let mut session = Session::default();
    let mut up = Reader::new(Limits::default(), Dialect::None, true);
    let mut down = Reader::new(Limits::default(), Dialect::None, false);
    let mut seen = Vec::new();
    for (dir, bytes) in traffic {
        let reader = if dir == Up { &mut up } else { &mut down };
        seen.extend(summaries(session.describe(dir, reader, &bytes)));
    }
    assert_eq!(
        seen,
        [
            "dialect offer",
            "dialect choice spread-msgpack",
            "version 6",
            "message 1 root.fail",
            "version 6",
            "error 1 (to message 1 fail)",
        ]
    );
}
