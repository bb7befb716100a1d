//! Identity: values that occur more than once, or inside themselves.

use std::fmt;
use std::sync::{Arc, OnceLock, Weak};

use crate::Value;

/// A value with an identity, which Jelly sends once and then refers to.
///
/// Twisted keeps object identity within one jellied value: the second time the
/// jellier meets the same list, dict or instance it sends a `dereference` to
/// the first. `Shared` is how that identity looks in Rust. Clones of one
/// `Shared` are the same object, and [`to_sexp`](crate::to_sexp) sends them as
/// Twisted would send one Python object met twice.
///
/// A value that contains itself holds a *back reference*: a `Shared` that does
/// not own its target (a [`Weak`] pointer), so cycles never leak and dropping
/// never loops. The owner of a cycle is the outermost `Shared`; a back
/// reference whose owner was dropped reads as [`None`] from [`Shared::get`].
///
/// ```
/// use spread_jelly::{Shared, Value};
///
/// // s = [1, 2]; [s, s]
/// let s = Shared::new(Value::List(vec![Value::Int(1), Value::Int(2)]));
/// let outer = Value::List(vec![Value::Shared(s.clone()), Value::Shared(s)]);
///
/// // l = []; l.append(l)
/// let l = Shared::cyclic(|me| Value::List(vec![Value::Shared(me)]));
/// assert!(l.get().is_some());
/// # let _ = outer;
/// ```
#[derive(Clone)]
pub struct Shared(Link);

#[derive(Clone)]
enum Link {
    Owner(Arc<Node>),
    Back(Weak<Node>),
}

/// The object behind a [`Shared`]. The value is set once: at construction for
/// values built in Rust, after its body for values being unjellied (so that
/// back references inside the body can point at it before it is finished).
#[derive(Default)]
pub(crate) struct Node {
    value: OnceLock<Value>,
}

impl Shared {
    /// Gives `value` an identity.
    pub fn new(value: Value) -> Shared {
        Shared(Link::Owner(Arc::new(Node {
            value: OnceLock::from(value),
        })))
    }

    /// Builds a value that refers to itself: `build` receives a back reference
    /// to the value it is building.
    pub fn cyclic(build: impl FnOnce(Shared) -> Value) -> Shared {
        Shared(Link::Owner(Arc::new_cyclic(|weak| Node {
            value: OnceLock::from(build(Shared(Link::Back(weak.clone())))),
        })))
    }

    /// An empty owner, filled by [`Shared::fill`] once its body is known.
    pub(crate) fn pending() -> Shared {
        Shared(Link::Owner(Arc::new(Node::default())))
    }

    /// Sets the value of a [`Shared::pending`]; `false` if it was already set.
    pub(crate) fn fill(&self, value: Value) -> bool {
        match &self.0 {
            Link::Owner(node) => node.value.set(value).is_ok(),
            Link::Back(_) => false,
        }
    }

    /// Whether the value is complete (always, except while unjellying).
    pub(crate) fn is_filled(&self) -> bool {
        match &self.0 {
            Link::Owner(node) => node.value.get().is_some(),
            Link::Back(weak) => weak.upgrade().is_some_and(|n| n.value.get().is_some()),
        }
    }

    /// A back reference to the same object, which does not keep it alive.
    pub fn downgrade(&self) -> Shared {
        match &self.0 {
            Link::Owner(node) => Shared(Link::Back(Arc::downgrade(node))),
            Link::Back(weak) => Shared(Link::Back(weak.clone())),
        }
    }

    /// An owning handle to the same object, or `None` if this is a back
    /// reference whose owner is gone.
    pub fn upgrade(&self) -> Option<Shared> {
        match &self.0 {
            Link::Owner(_) => Some(self.clone()),
            Link::Back(weak) => weak.upgrade().map(|node| Shared(Link::Owner(node))),
        }
    }

    /// Whether this handle is a back reference (part of a cycle).
    pub fn is_back_reference(&self) -> bool {
        matches!(self.0, Link::Back(_))
    }

    /// The value, if this handle owns it.
    ///
    /// A back reference returns `None`: call [`Shared::upgrade`] first to
    /// read through it.
    pub fn get(&self) -> Option<&Value> {
        match &self.0 {
            Link::Owner(node) => node.value.get(),
            Link::Back(_) => None,
        }
    }

    /// Whether two handles are the same object.
    pub fn ptr_eq(&self, other: &Shared) -> bool {
        self.addr() == other.addr()
    }

    /// The object's address, which identifies it while any handle lives.
    pub(crate) fn addr(&self) -> usize {
        match &self.0 {
            Link::Owner(node) => Arc::as_ptr(node) as usize,
            Link::Back(weak) => weak.as_ptr() as usize,
        }
    }

    /// Runs `f` on the value, reading through a back reference if need be.
    /// `None` if the owner is gone or the value is not complete.
    pub fn with<R>(&self, f: impl FnOnce(&Value) -> R) -> Option<R> {
        match &self.0 {
            Link::Owner(node) => node.value.get().map(f),
            Link::Back(weak) => {
                let node = weak.upgrade()?;
                node.value.get().map(f)
            }
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::debug::fmt_shared(self, f)
    }
}

impl PartialEq for Shared {
    /// Same shape of identity and equal contents: see [`Value`]'s equality.
    fn eq(&self, other: &Shared) -> bool {
        crate::eq::shared_eq(self, other)
    }
}
