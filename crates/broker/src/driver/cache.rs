//! Caches on the wire: the holder's handles and the owner's observers.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use spread_flavors::__private::ObserverLink;
use spread_flavors::{BoxFuture, FromValue, IntoValue, RemoteCache, RemoteError};
use spread_jelly::{Dict, Object, Value};
use tokio::sync::oneshot;

use super::{Command, Link};
use crate::proto::{Callee, Release};

/// A handle to a cache this side holds of an object on the peer: what a
/// `RemoteCache` is to the program. Each cache token the peer sent is one
/// handle (clones share it); dropping the last clone tells the owner
/// (`decache`), exactly once. Sending it back to its owner
/// (`Value::from(cache)`) delivers the owner's own object.
#[derive(Clone)]
pub struct RemoteCacheRef {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    luid: i64,
    cache: Arc<dyn RemoteCache>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self
            .link
            .commands
            .send(Command::Release(Release::Cache(self.luid)));
    }
}

/// The class name under which a cache handle sits in a [`Value`].
const CLASS: &str = "twisted.spread.pb.RemoteCache";

impl RemoteCacheRef {
    pub(super) fn new(link: Arc<Link>, luid: i64, cache: Arc<dyn RemoteCache>) -> RemoteCacheRef {
        RemoteCacheRef {
            inner: Arc::new(Inner { link, luid, cache }),
        }
    }

    pub(super) fn link_id(&self) -> u64 {
        self.inner.link.id
    }

    pub(super) fn luid(&self) -> i64 {
        self.inner.luid
    }

    /// The cache, as the type it was registered with.
    pub fn get<T: RemoteCache>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.inner.cache;
        any.downcast_ref::<T>()
    }

    /// The cache, to call as a [`RemoteCache`].
    pub fn cache(&self) -> &Arc<dyn RemoteCache> {
        &self.inner.cache
    }

    /// Whether two handles are caches of the same remote object.
    pub fn is_same_cache(&self, other: &RemoteCacheRef) -> bool {
        Arc::ptr_eq(&self.inner.cache, &other.inner.cache)
    }
}

impl From<RemoteCacheRef> for Value {
    /// The value that sends the cache back to its owner (`lcache`).
    fn from(cache: RemoteCacheRef) -> Value {
        Value::Object(Object::receive_only(CLASS, cache))
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

impl FromValue for RemoteCacheRef {
    /// A cache the peer sent, as a `#[remote]` method's argument.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        spread_flavors::__private::object_arg(value, "a cache")
    }
}

impl IntoValue for RemoteCacheRef {
    /// Sent back to its owner, as Twisted's `lcache` token.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from(self))
    }
}

/// The owner's way to a peer's cache: `cachemessage` calls.
pub(super) struct BrokerObserver {
    pub(super) link: Arc<Link>,
    pub(super) luid: i64,
}

impl ObserverLink for BrokerObserver {
    fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> BoxFuture<Result<Value, RemoteError>> {
        let (reply, answer) = oneshot::channel();
        let sent = self.link.send_call(
            Callee::Cache(self.luid),
            Bytes::copy_from_slice(method.as_bytes()),
            args,
            kwargs,
            Some(reply),
        );
        Box::pin(async move {
            sent?;
            match answer.await {
                Ok(result) => Ok(result?),
                Err(_) => Err(crate::CallError::ConnectionLost.into()),
            }
        })
    }

    fn notify(&self, method: &str, args: Vec<Value>) {
        let _ = self.link.send_call(
            Callee::Cache(self.luid),
            Bytes::copy_from_slice(method.as_bytes()),
            args,
            Dict::new(),
            None,
        );
    }
}
