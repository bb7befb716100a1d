//! `spread decode` against the PB session traces captured from Twisted
//! (`spec/pb-session-traces.md`): each `hex:` line must print as its
//! `sexp:` line, and malformed input must say where and why it stopped.

use spread::banana::{DecodeError, Dialect, Limits, Sexp};

use crate::decode::{DialectArg, Reader, Repr, decode};

/// Session 1 (Copyable, Cacheable, errors): `(hex, sexp)` of frames #1 to
/// #12 and the `ValueError` failure, in the order the trace lists them.
const SESSION_1: &[(&str, &str)] = &[
    // #1 S->C
    ("02800282706204826e6f6e65", r#"[b'pb', b'none']"#),
    // #2 C->S
    ("02827062", r#"b'pb'"#),
    // #3 C->S
    ("028013870681", r#"[b'version', 6]"#),
    // #4 S->C
    ("028013870681", r#"[b'version', 6]"#),
    // #5 C->S
    (
        "07801a8701810482726f6f74088274616b65506f6e64018102800b8702801482636f70795f73656e6465722e436f7079506f6e6403800587028002800782756e69636f64650582636f6c6f7202800782756e69636f64650582677265656e028002800782756e69636f646508826e756d46726f6773078101800587",
        r#"[b'message', 1, b'root', b'takePond', 1, [b'tuple', [b'copy_sender.CopyPond', [b'dictionary', [[b'unicode', b'color'], [b'unicode', b'green']], [[b'unicode', b'numFrogs'], 7]]]], [b'dictionary']]"#,
    ),
    // #6 S->C
    (
        "03801b87018102800782756e69636f64650e827361666520616e6420736f756e64",
        r#"[b'answer', 1, [b'unicode', b'safe and sound']]"#,
    ),
    // #7 C->S
    (
        "07801a8702810482726f6f740c8274616b654475636b506f6e64018102800b8703801c8263616368655f636c61737365732e4d61737465724475636b506f6e6401810380088702800782756e69636f646508826f6e65206475636b02800782756e69636f6465088274776f206475636b01800587",
        r#"[b'message', 2, b'root', b'takeDuckPond', 1, [b'tuple', [b'cache_classes.MasterDuckPond', 1, [b'list', [b'unicode', b'one duck'], [b'unicode', b'two duck']]]], [b'dictionary']]"#,
    ),
    // #8 S->C
    ("03801b8702810281", r#"[b'answer', 2, 2]"#),
    // #9 C->S
    (
        "078019870381018107826164644475636b018102800b8702800782756e69636f64650d8275676c79206475636b6c696e6701800587",
        r#"[b'cachemessage', 3, 1, b'addDuck', 1, [b'tuple', [b'unicode', b'ugly duckling']], [b'dictionary']]"#,
    ),
    // #10 S->C
    ("03801b87038101800187", r#"[b'answer', 3, [b'None']]"#),
    // #11 C->S
    (
        "07801a8704810482726f6f740a82636865636b4475636b73018101800b8701800587",
        r#"[b'message', 4, b'root', b'checkDucks', 1, [b'tuple'], [b'dictionary']]"#,
    ),
    // #12 S->C
    (
        "03801b8704810480088702800782756e69636f646508826f6e65206475636b02800782756e69636f6465088274776f206475636b02800782756e69636f64650d8275676c79206475636b6c696e67",
        r#"[b'answer', 4, [b'list', [b'unicode', b'one duck'], [b'unicode', b'two duck'], [b'unicode', b'ugly duckling']]]"#,
    ),
    // #43 S->C
    (
        "03801c87108102802182747769737465642e7370726561642e70622e436f707961626c654661696c7572650b800587028002800782756e69636f64650582636f756e740581028002800782756e69636f646504827479706513826275696c74696e732e56616c75654572726f72028002800782756e69636f6465058276616c756502800782756e69636f64650482626f6f6d028002800782756e69636f64650b82636170747572655661727302800782626f6f6c65616e058266616c7365028002800782756e69636f64650282746201800187028002800782756e69636f64651082756e7361666554726163656261636b7302800782626f6f6c65616e058266616c7365028002800782756e69636f64650782706172656e74730580088702800782756e69636f646513826275696c74696e732e56616c75654572726f7202800782756e69636f646512826275696c74696e732e457863657074696f6e02800782756e69636f646516826275696c74696e732e42617365457863657074696f6e02800782756e69636f64650f826275696c74696e732e6f626a656374028002800782756e69636f646506826672616d657301800887028002800782756e69636f64650582737461636b01800887028002800782756e69636f6465098274726163656261636b02800782756e69636f6465168254726163656261636b20756e617661696c61626c650a",
        r#"[b'error', 16, [b'twisted.spread.pb.CopyableFailure', [b'dictionary', [[b'unicode', b'count'], 5], [[b'unicode', b'type'], b'builtins.ValueError'], [[b'unicode', b'value'], [b'unicode', b'boom']], [[b'unicode', b'captureVars'], [b'boolean', b'false']], [[b'unicode', b'tb'], [b'None']], [[b'unicode', b'unsafeTracebacks'], [b'boolean', b'false']], [[b'unicode', b'parents'], [b'list', [b'unicode', b'builtins.ValueError'], [b'unicode', b'builtins.Exception'], [b'unicode', b'builtins.BaseException'], [b'unicode', b'builtins.object']]], [[b'unicode', b'frames'], [b'list']], [[b'unicode', b'stack'], [b'list']], [[b'unicode', b'traceback'], [b'unicode', b'Traceback unavailable\n']]]]]"#,
    ),
];

/// (cred login), frames in the order the trace lists them.
const SESSION_2: &[(&str, &str)] = &[
    // #1 S->C
    ("02800282706204826e6f6e65", r#"[b'pb', b'none']"#),
    // #2 C->S
    ("02827062", r#"b'pb'"#),
    // #3 C->S
    ("028013870681", r#"[b'version', 6]"#),
    // #4 C->S
    (
        "07801a8701810482726f6f741487018102800b8704827573657201800587",
        r#"[b'message', 1, b'root', b'login', 1, [b'tuple', b'user'], [b'dictionary']]"#,
    ),
    // #5 S->C
    ("028013870681", r#"[b'version', 6]"#),
    // #6 S->C
    (
        "03801b87018103800b871082c9d24d7f33018a48106afe2f062ebf96028010870181",
        r#"[b'answer', 1, [b'tuple', b'\xc9\xd2M\x7f3\x01\x8aH\x10j\xfe/\x06.\xbf\x96', [b'remote', 1]]]"#,
    ),
    // #7 C->S
    (
        "07801a87028101810782726573706f6e64018103800b871082a86b6ce5cb9baeebb033ecf8f1fecbc202801087018101800587",
        r#"[b'message', 2, 1, b'respond', 1, [b'tuple', b'\xa8kl\xe5\xcb\x9b\xae\xeb\xb03\xec\xf8\xf1\xfe\xcb\xc2', [b'remote', 1]], [b'dictionary']]"#,
    ),
    // #8 C->S
    ("02801d870181", r#"[b'decref', 1]"#),
    // #9 S->C
    (
        "03801b870281028010870281",
        r#"[b'answer', 2, [b'remote', 2]]"#,
    ),
    // #25 S->C
    (
        "03801c87088102802182747769737465642e7370726561642e70622e436f707961626c654661696c7572650d800587028002800782756e69636f64650582636f756e740581028002800782756e69636f64650482747970652482747769737465642e637265642e6572726f722e556e617574686f72697a65644c6f67696e028002800782756e69636f6465058276616c756502800782756e69636f64650082028002800782756e69636f64650b82636170747572655661727302800782626f6f6c65616e058266616c7365028002800782756e69636f64650282746201800187028002800782756e69636f646507827069636b6c65640181028002800782756e69636f646507825f6672616d657301800887028002800782756e69636f64651082756e7361666554726163656261636b7302800782626f6f6c65616e058266616c7365028002800782756e69636f64650782706172656e74730780088702800782756e69636f64652482747769737465642e637265642e6572726f722e556e617574686f72697a65644c6f67696e02800782756e69636f64651e82747769737465642e637265642e6572726f722e4c6f67696e4661696c656402800782756e69636f64651f82747769737465642e637265642e6572726f722e556e617574686f72697a656402800782756e69636f646512826275696c74696e732e457863657074696f6e02800782756e69636f646516826275696c74696e732e42617365457863657074696f6e02800782756e69636f64650f826275696c74696e732e6f626a656374028002800782756e69636f646506826672616d657301800887028002800782756e69636f64650582737461636b01800887028002800782756e69636f6465098274726163656261636b02800782756e69636f6465168254726163656261636b20756e617661696c61626c650a",
        r#"[b'error', 8, [b'twisted.spread.pb.CopyableFailure', [b'dictionary', [[b'unicode', b'count'], 5], [[b'unicode', b'type'], b'twisted.cred.error.UnauthorizedLogin'], [[b'unicode', b'value'], [b'unicode', b'']], [[b'unicode', b'captureVars'], [b'boolean', b'false']], [[b'unicode', b'tb'], [b'None']], [[b'unicode', b'pickled'], 1], [[b'unicode', b'_frames'], [b'list']], [[b'unicode', b'unsafeTracebacks'], [b'boolean', b'false']], [[b'unicode', b'parents'], [b'list', [b'unicode', b'twisted.cred.error.UnauthorizedLogin'], [b'unicode', b'twisted.cred.error.LoginFailed'], [b'unicode', b'twisted.cred.error.Unauthorized'], [b'unicode', b'builtins.Exception'], [b'unicode', b'builtins.BaseException'], [b'unicode', b'builtins.object']]], [[b'unicode', b'frames'], [b'list']], [[b'unicode', b'stack'], [b'list']], [[b'unicode', b'traceback'], [b'unicode', b'Traceback unavailable\n']]]]]"#,
    ),
];

/// Runs the command on `input` and returns (status, stdout, stderr).
fn run(input: &[u8], dialect: DialectArg, hex: bool) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = decode(input, &mut out, &mut err, dialect, hex);
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
    (status, text(out), text(err))
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn expected_lines(frames: &[(&str, &str)]) -> String {
    frames.iter().map(|(_, sexp)| format!("{sexp}\n")).collect()
}

#[test]
fn each_frame_prints_as_the_trace_prints_it() {
    for (hex, sexp) in SESSION_1.iter().chain(SESSION_2) {
        // Frames after the handshake use the pb vocabulary; the handshake's
        // own frames decode the same in pb.
        let (status, out, err) = run(hex.as_bytes(), DialectArg::Pb, true);
        assert_eq!((status, err.as_str()), (0, ""), "{hex}");
        assert_eq!(out, format!("{sexp}\n"), "{hex}");
    }
}

#[test]
fn a_whole_session_in_order_follows_the_handshake() {
    for session in [SESSION_1, SESSION_2] {
        // Hex as a capture might hold it: one frame per line.
        let hex: String = session.iter().map(|(hex, _)| format!("{hex}\n")).collect();
        let (status, out, err) = run(hex.as_bytes(), DialectArg::Auto, true);
        assert_eq!((status, err.as_str()), (0, ""));
        assert_eq!(out, expected_lines(session));
    }
}

#[test]
fn raw_bytes_decode_like_hex() {
    let raw: Vec<u8> = SESSION_1.iter().flat_map(|(hex, _)| unhex(hex)).collect();
    let (status, out, _) = run(&raw, DialectArg::Auto, false);
    assert_eq!(status, 0);
    assert_eq!(out, expected_lines(SESSION_1));
}

#[test]
fn frames_split_across_reads_still_decode() {
    let raw: Vec<u8> = SESSION_2.iter().flat_map(|(hex, _)| unhex(hex)).collect();
    let mut reader = Reader::new(Limits::default(), Dialect::None, true);
    let mut lines = String::new();
    for byte in raw {
        reader.push(&[byte]);
        while let Ok(Some(decoded)) = reader.next_frame() {
            lines.push_str(&format!("{}\n", Repr(&decoded.sexp)));
        }
    }
    assert_eq!(lines, expected_lines(SESSION_2));
    assert!(reader.truncated().is_none());
}

#[test]
fn the_pb_vocabulary_before_the_choice_is_refused_in_auto_and_none() {
    // The server's stream alone: its offer, then `version` in pb.
    let hex = "02800282706204826e6f6e65 028013870681";
    for dialect in [DialectArg::Auto, DialectArg::None] {
        let (status, out, err) = run(hex.as_bytes(), dialect, true);
        assert_eq!(status, 1);
        assert_eq!(out, "[b'pb', b'none']\n");
        assert!(
            err.contains(
                "cannot decode frame 2 (starting at byte 12): at byte 14: vocabulary token 19 received but the dialect has no vocabulary"
            ),
            "{err}"
        );
    }
    let (status, out, _) = run(hex.as_bytes(), DialectArg::Pb, true);
    assert_eq!(
        (status, out.as_str()),
        (0, "[b'pb', b'none']\n[b'version', 6]\n")
    );
}

#[test]
fn the_choice_none_keeps_the_none_dialect() {
    // Session 3's `none_dialect` probe: b'none', then version spelled out.
    let hex = "04826e6f6e65 0280078276657273696f6e0681 028013870681";
    let (status, out, err) = run(hex.as_bytes(), DialectArg::Auto, true);
    assert_eq!(status, 1);
    assert_eq!(out, "b'none'\n[b'version', 6]\n");
    assert!(err.contains("at byte 21: vocabulary token 19"), "{err}");
}

#[test]
fn an_unknown_type_byte_is_reported_with_its_offset() {
    // The choice, then a list of two whose second element has type 0x88.
    let (status, out, err) = run(
        &[0x02, 0x82, b'p', b'b', 0x02, 0x80, 0x01, 0x81, 0x88],
        DialectArg::Auto,
        false,
    );
    assert_eq!(status, 1);
    assert_eq!(out, "b'pb'\n");
    assert_eq!(
        err,
        "spread decode: cannot decode frame 2 (starting at byte 4): at byte 8: unknown type byte 0x88\n"
    );
}

#[test]
fn an_overlong_header_is_reported_where_the_token_starts() {
    let mut raw = vec![0x01, 0x81];
    raw.extend([0x01; 65]);
    let (status, out, err) = run(&raw, DialectArg::Auto, false);
    assert_eq!((status, out.as_str()), (1, "1\n"));
    assert!(err.contains("frame 2 (starting at byte 2): at byte 2: token header longer than the limit of 64 bytes"), "{err}");
}

#[test]
fn a_string_over_the_limit_is_refused_before_its_payload() {
    // A header announcing 655 361 bytes: 0x01 0x00 0x28, STRING.
    let (status, _, err) = run(&[0x01, 0x00, 0x28, 0x82], DialectArg::Auto, false);
    assert_eq!(status, 1);
    assert!(
        err.contains("at byte 0: string of 655361 bytes is longer than the limit of 655360"),
        "{err}"
    );
}

#[test]
fn input_that_ends_mid_frame_says_so() {
    // `[b'version', 6]` without its last byte.
    let (status, out, err) = run(b"02827062 0280138706", DialectArg::Auto, true);
    assert_eq!((status, out.as_str()), (1, "b'pb'\n"));
    assert_eq!(
        err,
        "spread decode: input ended mid-frame: frame 2 starts at byte 4 and only 5 bytes of it arrived\n"
    );
}

#[test]
fn bad_hex_stops_after_the_frames_before_it() {
    let (status, out, err) = run(b"0181 zz", DialectArg::Auto, true);
    assert_eq!((status, out.as_str()), (1, "1\n"));
    assert_eq!(err, "spread decode: not a hex digit: 'z' at character 5\n");
    let (status, _, err) = run(b"018", DialectArg::Auto, true);
    assert_eq!(status, 1);
    assert!(err.contains("odd number of hex digits"), "{err}");
}

#[test]
fn atoms_print_as_python_prints_them() {
    let cases: &[(Sexp, &str)] = &[
        (Sexp::from(-5), "-5"),
        (Sexp::from(&b"it's"[..]), "b\"it's\""),
        (Sexp::from(&b"'\""[..]), "b'\\'\"'"),
        (
            Sexp::from(&b"a\\b\t\n\r\x00\x7f\xff"[..]),
            "b'a\\\\b\\t\\n\\r\\x00\\x7f\\xff'",
        ),
        (Sexp::from(3.0), "3.0"),
        (Sexp::from(-0.0), "-0.0"),
        (Sexp::from(0.1), "0.1"),
        (Sexp::from(1.5e-5), "1.5e-05"),
        (Sexp::from(0.0001), "0.0001"),
        (Sexp::from(1e15), "1000000000000000.0"),
        (Sexp::from(1e16), "1e+16"),
        (Sexp::from(1.2345e100), "1.2345e+100"),
        (Sexp::from(123.456), "123.456"),
        (Sexp::from(f64::INFINITY), "inf"),
        (Sexp::from(f64::NAN), "nan"),
        (Sexp::list([]), "[]"),
    ];
    for (sexp, python) in cases {
        assert_eq!(Repr(sexp).to_string(), *python);
    }
}

#[test]
fn big_integers_print_in_decimal() {
    // 2**70 + 5 as Twisted sends it: LONGINT (0x85) with an eleven-byte header.
    let (status, out, _) = run(b"050000000000000000000185", DialectArg::Pb, true);
    assert_eq!((status, out.as_str()), (0, "1180591620717411303429\n"));
}

#[test]
fn the_reader_reports_the_failed_frame_raw() {
    let mut reader = Reader::new(Limits::default(), Dialect::None, true);
    reader.push(&[0x0a, 0x81, 0x02, 0x80, 0x05, 0x87, 0x01]);
    assert!(matches!(reader.next_frame(), Ok(Some(_))));
    let Err(malformed) = reader.next_frame() else {
        panic!("a vocabulary token before the choice must fail");
    };
    assert_eq!(
        malformed.error,
        DecodeError::VocabWithoutDialect { index: 5 }
    );
    assert_eq!((malformed.frame_start, malformed.token_start), (2, 4));
    assert_eq!(&malformed.raw[..], [0x02, 0x80, 0x05, 0x87, 0x01]);
    assert!(reader.has_failed());
}

/// A session between two spread peers: the offer and the choice in Banana,
/// then msgpack frames both ways.
fn msgpack_session() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let version = Sexp::list([Sexp::from("version"), Sexp::from(6)]);
    let version = spread::banana::encode_to_vec(&version, Dialect::Msgpack).unwrap();
    let answer = Sexp::list([Sexp::from("answer"), Sexp::from(1), Sexp::from(1.5)]);
    let answer = spread::banana::encode_to_vec(&answer, Dialect::Msgpack).unwrap();
    let offer = b"\x03\x80\x0e\x82spread-msgpack\x02\x82pb\x04\x82none".to_vec();
    let client = [&b"\x0e\x82spread-msgpack"[..], &version].concat();
    let server = [&offer[..], &version, &answer].concat();
    let session = [&offer[..], &client, &version, &answer].concat();
    (client, server, session)
}

#[test]
fn a_msgpack_session_follows_the_handshake() {
    let (client, server, session) = msgpack_session();
    let offer = "[b'spread-msgpack', b'pb', b'none']\n";
    let version = "[b'version', 6]\n";
    let answer = "[b'answer', 1, 1.5]\n";
    let (status, out, err) = run(&client, DialectArg::Auto, false);
    assert_eq!(
        (status, out.as_str(), err.as_str()),
        (0, &*format!("b'spread-msgpack'\n{version}"), "")
    );
    let (status, out, _) = run(&session, DialectArg::Auto, false);
    assert_eq!(
        (status, out),
        (
            0,
            format!("{offer}b'spread-msgpack'\n{version}{version}{answer}")
        )
    );
    // A server's stream alone: the offer in Banana, then msgpack.
    let (status, out, _) = run(&server, DialectArg::Msgpack, false);
    assert_eq!((status, out), (0, format!("{offer}{version}{answer}")));
    // Without its offer too.
    let (status, out, _) = run(&server[28..], DialectArg::Msgpack, false);
    assert_eq!((status, out), (0, format!("{version}{answer}")));
    // Read as Banana, the msgpack frames fail, with a hint.
    let (status, out, err) = run(&server, DialectArg::Auto, false);
    assert_eq!((status, out.as_str()), (1, offer));
    assert!(err.contains("try --dialect msgpack"), "{err}");
}
