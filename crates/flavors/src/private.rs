//! Not public API: what `spread-derive`'s generated code calls. It may change
//! in any release.

use spread_jelly::Value;

use crate::{Call, FromValue, Perspective, RemoteError};

// What spread-broker implements and reads: the link under an `Observer`,
// and a cache built from its first state.
pub use crate::cacheable::{NewRemoteCache, ObserverLink};

/// Argument `name` of `call`, at position `index` or given by keyword, as a
/// `T`, moved out of the call (which is the method's to consume); the
/// `TypeError`s Python raises for a missing or wrong argument.
pub fn arg<T: FromValue>(
    call: &mut Call,
    index: usize,
    name: &str,
    prefix: &str,
) -> Result<T, RemoteError> {
    let positional = call
        .args
        .get_mut(index)
        .map(|v| std::mem::replace(v, Value::None));
    let keyword = call.kwargs.remove_str(name);
    let value = match (positional, keyword) {
        (Some(_), Some(_)) => {
            return Err(RemoteError::type_error(format!(
                "{prefix}{}() got multiple values for argument '{name}'",
                call.method
            )));
        }
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => {
            return Err(RemoteError::type_error(format!(
                "{prefix}{}() missing 1 required positional argument: '{name}'",
                call.method
            )));
        }
    };
    T::from_owned(value).map_err(|e| {
        RemoteError::type_error(format!(
            "{prefix}{}() argument '{name}': {}",
            call.method, e.value
        ))
    })
}

/// Refuses more positional arguments, or other keywords, than the method has.
pub fn check_arity(call: &Call, names: &[&str], prefix: &str) -> Result<(), RemoteError> {
    if call.args.len() > names.len() {
        return Err(RemoteError::type_error(format!(
            "{prefix}{}() takes {} positional arguments but {} were given",
            call.method,
            names.len(),
            call.args.len()
        )));
    }
    for (key, _) in call.kwargs.iter() {
        let known = key.as_str().is_some_and(|k| names.contains(&k));
        if !known {
            return Err(RemoteError::type_error(format!(
                "{prefix}{}() got an unexpected keyword argument {key:?}",
                call.method
            )));
        }
    }
    Ok(())
}

/// The error of one field of a derived copy, read with `FromValue` or
/// written with `IntoValue`, as the `spread_jelly::Error` that
/// `RemoteCopy::from_copyable_state` and `Copyable::state_to_copy` return:
/// placed at the field's key in the state, and keeping the Python exception
/// type (`builtins.TypeError: expected int, got str`), which is all a
/// `RemoteError` says about where it came from.
pub fn field_error(error: RemoteError, key: &str) -> spread_jelly::Error {
    spread_jelly::Error::custom(error).within(key)
}

/// What Twisted answers for a method a cache does not have.
pub fn no_such_observer(method: &str) -> RemoteError {
    RemoteError::new(
        "builtins.AttributeError",
        format!("object has no attribute 'observe_{method}'"),
    )
}

/// What Twisted's `Avatar.perspectiveMessageReceived` raises for a method
/// the avatar does not have: the `AttributeError` of its
/// `getattr(self, "perspective_%s" % message)`, naming the avatar's class.
pub fn no_such_perspective_method(type_name: &str, method: &str) -> RemoteError {
    RemoteError::new(
        "builtins.AttributeError",
        format!("'{type_name}' object has no attribute 'perspective_{method}'"),
    )
}

/// What Twisted's `ViewPoint.remoteMessageReceived` raises for a method the
/// viewable does not have: the `AttributeError` of its
/// `getattr(self.object, "view_%s" % message)`, naming the viewable's class.
pub fn no_such_view_method(type_name: &str, method: &str) -> RemoteError {
    RemoteError::new(
        "builtins.AttributeError",
        format!("'{type_name}' object has no attribute 'view_{method}'"),
    )
}

/// The perspective of a view method that takes `Perspective`, not
/// `Option<Perspective>`: a call to a viewable sent outside any perspective
/// is refused with a `TypeError` (where Python would pass `None`).
pub fn require_perspective(
    perspective: Option<Perspective>,
    method: &str,
    prefix: &str,
) -> Result<Perspective, RemoteError> {
    perspective.ok_or_else(|| {
        RemoteError::type_error(format!(
            "{prefix}{method}() needs a logged-in perspective, but the viewable was \
             sent outside any perspective"
        ))
    })
}

/// The object of type `T` that `value` holds, for the `FromValue` impls of
/// handles and local objects; `what` names it in the `TypeError` otherwise.
pub fn object_arg<T: Clone + 'static>(value: &Value, what: &str) -> Result<T, RemoteError> {
    value.downcast_ref::<T>().cloned().ok_or_else(|| {
        RemoteError::type_error(format!("expected {what}, got {}", value.type_name()))
    })
}
