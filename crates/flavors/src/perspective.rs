//! Who is calling: Twisted's perspectives (`pb.Avatar`) and viewables
//! (`pb.Viewable`, whose methods receive the calling perspective).

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use spread_jelly::{Object, Value};

use crate::{BoxFuture, Call, Referenceable, RemoteError};

/// The avatar a realm gave a logged-in peer, as the objects it reaches see
/// it: Twisted's perspective. A broker serves the avatar's
/// `perspective_*` methods, and hands the perspective to what is sent in
/// their answers: a [`Viewable`]'s methods and a Cacheable's hooks.
///
/// Cheap to clone; equal when it is the same login.
///
/// ```
/// use std::sync::Arc;
/// use spread_flavors::{BoxFuture, Call, Perspective, Referenceable, RemoteError};
/// use spread_jelly::Value;
///
/// struct User { name: String }
///
/// impl Referenceable for User {
///     fn remote_message(self: Arc<Self>, _call: Call) -> BoxFuture<Result<Value, RemoteError>> {
///         Box::pin(async move { Ok(Value::from(self.name.as_str())) })
///     }
/// }
///
/// let alice = Perspective::new("alice", Arc::new(User { name: "alice".into() }));
/// assert_eq!(alice.avatar_id(), "alice");
/// assert_eq!(alice.avatar::<User>().unwrap().name, "alice");
/// ```
#[derive(Clone)]
pub struct Perspective {
    inner: Arc<Inner>,
}

struct Inner {
    avatar_id: String,
    avatar: Arc<dyn Referenceable>,
}

impl Perspective {
    /// The perspective of the login `avatar_id`, served by `avatar`.
    pub fn new(avatar_id: impl Into<String>, avatar: Arc<dyn Referenceable>) -> Perspective {
        Perspective {
            inner: Arc::new(Inner {
                avatar_id: avatar_id.into(),
                avatar,
            }),
        }
    }

    /// Who logged in (Twisted's `avatarId`), as the realm named it.
    pub fn avatar_id(&self) -> &str {
        &self.inner.avatar_id
    }

    /// The avatar, as the type the realm made it.
    pub fn avatar<T: Referenceable>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.inner.avatar;
        any.downcast_ref::<T>()
    }

    /// The avatar, to serve its calls.
    pub fn referenceable(&self) -> &Arc<dyn Referenceable> {
        &self.inner.avatar
    }
}

impl PartialEq for Perspective {
    /// The same login.
    fn eq(&self, other: &Perspective) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Perspective {}

impl fmt::Debug for Perspective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Perspective({:?})", self.inner.avatar_id)
    }
}

/// An object whose methods receive the calling perspective as their first
/// argument: Twisted's `pb.Viewable` and its `view_*` methods. Sent from a
/// perspective's method, it reaches the peer as a reference bound to that
/// perspective (Twisted's `ViewPoint`); sent outside any perspective, its
/// methods get `None`.
pub trait Viewable: Any + Send + Sync {
    /// Runs `view_<call.method>` for `perspective`.
    fn view_message(
        self: Arc<Self>,
        perspective: Option<Perspective>,
        call: Call,
    ) -> BoxFuture<Result<Value, RemoteError>>;
}

/// The value that sends `object` as a viewable: by reference, its methods
/// told which perspective calls them.
pub fn viewable(object: Arc<dyn Viewable>) -> Value {
    Value::from(LocalViewable { object })
}

/// One of this side's [`Viewable`]s inside a [`Value`]: what [`viewable()`]
/// puts there.
#[derive(Clone)]
pub struct LocalViewable {
    object: Arc<dyn Viewable>,
}

/// The class name under which a local Viewable sits in a [`Value`]; it never
/// reaches the wire (the broker sends a `remote` token instead).
const CLASS: &str = "twisted.spread.flavors.Viewable";

impl LocalViewable {
    /// The object.
    pub fn object(&self) -> &Arc<dyn Viewable> {
        &self.object
    }
}

impl From<LocalViewable> for Value {
    fn from(local: LocalViewable) -> Value {
        Value::Object(Object::receive_only(CLASS, local))
    }
}

impl fmt::Debug for LocalViewable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Viewable@{:x}",
            Arc::as_ptr(&self.object) as *const u8 as usize
        )
    }
}

impl crate::IntoValue for LocalViewable {
    /// Sent as a viewable.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from(self))
    }
}

/// A viewable bound to the perspective it was sent for: what the peer's
/// reference reaches (Twisted's `ViewPoint`).
pub(crate) struct ViewPoint {
    pub(crate) perspective: Option<Perspective>,
    pub(crate) viewable: Arc<dyn Viewable>,
}

impl Referenceable for ViewPoint {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        self.viewable
            .clone()
            .view_message(self.perspective.clone(), call)
    }
}

/// One login's avatar as the peer reaches it: calls go to the avatar, and
/// when the last holder lets go, the login's release hook runs.
pub(crate) struct AvatarPoint {
    perspective: Perspective,
    on_release: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl AvatarPoint {
    pub(crate) fn new(
        perspective: Perspective,
        on_release: impl FnOnce() + Send + 'static,
    ) -> AvatarPoint {
        AvatarPoint {
            perspective,
            on_release: Mutex::new(Some(Box::new(on_release))),
        }
    }
}

impl Referenceable for AvatarPoint {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        self.perspective
            .referenceable()
            .clone()
            .remote_message(call)
    }
}

impl Drop for AvatarPoint {
    fn drop(&mut self) {
        let hook = self
            .on_release
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(hook) = hook {
            // A panicking hook has had its message printed by the panic
            // hook; what matters is that the one dropping this carries on.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(hook));
        }
    }
}
