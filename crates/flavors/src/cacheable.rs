//! Objects passed as live caches: Twisted's `pb.Cacheable` and
//! `pb.RemoteCache`.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use spread_jelly::{Dict, Error, Object, Value};
use spread_security::{RegistrationError, SecurityOptions};

use crate::{BoxFuture, Call, Perspective, RemoteError};

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
    /// `perspective` is the login it is sent for, when it is sent from a
    /// perspective's method: each viewer may get its own view.
    fn state_to_cache_and_observe_for(
        &self,
        perspective: Option<&Perspective>,
        observer: Observer,
    ) -> Result<Value, Error>;

    /// An observer has gone (Twisted's `stoppedObserving`), with the
    /// perspective its state was made for.
    fn stopped_observing(&self, perspective: Option<&Perspective>, observer: &Observer);
}

/// The connection side of an [`Observer`], which the broker provides.
/// Not public API: the broker implements it, users never see it.
pub trait ObserverLink: Send + Sync + 'static {
    /// Calls `observe_<method>` on the peer's cache. The call is sent at
    /// once; the future only waits for the answer.
    fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> BoxFuture<Result<Value, RemoteError>>;

    /// Sends `observe_<method>` asking for no answer (Twisted's
    /// `pbanswer=False`); a connection that is gone is ignored.
    fn notify(&self, method: &str, args: Vec<Value>);
}

/// One peer's cache of a [`Cacheable`]: Twisted's `RemoteCacheObserver`.
/// Cheap to clone; equal when it is the same peer's cache of the same
/// object (the broker makes one observer per peer and Cacheable).
#[derive(Clone)]
pub struct Observer {
    link: Arc<dyn ObserverLink>,
}

impl Observer {
    /// An observer over a broker's link. Not public API.
    #[doc(hidden)]
    pub fn new(link: Arc<dyn ObserverLink>) -> Observer {
        Observer { link }
    }

    /// Calls `observe_<method>` on the peer's cache and waits for the answer.
    ///
    /// The call is sent when this is called; the future only waits for the
    /// answer (dropping it ignores the answer, the call still happens).
    pub fn call_remote(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> BoxFuture<Result<Value, RemoteError>> {
        self.link.call(method, args, Dict::new())
    }

    /// Sends an update that wants no answer (Twisted's `pbanswer=False`), so
    /// it holds no place among the calls in flight; an observer whose
    /// connection is gone is ignored, as the howto's owners ignore them.
    pub fn notify(&self, method: &str, args: Vec<Value>) {
        self.link.notify(method, args);
    }
}

impl PartialEq for Observer {
    fn eq(&self, other: &Observer) -> bool {
        Arc::ptr_eq(&self.link, &other.link)
    }
}

impl Eq for Observer {}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Observer@{:x}",
            Arc::as_ptr(&self.link) as *const u8 as usize
        )
    }
}

/// The value that sends `object` as a live cache: the first send on a
/// connection carries its state and makes the peer an [`Observer`]; later
/// sends name the same cache. Beside [`copy`](crate::copy) and
/// [`reference()`](crate::reference).
pub fn cache(object: Arc<dyn Cacheable>) -> Value {
    Value::from(LocalCacheable::new(object))
}

/// One of this side's [`Cacheable`]s inside a [`Value`]: what [`cache()`]
/// puts there, and what a cache the peer sends back to its owner arrives
/// as. Equal when it is the same object.
#[derive(Clone)]
pub struct LocalCacheable {
    object: Arc<dyn Cacheable>,
}

/// The class name under which a local Cacheable sits in a [`Value`]; on the
/// wire it goes under its own [`Cacheable::type_to_copy`].
const LOCAL_CLASS: &str = "twisted.spread.flavors.Cacheable";

impl LocalCacheable {
    /// Wraps an object, for a field of a copy that sends it as a cache (in
    /// a [`Value`], [`cache()`] says the same in one step).
    pub fn new(object: Arc<dyn Cacheable>) -> LocalCacheable {
        LocalCacheable { object }
    }

    /// The object.
    pub fn object(&self) -> &Arc<dyn Cacheable> {
        &self.object
    }

    fn addr(&self) -> usize {
        Arc::as_ptr(&self.object) as *const u8 as usize
    }
}

impl From<LocalCacheable> for Value {
    fn from(local: LocalCacheable) -> Value {
        Value::Object(Object::receive_only(LOCAL_CLASS, local))
    }
}

impl PartialEq for LocalCacheable {
    /// Identity: the same object.
    fn eq(&self, other: &LocalCacheable) -> bool {
        self.addr() == other.addr()
    }
}

impl Eq for LocalCacheable {}

impl Hash for LocalCacheable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
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
pub trait RemoteCache: Any + Send + Sync {
    /// Runs `observe_<call.method>`.
    fn observe_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>>;
}

/// A cache that has just been built from its first state, before the broker
/// records it; the broker turns it into the holder's handles. Not public API.
#[derive(Clone)]
pub struct NewRemoteCache {
    /// The cache.
    pub cache: Arc<dyn RemoteCache>,
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
            let new = NewRemoteCache {
                cache: Arc::new(build(state)?),
            };
            Ok(Value::Object(Object::receive_only(name.clone(), new)))
        })
        .map(drop)
}

impl crate::IntoValue for LocalCacheable {
    /// Sent as a cache.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from(self))
    }
}

impl crate::FromValue for LocalCacheable {
    /// One of this side's Cacheables, sent back by the peer.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        crate::__private::object_arg(value, "one of our Cacheables")
    }
}
