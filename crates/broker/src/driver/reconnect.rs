//! A client connection that comes back after the server goes away: Twisted's
//! `ClientService` (and `ReconnectingClientFactory`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Broker;

/// How long to wait between failed attempts to connect: `initial`, growing
/// by `factor` after each failure up to `max`, each delay spread by up to
/// a tenth either way so that many clients of one restarted server do not
/// all come back in the same instant.
///
/// The default is Twisted's `ClientService` policy: 1 s, times 1.5, at most
/// 60 s.
///
/// ```
/// use std::time::Duration;
/// use spread_broker::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
/// let first = backoff.delay(0);
/// assert!(first >= Duration::from_millis(90) && first <= Duration::from_millis(110));
/// assert!(backoff.delay(50) <= Duration::from_millis(5500));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    factor: f64,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 1.5,
        }
    }
}

impl Backoff {
    /// Starts at `initial`, grows by half after each failure, at most `max`.
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            factor: 1.5,
        }
    }

    /// The delay after `failures` failed attempts in a row (0 for the first
    /// retry).
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = i32::try_from(failures).unwrap_or(i32::MAX);
        let grown = self.initial.as_secs_f64() * self.factor.powi(exponent);
        let capped = grown.min(self.max.as_secs_f64());
        Duration::from_secs_f64(capped * jitter())
    }
}

/// A factor between 0.9 and 1.1; exactly 1 if the system has no
/// randomness to give (the spread is a courtesy, not a need).
fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    match getrandom::fill(&mut byte) {
        Ok(()) => 0.9 + 0.2 * f64::from(byte[0]) / 255.0,
        Err(_) => 1.0,
    }
}

/// Where the connection is.
#[derive(Clone, Debug)]
enum State {
    Connecting,
    Up(Broker),
    Stopped,
}

/// A client that keeps a connection to a PB server: it connects, and when
/// the connection is lost it connects again, with [`Backoff`] between
/// failed attempts. Twisted's `ClientService`.
///
/// What "connect" means is the function it is given: [`connect`] and
/// nothing else, or a connection that also logs in and registers what the
/// server should know, so every new connection is set up the same way.
/// The handle is `Clone + Send + Sync`; the connection stops when
/// [`Reconnecting::stop`] is called or every handle is dropped.
///
/// [`connect`]: crate::connect
///
/// ```
/// use std::sync::Arc;
/// use spread_broker::{Backoff, BrokerOptions, Reconnecting, connect, serve};
/// use spread_flavors::{BoxFuture, Call, Referenceable, RemoteError};
/// use spread_jelly::Value;
///
/// struct Echo;
///
/// impl Referenceable for Echo {
///     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
///         Box::pin(async move { Ok(call.arg(0)?.clone()) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = serve(listener, BrokerOptions::default().with_root(Arc::new(Echo)));
///
/// let client = Reconnecting::new(
///     move || connect(addr, BrokerOptions::default()),
///     Backoff::default(),
/// );
/// // Waits for a connection whose handshake is done.
/// let broker = client.broker().await.expect("not stopped");
/// let root = broker.root_object().await?;
/// assert_eq!(root.call_remote("echo", vec![Value::from(7)]).await?, Value::from(7));
/// client.stop();
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Reconnecting {
    state: watch::Receiver<State>,
    stop: Arc<watch::Sender<bool>>,
}

impl fmt::Debug for Reconnecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconnecting")
            .field("state", &*self.state.borrow())
            .finish()
    }
}

impl Reconnecting {
    /// Starts connecting at once with `connect`, on the current tokio
    /// runtime, and again whenever the connection is lost: at once after a
    /// connection that worked, after the backoff's delay after a failed
    /// attempt. An attempt fails if `connect` fails or the PB handshake
    /// does; each failure is logged with its reason.
    pub fn new<F, Fut, E>(connect: F, backoff: Backoff) -> Reconnecting
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Broker, E>> + Send + 'static,
        E: fmt::Display + 'static,
    {
        let (state_tx, state) = watch::channel(State::Connecting);
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(keep_connected(connect, backoff, state_tx, stop_rx));
        Reconnecting {
            state,
            stop: Arc::new(stop),
        }
    }

    /// The connected broker, waiting for one if the client is between
    /// connections; `None` once the client is stopped.
    pub async fn broker(&self) -> Option<Broker> {
        let mut state = self.state.clone();
        // A connection just lost is still `Up` until the loop sees it.
        let state = state
            .wait_for(|s| match s {
                State::Connecting => false,
                State::Up(broker) => !broker.is_closed(),
                State::Stopped => true,
            })
            .await
            .map(|s| s.clone());
        match state {
            Ok(State::Up(broker)) => Some(broker),
            _ => None,
        }
    }

    /// The connected broker, if there is one now.
    pub fn current(&self) -> Option<Broker> {
        match &*self.state.borrow() {
            State::Up(broker) if !broker.is_closed() => Some(broker.clone()),
            _ => None,
        }
    }

    /// Stops reconnecting, and closes the connection if there is one (as
    /// [`Broker::close`] does).
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

/// The reconnecting loop: one task for the client's whole life.
async fn keep_connected<F, Fut, E>(
    mut connect: F,
    backoff: Backoff,
    state: watch::Sender<State>,
    mut stop: watch::Receiver<bool>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Broker, E>>,
    E: fmt::Display,
{
    // Resolves when `stop` is called or every handle is gone.
    async fn stopped(stop: &mut watch::Receiver<bool>) {
        let _ = stop.wait_for(|stop| *stop).await;
    }
    let mut failures = 0;
    loop {
        let attempt = async {
            let broker = connect().await.map_err(|e| e.to_string())?;
            match broker.root_object().await {
                Ok(_) => Ok(broker),
                Err(e) => Err(e.to_string()),
            }
        };
        let outcome = tokio::select! {
            outcome = attempt => outcome,
            () = stopped(&mut stop) => break,
        };
        match outcome {
            Ok(broker) => {
                failures = 0;
                tracing::info!("connected");
                state.send_replace(State::Up(broker.clone()));
                tokio::select! {
                    reason = broker.closed() => match reason {
                        Some(reason) => tracing::warn!(%reason, "connection lost; reconnecting"),
                        None => tracing::info!("connection closed; reconnecting"),
                    },
                    () = stopped(&mut stop) => {
                        broker.close();
                        break;
                    }
                }
                state.send_replace(State::Connecting);
            }
            Err(reason) => {
                let delay = backoff.delay(failures);
                failures = failures.saturating_add(1);
                tracing::warn!(%reason, ?delay, "could not connect; retrying");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = stopped(&mut stop) => break,
                }
            }
        }
    }
    state.send_replace(State::Stopped);
}
