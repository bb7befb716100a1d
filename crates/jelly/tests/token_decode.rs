//! `TokenDecoder` + `from_node` must give exactly what `Decoder` +
//! `from_sexp` give: the same values, the same decode and unjelly errors
//! (at the same paths), and the same questions asked of the policy, in the
//! same order, however the input is split and whatever the limits.

use std::cell::RefCell;

use bytes::BytesMut;
use proptest::prelude::*;
use proptest::sample::Index;
use spread_banana::{
    DecodeError, Decoder, Dialect, Limits, Sexp, TokenDecoder, VOCABULARY, encode_to_vec,
};
use spread_jelly::{AllowAll, Error, ErrorKind, Instance, Policy, Unjellier, Value, to_sexp};

use crate::proptests::value;

/// What one decoded frame came to, comparably.
#[derive(Debug, PartialEq)]
enum Event {
    Value(Value),
    Unjelly {
        kind: ErrorKind,
        path: String,
    },
    Decode(DecodeError),
    /// The decoder wanted more input.
    Waiting,
}

fn unjellied(result: Result<Value, Error>) -> Event {
    match result {
        Ok(value) => Event::Value(value),
        Err(e) => Event::Unjelly {
            kind: e.kind().clone(),
            path: e.path(),
        },
    }
}

/// A policy that answers from a small table and writes down every question.
struct Recording {
    strict: bool,
    log: RefCell<Vec<String>>,
}

impl Recording {
    fn new(strict: bool) -> Recording {
        Recording {
            strict,
            log: RefCell::new(Vec::new()),
        }
    }
}

impl Policy for Recording {
    fn allows_type(&self, tag: &str) -> bool {
        self.log.borrow_mut().push(format!("type {tag}"));
        !(self.strict && tag == "set")
    }

    fn allows_class(&self, class: &str) -> Result<(), Error> {
        self.log.borrow_mut().push(format!("class {class}"));
        if self.strict && !class.starts_with('a') {
            return Err(ErrorKind::Insecure {
                tag: class.to_owned(),
                reason: Some("not registered".to_owned()),
            }
            .into());
        }
        Ok(())
    }

    fn unjelly_tag(&self, tag: &str, rest: &[Sexp]) -> Option<Result<Value, Error>> {
        self.log.borrow_mut().push(format!("tag {tag} {rest:?}"));
        match (tag, rest) {
            ("remote", [Sexp::Int(luid)]) => Some(Ok(Value::from(*luid))),
            ("remote", _) => Some(Err(Error::custom("bad remote"))),
            (_, [_, _]) if tag.contains('.') => Some(Ok(Value::from(format!("{rest:?}")))),
            _ => None,
        }
    }

    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        self.log
            .borrow_mut()
            .push(format!("instance {class} {state:?}"));
        if self.strict && class.ends_with('Z') {
            return Err(ErrorKind::Insecure {
                tag: class.to_owned(),
                reason: None,
            }
            .into());
        }
        Ok(Value::from(Instance::new(class, state)))
    }
}

/// Both paths over the same chunks: the events and the policy's log.
fn both(
    chunks: &[Vec<u8>],
    dialect: Dialect,
    limits: Limits,
    depth: usize,
    strict: bool,
) -> [(Vec<Event>, Vec<String>); 2] {
    let tree = {
        let policy = Recording::new(strict);
        let unjellier = Unjellier::new(&policy).max_depth(depth);
        let mut decoder = Decoder::new(limits).with_dialect(dialect);
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(sexp)) => events.push(unjellied(unjellier.unjelly(&sexp))),
                    Ok(None) => break,
                    Err(e) => events.push(Event::Decode(e)),
                }
            }
            events.push(Event::Waiting);
        }
        (events, policy.log.take())
    };
    let tokens = {
        let policy = Recording::new(strict);
        let unjellier = Unjellier::new(&policy).max_depth(depth);
        let mut decoder = TokenDecoder::new(limits).with_dialect(dialect);
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(node)) => {
                        // A node reads as the tree the other path built.
                        let sexp = node.to_sexp();
                        let event = unjellied(unjellier.unjelly_node(node));
                        // And `unjelly` of that tree agrees with `unjelly_node`,
                        // apart from the questions it asks a second time.
                        let log_len = policy.log.borrow().len();
                        let again = unjellied(unjellier.unjelly(&sexp));
                        policy.log.borrow_mut().truncate(log_len);
                        assert_eq!(event, again);
                        events.push(event);
                    }
                    Ok(None) => break,
                    Err(e) => events.push(Event::Decode(e)),
                }
            }
            events.push(Event::Waiting);
        }
        (events, policy.log.take())
    };
    [tree, tokens]
}

fn chunked(bytes: &[u8], cuts: &[Index]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        chunks.push(bytes[start..point].to_vec());
        start = point;
    }
    chunks
}

/// Limits from tiny to generous, each on its own.
fn limits() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![Just(64usize), 0usize..4],
        prop_oneof![Just(655_360usize), 0usize..40],
        prop_oneof![Just(655_360usize), 0usize..8],
        prop_oneof![Just(512usize), 0usize..8],
        prop_oneof![Just(16usize << 20), 0usize..400],
        prop_oneof![Just(1usize << 20), 0usize..60],
    )
        .prop_map(|(prefix, string, list, depth, expression, tokens)| {
            Limits::default()
                .max_prefix_len(prefix)
                .max_string_len(string)
                .max_list_len(list)
                .max_depth(depth)
                .max_expression_len(expression)
                .max_tokens(tokens)
        })
}

/// Jelly-shaped trees that are often wrong: known and unknown tags, class
/// names, references, atoms where lists belong and the reverse.
fn jellyish() -> impl Strategy<Value = Sexp> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "list",
            "tuple",
            "set",
            "frozenset",
            "dictionary",
            "unicode",
            "boolean",
            "None",
            "reference",
            "dereference",
            "decimal",
            "datetime",
            "date",
            "time",
            "timedelta",
            "unpersistable",
            "persistent",
            "remote",
            "class",
            "instance",
            "a.Pond",
            "b.Frog",
            "a.PondZ",
            "true",
            "false",
            "nope",
        ])
        .prop_map(Sexp::from),
        prop::sample::select(&VOCABULARY[..]).prop_map(Sexp::from),
        prop::collection::vec(any::<u8>(), 0..6).prop_map(Sexp::from),
    ];
    let leaf = prop_oneof![
        word.clone(),
        (-3i64..300).prop_map(Sexp::Int),
        any::<i64>().prop_map(Sexp::Int),
        Just(Sexp::from(num_bigint::BigInt::from(u64::MAX) * 3)),
        any::<f64>().prop_map(Sexp::Float),
    ];
    leaf.prop_recursive(6, 80, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Sexp::List),
            (word.clone(), prop::collection::vec(inner, 0..5)).prop_map(|(tag, rest)| {
                let mut items = vec![tag];
                items.extend(rest);
                Sexp::List(items)
            }),
        ]
    })
}

/// Every dialect: Banana with and without the vocabulary, and msgpack.
fn dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(vec![Dialect::Pb, Dialect::None, Dialect::Msgpack])
}

fn assert_same(results: [(Vec<Event>, Vec<String>); 2]) -> Result<(), TestCaseError> {
    let [tree, tokens] = results;
    prop_assert_eq!(&tree.0, &tokens.0, "events differ");
    prop_assert_eq!(&tree.1, &tokens.1, "policy questions differ");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jellied_values_agree(
        values in prop::collection::vec(value(), 1..4),
        dialect in dialect(),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
        strict in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        for value in &values {
            bytes.extend(encode_to_vec(&to_sexp(value).unwrap(), dialect).unwrap());
        }
        let results = both(&chunked(&bytes, &cuts), dialect, Limits::default(), 512, strict);
        // Nothing is refused under AllowAll-like answers.
        if !strict {
            let expected: Vec<&Value> = values.iter().collect();
            let got: Vec<&Value> = results[1]
                .0
                .iter()
                .filter_map(|e| match e { Event::Value(v) => Some(v), _ => None })
                .collect();
            prop_assert_eq!(got.len(), expected.len());
        }
        assert_same(results)?;
    }

    #[test]
    fn malformed_jelly_agrees_under_any_limits(
        frames in prop::collection::vec(jellyish(), 1..4),
        dialect in dialect(),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
        limits in limits(),
        depth in prop_oneof![Just(512usize), 0usize..6],
        strict in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        for frame in &frames {
            bytes.extend(encode_to_vec(frame, dialect).unwrap());
        }
        assert_same(both(&chunked(&bytes, &cuts), dialect, limits, depth, strict))?;
    }

    #[test]
    fn random_bytes_agree(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        dialect in dialect(),
        cuts in prop::collection::vec(any::<Index>(), 0..6),
        limits in limits(),
        strict in any::<bool>(),
    ) {
        assert_same(both(&chunked(&bytes, &cuts), dialect, limits, 512, strict))?;
    }

    #[test]
    fn one_byte_at_a_time_agrees(value in value(), dialect in dialect(), limits in limits()) {
        let bytes = encode_to_vec(&to_sexp(&value).unwrap(), dialect).unwrap();
        let chunks: Vec<Vec<u8>> = bytes.chunks(1).map(<[u8]>::to_vec).collect();
        assert_same(both(&chunks, dialect, limits, 512, false))?;
    }
}

#[test]
fn big_byte_strings_are_not_copied() {
    let value = Value::Bytes(vec![0xa5; 655_360].into());
    for dialect in [Dialect::Pb, Dialect::Msgpack] {
        let wire = encode_to_vec(&to_sexp(&value).unwrap(), dialect).unwrap();
        let mut buf = BytesMut::from(&wire[..]);
        let range = buf.as_ptr_range();
        let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(dialect);
        let node = decoder.decode(&mut buf).unwrap().unwrap();
        let back = Unjellier::new(AllowAll).unjelly_node(node).unwrap();
        let Value::Bytes(payload) = &back else {
            panic!("expected bytes, got {back:?}");
        };
        assert_eq!(payload.len(), 655_360);
        assert!(
            range.contains(&payload.as_ptr()),
            "{dialect:?}: the payload points into the read buffer"
        );
    }
}

#[test]
fn a_frame_trickling_in_is_read_once() {
    // A 100 000-element list fed a byte at a time finishes in linear time:
    // each call goes on from where the last stopped.
    let value = Value::List((0..100_000).map(Value::from).collect());
    let wire = encode_to_vec(&to_sexp(&value).unwrap(), Dialect::Pb).unwrap();
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
    let mut buf = BytesMut::new();
    let mut got = None;
    for byte in &wire {
        buf.extend_from_slice(&[*byte]);
        if let Some(node) = decoder.decode(&mut buf).unwrap() {
            got = Some(Unjellier::new(AllowAll).unjelly_node(node).unwrap());
        } else {
            assert!(decoder.is_mid_expression() || buf.len() < 5);
        }
    }
    assert_eq!(got, Some(value));
    assert!(buf.is_empty());
}

#[test]
fn msgpack_frames_unjelly_through_tokens() {
    // A frame trickling in waits whole in the buffer, then unjellies from
    // tokens to what the tree path gives.
    let value = Value::List((0..1_000).map(Value::from).collect());
    let wire = encode_to_vec(&to_sexp(&value).unwrap(), Dialect::Msgpack).unwrap();
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Msgpack);
    let mut buf = BytesMut::new();
    let mut got = None;
    for (i, byte) in wire.iter().enumerate() {
        buf.extend_from_slice(&[*byte]);
        if let Some(node) = decoder.decode(&mut buf).unwrap() {
            got = Some(Unjellier::new(AllowAll).unjelly_node(node).unwrap());
        } else {
            assert!(!decoder.is_mid_expression());
            assert_eq!(
                buf.len(),
                i + 1,
                "nothing consumed before the frame is whole"
            );
        }
    }
    assert_eq!(got, Some(value));
    assert!(buf.is_empty());
}

#[test]
fn deep_shared_input_fits_the_default_stack() {
    // As `references::heavily_shared_values_stay_cheap`, through tokens:
    // 400 levels of list and reference, in a debug build on a test thread.
    let mut v = Value::from(0);
    for _ in 0..200 {
        let s = spread_jelly::Shared::new(v);
        v = Value::List(vec![Value::Shared(s.clone()), Value::Shared(s)]);
    }
    for dialect in [Dialect::Pb, Dialect::Msgpack] {
        let wire = encode_to_vec(&to_sexp(&v).unwrap(), dialect).unwrap();
        let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(dialect);
        let mut buf = BytesMut::from(&wire[..]);
        let node = decoder.decode(&mut buf).unwrap().unwrap();
        assert_eq!(Unjellier::new(AllowAll).unjelly_node(node).unwrap(), v);
    }
}

#[test]
fn shrinking_keeps_a_partial_expression() {
    let value = Value::List((0..10_000).map(Value::from).collect());
    let wire = encode_to_vec(&to_sexp(&value).unwrap(), Dialect::Pb).unwrap();
    let mut decoder = TokenDecoder::new(Limits::default()).with_dialect(Dialect::Pb);
    let mut buf = BytesMut::from(&wire[..wire.len() / 2]);
    assert!(decoder.decode(&mut buf).unwrap().is_none());
    decoder.shrink();
    buf.extend_from_slice(&wire[wire.len() / 2..]);
    let node = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(Unjellier::new(AllowAll).unjelly_node(node).unwrap(), value);
    decoder.shrink();
    assert!(decoder.decode(&mut buf).unwrap().is_none());
}
