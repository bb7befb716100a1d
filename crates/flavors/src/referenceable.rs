//! Objects the peer calls by reference.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use spread_jelly::{Dict, Object, Value, from_value};

use crate::perspective::{AvatarPoint, ViewPoint};
use crate::{Perspective, RemoteError, Viewable};

/// A boxed future, as remote methods return: `Send`, so calls run on any
/// thread of a multi-threaded runtime.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One remote call: the method's wire name (without Twisted's `remote_`
/// prefix) and its arguments.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method name, as `callRemote` sent it.
    pub method: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments, text keys.
    pub kwargs: Dict,
}

impl Call {
    /// Positional argument `index`, or the `TypeError` Python would raise.
    pub fn arg(&self, index: usize) -> Result<&Value, RemoteError> {
        self.args.get(index).ok_or_else(|| {
            RemoteError::type_error(format!(
                "remote_{}() takes at least {} positional arguments ({} given)",
                self.method,
                index + 1,
                self.args.len()
            ))
        })
    }

    /// Positional argument `index` converted with serde, or a `TypeError`
    /// naming what was wrong.
    pub fn arg_as<T: DeserializeOwned>(&self, index: usize) -> Result<T, RemoteError> {
        from_value(self.arg(index)?).map_err(|e| {
            RemoteError::type_error(format!("remote_{}() argument {index}: {e}", self.method))
        })
    }

    /// Keyword argument `name`, if given.
    pub fn kwarg(&self, name: &str) -> Option<&Value> {
        self.kwargs.get_str(name)
    }
}

/// An object whose methods the peer can call: Twisted's `pb.Referenceable`
/// (and `pb.Root`, which is a Referenceable given to each connection).
///
/// The broker calls [`Referenceable::remote_message`] for every `message`
/// aimed at the object; the future may take as long as it likes, and other
/// calls on the same connection go on meanwhile. An `Err` travels to the
/// caller as a `CopyableFailure`.
pub trait Referenceable: Any + Send + Sync {
    /// Runs the remote method `call.method`.
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>>;
}

/// The value that sends `object` by reference: the peer receives a
/// `RemoteReference` to it, and when the peer sends it back it arrives as
/// this same object (a [`LocalReferenceable`]). Beside [`copy`](crate::copy),
/// which sends by copy.
///
/// ```
/// use std::sync::Arc;
/// use spread_flavors::{reference, BoxFuture, Call, LocalReferenceable, Referenceable, RemoteError};
///
/// struct Listener;
/// impl Referenceable for Listener {
///     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<spread_jelly::Value, RemoteError>> {
///         Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
///     }
/// }
///
/// let listener: Arc<dyn Referenceable> = Arc::new(Listener);
/// let value = reference(listener.clone());
/// let back = value.downcast_ref::<LocalReferenceable>().unwrap();
/// assert!(Arc::ptr_eq(back.object(), &listener));
/// ```
pub fn reference(object: Arc<dyn Referenceable>) -> Value {
    Value::from(LocalReferenceable::new(object))
}

/// One of this side's [`Referenceable`]s inside a [`Value`]: what
/// [`reference()`] puts there, and what a reference the peer sends back to
/// its owner arrives as. Equal when it is the same object.
#[derive(Clone)]
pub struct LocalReferenceable {
    object: Arc<dyn Referenceable>,
    /// The login whose avatar this is, or whose view: its calls are served
    /// for that perspective.
    perspective: Option<Perspective>,
}

/// The class name under which a local Referenceable sits in a [`Value`].
/// It never reaches the wire: the broker sends a `remote` token instead.
const CLASS: &str = "twisted.spread.flavors.Referenceable";

impl LocalReferenceable {
    /// Wraps an object, for a field of a copy that sends it by reference
    /// (in a [`Value`], [`reference()`] says the same in one step).
    pub fn new(object: Arc<dyn Referenceable>) -> LocalReferenceable {
        LocalReferenceable {
            object,
            perspective: None,
        }
    }

    /// One login's avatar, to be sent by reference: its calls are served
    /// for `perspective` (Twisted's `AsReferenceable(avatar, "perspective")`),
    /// so what its methods answer reaches viewables and Cacheables with it.
    /// Each login gets its own object, so two logins never share an entry,
    /// even with one avatar. `on_release` runs once when nobody holds it any
    /// more: the peer released it, or the connection closed (Twisted's
    /// logout); a panic in it is caught and logged.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use spread_flavors::{BoxFuture, Call, LocalReferenceable, Perspective, Referenceable, RemoteError};
    /// use spread_jelly::Value;
    ///
    /// struct User;
    /// impl Referenceable for User {
    ///     fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
    ///         Box::pin(async move { Err(RemoteError::no_such_method(&call.method)) })
    ///     }
    /// }
    ///
    /// let gone = Arc::new(AtomicBool::new(false));
    /// let flag = gone.clone();
    /// let alice = Perspective::new("alice", Arc::new(User));
    /// let sent = LocalReferenceable::for_perspective(alice.clone(), move || flag.store(true, Ordering::SeqCst));
    /// assert_eq!(sent.perspective(), Some(&alice));
    /// drop(sent);
    /// assert!(gone.load(Ordering::SeqCst), "the last holder let go: logout ran");
    /// ```
    pub fn for_perspective(
        perspective: Perspective,
        on_release: impl FnOnce() + Send + 'static,
    ) -> LocalReferenceable {
        LocalReferenceable {
            object: Arc::new(AvatarPoint::new(perspective.clone(), on_release)),
            perspective: Some(perspective),
        }
    }

    /// A viewable bound to `perspective` (Twisted's `ViewPoint`).
    pub fn view_point(
        viewable: Arc<dyn Viewable>,
        perspective: Option<Perspective>,
    ) -> LocalReferenceable {
        LocalReferenceable {
            object: Arc::new(ViewPoint {
                perspective: perspective.clone(),
                viewable,
            }),
            perspective,
        }
    }

    /// The perspective its calls are served for, if any.
    pub fn perspective(&self) -> Option<&Perspective> {
        self.perspective.as_ref()
    }

    /// The object.
    pub fn object(&self) -> &Arc<dyn Referenceable> {
        &self.object
    }

    /// The object's identity: the same object is sent under the same luid.
    fn addr(&self) -> usize {
        Arc::as_ptr(&self.object) as *const u8 as usize
    }
}

impl From<LocalReferenceable> for Value {
    fn from(local: LocalReferenceable) -> Value {
        Value::Object(Object::receive_only(CLASS, local))
    }
}

impl PartialEq for LocalReferenceable {
    /// Identity: the same object.
    fn eq(&self, other: &LocalReferenceable) -> bool {
        self.addr() == other.addr()
    }
}

impl Eq for LocalReferenceable {}

impl Hash for LocalReferenceable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
    }
}

impl fmt::Debug for LocalReferenceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Referenceable@{:x}", self.addr())
    }
}

impl crate::IntoValue for LocalReferenceable {
    /// Sent by reference.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from(self))
    }
}

impl crate::FromValue for LocalReferenceable {
    /// One of this side's objects, sent back by the peer.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        crate::__private::object_arg(value, "one of our objects")
    }
}
