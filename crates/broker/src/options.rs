//! A connection's settings and limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use spread_banana::{Dialect, Limits};
use spread_flavors::Referenceable;
use spread_security::SecurityOptions;

use crate::OptionsError;

/// A connection's settings and limits.
///
/// The defaults are Twisted's where Twisted has one (`MAX_BROKER_REFS`, the
/// Banana limits) and generous bounds elsewhere. The Banana limits are
/// checked where they are set against what PB's own frames need, so no
/// setting can make the broker fail to encode its own frames; the counts
/// take any value, and each says what a small one does.
///
/// ```
/// use spread_banana::Limits;
/// use spread_broker::BrokerOptions;
///
/// let options = BrokerOptions::default()
///     .with_max_local_objects(64)
///     .with_banana_limits(Limits::default().max_depth(64))?;
/// assert_eq!(options.banana_limits().max_depth, 64);
///
/// // PB's own frames need some room: a 1-byte integer header cannot carry a luid.
/// assert!(BrokerOptions::default().with_banana_limits(Limits::default().max_prefix_len(1)).is_err());
/// # Ok::<(), spread_broker::OptionsError>(())
/// ```
#[derive(Clone)]
pub struct BrokerOptions {
    pub(crate) root: Option<Arc<dyn Referenceable>>,
    pub(crate) security: Arc<SecurityOptions>,
    pub(crate) banana: Limits,
    /// Shared, not copied, by every connection made with these options.
    pub(crate) dialects: Arc<[Dialect]>,
    pub(crate) max_local_objects: usize,
    pub(crate) max_remote_references: usize,
    pub(crate) max_calls_in_flight: usize,
    pub(crate) max_incoming_calls: usize,
    pub(crate) max_output_buffer: usize,
    pub(crate) unsafe_tracebacks: bool,
    pub(crate) handshake_timeout: Duration,
    pub(crate) close_timeout: Duration,
}

impl Default for BrokerOptions {
    fn default() -> BrokerOptions {
        BrokerOptions {
            root: None,
            security: Arc::new(SecurityOptions::new()),
            banana: Limits::default(),
            dialects: Arc::new(Dialect::DEFAULT_OFFER),
            max_local_objects: 1024,
            max_remote_references: 65_536,
            max_calls_in_flight: 4096,
            max_incoming_calls: 1024,
            max_output_buffer: 64 << 20,
            unsafe_tracebacks: false,
            handshake_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(10),
        }
    }
}

/// Each Banana limit with the least of it that PB's own frames need: a luid
/// or request id in an integer header, a seven-item `message`, the short
/// failure that stands in for an error too big to send.
fn floors(l: &Limits) -> [(&'static str, usize, usize); 6] {
    [
        ("max_prefix_len", l.max_prefix_len, 10),
        ("max_string_len", l.max_string_len, 64),
        ("max_list_len", l.max_list_len, 16),
        ("max_depth", l.max_depth, 16),
        ("max_expression_len", l.max_expression_len, 1024),
        ("max_tokens", l.max_tokens, 256),
    ]
}

impl BrokerOptions {
    /// Sets the object the peer reaches as `"root"` (Twisted's
    /// `PBServerFactory(root)`).
    #[must_use]
    pub fn with_root(mut self, root: Arc<dyn Referenceable>) -> BrokerOptions {
        self.root = Some(root);
        self
    }

    /// Sets what may be unjellied from the peer.
    #[must_use]
    pub fn with_security(mut self, security: SecurityOptions) -> BrokerOptions {
        self.security = Arc::new(security);
        self
    }

    /// Sets Banana's limits (string and list length, nesting depth, frame
    /// size), which bound what is read and what is sent. Limits below what
    /// PB's own frames need are refused.
    pub fn with_banana_limits(mut self, limits: Limits) -> Result<BrokerOptions, OptionsError> {
        for (limit, value, floor) in floors(&limits) {
            if value < floor {
                return Err(OptionsError::BananaLimitTooLow {
                    limit,
                    value,
                    floor,
                });
            }
        }
        self.banana = limits;
        Ok(self)
    }

    /// Sets the dialects this side speaks, best first: what a server
    /// offers, in this order, and what a client may pick from a server's
    /// offer (the first name there that is also here, as in Twisted: the
    /// server's order decides). A client's choice outside them is refused.
    ///
    /// By default spread offers its own
    /// [`Dialect::Msgpack`] first, then Twisted's `pb` and `none`
    /// ([`Dialect::DEFAULT_OFFER`]): two spread peers speak msgpack, and a
    /// Twisted peer, which does not know it, picks `pb`. To speak only what
    /// Twisted speaks (to compare, or to capture traffic Twisted's tools can
    /// read), leave msgpack out. Duplicates are dropped; an empty list is
    /// refused, since no handshake could succeed.
    ///
    /// ```
    /// use spread_banana::Dialect;
    /// use spread_broker::BrokerOptions;
    ///
    /// let options = BrokerOptions::default();
    /// assert_eq!(options.dialects(), [Dialect::Msgpack, Dialect::Pb, Dialect::None]);
    ///
    /// // Banana only, as Twisted.
    /// let twisted_only = BrokerOptions::default().with_dialects(&Dialect::KNOWN)?;
    /// assert_eq!(twisted_only.dialects(), [Dialect::Pb, Dialect::None]);
    ///
    /// assert!(BrokerOptions::default().with_dialects(&[]).is_err());
    /// # Ok::<(), spread_broker::OptionsError>(())
    /// ```
    pub fn with_dialects(mut self, dialects: &[Dialect]) -> Result<BrokerOptions, OptionsError> {
        if dialects.is_empty() {
            return Err(OptionsError::NoDialects);
        }
        let mut unique = Vec::with_capacity(dialects.len());
        for &dialect in dialects {
            if !unique.contains(&dialect) {
                unique.push(dialect);
            }
        }
        self.dialects = unique.into();
        Ok(self)
    }

    /// Sets how many local objects and Cacheables the peer may hold tokens
    /// for (Twisted's `MAX_BROKER_REFS`, 1024): a hostile peer cannot make
    /// this side remember an unbounded number of objects. The same bound
    /// applies to the caches the peer makes this side hold.
    #[must_use]
    pub fn with_max_local_objects(mut self, n: usize) -> BrokerOptions {
        self.max_local_objects = n;
        self
    }

    /// Sets how many references to the peer's objects this side may hold
    /// at once (65 536 by default; each `remote` token that arrives is one,
    /// until its handle is dropped). A call whose arguments would pass it
    /// is refused with an error; an answer that would, fails its call.
    /// Twisted has no such bound; a sender it limits to 1024 objects, but
    /// one object sent many times is as many references here.
    #[must_use]
    pub fn with_max_remote_references(mut self, n: usize) -> BrokerOptions {
        self.max_remote_references = n;
        self
    }

    /// Sets how many calls this side may have waiting for answers; more fail
    /// at once with [`CallError::TooManyCalls`](crate::CallError::TooManyCalls).
    #[must_use]
    pub fn with_max_calls_in_flight(mut self, n: usize) -> BrokerOptions {
        self.max_calls_in_flight = n;
        self
    }

    /// Sets how many of the peer's calls may be in progress at once; more
    /// close the connection, so a peer cannot pile up unbounded work.
    #[must_use]
    pub fn with_max_incoming_calls(mut self, n: usize) -> BrokerOptions {
        self.max_incoming_calls = n;
        self
    }

    /// Sets how many bytes may wait for the peer to read them; past this
    /// the peer is not keeping up (or not reading at all) and is
    /// disconnected.
    #[must_use]
    pub fn with_max_output_buffer(mut self, bytes: usize) -> BrokerOptions {
        self.max_output_buffer = bytes;
        self
    }

    /// Sets how long the PB handshake may take (30 seconds by default); a
    /// peer that connects and never finishes it is disconnected then, so
    /// idle sockets cannot pile up. Twisted has no such bound. Like every
    /// timer, it needs a tokio runtime with time enabled.
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> BrokerOptions {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets how long a graceful close ([`Broker::close`](crate::Broker::close),
    /// [`Server::shutdown`](crate::Server::shutdown)) waits (10 seconds by
    /// default) for the peer's calls in progress to be answered and for the
    /// peer to read what is queued; then the connection closes at once.
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> BrokerOptions {
        self.close_timeout = timeout;
        self
    }

    /// Sends tracebacks with errors (Twisted's `unsafeTracebacks`).
    #[must_use]
    pub fn with_unsafe_tracebacks(mut self, on: bool) -> BrokerOptions {
        self.unsafe_tracebacks = on;
        self
    }

    /// The Banana limits in force.
    pub fn banana_limits(&self) -> Limits {
        self.banana
    }

    /// The dialects this side offers or accepts, best first.
    pub fn dialects(&self) -> &[Dialect] {
        &self.dialects
    }

    /// What may be unjellied from the peer.
    pub fn security(&self) -> &SecurityOptions {
        &self.security
    }
}

impl fmt::Debug for BrokerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerOptions")
            .field("root", &self.root.is_some())
            .field("security", &self.security)
            .field("banana", &self.banana)
            .field("dialects", &self.dialects)
            .field("max_local_objects", &self.max_local_objects)
            .field("max_remote_references", &self.max_remote_references)
            .field("max_calls_in_flight", &self.max_calls_in_flight)
            .field("max_incoming_calls", &self.max_incoming_calls)
            .field("max_output_buffer", &self.max_output_buffer)
            .field("unsafe_tracebacks", &self.unsafe_tracebacks)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("close_timeout", &self.close_timeout)
            .finish()
    }
}
