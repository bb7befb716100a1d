//! The sans-IO core on its own: two `Core`s wired back to back, stepped by
//! hand, with no runtime, no sockets and no clock (quinn-proto's `Pair`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use spread_banana::{Dialect, Limits, Sexp, encode_to_vec};
use spread_broker::proto::{
    Callee, Core, Event, ObjectId, PeerObject, Release, Role, Token, Tokens,
};
use spread_broker::{BrokerOptions, CallError, ProtocolError, Table};
use spread_flavors::{
    BoxFuture, Call, LocalCacheable, LocalReferenceable, Referenceable, RemoteError, cache,
    reference,
};
use spread_jelly::{Dict, Value};

use crate::support::{Counter, counter_security};

/// A root whose methods answer at once.
struct Root {
    child: Arc<dyn Referenceable>,
    calls: AtomicUsize,
}

impl Referenceable for Root {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let child = self.child.clone();
        Box::pin(async move {
            match call.method.as_str() {
                "echo" => Ok(call.args.into_iter().next().unwrap_or(Value::None)),
                "child" => Ok(reference(child)),
                "long" => Err(RemoteError::value_error("x".repeat(200))),
                "bigAnswer" => Ok(Value::from("y".repeat(200))),
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

/// One side: its core, and the replies its calls got (by the `u32` tag
/// each call was made with).
struct Side {
    core: Core<u32>,
    replies: Vec<(u32, Result<Value, CallError>)>,
    ready: bool,
    served: usize,
}

impl Side {
    fn new(role: Role, options: BrokerOptions) -> Side {
        Side {
            core: Core::new(role, options).unwrap(),
            replies: Vec::new(),
            ready: false,
            served: 0,
        }
    }

    /// Runs the peer's calls (they finish at once here) and files replies.
    fn handle_events(&mut self) -> Result<(), ProtocolError> {
        while let Some(event) = self.core.poll_event() {
            match event {
                Event::Ready => self.ready = true,
                Event::Call(call) => {
                    let request = call.request;
                    let mut running = call.run();
                    let Poll::Ready(result) = running
                        .as_mut()
                        .poll(&mut Context::from_waker(Waker::noop()))
                    else {
                        panic!("test methods finish at once");
                    };
                    self.served += 1;
                    self.core.answer(request, result, &Tokens)?;
                }
                Event::Reply { reply, result } => self.replies.push((reply, result)),
            }
        }
        Ok(())
    }

    fn reply(&mut self, tag: u32) -> Result<Value, CallError> {
        let at = self
            .replies
            .iter()
            .position(|(t, _)| *t == tag)
            .unwrap_or_else(|| panic!("no reply for call {tag}"));
        self.replies.remove(at).1
    }
}

/// A client and a server core, and the bytes between them.
struct Pair {
    client: Side,
    server: Side,
}

fn options_with_root() -> (BrokerOptions, Arc<Root>) {
    let root = Arc::new(Root {
        child: Arc::new(Root {
            child: Arc::new(Leaf),
            calls: AtomicUsize::new(0),
        }),
        calls: AtomicUsize::new(0),
    });
    (BrokerOptions::default().with_root(root.clone()), root)
}

struct Leaf;

impl Referenceable for Leaf {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
    }
}

impl Pair {
    fn new(client: BrokerOptions, server: BrokerOptions) -> Pair {
        let mut pair = Pair {
            client: Side::new(Role::Client, client),
            server: Side::new(Role::Server, server),
        };
        pair.settle().unwrap();
        assert!(pair.client.ready && pair.server.ready);
        pair
    }

    /// Moves bytes both ways and handles events until nothing moves.
    fn settle(&mut self) -> Result<(), ProtocolError> {
        for _ in 0..100 {
            let moved = shuttle(&mut self.client, &mut self.server)?
                | shuttle(&mut self.server, &mut self.client)?;
            if !moved {
                return Ok(());
            }
        }
        panic!("the cores never settled");
    }

    fn call(&mut self, tag: u32, callee: Callee, method: &str, args: Vec<Value>) {
        self.client
            .core
            .call(
                callee,
                Bytes::copy_from_slice(method.as_bytes()),
                args,
                Dict::new(),
                Some(tag),
                &Tokens,
            )
            .unwrap();
    }

    fn root_call(&mut self, tag: u32, method: &str, args: Vec<Value>) -> Result<Value, CallError> {
        self.call(tag, Callee::Object(ObjectId::root()), method, args);
        self.settle().unwrap();
        self.client.reply(tag)
    }
}

/// Sends what `from` has to `to`; whether anything moved.
fn shuttle(from: &mut Side, to: &mut Side) -> Result<bool, ProtocolError> {
    from.handle_events()?;
    let mut bytes = BytesMut::from(from.core.transmit());
    from.core.advance(bytes.len());
    let moved = !bytes.is_empty();
    to.core.receive(&mut bytes, &Tokens)?;
    assert!(bytes.is_empty(), "a whole frame was left unread");
    to.handle_events()?;
    Ok(moved)
}

fn token(value: &Value) -> PeerObject {
    value.downcast_ref::<Token>().expect("a token").0.clone()
}

/// Options that speak only what Twisted speaks.
fn twisted_dialects(options: BrokerOptions) -> BrokerOptions {
    options.with_dialects(&Dialect::KNOWN).unwrap()
}

#[test]
fn the_handshake_is_twisteds_byte_for_byte() {
    let (options, _) = options_with_root();
    let server: Core<u32> = Core::new(Role::Server, twisted_dialects(options)).unwrap();
    // ["pb", "none"], in the none dialect: the offer.
    assert_eq!(server.transmit(), b"\x02\x80\x02\x82pb\x04\x82none");
    let mut client: Core<u32> = Core::new(Role::Client, BrokerOptions::default()).unwrap();
    assert!(client.transmit().is_empty(), "the client speaks second");
    assert_eq!(client.dialect(), None);
    client
        .receive(&mut BytesMut::from(server.transmit()), &Tokens)
        .unwrap();
    // The choice, then ["version", 6] in the pb dialect.
    assert_eq!(client.transmit(), b"\x02\x82pb\x02\x80\x13\x87\x06\x81");
    assert!(matches!(client.poll_event(), Some(Event::Ready)));
    assert_eq!(client.dialect(), Some(Dialect::Pb));
}

/// By default a spread server offers its own dialect first, and a spread
/// client takes it; only the frames after the choice change.
#[test]
fn two_spread_cores_pick_msgpack() {
    let (options, _) = options_with_root();
    let mut server: Core<u32> = Core::new(Role::Server, options).unwrap();
    assert_eq!(
        server.transmit(),
        b"\x03\x80\x0e\x82spread-msgpack\x02\x82pb\x04\x82none"
    );
    let mut client: Core<u32> = Core::new(Role::Client, BrokerOptions::default()).unwrap();
    client
        .receive(&mut BytesMut::from(server.transmit()), &Tokens)
        .unwrap();
    // The choice in Banana, then ["version", 6] as a msgpack frame.
    let mut expected = b"\x0e\x82spread-msgpack".to_vec();
    expected.extend_from_slice(b"\x00\x00\x00\x0b\x92\xc4\x07version\x06");
    assert_eq!(client.transmit(), &expected[..]);
    assert_eq!(client.dialect(), Some(Dialect::Msgpack));
    let n = server.transmit().len();
    server.advance(n);
    server
        .receive(&mut BytesMut::from(client.transmit()), &Tokens)
        .unwrap();
    assert!(matches!(server.poll_event(), Some(Event::Ready)));
    assert_eq!(server.dialect(), Some(Dialect::Msgpack));
    // The server's version, in msgpack too.
    assert_eq!(
        server.transmit(),
        b"\x00\x00\x00\x0b\x92\xc4\x07version\x06"
    );
}

/// The server's order decides; the client takes the first name it speaks.
#[test]
fn the_servers_order_decides_among_the_dialects_both_speak() {
    use Dialect::{Msgpack, None as NoVocab, Pb};
    let cases: [(&[Dialect], &[Dialect], Option<Dialect>); 7] = [
        (
            &Dialect::DEFAULT_OFFER,
            &Dialect::DEFAULT_OFFER,
            Some(Msgpack),
        ),
        (&Dialect::DEFAULT_OFFER, &Dialect::KNOWN, Some(Pb)),
        (&Dialect::KNOWN, &Dialect::DEFAULT_OFFER, Some(Pb)),
        (&[NoVocab, Msgpack], &Dialect::DEFAULT_OFFER, Some(NoVocab)),
        (&[Pb, Msgpack], &[Msgpack, Pb], Some(Pb)),
        (&[Msgpack], &Dialect::KNOWN, None),
        (&Dialect::KNOWN, &[Msgpack], None),
    ];
    for (offer, speaks, expected) in cases {
        let server_options = BrokerOptions::default().with_dialects(offer).unwrap();
        let client_options = BrokerOptions::default().with_dialects(speaks).unwrap();
        let server: Core<u32> = Core::new(Role::Server, server_options).unwrap();
        let mut client: Core<u32> = Core::new(Role::Client, client_options).unwrap();
        let result = client.receive(&mut BytesMut::from(server.transmit()), &Tokens);
        match expected {
            Some(dialect) => {
                result.unwrap();
                assert_eq!(client.dialect(), Some(dialect), "{offer:?} to {speaks:?}");
            }
            None => assert!(
                matches!(result, Err(ProtocolError::NoCommonDialect)),
                "{offer:?} to {speaks:?}: {result:?}"
            ),
        }
    }
}

#[test]
fn calls_made_during_the_handshake_go_out_in_order_once_it_is_done() {
    let (options, root) = options_with_root();
    let mut client = Side::new(Role::Client, BrokerOptions::default());
    for tag in 0..3 {
        client
            .core
            .call(
                Callee::Object(ObjectId::root()),
                Bytes::from_static(b"echo"),
                vec![Value::from(tag)],
                Dict::new(),
                Some(tag as u32),
                &Tokens,
            )
            .unwrap();
    }
    assert!(
        client.core.transmit().is_empty(),
        "nothing before the offer"
    );
    let mut pair = Pair {
        client,
        server: Side::new(Role::Server, options),
    };
    pair.settle().unwrap();
    for tag in 0..3 {
        assert_eq!(pair.client.reply(tag).unwrap(), Value::from(tag as i64));
    }
    assert_eq!(root.calls.load(Ordering::SeqCst), 3);
}

#[test]
fn answers_errors_and_calls_without_answers() {
    let (options, root) = options_with_root();
    let mut p = Pair::new(BrokerOptions::default(), options);
    let value = Value::List(vec![Value::from("spam"), Value::from(1.5), Value::None]);
    assert_eq!(p.root_call(1, "echo", vec![value.clone()]).unwrap(), value);
    match p.root_call(2, "nope", vec![]) {
        Err(CallError::Remote(e)) => {
            assert_eq!(e.remote_type, "twisted.spread.flavors.NoSuchMethod")
        }
        other => panic!("{other:?}"),
    }
    p.client
        .core
        .call(
            Callee::Object(ObjectId::root()),
            Bytes::from_static(b"echo"),
            vec![],
            Dict::new(),
            None,
            &Tokens,
        )
        .unwrap();
    p.settle().unwrap();
    assert_eq!(root.calls.load(Ordering::SeqCst), 3, "the call ran");
    assert!(p.client.replies.is_empty(), "and nothing came back");
    assert_eq!(p.client.core.stats().calls_in_flight, 0);
    assert_eq!(p.server.core.stats().calls_serving, 0);
}

#[test]
fn an_unknown_object_gets_twisteds_error_and_the_connection_stays() {
    let (options, _) = options_with_root();
    let mut p = Pair::new(BrokerOptions::default(), options);
    p.call(1, Callee::Object(ObjectId::Luid(99)), "echo", vec![]);
    p.settle().unwrap();
    match p.client.reply(1) {
        Err(CallError::Remote(e)) => {
            assert_eq!(
                (e.remote_type.as_str(), e.value.as_str()),
                ("twisted.spread.pb.Error", "Invalid Object ID")
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(p.root_call(2, "echo", vec![]).is_ok());
}

#[test]
fn a_reference_lives_until_its_token_is_released_and_comes_home_as_itself() {
    let (options, _) = options_with_root();
    let mut p = Pair::new(BrokerOptions::default(), options);
    let child = p.root_call(1, "child", vec![]).unwrap();
    let PeerObject::Reference(ObjectId::Luid(luid)) = token(&child) else {
        panic!("a luid")
    };
    assert_eq!(p.client.core.stats().remote_references, 1);
    assert_eq!(p.server.core.stats().local_objects, 1);
    // The same object sent again keeps its luid, and counts a second token.
    let again = p.root_call(2, "child", vec![]).unwrap();
    assert_eq!(token(&again), PeerObject::Reference(ObjectId::Luid(luid)));
    assert_eq!(p.server.core.stats().local_objects, 1);

    // Sent back, it is the server's own object.
    p.call(
        3,
        Callee::Object(ObjectId::root()),
        "echo",
        vec![child.clone()],
    );
    p.settle().unwrap();
    // The server found its own object and sent it on under the same luid.
    let back = p.client.reply(3).unwrap();
    assert_eq!(token(&back), PeerObject::Reference(ObjectId::Luid(luid)));

    // Three tokens went to the client: two `child` answers and one echo.
    assert_eq!(p.client.core.stats().remote_references, 3);
    for released in 1..=3 {
        p.client.core.release(Release::Reference(luid)).unwrap();
        p.settle().unwrap();
        let left = if released < 3 { 1 } else { 0 };
        assert_eq!(
            p.server.core.stats().local_objects,
            left,
            "after {released} decrefs"
        );
    }
    assert_eq!(p.client.core.stats().remote_references, 0);
    // A decref for what is gone closes the connection, as Twisted does.
    p.client.core.release(Release::Reference(luid)).unwrap();
    assert!(matches!(
        p.settle(),
        Err(ProtocolError::Unknown {
            table: Table::References,
            ..
        })
    ));
}

/// Twisted releases an argument reference before it answers with it: the
/// decref overtakes the answer that names the object. The object must still
/// come home as itself.
#[test]
fn a_reference_released_before_the_answer_that_returns_it_still_arrives() {
    let (options, _) = options_with_root();
    let mut p = Pair::new(options.clone(), options);
    let mine: Arc<dyn Referenceable> = Arc::new(Leaf);
    // The client sends its object; the server's core gets the call.
    p.call(
        1,
        Callee::Object(ObjectId::root()),
        "echo",
        vec![reference(mine.clone())],
    );
    let mut bytes = BytesMut::from(p.client.core.transmit());
    p.client.core.advance(bytes.len());
    p.server.core.receive(&mut bytes, &Tokens).unwrap();
    // Drive the server by hand: take the call without answering yet.
    let mut calls = VecDeque::new();
    while let Some(event) = p.server.core.poll_event() {
        if let Event::Call(call) = event {
            calls.push_back(call);
        }
    }
    let call = calls.pop_front().expect("the echo call");
    let request = call.request;
    let arg = call.call.args[0].clone();
    let PeerObject::Reference(ObjectId::Luid(luid)) = token(&arg) else {
        panic!()
    };
    // Release first (decref), then answer with it (["local", luid]).
    p.server.core.release(Release::Reference(luid)).unwrap();
    p.server.core.answer(request, Ok(arg), &Tokens).unwrap();
    p.settle().unwrap();
    let back = p.client.reply(1).unwrap();
    let back = back
        .downcast_ref::<LocalReferenceable>()
        .expect("our own object");
    assert!(Arc::ptr_eq(back.object(), &mine));
    assert_eq!(p.client.core.stats().local_objects, 0);
}

fn holder() -> BrokerOptions {
    let (options, _) = options_with_root();
    options.with_security(counter_security())
}

#[test]
fn a_cache_lives_from_its_first_send_to_the_last_decache() {
    let mut p = Pair::new(BrokerOptions::default(), holder());
    let owner = Arc::new(Counter::default());
    let first = p.root_call(1, "echo", vec![cache(owner.clone())]).unwrap();
    // The server held a cache for the length of the call, and echoed it
    // back: the owner gets its own object.
    // Equal means the same object: the owner's own Cacheable.
    assert_eq!(
        first.downcast_ref::<LocalCacheable>(),
        Some(&LocalCacheable::new(owner.clone()))
    );
    assert_eq!(owner.observers.lock().unwrap().len(), 1);
    assert_eq!(p.client.core.stats().caches, 1);
    assert_eq!(p.server.core.stats().remote_caches, 1);

    // A second send is a `cached` token: still one observer.
    p.root_call(2, "echo", vec![cache(owner.clone())]).unwrap();
    assert_eq!(owner.observers.lock().unwrap().len(), 1);
    let luid = 1;

    // The owner calls the holder's cache.
    p.call(3, Callee::Cache(luid), "set", vec![Value::from(7)]);
    p.settle().unwrap();
    assert_eq!(p.client.reply(3).unwrap(), Value::None);

    // The holder drops both tokens: one decache each, then the owner stops
    // observing and says uncache.
    for _ in 0..2 {
        p.server.core.release(Release::Cache(luid)).unwrap();
        p.settle().unwrap();
    }
    assert_eq!(owner.stopped.load(Ordering::SeqCst), 1);
    assert_eq!(p.client.core.stats().caches, 0);
    assert_eq!(p.server.core.stats().remote_caches, 0);
    // Calls to a stopped observer's cache fail here, without a frame.
    p.call(4, Callee::Cache(luid), "set", vec![Value::from(8)]);
    assert!(p.client.core.transmit().is_empty());
    p.client.handle_events().unwrap();
    assert!(matches!(p.client.reply(4), Err(CallError::DeadReference)));
}

#[test]
fn closing_fails_every_waiting_call_and_stops_every_observer() {
    let mut p = Pair::new(BrokerOptions::default(), holder());
    let owner = Arc::new(Counter::default());
    p.root_call(1, "echo", vec![cache(owner.clone())]).unwrap();
    // Two calls sent, never answered.
    p.call(2, Callee::Object(ObjectId::root()), "echo", vec![]);
    p.call(3, Callee::Object(ObjectId::root()), "echo", vec![]);
    assert_eq!(p.client.core.stats().calls_in_flight, 2);
    p.client.core.close();
    p.client.handle_events().unwrap();
    assert!(matches!(p.client.reply(2), Err(CallError::ConnectionLost)));
    assert!(matches!(p.client.reply(3), Err(CallError::ConnectionLost)));
    assert_eq!(owner.stopped.load(Ordering::SeqCst), 1);
    assert_eq!(p.client.core.stats(), Default::default());
    // A call after the close fails the same way.
    p.call(4, Callee::Object(ObjectId::root()), "echo", vec![]);
    p.client.handle_events().unwrap();
    assert!(matches!(p.client.reply(4), Err(CallError::ConnectionLost)));
}

/// The least limits PB allows: what cannot be sent within them is replaced
/// by a shorter error, and every call still gets its answer.
#[test]
fn at_the_floor_limits_every_call_still_gets_an_answer() {
    let floor = Limits::default()
        .max_prefix_len(10)
        .max_string_len(64)
        .max_list_len(16)
        .max_depth(16)
        .max_expression_len(1024);
    for dialect in [Dialect::Msgpack, Dialect::Pb, Dialect::None] {
        let (server, _) = options_with_root();
        let server = server.with_banana_limits(floor).unwrap();
        let client = BrokerOptions::default()
            .with_banana_limits(floor)
            .unwrap()
            .with_dialects(&[dialect])
            .unwrap();
        let mut p = Pair::new(client, server);
        assert_eq!(p.client.core.dialect(), Some(dialect));
        for (tag, method) in [(1, "long"), (2, "bigAnswer")] {
            match p.root_call(tag, method, vec![]) {
                Err(CallError::Remote(e)) => {
                    assert_eq!(e.value, "the error was too large to send")
                }
                other => panic!("{dialect:?}, {method}: {other:?}"),
            }
        }
        // An argument over the limit fails at the caller, and nothing is sent.
        match p.root_call(3, "echo", vec![Value::from("z".repeat(100))]) {
            Err(CallError::Encode(_)) => {}
            other => panic!("{dialect:?}: {other:?}"),
        }
        // Large luids and request ids still fit the floor's headers.
        assert!(p.root_call(i32::MAX as u32, "echo", vec![]).is_ok());
    }
}

#[test]
fn limits_below_what_pb_needs_are_refused_where_they_are_set() {
    for limits in [
        Limits::default().max_prefix_len(1),
        Limits::default().max_string_len(8),
        Limits::default().max_list_len(3),
        Limits::default().max_depth(2),
        Limits::default().max_expression_len(10),
    ] {
        assert!(
            BrokerOptions::default().with_banana_limits(limits).is_err(),
            "{limits:?}"
        );
    }
}

/// Every frame a peer can send that names nothing closes the connection
/// with a typed reason, and never panics the core.
#[test]
fn frames_that_name_nothing_close_with_a_reason() {
    type Expect = fn(&ProtocolError) -> bool;
    let cases: Vec<(Sexp, Expect)> = vec![
        (
            Sexp::list([Sexp::from("answer"), Sexp::from(5), Sexp::from(1)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::Requests,
                        id: 5
                    }
                )
            },
        ),
        (
            Sexp::list([Sexp::from("decache"), Sexp::from(1 << 40)]),
            |e| {
                matches!(
                    e,
                    ProtocolError::Unknown {
                        table: Table::Caches,
                        ..
                    }
                )
            },
        ),
        (Sexp::list([Sexp::from("uncache"), Sexp::from(-1)]), |e| {
            matches!(
                e,
                ProtocolError::Unknown {
                    table: Table::RemoteCaches,
                    id: -1
                }
            )
        }),
        (Sexp::list([Sexp::from("message"), Sexp::from(1)]), |e| {
            matches!(e, ProtocolError::UnknownCommand { arity: 1, .. })
        }),
        (Sexp::from(1), |e| matches!(e, ProtocolError::NotACommand)),
    ];
    for dialect in [Dialect::Msgpack, Dialect::Pb] {
        for (frame, expected) in &cases {
            let (options, _) = options_with_root();
            let client = BrokerOptions::default().with_dialects(&[dialect]).unwrap();
            let mut p = Pair::new(client, options);
            assert_eq!(p.server.core.dialect(), Some(dialect));
            let mut bytes = BytesMut::from(&encode_to_vec(frame, dialect).unwrap()[..]);
            let error = p.server.core.receive(&mut bytes, &Tokens).unwrap_err();
            assert!(expected(&error), "{dialect:?}, {frame:?}: {error:?}");
        }
    }
}

/// Takes the calls a core has queued for its driver, unanswered.
fn take_calls(side: &mut Side) -> Vec<spread_broker::proto::IncomingCall> {
    let mut calls = Vec::new();
    while let Some(event) = side.core.poll_event() {
        if let Event::Call(call) = event {
            calls.push(call);
        }
    }
    calls
}

/// Moves what `from` has queued to `to`, handling nothing on either side.
fn deliver(from: &mut Side, to: &mut Side) {
    let mut bytes = BytesMut::from(from.core.transmit());
    from.core.advance(bytes.len());
    to.core.receive(&mut bytes, &Tokens).unwrap();
}

/// A Twisted holder drops its copy (`decache`) right before the answer that
/// returns it (`["lcache", luid]`): the owner still finds its Cacheable,
/// its observer stops once, and the connection stays up.
#[test]
fn a_cache_released_before_the_answer_that_returns_it_still_arrives() {
    let mut p = Pair::new(BrokerOptions::default(), holder());
    let owner = Arc::new(Counter::default());
    p.call(
        1,
        Callee::Object(ObjectId::root()),
        "echo",
        vec![cache(owner.clone())],
    );
    deliver(&mut p.client, &mut p.server);
    let call = take_calls(&mut p.server).pop().expect("the echo call");
    let arg = call.call.args[0].clone();
    let PeerObject::Cache(luid) = token(&arg) else {
        panic!("a cache token")
    };
    p.server.core.release(Release::Cache(luid)).unwrap();
    p.server
        .core
        .answer(call.request, Ok(arg), &Tokens)
        .unwrap();
    p.settle().unwrap();
    let back = p.client.reply(1).unwrap();
    // Equal means the same object: the owner's own Cacheable.
    assert_eq!(
        back.downcast_ref::<LocalCacheable>(),
        Some(&LocalCacheable::new(owner.clone()))
    );
    assert_eq!(owner.stopped.load(Ordering::SeqCst), 1);
    assert_eq!(p.client.core.stats().caches, 0);
    assert!(
        p.root_call(2, "echo", vec![]).is_ok(),
        "the connection is up"
    );
}

/// What lingers goes once the next answer has been read, and counts
/// against the table's limit until then: a peer cannot grow it by
/// releasing objects while it leaves our calls unanswered.
#[test]
fn lingering_objects_are_bounded_and_expire_with_the_next_answer() {
    let (options, _) = options_with_root();
    let mut p = Pair::new(options.clone().with_max_local_objects(2), options);
    let send = |p: &mut Pair, tag: u32| {
        let object: Arc<dyn Referenceable> = Arc::new(Leaf);
        p.call(
            tag,
            Callee::Object(ObjectId::root()),
            "echo",
            vec![reference(object)],
        );
        deliver(&mut p.client, &mut p.server);
        take_calls(&mut p.server).pop()
    };
    // Two objects sent and released by the server, whose answers it holds.
    let mut held = Vec::new();
    for tag in [1, 2] {
        let call = send(&mut p, tag).expect("sent");
        let PeerObject::Reference(ObjectId::Luid(luid)) = token(&call.call.args[0]) else {
            panic!()
        };
        p.server.core.release(Release::Reference(luid)).unwrap();
        deliver(&mut p.server, &mut p.client);
        held.push(call);
    }
    assert_eq!(p.client.core.stats().local_objects, 0, "both released");
    // Both linger, and fill the table: a third object is refused here.
    assert!(send(&mut p, 3).is_none());
    p.client.handle_events().unwrap();
    assert!(matches!(p.client.reply(3), Err(CallError::Jelly(_))));
    // One answer read, nothing lingers, and there is room again.
    let first = held.remove(0);
    p.server
        .core
        .answer(first.request, Ok(Value::None), &Tokens)
        .unwrap();
    deliver(&mut p.server, &mut p.client);
    assert!(send(&mut p, 4).is_some(), "the fourth object was sent");
}
