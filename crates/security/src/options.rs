//! The options: allowed types and registered classes.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use spread_jelly::{Error, ErrorKind, Instance, Object, Policy, Value, from_value};

use crate::{JellyType, RegistrationError};

type Build = dyn Fn(Value) -> Result<Value, Error> + Send + Sync;

/// What an allowed class becomes.
#[derive(Clone)]
enum Rule {
    /// A generic [`Instance`], class name and state as sent.
    Instance,
    /// Whatever the registered function builds from the state.
    Build(Arc<Build>),
}

/// Which Jelly types may be unjellied and which wire class names may become
/// which local types: Twisted's `SecurityOptions` together with its
/// `setUnjellyableForClass` registry, owned by the application and handed to
/// each connection.
///
/// [`SecurityOptions::new`] is what a Twisted PB broker accepts by default:
/// the basic types and no classes. Each class that may arrive is registered
/// with the local type it becomes; everything else is refused with
/// [`ErrorKind::Insecure`], naming the class and the path to it, before
/// anything inside it is built.
///
/// ```
/// use serde::Deserialize;
/// use spread_banana::Sexp;
/// use spread_jelly::{from_sexp, ErrorKind, Value};
/// use spread_security::SecurityOptions;
///
/// #[derive(Debug, Deserialize)]
/// struct ReceiverPond {
///     color: String,
///     #[serde(rename = "numFrogs")]
///     num_frogs: i64,
/// }
///
/// let mut options = SecurityOptions::new();
/// options.allow_deserialize::<ReceiverPond>("copy_sender.CopyPond")?;
///
/// let pond = |class: &'static str| Sexp::list([
///     Sexp::from(class),
///     Sexp::list([
///         Sexp::from("dictionary"),
///         Sexp::list([Sexp::list([Sexp::from("unicode"), Sexp::from("color")]),
///                     Sexp::list([Sexp::from("unicode"), Sexp::from("green")])]),
///         Sexp::list([Sexp::list([Sexp::from("unicode"), Sexp::from("numFrogs")]), Sexp::from(7)]),
///     ]),
/// ]);
///
/// let Value::Object(received) = from_sexp(&pond("copy_sender.CopyPond"), &options)? else { panic!() };
/// let received = received.downcast_ref::<ReceiverPond>().unwrap();
/// assert_eq!((received.color.as_str(), received.num_frogs), ("green", 7));
///
/// // Same class name in another module: a different class, refused.
/// let err = from_sexp(&pond("evil.CopyPond"), &options).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Insecure { tag, .. } if tag == "evil.CopyPond"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SecurityOptions {
    /// One bit per [`JellyType`]: the check runs on every tagged value.
    types: u32,
    classes: HashMap<String, Rule>,
}

impl Default for SecurityOptions {
    fn default() -> SecurityOptions {
        SecurityOptions::new()
    }
}

impl SecurityOptions {
    /// Twisted PB's default: every basic type (Twisted's `SecurityOptions()`
    /// plus `allowBasicTypes()`), and no classes.
    pub fn new() -> SecurityOptions {
        SecurityOptions {
            types: JellyType::ALL.iter().fold(0, |bits, t| bits | t.bit()),
            classes: HashMap::new(),
        }
    }

    /// Nothing at all: not even `None` or text; only bare integers, floats
    /// and byte strings, which carry no type tag. Allow types one by one
    /// with [`SecurityOptions::allow_type`].
    pub fn empty() -> SecurityOptions {
        SecurityOptions {
            types: 0,
            classes: HashMap::new(),
        }
    }

    /// Allows a built-in type.
    pub fn allow_type(&mut self, t: JellyType) -> &mut SecurityOptions {
        self.types |= t.bit();
        self
    }

    /// Refuses a built-in type, as Twisted's tests do with sets and decimals.
    pub fn deny_type(&mut self, t: JellyType) -> &mut SecurityOptions {
        self.types &= !t.bit();
        self
    }

    /// Whether a built-in type is allowed.
    pub fn allows(&self, t: JellyType) -> bool {
        self.types & t.bit() != 0
    }

    /// Whether instances of `class` are accepted.
    pub fn allows_class_name(&self, class: &str) -> bool {
        self.classes.contains_key(class)
    }

    /// Instances of the wire class `class` become a `T`, read from their
    /// state with serde (text or UTF-8 bytes keys, as Twisted's
    /// `setCopyableState` accepts): a serde type as the receiving end of
    /// Twisted's `setUnjellyableForClass(class, T)`. For a type that
    /// implements spread-flavors' `RemoteCopy` (what
    /// `#[derive(RemoteCopy)]` makes), use `spread_flavors::allow_remote_copy`.
    ///
    /// The result is a [`Value::Object`] whose [`Object::downcast_ref`] gives
    /// the `T`. It has no copy rule: sending it on fails at the sender
    /// ([`ErrorKind::Unsendable`]). A state of the wrong shape fails with an
    /// error that names the field, and builds nothing.
    pub fn allow_deserialize<T>(
        &mut self,
        class: &str,
    ) -> Result<&mut SecurityOptions, RegistrationError>
    where
        T: DeserializeOwned + fmt::Debug + Send + Sync + 'static,
    {
        let name = class.to_owned();
        self.allow_with(class, move |state| {
            Ok(Value::Object(Object::receive_only(
                name.clone(),
                from_value::<T>(&state)?,
            )))
        })
    }

    /// Twisted's `setUnjellyableFactoryForClass(class, factory)`: instances
    /// of `class` become whatever `factory` makes of their state.
    ///
    /// ```
    /// use spread_banana::Sexp;
    /// use spread_jelly::{from_sexp, Error, Value};
    /// use spread_security::SecurityOptions;
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct Ducks(usize);
    ///
    /// let mut options = SecurityOptions::new();
    /// options.allow_factory("cache_classes.MasterDuckPond", |state: Value| {
    ///     let ducks = state.as_seq().ok_or_else(|| Error::custom("expected a list of ducks"))?;
    ///     Ok(Ducks(ducks.len()))
    /// })?;
    ///
    /// let two = Sexp::list([Sexp::from("list"), Sexp::from("one duck"), Sexp::from("two duck")]);
    /// let sent = Sexp::list([Sexp::from("cache_classes.MasterDuckPond"), two]);
    /// let Value::Object(pond) = from_sexp(&sent, &options)? else { panic!() };
    /// assert_eq!(pond.downcast_ref::<Ducks>(), Some(&Ducks(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allow_factory<T, F>(
        &mut self,
        class: &str,
        factory: F,
    ) -> Result<&mut SecurityOptions, RegistrationError>
    where
        T: fmt::Debug + Send + Sync + 'static,
        F: Fn(Value) -> Result<T, Error> + Send + Sync + 'static,
    {
        let name = class.to_owned();
        self.allow_with(class, move |state| {
            Ok(Value::Object(Object::receive_only(
                name.clone(),
                factory(state)?,
            )))
        })
    }

    /// The most general registration: instances of `class` become the value
    /// `build` returns, which may be an [`Object`] with a copy rule (a type
    /// that is both Copyable and RemoteCopy) or any other value.
    pub fn allow_with<F>(
        &mut self,
        class: &str,
        build: F,
    ) -> Result<&mut SecurityOptions, RegistrationError>
    where
        F: Fn(Value) -> Result<Value, Error> + Send + Sync + 'static,
    {
        self.register(class, Rule::Build(Arc::new(build)))
    }

    /// Accepts instances of `class` as generic [`Instance`] values, class
    /// name and state as sent, without building any local type (Twisted's
    /// `allowInstancesOf`, for a program that only looks at the state).
    pub fn allow_instances(
        &mut self,
        class: &str,
    ) -> Result<&mut SecurityOptions, RegistrationError> {
        self.register(class, Rule::Instance)
    }

    fn register(
        &mut self,
        class: &str,
        rule: Rule,
    ) -> Result<&mut SecurityOptions, RegistrationError> {
        if !is_class_name(class) {
            return Err(RegistrationError::InvalidClassName {
                class: class.to_owned(),
            });
        }
        if self.classes.contains_key(class) {
            return Err(RegistrationError::DuplicateClass {
                class: class.to_owned(),
            });
        }
        self.classes.insert(class.to_owned(), rule);
        Ok(self)
    }
}

/// `module.Class`: dotted identifiers, at least one dot. Twisted's class
/// names are qualified Python names, which always have this form.
///
/// `spread-derive` checks `#[pb(class = ...)]` with a copy of this rule
/// (`attr.rs`: a macro crate links no layer); change both together.
fn is_class_name(class: &str) -> bool {
    class.contains('.')
        && class.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

impl Policy for SecurityOptions {
    fn allows_type(&self, tag: &str) -> bool {
        JellyType::from_tag(tag).is_some_and(|t| self.allows(t))
    }

    /// Only registered classes pass. Twisted lets any dotted tag through its
    /// type check and then imports the module to look for the class (twisted
    /// issue 6355); here nothing is looked up beyond the registry.
    fn allows_class(&self, class: &str) -> Result<(), Error> {
        match self.classes.contains_key(class) {
            true => Ok(()),
            false => Err(not_registered(class)),
        }
    }

    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        match self.classes.get(class) {
            Some(Rule::Instance) => Ok(Value::from(Instance::new(class, state))),
            Some(Rule::Build(build)) => build(state),
            None => Err(not_registered(class)),
        }
    }
}

fn not_registered(class: &str) -> Error {
    ErrorKind::Insecure {
        tag: class.to_owned(),
        reason: Some("no local type is registered for this class".to_owned()),
    }
    .into()
}

impl fmt::Debug for SecurityOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let types: Vec<&str> = JellyType::ALL
            .iter()
            .filter(|t| self.allows(**t))
            .map(|t| t.tag())
            .collect();
        let mut classes: Vec<&str> = self.classes.keys().map(String::as_str).collect();
        classes.sort_unstable();
        f.debug_struct("SecurityOptions")
            .field("types", &types)
            .field("classes", &classes)
            .finish()
    }
}
