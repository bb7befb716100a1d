//! The hook through which the receiving side decides what may be built.

use spread_banana::Sexp;

use crate::{Error, ErrorKind, Instance, Value};

/// Decides, while unjellying, which types are allowed and what an instance of
/// a class becomes: Twisted's `SecurityOptions` and unjellyable registry, as
/// one trait.
///
/// Jelly itself knows no classes. `spread-security` implements this trait
/// with a registry of wire class names and local types, and denies
/// everything else; [`AllowAll`] accepts every type and leaves instances as
/// generic [`Instance`] values, which suits tests and tools that only look.
///
/// ```
/// use spread_banana::Sexp;
/// use spread_jelly::{from_sexp, Error, ErrorKind, Policy, Value};
///
/// /// Accepts built-in types, refuses every class.
/// struct NoClasses;
///
/// impl Policy for NoClasses {
///     fn unjelly_instance(&self, class: &str, _state: Value) -> Result<Value, Error> {
///         Err(ErrorKind::Insecure { tag: class.to_owned(), reason: None }.into())
///     }
/// }
///
/// let pond = Sexp::list([Sexp::from("copy_sender.CopyPond"), Sexp::list([Sexp::from("dictionary")])]);
/// let err = from_sexp(&pond, &NoClasses).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Insecure { tag, .. } if tag == "copy_sender.CopyPond"));
/// ```
pub trait Policy {
    /// Whether values of the Jelly type `tag` may be unjellied at all
    /// (`"list"`, `"dictionary"`, `"set"`, `"reference"` and so on). Called
    /// before a tagged form is interpreted. Class names do not come here: they
    /// go to [`Policy::unjelly_instance`].
    fn allows_type(&self, tag: &str) -> bool {
        let _ = tag;
        true
    }

    /// Whether instances of `class` (a dotted wire class name) may be
    /// unjellied at all. Asked before the instance's state is read, so that a
    /// refused class costs nothing and nothing inside it is built.
    fn allows_class(&self, class: &str) -> Result<(), Error> {
        let _ = class;
        Ok(())
    }

    /// Unjellies a form Jelly does not know: a tag that is neither a Jelly
    /// type nor a class name, such as PB's `remote` and `local` references
    /// (Twisted registers those in its unjellyable registry), or a class name
    /// whose form is not `[class, state]`, such as PB's first send of a
    /// Cacheable. `rest` is the form after its tag. `None` means "not mine":
    /// the form is then an unknown type or a malformed instance.
    fn unjelly_tag(&self, tag: &str, rest: &[Sexp]) -> Option<Result<Value, Error>> {
        let _ = (tag, rest);
        None
    }

    /// Builds the value for an instance of `class` (a dotted wire class name)
    /// from its unjellied `state`, or refuses it with
    /// [`ErrorKind::Insecure`]. The state has been checked against this policy
    /// already.
    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error>;
}

/// Allows every type and keeps instances as [`Instance`] values, like
/// Twisted's `DummySecurityOptions` but without importing anything.
///
/// Nothing is ever constructed from a class name, so this is safe to use on
/// untrusted input; it is simply not selective.
///
/// ```
/// use spread_banana::Sexp;
/// use spread_jelly::{from_sexp, AllowAll, Value};
///
/// let sexp = Sexp::list([Sexp::from("m.Thing"), Sexp::list([Sexp::from("dictionary")])]);
/// let value = from_sexp(&sexp, &AllowAll).unwrap();
/// assert!(matches!(value, Value::Instance(ref i) if i.class == "m.Thing"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        Ok(Value::from(Instance::new(class, state)))
    }
}

impl<P: Policy + ?Sized> Policy for &P {
    fn allows_type(&self, tag: &str) -> bool {
        (**self).allows_type(tag)
    }
    fn allows_class(&self, class: &str) -> Result<(), Error> {
        (**self).allows_class(class)
    }
    fn unjelly_tag(&self, tag: &str, rest: &[Sexp]) -> Option<Result<Value, Error>> {
        (**self).unjelly_tag(tag, rest)
    }
    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        (**self).unjelly_instance(class, state)
    }
}

pub(crate) fn insecure(tag: &str) -> Error {
    Error::new(ErrorKind::Insecure {
        tag: tag.to_owned(),
        reason: None,
    })
}
