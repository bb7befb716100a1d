//! The tokio side: one task per connection drives its [`Core`], reading,
//! writing, running the peer's calls and taking commands from the handles.
//! It keeps no table of its own: every table is the core's.

mod cache;
mod commands;
mod reconnect;
mod reference;
#[cfg(feature = "tls")]
pub(crate) mod tls;

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use spread_banana::Dialect;
use spread_flavors::{Observer, RemoteCache, RemoteError};
use spread_jelly::{Dict, Object, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Notify, oneshot, watch};

use self::commands::Commands;

use crate::proto::{
    Callee, Core, Event, ForeignHandle, Handles, IncomingCall, ObjectId, PeerObject, Release, Role,
    Stats,
};
use crate::{BrokerOptions, CallError, ConnectionError, ProtocolError};

// The public interface is:
pub use self::cache::RemoteCacheRef;
pub use self::reconnect::{Backoff, Reconnecting};
pub use self::reference::RemoteReference;

/// Where a call's answer goes.
type Reply = oneshot::Sender<Result<Value, CallError>>;

/// What handles ask of a connection's task.
enum Command {
    Call {
        callee: Callee,
        method: Bytes,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<Reply>,
    },
    /// A handle was dropped. Handles are dropped anywhere (inside the
    /// core's own work too), so this never blocks and never locks.
    Release(Release),
    /// Close once what is queued is written.
    Close,
    /// Close at once.
    Abort,
}

/// Where the connection is, as the handles see it.
#[derive(Clone, Debug)]
enum Status {
    Connecting,
    Ready,
    Closed {
        reason: Option<ConnectionError>,
        after_handshake: bool,
    },
}

type Callback = Box<dyn FnOnce() + Send>;

/// What every handle of one connection shares: the way to its task, and
/// what the task publishes.
struct Link {
    id: u64,
    commands: Commands<Command>,
    /// Not a watch, for the same reason as `stats`.
    status: Mutex<Status>,
    /// Woken when `status` changes.
    status_changed: Notify,
    /// The tables' sizes as of the task's last step. Not a watch: a watch
    /// costs every connection some 400 bytes, and few ever wait on this.
    stats: Mutex<Stats>,
    /// Woken when `stats` changes, and when the connection closes.
    stats_changed: Notify,
    /// The dialect the handshake chose, once it has.
    dialect: OnceLock<Dialect>,
    on_disconnect: Mutex<Vec<Callback>>,
}

impl Link {
    fn is_closed(&self) -> bool {
        matches!(*self.status(), Status::Closed { .. })
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_status(&self, status: Status) {
        *self.status() = status;
        self.status_changed.notify_waiters();
    }

    /// Waits until `ready` makes something of the status.
    async fn wait_status<T>(&self, ready: impl Fn(&Status) -> Option<T>) -> T {
        loop {
            // Listening before looking, so no change slips in between.
            let changed = self.status_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(found) = ready(&self.status()) {
                return found;
            }
            changed.await;
        }
    }

    fn stats(&self) -> Stats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, stats: Stats) {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = stats;
        self.stats_changed.notify_waiters();
    }

    fn send_call(
        &self,
        callee: Callee,
        method: Bytes,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<Reply>,
    ) -> Result<(), CallError> {
        if self.is_closed() {
            return Err(CallError::DeadReference);
        }
        let command = Command::Call {
            callee,
            method,
            args,
            kwargs,
            reply,
        };
        self.commands
            .send(command)
            .map_err(|_| CallError::DeadReference)
    }
}

static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

/// The handles the core asks for, made on this connection's link.
struct LinkHandles<'a>(&'a Arc<Link>);

impl Handles for LinkHandles<'_> {
    fn remote_reference(&self, luid: i64) -> Value {
        Value::from(RemoteReference::new(self.0.clone(), ObjectId::Luid(luid)))
    }

    fn remote_cache(&self, luid: i64, cache: Arc<dyn RemoteCache>) -> Value {
        Value::from(RemoteCacheRef::new(self.0.clone(), luid, cache))
    }

    fn observer(&self, luid: i64) -> Observer {
        Observer::new(Arc::new(cache::BrokerObserver {
            link: self.0.clone(),
            luid,
        }))
    }

    fn peer_object(&self, object: &Object) -> Option<Result<PeerObject, ForeignHandle>> {
        let ours = |link_id: u64, named: PeerObject| {
            if link_id == self.0.id {
                Ok(named)
            } else {
                Err(ForeignHandle)
            }
        };
        if let Some(reference) = object.downcast_ref::<RemoteReference>() {
            let named = PeerObject::Reference(reference.object_id().clone());
            return Some(ours(reference.link_id(), named));
        }
        let cache = object.downcast_ref::<RemoteCacheRef>()?;
        Some(ours(cache.link_id(), PeerObject::Cache(cache.luid())))
    }
}

/// One PB connection: Twisted's `Broker`. A cheap handle, `Clone + Send +
/// Sync`; the connection itself runs in the future [`Broker::new`] returns.
#[derive(Clone)]
pub struct Broker {
    link: Arc<Link>,
}

impl fmt::Debug for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broker")
            .field("id", &self.link.id)
            .field("status", &*self.link.status())
            .finish()
    }
}

/// The future that runs one connection.
type Driver = Pin<Box<dyn Future<Output = Result<(), ConnectionError>> + Send + 'static>>;

impl Broker {
    /// A broker over any byte stream. Returns the handle and the future that
    /// runs the connection: spawn it. It ends when the connection closes:
    /// `Ok` when either side closed it in order, the reason otherwise.
    #[must_use = "the connection runs only while its future is polled"]
    pub fn new<IO>(
        io: IO,
        role: Role,
        options: BrokerOptions,
    ) -> (
        Broker,
        impl Future<Output = Result<(), ConnectionError>> + Send + 'static,
    )
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        Broker::new_with(io, role, options, |_| None)
    }

    /// [`Broker::new`], with a root made for this connection by `root_for`
    /// (Twisted's `rootObject(broker)`); `None` keeps the options' root.
    #[must_use = "the connection runs only while its future is polled"]
    pub fn new_with<IO>(
        io: IO,
        role: Role,
        mut options: BrokerOptions,
        root_for: impl FnOnce(&Broker) -> Option<Arc<dyn spread_flavors::Referenceable>>,
    ) -> (
        Broker,
        impl Future<Output = Result<(), ConnectionError>> + Send + 'static,
    )
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let link = Arc::new(Link {
            id: NEXT_LINK.fetch_add(1, Ordering::Relaxed),
            commands: Commands::new(),
            status: Mutex::new(Status::Connecting),
            status_changed: Notify::new(),
            stats: Mutex::new(Stats::default()),
            stats_changed: Notify::new(),
            dialect: OnceLock::new(),
            on_disconnect: Mutex::new(Vec::new()),
        });
        let broker = Broker { link: link.clone() };
        if let Some(root) = root_for(&broker) {
            options.root = Some(root);
        }
        // The guard exists before the future is first polled, so a driver
        // dropped unpolled still marks the connection closed.
        let closing = Closing::new(link);
        let driver: Driver = match Core::new(role, options) {
            Ok(core) => Box::pin(drive(io, core, closing)),
            Err(e) => Box::pin(async move { closing.close(Err(e.into())) }),
        };
        (broker, driver)
    }

    fn from_link(link: Arc<Link>) -> Broker {
        Broker { link }
    }

    /// The peer's root object, once the handshake is done (Twisted's
    /// `getRootObject`; nothing is sent for it).
    pub async fn root_object(&self) -> Result<RemoteReference, CallError> {
        let status = self
            .link
            .wait_status(|s| (!matches!(s, Status::Connecting)).then(|| s.clone()))
            .await;
        match status {
            Status::Ready => Ok(RemoteReference::new(self.link.clone(), ObjectId::root())),
            Status::Closed {
                after_handshake: false,
                reason,
            } => Err(CallError::Handshake(
                reason.unwrap_or(ConnectionError::ClosedDuringHandshake),
            )),
            _ => Err(CallError::DeadReference),
        }
    }

    /// The dialect the handshake chose: `None` until it is done (and for
    /// good if it failed). Two spread peers speak
    /// [`Dialect::Msgpack`] unless [`BrokerOptions::with_dialects`] leaves
    /// it out; a Twisted peer speaks [`Dialect::Pb`].
    ///
    /// ```
    /// use spread_banana::Dialect;
    /// use spread_broker::{Broker, BrokerOptions, Role};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (a, b) = tokio::io::duplex(4096);
    /// let (server, serving) = Broker::new(a, Role::Server, BrokerOptions::default());
    /// let (client, connecting) = Broker::new(b, Role::Client, BrokerOptions::default());
    /// tokio::spawn(serving);
    /// tokio::spawn(connecting);
    /// client.root_object().await.unwrap();
    /// assert_eq!(client.dialect(), Some(Dialect::Msgpack));
    /// server.root_object().await.unwrap();
    /// assert_eq!(server.dialect(), Some(Dialect::Msgpack));
    /// # }
    /// ```
    pub fn dialect(&self) -> Option<Dialect> {
        self.link.dialect.get().copied()
    }

    /// The sizes of the connection's tables, as of the connection task's
    /// last step.
    pub fn stats(&self) -> Stats {
        self.link.stats()
    }

    /// Waits until the connection's tables satisfy `condition`, and returns
    /// them then; if the connection closes first, returns the last sizes.
    ///
    /// ```
    /// use spread_broker::{Broker, BrokerOptions, Role};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (a, b) = tokio::io::duplex(4096);
    /// let (server, serving) = Broker::new(a, Role::Server, BrokerOptions::default());
    /// let (client, connecting) = Broker::new(b, Role::Client, BrokerOptions::default());
    /// tokio::spawn(serving);
    /// tokio::spawn(connecting);
    /// client.root_object().await.unwrap();
    /// // Every reference the peer held has been released.
    /// let stats = server.wait_for_stats(|s| s.local_objects == 0).await;
    /// assert_eq!(stats.calls_in_flight, 0);
    /// # }
    /// ```
    pub async fn wait_for_stats(&self, mut condition: impl FnMut(&Stats) -> bool) -> Stats {
        loop {
            // Listening before looking, so no change slips in between.
            let changed = self.link.stats_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = self.link.stats();
            if condition(&now) || self.link.is_closed() {
                return now;
            }
            changed.await;
        }
    }

    /// Runs `callback` once when the connection closes (at once if it has).
    pub fn notify_on_disconnect(&self, callback: impl FnOnce() + Send + 'static) {
        let mut callbacks = self
            .link
            .on_disconnect
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.link.is_closed() {
            drop(callbacks);
            callback();
        } else {
            callbacks.push(Box::new(callback));
        }
    }

    /// Whether the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.link.is_closed()
    }

    /// Waits until the connection has closed, and gives the reason this side
    /// closed it, if it was an error.
    pub async fn closed(&self) -> Option<ConnectionError> {
        self.link
            .wait_status(|s| match s {
                Status::Closed { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .await
    }

    /// Closes the connection gracefully: calls made after this fail with
    /// [`CallError::ConnectionLost`], and so do the peer's (it gets Twisted's
    /// `PBConnectionLost`); the peer's calls already in progress are
    /// answered, and once what is queued is written the connection closes.
    /// If that takes longer than the close timeout
    /// ([`BrokerOptions::with_close_timeout`]), it closes at once.
    pub fn close(&self) {
        let _ = self.link.commands.send(Command::Close);
    }

    /// Closes the connection at once, dropping what is queued (for a peer
    /// that does not read).
    pub fn abort(&self) {
        let _ = self.link.commands.send(Command::Abort);
    }
}

/// Connects to a PB server and returns the broker, its task spawned on the
/// current tokio runtime.
pub async fn connect(addr: impl ToSocketAddrs, options: BrokerOptions) -> std::io::Result<Broker> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (broker, driver) = Broker::new(stream, Role::Client, options);
    tokio::spawn(log_end(driver));
    Ok(broker)
}

async fn log_end(driver: impl Future<Output = Result<(), ConnectionError>>) {
    if let Err(reason) = driver.await {
        tracing::warn!(%reason, "closed a PB connection");
    }
}

/// A running PB server (Twisted's `PBServerFactory` on a port).
#[derive(Debug)]
pub struct Server {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Serves `listener`: every accepted connection gets a broker whose root is
/// the options' root.
pub fn serve(listener: TcpListener, options: BrokerOptions) -> Server {
    serve_with(listener, options, |_| None)
}

/// Serves `listener`, giving each connection the root `root_for` makes for
/// it (Twisted's `rootObject(broker)`), for roots that act per connection.
pub fn serve_with<F>(listener: TcpListener, options: BrokerOptions, root_for: F) -> Server
where
    F: Fn(&Broker) -> Option<Arc<dyn spread_flavors::Referenceable>> + Send + Sync + 'static,
{
    serve_upgraded(listener, options, root_for, |stream| {
        Box::pin(std::future::ready(Ok(stream)))
    })
}

/// Turns an accepted TCP stream into the stream PB runs over (a TLS
/// handshake, or nothing).
pub(crate) type Upgrade<S> = Arc<
    dyn Fn(TcpStream) -> Pin<Box<dyn Future<Output = std::io::Result<S>> + Send>> + Send + Sync,
>;

/// The accept loop: each connection is upgraded and driven in its own
/// task, so a slow handshake never holds up the next accept.
pub(crate) fn serve_upgraded<F, S>(
    listener: TcpListener,
    options: BrokerOptions,
    root_for: F,
    upgrade: impl Fn(TcpStream) -> Pin<Box<dyn Future<Output = std::io::Result<S>> + Send>>
    + Send
    + Sync
    + 'static,
) -> Server
where
    F: Fn(&Broker) -> Option<Arc<dyn spread_flavors::Referenceable>> + Send + Sync + 'static,
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let upgrade: Upgrade<S> = Arc::new(upgrade);
    let root_for = Arc::new(root_for);
    let (stop, mut stopped) = watch::channel(false);
    // The connections, for shutdown; a connection that finishes its
    // handshake after shutdown began is closed at once.
    let brokers: Arc<Mutex<Option<Vec<Broker>>>> = Arc::new(Mutex::new(Some(Vec::new())));
    let live = brokers.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        tracing::debug!(%peer, "accepted a PB connection");
                        let (upgrade, root_for, options, live) =
                            (upgrade.clone(), root_for.clone(), options.clone(), live.clone());
                        tokio::spawn(async move {
                            let stream = match upgrade(stream).await {
                                Ok(stream) => stream,
                                Err(e) => {
                                    tracing::info!(%peer, %e, "a connection failed its handshake");
                                    return;
                                }
                            };
                            let (broker, driver) =
                                Broker::new_with(stream, Role::Server, options, &*root_for);
                            match live.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                                Some(brokers) => {
                                    brokers.retain(|b| !b.is_closed());
                                    brokers.push(broker);
                                }
                                None => broker.close(),
                            }
                            log_end(driver).await;
                        });
                    }
                    Err(e) => {
                        // Out of file descriptors, say: wait a little rather
                        // than spin on the same error.
                        tracing::warn!(%e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                // The watch's guard must not live in this task's state.
                () = async { let _ = stopped.wait_for(|s| *s).await; } => break,
            }
        }
        // New connections are refused from here on, not left in the backlog.
        drop(listener);
        let brokers = brokers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        // Each connection answers the calls it is serving and writes what
        // it has queued, within its own close timeout; then it closes.
        for broker in &brokers {
            broker.close();
        }
        for broker in &brokers {
            broker.closed().await;
        }
    });
    Server { stop, task }
}

impl Server {
    /// Shuts the server down gracefully: new connections are refused at
    /// once, every connection is closed as [`Broker::close`] closes it
    /// (the calls in progress answered, what is queued written, within the
    /// close timeout of [`BrokerOptions::with_close_timeout`]; then at
    /// once), and this returns when all are closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Marks the connection closed however the driver ends, a panic included,
/// so that no handle waits for it for ever.
struct Closing {
    link: Arc<Link>,
    done: bool,
}

impl Closing {
    fn new(link: Arc<Link>) -> Closing {
        Closing { link, done: false }
    }

    fn close(mut self, result: Result<(), ConnectionError>) -> Result<(), ConnectionError> {
        self.mark(result.as_ref().err().cloned());
        result
    }

    fn mark(&mut self, reason: Option<ConnectionError>) {
        if self.done {
            return;
        }
        self.done = true;
        let after_handshake = !matches!(*self.link.status(), Status::Connecting);
        self.link.set_status(Status::Closed {
            reason,
            after_handshake,
        });
        self.link.stats_changed.notify_waiters();
        // Calls queued but never taken fail (their callers see the
        // connection lost) once the queue is out of the lock.
        drop(self.link.commands.close());
        let callbacks = std::mem::take(
            &mut *self
                .link
                .on_disconnect
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for callback in callbacks {
            // One callback's panic must not keep the others from running.
            if std::panic::catch_unwind(AssertUnwindSafe(callback)).is_err() {
                tracing::error!("a disconnect callback panicked");
            }
        }
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        self.mark(None);
    }
}

/// A call from the peer still running, with the request to answer.
type Running = Pin<Box<dyn Future<Output = (Option<i64>, Result<Value, RemoteError>)> + Send>>;

/// What the caller of a method that panicked gets: one method's bug must
/// not take the connection down.
fn panicked(request: Option<i64>) -> Result<Value, RemoteError> {
    tracing::error!(?request, "a remote method panicked");
    Err(RemoteError::new(
        "builtins.Exception",
        "the remote method failed",
    ))
}

/// A call's outcome, to hand to [`Core::answer`].
type Finished = (Option<i64>, Result<Value, RemoteError>);

/// Starts a call from the peer: polled once here, so that calls start in
/// the order they arrived, as Twisted starts them. A call that finishes at
/// once is answered without a task or another allocation; the others come
/// back to be kept running.
fn start(call: IncomingCall) -> Result<Finished, Running> {
    let request = call.request;
    let mut future = None;
    // `run` itself is the method's code for a hand-written Referenceable,
    // so it is inside the catch too.
    let first = std::panic::catch_unwind(AssertUnwindSafe(|| {
        future
            .insert(call.run())
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    }));
    match (first, future) {
        (Ok(Poll::Ready(result)), _) => Ok((request, result)),
        // Polled again by the driver's set of calls, with a real waker.
        (Ok(Poll::Pending), Some(future)) => {
            Err(Box::pin(AssertUnwindSafe(future).catch_unwind().map(
                move |result| (request, result.unwrap_or_else(|_| panicked(request))),
            )))
        }
        _ => Ok((request, panicked(request))),
    }
}

/// How many queued commands one turn of the driver takes before it looks
/// at the socket again, so that a flood of calls cannot starve reading.
const COMMAND_BATCH: usize = 64;

/// Hands one command to the core. Once a close was asked for, calls are
/// refused: what is queued is being written, and nothing more.
fn command_into(
    core: &mut Core<Reply>,
    command: Command,
    close: &mut Close,
    handles: &dyn Handles,
) -> Result<(), ProtocolError> {
    match command {
        Command::Call { reply, .. } if *close != Close::No => {
            if let Some(reply) = reply {
                let _ = reply.send(Err(CallError::ConnectionLost));
            }
            Ok(())
        }
        Command::Call {
            callee,
            method,
            args,
            kwargs,
            reply,
        } => core.call(callee, method, args, kwargs, reply, handles),
        Command::Release(release) => core.release(release),
        Command::Close => {
            *close = (*close).max(Close::Flush);
            Ok(())
        }
        Command::Abort => {
            *close = Close::Now;
            Ok(())
        }
    }
}

/// Whether, and how, this side is closing the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Close {
    No,
    /// Write what is queued, then close.
    Flush,
    /// Close at once.
    Now,
}

/// Answers a call from the peer that finished. Calls it made are queued
/// commands: they go out first, as Twisted sends them before the answer.
/// Releases go after it, so our decrefs never overtake our answers.
fn finish(
    core: &mut Core<Reply>,
    commands: &Commands<Command>,
    close: &mut Close,
    handles: &dyn Handles,
    (request, result): Finished,
) -> Result<(), ProtocolError> {
    let mut releases = Vec::new();
    for _ in 0..COMMAND_BATCH {
        match commands.try_recv() {
            Some(Command::Release(release)) => releases.push(release),
            Some(command) => command_into(core, command, close, handles)?,
            None => break,
        }
    }
    core.answer(request, result, handles)?;
    releases
        .into_iter()
        .try_for_each(|release| core.release(release))
}

/// What the connection's timer is counting down to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deadline {
    /// The handshake must be done by then.
    Handshake(std::time::Duration),
    /// A graceful close must be done by then.
    Close(std::time::Duration),
}

impl Deadline {
    /// Why the connection closes when the deadline passes.
    fn missed(self) -> ConnectionError {
        match self {
            Deadline::Handshake(after) => ConnectionError::HandshakeTimeout(after),
            Deadline::Close(after) => ConnectionError::CloseTimeout(after),
        }
    }
}

/// What a call that arrives while this side closes gets: what Twisted's
/// callers get for a connection lost under their call.
fn closing_refusal() -> RemoteError {
    RemoteError::new(
        "twisted.spread.pb.PBConnectionLost",
        "the connection is closing",
    )
}

/// Spare room that makes `read_some` read straight into the input buffer.
const DIRECT_READ: usize = 1024;
/// The stack buffer an idle connection waits with.
const IDLE_READ: usize = 4096;
/// The buffer a connection reads into once a read filled `IDLE_READ`.
const BUSY_READ: usize = 64 * 1024;

/// Reads what the peer sent into `input`.
///
/// A connection waiting on a quiet peer holds no input buffer: it polls
/// with one on the stack, and only what arrives is copied into `input`.
/// Once a read fills that, more is probably on its way, so a large buffer
/// is reserved and read into directly; partial frames and big strings the
/// decoder reserved for are read straight in as well. A payload is thus
/// copied at most once, bar the first few KiB after a quiet spell.
async fn read_some<R: AsyncRead + Unpin>(
    reader: &mut R,
    input: &mut BytesMut,
) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        if input.capacity() - input.len() >= DIRECT_READ {
            return tokio_util::io::poll_read_buf(Pin::new(&mut *reader), cx, input);
        }
        let mut stack = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ];
        let mut chunk = ReadBuf::uninit(&mut stack);
        std::task::ready!(Pin::new(&mut *reader).poll_read(cx, &mut chunk))?;
        let got = chunk.filled();
        let room = if got.len() == IDLE_READ {
            BUSY_READ
        } else {
            got.len()
        };
        input.reserve(room);
        input.extend_from_slice(got);
        Poll::Ready(Ok(got.len()))
    })
    .await
}

/// Delivers the replies among the core's events.
fn deliver_replies(core: &mut Core<Reply>) {
    while let Some(event) = core.poll_event() {
        if let Event::Reply { reply, result } = event {
            let _ = reply.send(result);
        }
    }
}

async fn drive<IO>(io: IO, mut core: Core<Reply>, closing: Closing) -> Result<(), ConnectionError>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let link = closing.link.clone();
    let handles = LinkHandles(&link);
    let (mut reader, mut writer) = tokio::io::split(io);
    // Empty, without a buffer, while the peer is quiet: see `read_some`.
    let mut input = BytesMut::new();
    // The peer's calls still running; they run in this task, so a call that
    // finishes at once costs no task and no wake-up.
    // Made at the first call that does not finish at once: an empty set
    // still allocates, and most connections never need one.
    let mut calls: Option<FuturesUnordered<Running>> = None;
    let mut close = Close::No;
    // Bytes handed to the writer since its last flush: a buffered or TLS
    // stream may hold them until it is flushed.
    let mut unflushed = false;
    let mut published = Stats::default();
    // One timer: first the handshake's deadline, then the graceful close's.
    let mut deadline = Some(Deadline::Handshake(core.options().handshake_timeout));
    let timer = tokio::time::sleep(core.options().handshake_timeout);
    tokio::pin!(timer);
    let result: Result<(), ConnectionError> = 'run: loop {
        while let Some(event) = core.poll_event() {
            let finished = match event {
                Event::Ready => {
                    // Before the status, so whoever sees it ready sees this.
                    if let Some(dialect) = core.dialect() {
                        let _ = link.dialect.set(dialect);
                    }
                    link.set_status(Status::Ready);
                    continue;
                }
                // A closing connection starts nothing new.
                Event::Call(call) if close != Close::No => (call.request, Err(closing_refusal())),
                Event::Call(call) => match start(call) {
                    Ok(finished) => finished,
                    Err(running) => {
                        calls
                            .get_or_insert_with(FuturesUnordered::new)
                            .push(running);
                        continue;
                    }
                },
                Event::Reply { reply, result } => {
                    let _ = reply.send(result);
                    continue;
                }
            };
            if let Err(e) = finish(&mut core, &link.commands, &mut close, &handles, finished) {
                break 'run Err(e.into());
            }
        }
        // Commands already queued go first, a bounded batch at a time: the
        // releases a finished call made are written right behind its answer
        // (before the peer's next frame is read), and a burst of calls goes
        // out in one write.
        for _ in 0..COMMAND_BATCH {
            let Some(command) = link.commands.try_recv() else {
                break;
            };
            if let Err(e) = command_into(&mut core, command, &mut close, &handles) {
                break 'run Err(e.into());
            }
        }
        // Published only when it changed: most turns change nothing.
        let stats = core.stats();
        if stats != published {
            published = stats;
            link.publish(stats);
        }
        let drained = core.transmit().is_empty() && !unflushed;
        if close == Close::Now
            || (close == Close::Flush
                && drained
                && calls.as_ref().is_none_or(FuturesUnordered::is_empty))
        {
            break Ok(());
        }
        if close != Close::No && !matches!(deadline, Some(Deadline::Close(_))) {
            let timeout = core.options().close_timeout;
            timer.as_mut().reset(tokio::time::Instant::now() + timeout);
            deadline = Some(Deadline::Close(timeout));
        } else if matches!(deadline, Some(Deadline::Handshake(_))) && core.is_ready() {
            deadline = None;
        }
        tokio::select! {
            // Read while closing too: the answers to calls that the calls
            // still running made are yet to come.
            read = read_some(&mut reader, &mut input) => match read {
                Ok(0) if core.is_mid_frame(&input) && core.is_ready() => {
                    break Err(ConnectionError::ClosedMidFrame)
                }
                Ok(0) if core.is_ready() => break Ok(()),
                Ok(0) => break Err(ConnectionError::ClosedDuringHandshake),
                Ok(_) => {
                    if let Err(e) = core.receive(&mut input, &handles) {
                        break Err(e.into());
                    }
                    if input.is_empty() {
                        // Frames decoded from it keep their share; this
                        // connection holds none while it waits.
                        input = BytesMut::new();
                        core.shrink();
                    }
                }
                Err(e) => break Err(e.into()),
            },
            // Write what is queued, and flush once it is all written (a
            // buffered or TLS stream may hold it until then), in one turn.
            done = async {
                let out = core.transmit();
                let n = if out.is_empty() { 0 } else { writer.write(out).await? };
                if n == out.len() {
                    writer.flush().await?;
                }
                Ok::<_, std::io::Error>((n, n == out.len()))
            }, if unflushed || !core.transmit().is_empty() => match done {
                Ok((0, false)) => break Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
                Ok((n, flushed)) => {
                    core.advance(n);
                    unflushed = !flushed;
                }
                Err(e) => break Err(e.into()),
            },
            command = std::future::poll_fn(|cx| link.commands.poll_recv(cx)) => {
                if let Err(e) = command_into(&mut core, command, &mut close, &handles) {
                    break Err(e.into());
                }
            },
            Some(finished) = std::future::poll_fn(|cx| match calls.as_mut() {
                Some(calls) => calls.poll_next_unpin(cx),
                None => Poll::Ready(None),
            }), if calls.as_ref().is_some_and(|c| !c.is_empty()) => {
                if let Err(e) = finish(&mut core, &link.commands, &mut close, &handles, finished) {
                    break Err(e.into());
                }
            },
            () = &mut timer, if deadline.is_some() => {
                if let Some(missed) = deadline {
                    break Err(missed.missed());
                }
            }
        }
    };
    if let Err(reason) = &result {
        tracing::debug!(%reason, "closing a PB connection");
    }
    // Observers stop and the tables empty before anyone hears the
    // connection is closed, so what a waiter sees then is final.
    core.close();
    // Calls still running are dropped with their arguments.
    drop(calls);
    link.publish(core.stats());
    // Handles see the connection closed before their calls fail, so a
    // caller that gets `ConnectionLost` finds `is_closed()` true.
    let result = closing.close(result);
    deliver_replies(&mut core);
    // Saying goodbye is best effort: a peer that does not read must not
    // keep this task alive (TLS, for one, writes on shutdown).
    let _ = writer.shutdown().now_or_never();
    result
}
