//! Caches on the wire: the holder's handles and the owner's observers.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use spread_flavors::{BoxFuture, ObserverLink, RemoteCache, RemoteError};
use spread_jelly::{Dict, Object, Value};
use tokio::sync::oneshot;

use crate::CallError;
use crate::connection::{Command, Link};

/// A handle to a cache this side holds of an object on the peer: what a
/// `RemoteCache` is to the program. Each cache token the peer sent is one
/// handle (clones share it); dropping the last clone tells the owner
/// (`decache`), exactly once. Sending it back to its owner delivers the
/// owner's own object.
#[derive(Clone)]
pub struct RemoteCacheRef {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    luid: i64,
    cache: Arc<dyn RemoteCache>,
    any: Arc<dyn Any + Send + Sync>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.link.tx.send(Command::Decache(self.luid));
    }
}

/// The class name under which a cache handle sits in a [`Value`].
const CLASS: &str = "twisted.spread.pb.RemoteCache";

impl RemoteCacheRef {
    pub(crate) fn new(
        link: Arc<Link>,
        luid: i64,
        cache: Arc<dyn RemoteCache>,
        any: Arc<dyn Any + Send + Sync>,
    ) -> RemoteCacheRef {
        RemoteCacheRef {
            inner: Arc::new(Inner {
                link,
                luid,
                cache,
                any,
            }),
        }
    }

    pub(crate) fn link_id(&self) -> u64 {
        self.inner.link.id
    }

    pub(crate) fn luid(&self) -> i64 {
        self.inner.luid
    }

    /// The cache, as the type it was registered with.
    pub fn get<T: RemoteCache>(&self) -> Option<&T> {
        self.inner.any.downcast_ref::<T>()
    }

    /// The cache, to call as a [`RemoteCache`].
    pub fn cache(&self) -> &Arc<dyn RemoteCache> {
        &self.inner.cache
    }

    /// Whether two handles are caches of the same remote object.
    pub fn is_same_cache(&self, other: &RemoteCacheRef) -> bool {
        Arc::ptr_eq(&self.inner.any, &other.inner.any)
    }

    /// The value that sends this cache (back to its owner).
    pub fn into_value(self) -> Value {
        Value::Object(Object::receive_only(CLASS, self))
    }

    /// The cache handle a value holds, if it holds one.
    pub fn from_value(value: &Value) -> Option<&RemoteCacheRef> {
        match value {
            Value::Object(o) => o.downcast_ref::<RemoteCacheRef>(),
            _ => None,
        }
    }
}

impl fmt::Debug for RemoteCacheRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RemoteCacheRef(cache {} on connection {})",
            self.inner.luid, self.inner.link.id
        )
    }
}

/// The owner's way to a peer's cache: `cachemessage` calls.
pub(crate) struct BrokerObserver {
    pub(crate) link: Arc<Link>,
    pub(crate) luid: i64,
}

impl ObserverLink for BrokerObserver {
    fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> BoxFuture<Result<Value, RemoteError>> {
        let (reply, answer) = oneshot::channel();
        let sent = self.link.tx.send(Command::CacheCall {
            luid: self.luid,
            method: method.to_owned(),
            args,
            kwargs,
            reply,
        });
        Box::pin(async move {
            sent.map_err(|_| dead())?;
            match answer.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(CallError::Remote(e))) => Err(*e),
                Ok(Err(e)) => Err(RemoteError::new(
                    "twisted.spread.pb.DeadReferenceError",
                    e.to_string(),
                )),
                Err(_) => Err(dead()),
            }
        })
    }

    fn key(&self) -> (u64, i64) {
        (self.link.id, self.luid)
    }
}

fn dead() -> RemoteError {
    RemoteError::new(
        "twisted.spread.pb.DeadReferenceError",
        "Calling Stale Broker",
    )
}

impl spread_flavors::FromValue for RemoteCacheRef {
    /// A cache the peer sent, as a `#[remote]` method's argument.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        RemoteCacheRef::from_value(value).cloned().ok_or_else(|| {
            RemoteError::type_error(format!("expected a cache, got {}", value.type_name()))
        })
    }
}
