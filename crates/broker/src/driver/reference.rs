//! Handles to the peer's objects.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use spread_flavors::{FromValue, IntoValue, RemoteError};
use spread_jelly::{Dict, Object, Value};
use tokio::sync::oneshot;

use super::{Command, Link};
use crate::proto::{Callee, ObjectId, Release};
use crate::{Broker, CallError};

/// A reference to an object on the other side of a connection: Twisted's
/// `RemoteReference`. Cheap to clone, `Send + Sync`, usable from any task.
///
/// Each reference token the peer sent is one `RemoteReference` (clones
/// share it); when the last clone is dropped, the peer is told (`decref`),
/// exactly once. Sending it back to its owner (`Value::from(reference)`)
/// delivers the owner's own object.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use spread_broker::connect;
/// use spread_jelly::Value;
///
/// let broker = connect("127.0.0.1:8800", Default::default()).await?;
/// let root = broker.root_object().await?;
/// let sum = root.call_remote("add", vec![Value::from(2), Value::from(3)]).await?;
/// assert_eq!(sum, Value::from(5));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteReference {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    id: ObjectId,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Names (the root) are not counted; only luids came in tokens.
        if let ObjectId::Luid(luid) = self.id {
            // If the connection is gone there is nobody to tell.
            let _ = self
                .link
                .commands
                .send(Command::Release(Release::Reference(luid)));
        }
    }
}

/// The class name under which a reference sits in a [`Value`]; it never
/// reaches the wire (the broker sends `local` instead).
const CLASS: &str = "twisted.spread.pb.RemoteReference";

impl RemoteReference {
    pub(super) fn new(link: Arc<Link>, id: ObjectId) -> RemoteReference {
        RemoteReference {
            inner: Arc::new(Inner { link, id }),
        }
    }

    pub(super) fn link_id(&self) -> u64 {
        self.inner.link.id
    }

    pub(super) fn object_id(&self) -> &ObjectId {
        &self.inner.id
    }

    /// Calls `method` with positional arguments and waits for the answer.
    ///
    /// The call is sent when this is called, as Twisted's `callRemote` sends
    /// it; the future only waits for the answer (dropping it ignores the
    /// answer, the call still happens). Calls made in turn go out in turn.
    pub fn call_remote(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> impl Future<Output = Result<Value, CallError>> + Send + 'static {
        self.call_remote_kw(method, args, Dict::new())
    }

    /// Calls `method` with positional and keyword arguments; sent at once,
    /// as [`RemoteReference::call_remote`].
    pub fn call_remote_kw(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> impl Future<Output = Result<Value, CallError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        let sent = self.send(method, args, kwargs, Some(reply));
        async move {
            sent?;
            answer.await.map_err(|_| CallError::ConnectionLost)?
        }
    }

    /// Calls `method` without asking for an answer (Twisted's
    /// `pbanswer=False`): the peer sends nothing back, not even an error.
    pub fn call_remote_no_answer(&self, method: &str, args: Vec<Value>) -> Result<(), CallError> {
        self.send(method, args, Dict::new(), None)
    }

    fn send(
        &self,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
        reply: Option<oneshot::Sender<Result<Value, CallError>>>,
    ) -> Result<(), CallError> {
        self.inner.link.send_call(
            Callee::Object(self.inner.id.clone()),
            Bytes::copy_from_slice(method.as_bytes()),
            args,
            kwargs,
            reply,
        )
    }

    /// The connection this reference belongs to.
    pub fn broker(&self) -> Broker {
        Broker::from_link(self.inner.link.clone())
    }

    /// Whether two references name the same remote object.
    pub fn is_same_object(&self, other: &RemoteReference) -> bool {
        self.inner.link.id == other.inner.link.id && self.inner.id == other.inner.id
    }
}

impl From<RemoteReference> for Value {
    /// The value that sends the reference back to its owner, as Twisted's
    /// `local` token.
    fn from(reference: RemoteReference) -> Value {
        Value::Object(Object::receive_only(CLASS, reference))
    }
}

impl fmt::Debug for RemoteReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RemoteReference({:?} on connection {})",
            self.inner.id, self.inner.link.id
        )
    }
}

impl FromValue for RemoteReference {
    /// A reference the peer sent, as a `#[remote]` method's argument.
    fn from_value(value: &Value) -> Result<Self, RemoteError> {
        spread_flavors::__private::object_arg(value, "a remote reference")
    }
}

impl IntoValue for RemoteReference {
    /// Sent back to its owner, as Twisted's `local` token.
    fn into_value(self) -> Result<Value, RemoteError> {
        Ok(Value::from(self))
    }
}
