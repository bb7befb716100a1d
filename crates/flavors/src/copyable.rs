//! Objects passed by copy: Twisted's `pb.Copyable` and `pb.RemoteCopy`.

use std::fmt;

use spread_jelly::{Error, Object, Value};
use spread_security::{RegistrationError, SecurityOptions};

/// A type sent by copy: Twisted's `pb.Copyable`. The peer receives the
/// class name and the state, and builds its own object from them.
///
/// The state need not be the fields: leave out what is local-only (a
/// password), or send a reduction (the seed's `copy2`, where frogs and
/// toads travel as their sum).
///
/// ```
/// use spread_flavors::{copy, Copyable};
/// use spread_jelly::{to_value, Error, Value};
///
/// #[derive(Debug, serde::Serialize)]
/// struct CopyPond {
///     color: String,
///     #[serde(rename = "numFrogs")]
///     num_frogs: i64,
/// }
///
/// impl Copyable for CopyPond {
///     fn type_to_copy(&self) -> &str {
///         "copy_sender.CopyPond"
///     }
///     fn state_to_copy(&self) -> Result<Value, Error> {
///         to_value(self)
///     }
/// }
///
/// let pond = copy(CopyPond { color: "green".into(), num_frogs: 7 });
/// assert!(matches!(pond, Value::Object(ref o) if o.class() == "copy_sender.CopyPond"));
/// ```
pub trait Copyable: fmt::Debug + Send + Sync + 'static {
    /// The wire class name, `module.Class` (Twisted's `getTypeToCopy`).
    fn type_to_copy(&self) -> &str;

    /// The state to send (Twisted's `getStateToCopy`); by Twisted's default,
    /// a dict of the fields with text keys.
    fn state_to_copy(&self) -> Result<Value, Error>;
}

/// A type built from a copy that arrived: Twisted's `pb.RemoteCopy`. It is
/// made from the state alone (Twisted calls no constructor), so every
/// field comes from the state or from a default.
pub trait RemoteCopy: Sized + fmt::Debug + Send + Sync + 'static {
    /// Builds the object from the state (Twisted's `setCopyableState`).
    fn from_copyable_state(state: Value) -> Result<Self, Error>;
}

/// The value that sends `value` by copy.
pub fn copy<T: Copyable>(value: T) -> Value {
    let class = value.type_to_copy().to_owned();
    Value::Object(Object::with_copy_rule(class, value, T::state_to_copy))
}

/// Twisted's `setUnjellyableForClass(class, T)`: copies of the wire class
/// `class` arriving on connections with these options become a `T`.
///
/// ```
/// use spread_flavors::{allow_remote_copy, RemoteCopy};
/// use spread_jelly::{Error, Value};
/// use spread_security::SecurityOptions;
///
/// #[derive(Debug)]
/// struct ReceiverPond { frogs_and_toads: i64 }
///
/// impl RemoteCopy for ReceiverPond {
///     fn from_copyable_state(state: Value) -> Result<Self, Error> {
///         let n = state.as_dict().and_then(|d| d.get_str("frogsAndToads")).and_then(Value::as_i64);
///         Ok(ReceiverPond { frogs_and_toads: n.ok_or_else(|| Error::custom("no frogsAndToads"))? })
///     }
/// }
///
/// let mut options = SecurityOptions::new();
/// allow_remote_copy::<ReceiverPond>(&mut options, "copy2_classes.SenderPond")?;
///
/// let state = Value::Dict([(Value::from("frogsAndToads"), Value::from(7))].into_iter().collect());
/// assert_eq!(ReceiverPond::from_copyable_state(state)?.frogs_and_toads, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn allow_remote_copy<T: RemoteCopy>(
    options: &mut SecurityOptions,
    class: &str,
) -> Result<(), RegistrationError> {
    options
        .allow_factory(class, T::from_copyable_state)
        .map(drop)
}

/// A type that is both [`Copyable`] and [`RemoteCopy`] under one class name:
/// what arrives can be sent on, and a round trip gives back an equal object.
pub fn allow_copy<T: Copyable + RemoteCopy>(
    options: &mut SecurityOptions,
    class: &str,
) -> Result<(), RegistrationError> {
    options
        .allow_with(class, |state| Ok(copy(T::from_copyable_state(state)?)))
        .map(drop)
}
