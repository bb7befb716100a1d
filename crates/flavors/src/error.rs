//! The error a remote method gives.

use std::fmt;

/// An error from the other side of a PB connection, or one to send there:
/// Twisted's `CopyableFailure` on the wire, `pb.RemoteError` in Python.
///
/// `remote_type` is the fully qualified exception class (`builtins.ValueError`,
/// `twisted.spread.flavors.NoSuchMethod`); `value` is its message. A Twisted
/// caller sees a failure whose `check()` matches by these names, so a Rust
/// method can raise exactly what Python code expects.
///
/// ```
/// use spread_flavors::RemoteError;
///
/// let e = RemoteError::new("builtins.ValueError", "boom");
/// assert_eq!(e.to_string(), "builtins.ValueError: boom");
/// assert!(e.is("builtins.Exception"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteError {
    /// The exception's class, `module.Class`.
    pub remote_type: String,
    /// The exception's message.
    pub value: String,
    /// The traceback, when the sender shares it (Twisted's
    /// `unsafeTracebacks`); otherwise Twisted's "Traceback unavailable".
    pub traceback: Option<String>,
    /// The class and its bases, most derived first, as Python's MRO names them.
    pub parents: Vec<String>,
}

impl RemoteError {
    /// An error of class `remote_type` (and, as its bases, `Exception`,
    /// `BaseException` and `object`).
    pub fn new(remote_type: impl Into<String>, value: impl Into<String>) -> RemoteError {
        let remote_type = remote_type.into();
        let mut parents = vec![remote_type.clone()];
        for base in [
            "builtins.Exception",
            "builtins.BaseException",
            "builtins.object",
        ] {
            if !parents.iter().any(|p| p == base) {
                parents.push(base.to_owned());
            }
        }
        RemoteError {
            remote_type,
            value: value.into(),
            traceback: None,
            parents,
        }
    }

    /// Python's `ValueError`.
    pub fn value_error(message: impl Into<String>) -> RemoteError {
        RemoteError::new("builtins.ValueError", message)
    }

    /// Python's `TypeError`, as for a call with the wrong arguments.
    pub fn type_error(message: impl Into<String>) -> RemoteError {
        RemoteError::new("builtins.TypeError", message)
    }

    /// Twisted's `pb.Error`: an expected error, which Twisted does not log.
    pub fn pb_error(message: impl Into<String>) -> RemoteError {
        RemoteError::new("twisted.spread.pb.Error", message)
    }

    /// What Twisted answers for a method the object does not have.
    pub fn no_such_method(method: &str) -> RemoteError {
        let mut e = RemoteError::new(
            "twisted.spread.flavors.NoSuchMethod",
            format!("No such method: remote_{method}"),
        );
        e.parents.insert(1, "builtins.AttributeError".to_owned());
        e
    }

    /// Whether the error is of class `name` or derives from it.
    pub fn is(&self, name: &str) -> bool {
        self.remote_type == name || self.parents.iter().any(|p| p == name)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.remote_type, self.value)
    }
}

impl std::error::Error for RemoteError {}
