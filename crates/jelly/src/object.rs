//! Local Rust objects inside a value: what a registered class became.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::{Error, ErrorKind, Value};

/// A Rust type that can be sent as a copy: Twisted's `getStateToCopy`.
///
/// The state is what the peer's `setCopyableState` receives, usually a
/// [`Dict`](crate::Dict) with text keys, as Python's `__dict__`.
///
/// ```
/// use spread_jelly::{Dict, Error, Jellyable, Object, Value, to_sexp};
///
/// #[derive(Debug)]
/// struct Pond { frogs: i64, toads: i64 }
///
/// impl Jellyable for Pond {
///     // Data reduction, as the seed's copy2 example: only the sum travels.
///     fn state_to_copy(&self) -> Result<Value, Error> {
///         Ok(Value::Dict(Dict::from_iter([(Value::from("frogsAndToads"), Value::from(self.frogs + self.toads))])))
///     }
/// }
///
/// let pond = Value::Object(Object::new("copy2_classes.SenderPond", Pond { frogs: 3, toads: 4 }));
/// assert!(to_sexp(&pond).is_ok());
/// ```
pub trait Jellyable: fmt::Debug + Send + Sync + 'static {
    /// The state to send in place of the object.
    fn state_to_copy(&self) -> Result<Value, Error>;
}

/// A Rust object standing in a [`Value`] for a Python instance, under its
/// wire class name.
///
/// Objects are made by the receiving policy for the classes it registered
/// ([`Object::receive_only`]), or by the sender for the types that have a
/// copy rule ([`Object::new`]). Clones are the same object: sending one twice
/// in a value gives Twisted's `reference`/`dereference`, and `==` on objects
/// is identity.
///
/// ```
/// use spread_jelly::{ErrorKind, Object, Value, to_sexp};
///
/// #[derive(Debug, PartialEq)]
/// struct ReceiverPond { frogs: i64 }
///
/// let pond = Object::receive_only("copy_sender.CopyPond", ReceiverPond { frogs: 7 });
/// assert_eq!(pond.downcast_ref::<ReceiverPond>(), Some(&ReceiverPond { frogs: 7 }));
///
/// // It arrived, but nothing says how to send it back.
/// let err = to_sexp(&Value::Object(pond)).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Unsendable { class } if class == "copy_sender.CopyPond"));
/// ```
#[derive(Clone)]
pub struct Object {
    inner: Arc<Inner>,
}

type Erased = dyn Any + Send + Sync;

/// The two things an object must do without knowing its type, recorded as
/// function pointers while the type is still known.
type DebugFn = fn(&Erased, &mut fmt::Formatter<'_>) -> fmt::Result;
type StateFn = Box<dyn Fn(&Erased) -> Result<Value, Error> + Send + Sync>;

struct Inner {
    class: String,
    value: Box<Erased>,
    debug: DebugFn,
    state: Option<StateFn>,
}

fn debug_of<T: fmt::Debug + 'static>(v: &Erased, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v.downcast_ref::<T>() {
        Some(v) => v.fmt(f),
        None => f.write_str("<object>"),
    }
}

/// The state function for a `T`, from a function of `&T`.
fn state_fn<T: 'static>(
    rule: impl Fn(&T) -> Result<Value, Error> + Send + Sync + 'static,
) -> StateFn {
    Box::new(move |v: &Erased| {
        rule(
            v.downcast_ref::<T>()
                .ok_or_else(|| Error::custom("object of an unexpected type"))?,
        )
    })
}

impl Object {
    /// An object that is sent as `[class, value.state_to_copy()]`.
    pub fn new<T: Jellyable>(class: impl Into<String>, value: T) -> Object {
        Object::with_copy_rule(class, value, T::state_to_copy)
    }

    /// An object sent as `[class, rule(&value)]`: a copy rule given as a
    /// function, for types whose rule comes from another trait.
    ///
    /// ```
    /// use spread_jelly::{Object, Value};
    ///
    /// #[derive(Debug)]
    /// struct Pond(i64);
    ///
    /// let pond = Object::with_copy_rule("m.Pond", Pond(7), |p: &Pond| Ok(Value::from(p.0)));
    /// assert_eq!(pond.state_to_copy().unwrap(), Value::from(7));
    /// ```
    pub fn with_copy_rule<T: fmt::Debug + Send + Sync + 'static>(
        class: impl Into<String>,
        value: T,
        rule: impl Fn(&T) -> Result<Value, Error> + Send + Sync + 'static,
    ) -> Object {
        Object::build(class.into(), value, Some(state_fn(rule)))
    }

    /// An object with no copy rule, such as one built from a received
    /// state: jellying it fails with [`ErrorKind::Unsendable`].
    pub fn receive_only<T: fmt::Debug + Send + Sync + 'static>(
        class: impl Into<String>,
        value: T,
    ) -> Object {
        Object::build(class.into(), value, None)
    }

    fn build<T: fmt::Debug + Send + Sync + 'static>(
        class: String,
        value: T,
        state: Option<StateFn>,
    ) -> Object {
        Object {
            inner: Arc::new(Inner {
                class,
                value: Box::new(value),
                debug: debug_of::<T>,
                state,
            }),
        }
    }

    /// The wire class name, `module.Class`.
    pub fn class(&self) -> &str {
        &self.inner.class
    }

    /// The Rust value, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.inner.value.downcast_ref::<T>()
    }

    /// Whether the object has a copy rule.
    pub fn is_sendable(&self) -> bool {
        self.inner.state.is_some()
    }

    /// The state to send, or [`ErrorKind::Unsendable`] without a copy rule.
    pub fn state_to_copy(&self) -> Result<Value, Error> {
        match &self.inner.state {
            Some(state) => state(&*self.inner.value),
            None => Err(ErrorKind::Unsendable {
                class: self.inner.class.clone(),
            }
            .into()),
        }
    }

    /// Whether two handles are the same object.
    pub fn ptr_eq(&self, other: &Object) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The object's address, which identifies it while any handle lives.
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const u8 as usize
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<", self.inner.class)?;
        (self.inner.debug)(&*self.inner.value, f)?;
        f.write_str(">")
    }
}

impl PartialEq for Object {
    /// Identity: two objects are equal when they are the same object.
    fn eq(&self, other: &Object) -> bool {
        self.ptr_eq(other)
    }
}
