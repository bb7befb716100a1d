//! What the hostile-peer and fault suites share: a peer that writes raw
//! Banana bytes, a well-behaved client that keeps calling and checks every
//! answer, and a look at a process's memory.
//!
//! Not published; `cargo xtask ci` runs its tests after building the
//! examples they start.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use spread::{BrokerOptions, Value, connect};
use spread_banana::{Decoder, Dialect, Limits, Sexp, encode_to_vec};

/// How long any one wait may take before the test fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A peer that speaks Banana byte by byte: it can send what no broker
/// would.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    decoder: Decoder,
    input: BytesMut,
    /// The dialect chosen (`none` before the handshake).
    dialect: Dialect,
}

impl RawPeer {
    /// Connects and does nothing more: not even the handshake.
    pub fn connect_only(port: u16) -> RawPeer {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        RawPeer {
            stream,
            decoder: Decoder::new(Limits::default()),
            input: BytesMut::new(),
            dialect: Dialect::None,
        }
    }

    /// Connects and does PB's handshake as Twisted's client does: takes the
    /// server's dialect offer (a spread server's, `spread-msgpack` first),
    /// chooses `pb`, and exchanges versions.
    pub fn connect(port: u16) -> RawPeer {
        RawPeer::connect_in(port, Dialect::Pb)
    }

    /// [`RawPeer::connect`], choosing `dialect`: what a spread client
    /// chooses is `spread-msgpack`.
    pub fn connect_in(port: u16, dialect: Dialect) -> RawPeer {
        let mut peer = RawPeer::connect_only(port);
        let offer = peer.next_frame().expect("a dialect offer");
        let spread_offer = Dialect::DEFAULT_OFFER.map(|d| Sexp::from(d.name()));
        assert_eq!(offer, Sexp::List(spread_offer.to_vec()));
        peer.send(&encode_to_vec(&Sexp::from(dialect.name()), Dialect::None).unwrap())
            .unwrap();
        peer.decoder.set_dialect(dialect);
        peer.dialect = dialect;
        let version = peer.next_frame().expect("a version");
        assert_eq!(version, Sexp::list([Sexp::from("version"), Sexp::from(6)]));
        peer.send(&frame_in(
            dialect,
            vec![Sexp::from("version"), Sexp::from(6)],
        ))
        .unwrap();
        peer
    }

    /// Writes bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Half-closes: the server reads EOF after what was sent.
    pub fn finish(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// The next frame the server sends; `None` at EOF. Fails the test if
    /// nothing comes within [`PATIENCE`].
    pub fn next_frame(&mut self) -> Option<Sexp> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some(sexp) = self
                .decoder
                .decode(&mut self.input)
                .expect("server's Banana")
            {
                return Some(sexp);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("reading from the server: {e}"),
            }
        }
    }

    /// Waits for the server to close the connection, reading (and
    /// dropping) whatever it sends before. Fails the test if the server
    /// keeps it open past [`PATIENCE`].
    pub fn expect_closed(&mut self) {
        self.expect_closed_within(PATIENCE);
    }

    /// [`RawPeer::expect_closed`], waiting up to `patience`.
    pub fn expect_closed_within(&mut self, patience: Duration) {
        self.stream.set_read_timeout(Some(patience)).unwrap();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return,
                Err(e) => panic!("the server did not close the connection: {e}"),
            }
        }
    }

    /// Calls `method` on the root with `args` (jellied already), and
    /// returns the frame that answers request `request`.
    pub fn call(&mut self, request: i64, method: &str, args: Vec<Sexp>) -> Sexp {
        self.send(&message_in(self.dialect, request, method, args))
            .unwrap();
        loop {
            let frame = self.next_frame().expect("an answer, not EOF");
            let items = frame.as_list().expect("a command");
            if items.get(1) == Some(&Sexp::from(request))
                && matches!(items[0].as_bytes(), Some(b"answer" | b"error"))
            {
                return frame;
            }
        }
    }
}

/// A list frame of `items`, in the pb dialect.
pub fn frame(items: Vec<Sexp>) -> Vec<u8> {
    frame_in(Dialect::Pb, items)
}

/// A list frame of `items`, in `dialect`.
pub fn frame_in(dialect: Dialect, items: Vec<Sexp>) -> Vec<u8> {
    encode_to_vec(&Sexp::List(items), dialect).unwrap()
}

/// `["message", request, "root", method, 1, ["tuple", *args], ["dictionary"]]`.
pub fn message(request: i64, method: &str, args: Vec<Sexp>) -> Vec<u8> {
    message_in(Dialect::Pb, request, method, args)
}

/// [`message`], in `dialect`.
pub fn message_in(dialect: Dialect, request: i64, method: &str, args: Vec<Sexp>) -> Vec<u8> {
    let mut tuple = vec![Sexp::from("tuple")];
    tuple.extend(args);
    frame_in(
        dialect,
        vec![
            Sexp::from("message"),
            Sexp::from(request),
            Sexp::from("root"),
            Sexp::Bytes(bytes::Bytes::copy_from_slice(method.as_bytes())),
            Sexp::from(1),
            Sexp::List(tuple),
            Sexp::list([Sexp::from("dictionary")]),
        ],
    )
}

/// What a well-behaved client has seen so far.
#[derive(Debug, Default)]
struct Tally {
    answered: u64,
    failure: Option<String>,
    stop: bool,
}

/// A well-behaved client on its own thread: it calls `echo` with a new
/// value each time and checks that the answer is that value, until it is
/// finished. The suites check that it keeps getting answers while hostile
/// peers do their worst.
#[derive(Debug)]
pub struct Caller {
    tally: Arc<(Mutex<Tally>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Caller {
    /// Starts calling the echo server on `port`.
    pub fn start(port: u16) -> Caller {
        let tally = Arc::new((Mutex::new(Tally::default()), Condvar::new()));
        let shared = tally.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let outcome = runtime.block_on(call_until_stopped(port, &shared));
            let (tally, changed) = &*shared;
            let mut tally = tally.lock().unwrap();
            if let Err(e) = outcome {
                tally.failure = Some(e);
            }
            changed.notify_all();
        });
        Caller {
            tally,
            thread: Some(thread),
        }
    }

    /// Waits until `n` more calls have been answered correctly; fails the
    /// test if one was answered wrongly or failed, or if they do not come
    /// within [`PATIENCE`].
    pub fn wait_for_answers(&self, n: u64) {
        let (tally, changed) = &*self.tally;
        let tally = tally.lock().unwrap();
        let goal = tally.answered + n;
        let (tally, timeout) = changed
            .wait_timeout_while(tally, PATIENCE, |t| {
                t.answered < goal && t.failure.is_none()
            })
            .unwrap();
        if let Some(failure) = &tally.failure {
            panic!("the well-behaved client failed: {failure}");
        }
        assert!(
            !timeout.timed_out(),
            "the well-behaved client got {} answers and stalled",
            tally.answered
        );
    }

    /// Stops the client; returns how many answers it got, all correct.
    pub fn finish(mut self) -> u64 {
        self.tally.0.lock().unwrap().stop = true;
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        let tally = self.tally.0.lock().unwrap();
        if let Some(failure) = &tally.failure {
            panic!("the well-behaved client failed: {failure}");
        }
        tally.answered
    }
}

async fn call_until_stopped(port: u16, tally: &(Mutex<Tally>, Condvar)) -> Result<(), String> {
    let broker = connect(("127.0.0.1", port), BrokerOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let root = broker.root_object().await.map_err(|e| e.to_string())?;
    for n in 0i64.. {
        if tally.0.lock().unwrap().stop {
            break;
        }
        let sent = Value::List(vec![Value::from(n), Value::from(format!("call {n}"))]);
        let answer = root
            .call_remote("echo", vec![sent.clone()])
            .await
            .map_err(|e| format!("call {n}: {e}"))?;
        if answer != sent {
            return Err(format!("call {n} was answered {answer:?}"));
        }
        let (tally, changed) = tally;
        tally.lock().unwrap().answered += 1;
        changed.notify_all();
    }
    Ok(())
}

/// A process's resident memory, now and at its peak, in KiB (Linux).
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// `VmRSS`.
    pub rss_kib: u64,
    /// `VmHWM`: the most it has held.
    pub peak_kib: u64,
}

impl Memory {
    /// Reads `/proc/PID/status`.
    pub fn of(pid: u32) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
        };
        Memory {
            rss_kib: field("VmRSS:"),
            peak_kib: field("VmHWM:"),
        }
    }
}
