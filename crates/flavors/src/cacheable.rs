//! Objects passed as live caches: Twisted's `pb.Cacheable` and
//! `pb.RemoteCache`.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use spread_jelly::{Dict, Error, Object, Value};
use spread_security::{RegistrationError, SecurityOptions};

use crate::{BoxFuture, Call, RemoteError};

/// An object whose copy on the peer is kept up to date: Twisted's
/// `pb.Cacheable`. The first time it is sent on a connection the peer gets
/// its state and becomes an observer; the owner then tells each observer
/// what changed, through [`Observer::call_remote`] (the peer's `observe_*`
/// methods). When the peer drops its last copy, or the connection closes,
/// [`Cacheable::stopped_observing`] runs.
pub trait Cacheable: Send + Sync + 'static {
    /// The wire class name, `module.Class`.
    fn type_to_copy(&self) -> &str;

    /// The state to send to a new observer, which this object should keep
    /// so that it can send updates (Twisted's `getStateToCacheAndObserveFor`).
    fn state_to_cache_and_observe_for(&self, observer: Observer) -> Result<Value, Error>;

    /// An observer has gone (Twisted's `stoppedObserving`).
    fn stopped_observing(&self, observer: &Observer);
}

/// The connection side of an [`Observer`], which the broker provides.
pub trait ObserverLink: Send + Sync + 'static {
    /// Calls `observe_<method>` on the peer's cache. The call is sent at
    /// once; the future only waits for the answer.
    fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> BoxFuture<Result<Value, RemoteError>>;

    /// Which connection and cache this is, for equality.
    fn key(&self) -> (u64, i64);
}

/// One peer's cache of a [`Cacheable`]: Twisted's `RemoteCacheObserver`.
/// Cheap to clone; equal when it is the same peer's cache of the same object.
#[derive(Clone)]
pub struct Observer {
    link: Arc<dyn ObserverLink>,
}

impl Observer {
    /// An observer over a broker's link.
    pub fn new(link: Arc<dyn ObserverLink>) -> Observer {
        Observer { link }
    }

    /// Calls `observe_<method>` on the peer's cache and waits for the answer.
    pub async fn call_remote(&self, method: &str, args: Vec<Value>) -> Result<Value, RemoteError> {
        self.link.call(method, args, Dict::new()).await
    }

    /// Sends an update without waiting; an observer whose connection is gone
    /// is ignored, as the howto's owners ignore them.
    pub fn notify(&self, method: &str, args: Vec<Value>) {
        drop(self.link.call(method, args, Dict::new()));
    }
}

impl PartialEq for Observer {
    fn eq(&self, other: &Observer) -> bool {
        self.link.key() == other.link.key()
    }
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (connection, luid) = self.link.key();
        write!(f, "Observer(connection {connection}, cache {luid})")
    }
}

/// A local [`Cacheable`] inside a [`Value`], to be sent as a cache.
#[derive(Clone)]
pub struct LocalCacheable {
    object: Arc<dyn Cacheable>,
}

/// The class name under which a local Cacheable sits in a [`Value`]; on the
/// wire it goes under its own [`Cacheable::type_to_copy`].
const LOCAL_CLASS: &str = "twisted.spread.flavors.Cacheable";

impl LocalCacheable {
    /// Wraps an object to be sent as a cache.
    pub fn new(object: Arc<dyn Cacheable>) -> LocalCacheable {
        LocalCacheable { object }
    }

    /// The object.
    pub fn object(&self) -> &Arc<dyn Cacheable> {
        &self.object
    }

    /// The value that sends this object as a cache.
    pub fn into_value(self) -> Value {
        Value::Object(Object::receive_only(LOCAL_CLASS, self))
    }

    /// The local Cacheable a value holds, if it holds one.
    pub fn from_value(value: &Value) -> Option<&LocalCacheable> {
        match value {
            Value::Object(o) => o.downcast_ref::<LocalCacheable>(),
            _ => None,
        }
    }

    /// The object's identity: one cache per object and connection.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.object) as *const u8 as usize
    }
}

impl fmt::Debug for LocalCacheable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cacheable({})", self.object.type_to_copy())
    }
}

/// The holder's side of a cache: Twisted's `pb.RemoteCache`. It is built
/// from the owner's state, and the owner's updates arrive as calls of its
/// `observe_*` methods (wire names without the prefix), while the program
/// reads it. Use interior mutability for the state.
pub trait RemoteCache: Send + Sync + 'static {
    /// Runs `observe_<call.method>`.
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>>;
}

/// A cache that has just been built from its first state, before the broker
/// records it; the broker turns it into the holder's handles.
#[derive(Clone)]
pub struct NewRemoteCache {
    /// The cache, to be called.
    pub cache: Arc<dyn RemoteCache>,
    /// The same cache, to be read as its own type.
    pub any: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for NewRemoteCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewRemoteCache")
    }
}

/// Twisted's `setUnjellyableForClass(class, T)` for caches: a cache of the
/// wire class `class` becomes a `T`, built from the owner's state by `build`.
pub fn allow_remote_cache<T, F>(
    options: &mut SecurityOptions,
    class: &str,
    build: F,
) -> Result<(), RegistrationError>
where
    T: RemoteCache,
    F: Fn(Value) -> Result<T, Error> + Send + Sync + 'static,
{
    let name = class.to_owned();
    options
        .allow_with(class, move |state| {
            let cache = Arc::new(build(state)?);
            let new = NewRemoteCache {
                cache: cache.clone(),
                any: cache,
            };
            Ok(Value::Object(Object::receive_only(name.clone(), new)))
        })
        .map(drop)
}

impl crate::IntoValue for LocalCacheable {
    /// Sent as a cache.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(LocalCacheable::into_value(self))
    }
}
