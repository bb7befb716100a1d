//! One connection's part of a bench: connect (and log in), wait for the
//! start, then keep K calls in flight until the run's end, checking and
//! timing every answer. One task per connection; the calls in flight are
//! futures in a `FuturesUnordered`, not tasks.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use spread::{CallError, RemoteReference, Value};
use tokio::sync::{Semaphore, watch};

use super::check::Plan;
use super::histogram::Histogram;
use super::{ErrorKind, Errors};
use crate::call::{Address, Login};

/// How long connecting and logging in may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection with calls in flight may go without any answer
/// before those calls count as lost and the connection is given up.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What every connection of a run shares.
#[derive(Debug)]
pub(crate) struct Run {
    /// Every connection's options (the dialects it speaks).
    pub(crate) options: spread::BrokerOptions,
    pub(crate) address: Address,
    pub(crate) login: Option<Login>,
    pub(crate) plan: Plan,
    pub(crate) concurrency: usize,
    /// Stop after this many calls in all, if set.
    pub(crate) calls: Option<u64>,
    /// Stop this long after the start, if set.
    pub(crate) duration: Option<Duration>,
    /// [`ANSWER_TIMEOUT`], shorter in tests.
    pub(crate) answer_timeout: Duration,
    /// Calls claimed so far; a call's number is its claim's.
    pub(crate) issued: AtomicU64,
    /// Calls answered so far (rightly or not), for the progress line.
    pub(crate) answered: AtomicU64,
    /// Errors so far, for the progress line.
    pub(crate) failed: AtomicU64,
    /// Connections set up so far, for the progress line.
    pub(crate) connected: AtomicU64,
    /// Limits the connections being set up at once: a server's listen
    /// backlog (Twisted's is 50) overflows when a thousand arrive at once.
    pub(crate) connecting: Semaphore,
}

/// What one connection measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) latency_us: Histogram,
    pub(crate) errors: Errors,
    /// Whether it connected (and logged in).
    pub(crate) connected: bool,
}

impl Run {
    /// The next call's number, unless the run has made all its calls or
    /// its time is up.
    fn claim(&self, deadline: Option<Instant>, now: Instant) -> Option<u64> {
        if deadline.is_some_and(|d| now >= d) {
            return None;
        }
        let seq = self.issued.fetch_add(1, Ordering::Relaxed);
        match self.calls {
            Some(limit) if seq >= limit => None,
            _ => Some(seq),
        }
    }

    fn error(&self, report: &mut Report, kind: ErrorKind, detail: impl FnOnce() -> String) {
        self.error_n(report, kind, 1, detail);
    }

    fn error_n(
        &self,
        report: &mut Report,
        kind: ErrorKind,
        n: u64,
        detail: impl FnOnce() -> String,
    ) {
        self.failed.fetch_add(n, Ordering::Relaxed);
        report.errors.add(kind, n, detail);
    }
}

/// Runs one connection: set up, then waits for `start` to say when the run
/// began, and calls until the end.
pub(crate) async fn run(
    run: Arc<Run>,
    mut start: watch::Receiver<Option<Instant>>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> Report {
    let mut report = Report::default();
    let target = {
        // The semaphore is never closed.
        let _permit = run.connecting.acquire().await;
        tokio::time::timeout(CONNECT_TIMEOUT, set_up(&run)).await
    };
    if matches!(target, Ok(Ok(_))) {
        // Counted before saying so, so the count is whole once all have.
        run.connected.fetch_add(1, Ordering::Relaxed);
    }
    let _ = ready.send(()).await;
    let target = match target {
        Ok(Ok(target)) => target,
        Ok(Err(message)) => {
            run.error(&mut report, ErrorKind::Connect, || message);
            return report;
        }
        Err(_) => {
            run.error(&mut report, ErrorKind::Connect, || {
                format!(
                    "no connection to {} within {} s",
                    run.address,
                    CONNECT_TIMEOUT.as_secs()
                )
            });
            return report;
        }
    };
    report.connected = true;
    let started = match start.wait_for(Option::is_some).await {
        Ok(started) => started.unwrap_or_else(Instant::now),
        Err(_) => return report,
    };
    call(&run, &target, started, &mut report).await;
    // Said goodbye in order, so that the server sees no error.
    target.broker().close();
    report
}

/// Connects and gets the root object, or logs in.
async fn set_up(run: &Run) -> Result<RemoteReference, String> {
    let address = (run.address.host.as_str(), run.address.port);
    let broker = spread::connect(address, run.options.clone())
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", run.address))?;
    match &run.login {
        Some(login) => broker
            .login(&login.user, &login.password, None)
            .await
            .map_err(|e| format!("login as {:?} failed: {e}", login.user)),
        None => broker
            .root_object()
            .await
            .map_err(|e| format!("cannot get the root object of {}: {e}", run.address)),
    }
}

/// One call, sent at `sent` (the caller's clock reading, shared by the
/// calls one answer lets out); its future gives its number, when it was
/// sent and the outcome. Every call's future is of this one type, so a
/// `FuturesUnordered` holds them without boxing.
fn send(
    target: &RemoteReference,
    run: &Run,
    seq: u64,
    sent: Instant,
) -> impl Future<Output = (u64, Instant, Result<Value, CallError>)> {
    let answer = target.call_remote(run.plan.method(), run.plan.args(seq));
    async move { (seq, sent, answer.await) }
}

/// Keeps `run.concurrency` calls in flight until the run's end, then waits
/// for the last answers.
async fn call(run: &Run, target: &RemoteReference, started: Instant, report: &mut Report) {
    let deadline = run.duration.map(|d| started + d);
    let mut in_flight = FuturesUnordered::new();
    let mut more = true;
    let silence = tokio::time::sleep(run.answer_timeout);
    tokio::pin!(silence);
    // The timer is moved on only when it fires: resetting it at every
    // answer cost more than the rest of the client's bookkeeping.
    let mut last_answer = Instant::now();
    // One clock reading per answer serves its latency and the sends it
    // allows, as the raw ping-pong reads the clock once per read.
    let mut now = last_answer;
    loop {
        while more && in_flight.len() < run.concurrency {
            match run.claim(deadline, now) {
                Some(seq) => in_flight.push(send(target, run, seq, now)),
                None => more = false,
            }
        }
        if in_flight.is_empty() {
            return;
        }
        let (seq, sent, outcome) = tokio::select! {
            Some(done) = in_flight.next() => done,
            () = &mut silence => {
                if last_answer.elapsed() < run.answer_timeout {
                    silence.as_mut().reset((last_answer + run.answer_timeout).into());
                    continue;
                }
                let lost = in_flight.len() as u64;
                run.error_n(report, ErrorKind::Lost, lost, || {
                    format!(
                        "{lost} calls got no answer within {} s",
                        run.answer_timeout.as_secs_f64()
                    )
                });
                return;
            }
        };
        now = Instant::now();
        last_answer = now;
        let answered = |report: &mut Report| {
            let us = now.duration_since(sent).as_micros();
            report
                .latency_us
                .record(u64::try_from(us).unwrap_or(u64::MAX));
            run.answered.fetch_add(1, Ordering::Relaxed);
        };
        match outcome {
            Ok(value) => {
                answered(report);
                if let Err(mismatch) = run.plan.check(seq, value) {
                    run.error(report, ErrorKind::Mismatch, || {
                        use crate::call::repr::repr;
                        format!(
                            "call {seq}: expected {}, got {}",
                            repr(&mismatch.expected),
                            repr(&mismatch.got)
                        )
                    });
                }
            }
            Err(CallError::Remote(e)) => {
                answered(report);
                run.error(report, ErrorKind::Remote, || {
                    format!("call {seq}: {}: {}", e.remote_type, e.value)
                });
            }
            Err(e @ (CallError::ConnectionLost | CallError::DeadReference)) => {
                // This call and every other in flight are lost with the
                // connection; nothing more can be sent on it.
                let lost = in_flight.len() as u64 + 1;
                run.error_n(report, ErrorKind::Lost, lost, || {
                    format!("call {seq}: {e} ({lost} calls in flight lost)")
                });
                return;
            }
            Err(e) => {
                run.error(report, ErrorKind::Other, || format!("call {seq}: {e}"));
            }
        }
    }
}
