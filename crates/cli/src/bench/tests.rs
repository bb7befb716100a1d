//! `spread bench`'s arguments, and whole runs against an in-process server
//! whose methods answer rightly, wrongly, or never.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use spread::{BrokerOptions, Value, remote, serve};

use super::{Args, ErrorKind, Outcome, Run, bench};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

fn parse(args: &[&str]) -> Result<Args, String> {
    Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))
        .map(|cli| cli.args)
        .map_err(|e| e.to_string())
}

#[test]
fn defaults_are_one_connection_one_call_in_flight_echo_for_ten_seconds() {
    let args = parse(&["127.0.0.1:8800"]).unwrap();
    assert_eq!(args.method, "echo");
    assert_eq!((args.connections, args.concurrency), (1, 1));
    let run = Run::from_args(args).unwrap();
    assert_eq!(run.calls, None);
    assert_eq!(run.duration, Some(Duration::from_secs(10)));
    // Calls alone: no time limit.
    let run = Run::from_args(parse(&["h:1", "--calls", "5"]).unwrap()).unwrap();
    assert_eq!((run.calls, run.duration), (Some(5), None));
}

#[test]
fn every_flag_is_read() {
    let args = parse(&[
        "[::1]:8800",
        "--method",
        "add",
        "--arg",
        "-2",
        "--arg",
        "[1, 'x']",
        "--calls",
        "100",
        "--concurrency",
        "8",
        "--connections",
        "1000",
        "--duration",
        "2.5",
        "--login",
        "alice:wonderland",
    ])
    .unwrap();
    assert_eq!(args.address.host, "::1");
    assert_eq!(args.method, "add");
    let list = Value::List(vec![Value::from(1), Value::from("x")]);
    assert_eq!(args.args, vec![Value::from(-2), list]);
    assert_eq!(args.calls, Some(100));
    assert_eq!((args.concurrency, args.connections), (8, 1000));
    assert_eq!(args.duration, Some(Duration::from_millis(2500)));
    assert_eq!(args.login.unwrap().user, "alice");
}

#[test]
fn bad_arguments_are_refused() {
    for (args, says) in [
        (&["127.0.0.1"][..], "expected HOST:PORT"),
        (&["h:1", "--connections", "0"], "positive whole number"),
        (&["h:1", "--concurrency", "x"], "positive whole number"),
        (&["h:1", "--calls", "0"], "--calls <N>"),
        (&["h:1", "--duration", "0"], "positive number of seconds"),
        (&["h:1", "--arg", "[1,"], "expected a value"),
        (&["h:1", "--login", "alice"], "USER:PASSWORD"),
    ] {
        let error = parse(args).unwrap_err();
        assert!(error.contains(says), "{args:?}: {error}");
    }
    let two = parse(&["h:1", "--arg", "1", "--arg", "2"]).unwrap();
    assert!(
        Run::from_args(two)
            .unwrap_err()
            .contains("echo takes one argument")
    );
}

/// How the test server's `echo` behaves.
#[derive(Clone, Copy, Debug)]
enum Echo {
    Right,
    /// Answers one more to every call whose number ends in 9.
    WrongEveryTenth,
    /// Never answers call 3.
    StallOnThree,
}

struct Server {
    echo: Echo,
    calls: AtomicU64,
}

#[remote]
impl Server {
    async fn echo(&self, x: Value) -> Value {
        match (self.echo, &x) {
            (Echo::WrongEveryTenth, Value::Int(n)) if n % 10 == 9 => Value::from(n + 1),
            (Echo::StallOnThree, Value::Int(3)) => std::future::pending().await,
            _ => x,
        }
    }

    /// A different answer each time.
    async fn counter(&self) -> u64 {
        self.calls.fetch_add(1, Ordering::Relaxed)
    }
}

/// Runs a bench with `args` (after the address) against a fresh server.
async fn bench_against(echo: Echo, args: &[&str]) -> Outcome {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let root = Arc::new(Server {
        echo,
        calls: AtomicU64::new(0),
    });
    let server = serve(listener, BrokerOptions::default().with_root(root));
    let mut all = vec![address.as_str()];
    all.extend_from_slice(args);
    let args = parse(&all).unwrap();
    let connections = args.connections;
    let mut run = Run::from_args(args).unwrap();
    run.answer_timeout = Duration::from_millis(300);
    let outcome = bench(Arc::new(run), connections).await;
    server.shutdown().await;
    outcome
}

fn errors(outcome: &Outcome, kind: ErrorKind) -> u64 {
    let kinds = &outcome.errors.kinds;
    kinds
        .iter()
        .find(|(k, ..)| *k == kind)
        .map_or(0, |(_, n, _)| *n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_made_and_checked() {
    let args = [
        "--calls",
        "500",
        "--connections",
        "5",
        "--concurrency",
        "4",
        "--arg",
        "{'k': {1, 2, 3}, 'f': 2.5}",
    ];
    let outcome = bench_against(Echo::Right, &args).await;
    assert_eq!(outcome.latency_us.count(), 500);
    assert_eq!(outcome.errors.total(), 0, "{:?}", outcome.errors);
    assert_eq!(outcome.connected, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_a_duration_stops_in_time() {
    let args = [
        "--duration",
        "0.3",
        "--connections",
        "3",
        "--concurrency",
        "2",
    ];
    let outcome = bench_against(Echo::Right, &args).await;
    assert!(outcome.latency_us.count() > 0);
    assert_eq!(outcome.errors.total(), 0, "{:?}", outcome.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_are_errors() {
    // Calls 9, 19, ... 99 are answered wrongly.
    let args = ["--calls", "100", "--connections", "2", "--concurrency", "3"];
    let outcome = bench_against(Echo::WrongEveryTenth, &args).await;
    assert_eq!(outcome.latency_us.count(), 100);
    assert_eq!(
        errors(&outcome, ErrorKind::Mismatch),
        10,
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.errors.total(), 10);
    // Another method must answer as it first did: a counter never does.
    let args = ["--method", "counter", "--calls", "50"];
    let outcome = bench_against(Echo::Right, &args).await;
    assert_eq!(
        errors(&outcome, ErrorKind::Mismatch),
        49,
        "{:?}",
        outcome.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_remote_errors_are_errors() {
    // Call 3 is never answered: its connection falls silent and gives up
    // with it and whatever else it had in flight.
    let args = ["--calls", "20", "--concurrency", "2"];
    let outcome = bench_against(Echo::StallOnThree, &args).await;
    let lost = errors(&outcome, ErrorKind::Lost);
    assert!((1..=2).contains(&lost), "{:?}", outcome.errors);
    assert_eq!(outcome.errors.total(), lost);

    let args = ["--method", "nosuch", "--calls", "20"];
    let outcome = bench_against(Echo::Right, &args).await;
    assert_eq!(
        errors(&outcome, ErrorKind::Remote),
        20,
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.latency_us.count(), 20);

    // Nobody listens: one error per connection.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let run = Run::from_args(parse(&[&address, "--connections", "3"]).unwrap()).unwrap();
    let outcome = bench(Arc::new(run), 3).await;
    assert_eq!(
        errors(&outcome, ErrorKind::Connect),
        3,
        "{:?}",
        outcome.errors
    );
    assert_eq!(outcome.connected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_dialect_can_be_asked_for() {
    for dialect in ["pb", "msgpack"] {
        let args = ["--calls", "20", "--concurrency", "2", "--dialect", dialect];
        let outcome = bench_against(Echo::Right, &args).await;
        assert_eq!(outcome.latency_us.count(), 20, "{dialect}");
        assert_eq!(outcome.errors.total(), 0, "{dialect}: {:?}", outcome.errors);
    }
    assert!(parse(&["h:1", "--dialect", "banana"]).is_err());
}
