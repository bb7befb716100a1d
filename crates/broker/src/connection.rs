//! The tokio side: one task drives each connection's [`Core`], reading,
//! writing, and taking commands from the handles.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use spread_flavors::{Referenceable, RemoteError};
use spread_jelly::{Dict, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot, watch};

use crate::proto::{Core, Event, ObjectId, Role};
use crate::{BrokerOptions, CallError, ProtocolError, RemoteReference};

/// What handles ask of a connection's task.
pub(crate) enum Command {
    Call {
        target: ObjectId,
        method: String,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<oneshot::Sender<Result<Value, CallError>>>,
    },
    Answer {
        request: Option<i64>,
        result: Result<Value, RemoteError>,
    },
    Decref(ObjectId),
    /// An observer's call to the peer's cache of one of our Cacheables.
    CacheCall {
        luid: i64,
        method: String,
        args: Vec<Value>,
        kwargs: Dict,
        reply: oneshot::Sender<Result<Value, CallError>>,
    },
    /// One of our cache tokens was dropped.
    Decache(i64),
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Ready,
    Closed,
}

type Callback = Box<dyn FnOnce() + Send>;

/// What every handle of one connection shares.
pub(crate) struct Link {
    pub(crate) id: u64,
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    pub(crate) local_objects: AtomicUsize,
    pub(crate) remote_refs: AtomicUsize,
    caches: AtomicUsize,
    remote_caches: AtomicUsize,
    state: watch::Sender<State>,
    on_disconnect: Mutex<Vec<Callback>>,
}

impl Link {
    pub(crate) fn is_closed(&self) -> bool {
        *self.state.borrow() == State::Closed
    }
}

static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

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
            .field("state", &*self.link.state.borrow())
            .finish()
    }
}

impl Broker {
    /// A broker over any byte stream. Returns the handle and the future that
    /// runs the connection: spawn it (it ends when the connection closes,
    /// with the reason if this side closed it).
    #[must_use = "the connection runs only while its future is polled"]
    pub fn new<IO>(
        io: IO,
        role: Role,
        options: BrokerOptions,
    ) -> (
        Broker,
        impl Future<Output = Result<(), ProtocolError>> + Send + 'static,
    )
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        Broker::new_with(io, role, options, |_| None)
    }

    /// [`Broker::new`], with a root made for this connection by `root_for`
    /// (Twisted's `rootObject(broker)`); `None` keeps `options.root`.
    #[must_use = "the connection runs only while its future is polled"]
    pub fn new_with<IO>(
        io: IO,
        role: Role,
        mut options: BrokerOptions,
        root_for: impl FnOnce(&Broker) -> Option<Arc<dyn Referenceable>>,
    ) -> (
        Broker,
        impl Future<Output = Result<(), ProtocolError>> + Send + 'static,
    )
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let link = Arc::new(Link {
            id: NEXT_LINK.fetch_add(1, Ordering::Relaxed),
            tx,
            local_objects: AtomicUsize::new(0),
            remote_refs: AtomicUsize::new(0),
            caches: AtomicUsize::new(0),
            remote_caches: AtomicUsize::new(0),
            state: watch::Sender::new(State::Connecting),
            on_disconnect: Mutex::new(Vec::new()),
        });
        let broker = Broker { link: link.clone() };
        if let Some(root) = root_for(&broker) {
            options.root = Some(root);
        }
        let core = Core::new(role, Arc::new(options), link.clone());
        (broker, drive(io, core, rx, link))
    }

    pub(crate) fn from_link(link: Arc<Link>) -> Broker {
        Broker { link }
    }

    /// The peer's root object, once the connection is ready (Twisted's
    /// `getRootObject`; nothing is sent for it).
    pub async fn root_object(&self) -> Result<RemoteReference, CallError> {
        let mut state = self.link.state.subscribe();
        match *state
            .wait_for(|s| *s != State::Connecting)
            .await
            .map_err(|_| CallError::DeadReference)?
        {
            State::Ready => Ok(RemoteReference::root(self.link.clone())),
            _ => Err(CallError::DeadReference),
        }
    }

    /// How many of this side's objects the peer holds references to.
    pub fn local_object_count(&self) -> usize {
        self.link.local_objects.load(Ordering::Relaxed)
    }

    /// How many references to the peer's objects this side holds (each
    /// received token counts once, however often it was cloned).
    pub fn remote_reference_count(&self) -> usize {
        self.link.remote_refs.load(Ordering::Relaxed)
    }

    /// How many of this side's Cacheables the peer holds caches of.
    pub fn cache_count(&self) -> usize {
        self.link.caches.load(Ordering::Relaxed)
    }

    /// How many caches of the peer's objects this side holds (until the
    /// owner says `uncache`).
    pub fn remote_cache_count(&self) -> usize {
        self.link.remote_caches.load(Ordering::Relaxed)
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

    /// Waits until the connection has closed.
    pub async fn closed(&self) {
        let mut state = self.link.state.subscribe();
        let _ = state.wait_for(|s| *s == State::Closed).await;
    }

    /// Closes the connection after writing what is already queued.
    pub fn close(&self) {
        let _ = self.link.tx.send(Command::Close);
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

async fn log_end(driver: impl Future<Output = Result<(), ProtocolError>>) {
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
/// `options.root`.
pub fn serve(listener: TcpListener, options: BrokerOptions) -> Server {
    serve_with(listener, options, |_| None)
}

/// Serves `listener`, giving each connection the root `root_for` makes for
/// it (Twisted's `rootObject(broker)`), for roots that act per connection.
pub fn serve_with<F>(listener: TcpListener, options: BrokerOptions, root_for: F) -> Server
where
    F: Fn(&Broker) -> Option<Arc<dyn Referenceable>> + Send + Sync + 'static,
{
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut brokers: Vec<Broker> = Vec::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        tracing::debug!(%peer, "accepted a PB connection");
                        let (broker, driver) =
                            Broker::new_with(stream, Role::Server, options.clone(), &root_for);
                        brokers.retain(|b| !b.is_closed());
                        brokers.push(broker);
                        tokio::spawn(log_end(driver));
                    }
                    Err(e) => tracing::warn!(%e, "accept failed"),
                },
                _ = stopped.wait_for(|s| *s) => break,
            }
        }
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
    /// Stops accepting, closes every connection once what it has queued is
    /// written, and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn drive<IO>(
    io: IO,
    mut core: Core,
    mut rx: mpsc::UnboundedReceiver<Command>,
    link: Arc<Link>,
) -> Result<(), ProtocolError>
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut input = BytesMut::with_capacity(64 * 1024);
    let mut output = core.take_output();
    let mut pending: HashMap<i64, oneshot::Sender<Result<Value, CallError>>> = HashMap::new();
    // Calls made before the handshake finished wait here, in order.
    let mut early: Vec<Command> = Vec::new();
    let mut closing = false;
    let max_output = core.max_output();
    let result = loop {
        for event in core.take_events() {
            match event {
                Event::Ready => {
                    link.state.send_replace(State::Ready);
                    for command in early.drain(..) {
                        handle(&mut core, &mut pending, command, &mut closing);
                    }
                }
                Event::Call {
                    request,
                    target,
                    call,
                } => {
                    // Started here, in the order the calls arrived, as
                    // Twisted starts them; only their completions interleave.
                    // The call (and the references in its arguments) lives
                    // until its answer is queued, so that our decrefs can
                    // never overtake the answer.
                    let mut running = target.run(call);
                    let mut first = Context::from_waker(Waker::noop());
                    match running.as_mut().poll(&mut first) {
                        Poll::Ready(result) => {
                            core.answer(request, result);
                            drop(running);
                        }
                        Poll::Pending => {
                            let tx = link.tx.clone();
                            // The spawned task polls again at once, with its
                            // own waker, which replaces the no-op one.
                            tokio::spawn(async move {
                                let result = (&mut running).await;
                                let _ = tx.send(Command::Answer { request, result });
                                drop(running);
                            });
                        }
                    }
                }
                Event::Reply { request, result } => {
                    if let Some(reply) = pending.remove(&request) {
                        let _ = reply.send(result);
                    }
                }
            }
        }
        output.unsplit(core.take_output());
        link.caches.store(core.cache_count(), Ordering::Relaxed);
        link.remote_caches
            .store(core.remote_cache_count(), Ordering::Relaxed);
        if closing && output.is_empty() {
            break Ok(());
        }
        // A peer that sends calls but never reads the answers would make
        // this buffer grow without end.
        if output.len() > max_output {
            break Err(ProtocolError::Limit(format!(
                "more than {max_output} bytes waiting for the peer to read them"
            )));
        }
        tokio::select! {
            read = reader.read_buf(&mut input), if !closing => match read {
                Ok(0) => break Ok(()),
                Ok(_) => {
                    if let Err(e) = core.receive(&mut input) {
                        // A call whose answer could not be read gets that
                        // error, not just "connection lost".
                        for event in core.take_events() {
                            if let Event::Reply { request, result } = event
                                && let Some(reply) = pending.remove(&request)
                            {
                                let _ = reply.send(result);
                            }
                        }
                        break Err(e);
                    }
                }
                Err(e) => {
                    tracing::debug!(%e, "read failed");
                    break Ok(());
                }
            },
            written = writer.write(&output), if !output.is_empty() => match written {
                Ok(0) | Err(_) => break Ok(()),
                Ok(n) => output.advance(n),
            },
            command = rx.recv() => match command {
                Some(command) if !core.is_ready() && matches!(command, Command::Call { .. }) => early.push(command),
                Some(command) => handle(&mut core, &mut pending, command, &mut closing),
                None => break Ok(()),
            },
        }
    };
    let _ = writer.shutdown().await;
    link.state.send_replace(State::Closed);
    // Every observer of our Cacheables has stopped (Twisted calls
    // stoppedObserving for each).
    core.connection_lost();
    link.caches.store(0, Ordering::Relaxed);
    link.remote_caches.store(0, Ordering::Relaxed);
    // Every waiting call fails now: none may hang.
    for (_, reply) in pending.drain() {
        let _ = reply.send(Err(CallError::ConnectionLost));
    }
    for command in early {
        if let Command::Call {
            reply: Some(reply), ..
        } = command
        {
            let _ = reply.send(Err(CallError::ConnectionLost));
        }
    }
    let callbacks =
        std::mem::take(&mut *link.on_disconnect.lock().unwrap_or_else(|e| e.into_inner()));
    for callback in callbacks {
        callback();
    }
    result
}

fn handle(
    core: &mut Core,
    pending: &mut HashMap<i64, oneshot::Sender<Result<Value, CallError>>>,
    command: Command,
    closing: &mut bool,
) {
    match command {
        Command::Call {
            target,
            method,
            args,
            kwargs,
            reply,
        } => match core.call(&target, &method, args, kwargs, reply.is_some()) {
            Ok(Some(request)) => {
                if let Some(reply) = reply {
                    pending.insert(request, reply);
                }
            }
            Ok(None) => {}
            Err(e) => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err(e));
                }
            }
        },
        Command::Answer { request, result } => core.answer(request, result),
        Command::Decref(id) => core.decref(&id),
        Command::Decache(luid) => core.decache(luid),
        Command::CacheCall {
            luid,
            method,
            args,
            kwargs,
            reply,
        } => match core.cache_call(luid, &method, args, kwargs) {
            Ok(request) => {
                pending.insert(request, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        },
        Command::Close => *closing = true,
    }
}
