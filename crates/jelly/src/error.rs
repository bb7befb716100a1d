//! Errors of both directions, with the path to where they happened.

use std::fmt;

use crate::TimeError;

/// Why a value could not be jellied or unjellied, and where.
///
/// The path names the position inside the value, outermost first, such as
/// `list[2].dict["x"]`, so that an error deep inside a large message can be
/// found. Match on [`Error::kind`] to react to the cause.
///
/// ```
/// use spread_banana::Sexp;
/// use spread_jelly::{from_sexp, AllowAll, ErrorKind};
///
/// let sexp = Sexp::list([Sexp::from("list"), Sexp::list([Sexp::from("boolean"), Sexp::from("yes")])]);
/// let err = from_sexp(&sexp, &AllowAll).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::Malformed { .. }));
/// assert_eq!(err.path(), "list[0]");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// Innermost segment first: segments are pushed while unwinding.
    path: Vec<String>,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The policy refused a type or class (Twisted's `InsecureJelly`);
    /// nothing of it was constructed.
    #[error("insecure jelly: {tag} is not allowed{}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Insecure {
        /// The type tag or wire class name that was refused.
        tag: String,
        /// The policy's explanation, if it gave one.
        reason: Option<String>,
    },
    /// A tag that Jelly knows but this implementation never builds: class,
    /// module, function and method references, and the legacy `instance` form.
    #[error("unsupported jelly type {tag}")]
    Unsupported {
        /// The tag.
        tag: String,
    },
    /// A tag that names no type at all (not a Jelly type, and no dot, so no class).
    #[error("unknown jelly type {tag:?}")]
    UnknownType {
        /// The tag, lossily decoded.
        tag: String,
    },
    /// An s-expression of the wrong shape for its tag.
    #[error("malformed {tag}: expected {expected}")]
    Malformed {
        /// The tag whose form is wrong.
        tag: &'static str,
        /// What the form should have been.
        expected: &'static str,
    },
    /// A `["unicode", ...]` payload or a class name that is not UTF-8.
    #[error("invalid UTF-8 in {0}")]
    InvalidUtf8(&'static str),
    /// A date, time, duration or decimal that Python would not accept.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// A `dereference` to an id that no `reference` defined.
    #[error("dereference to unknown id {0}")]
    UnknownReference(i64),
    /// A second `reference` with an id already in use.
    #[error("reference id {0} defined twice")]
    DuplicateReference(i64),
    /// Nesting deeper than the configured limit.
    #[error("nesting deeper than {limit}")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// An object with no copy rule was to be sent (a type that arrived from
    /// a peer, say). Twisted would silently send an unpersistable marker;
    /// this fails at the sender instead, before anything is written.
    #[error("cannot send an object of class {class}: it has no copy rule")]
    Unsendable {
        /// The object's wire class name.
        class: String,
    },
    /// A back reference whose owner has been dropped.
    #[error("back reference to a value that no longer exists")]
    DanglingReference,
    /// A state or argument of the wrong type for the Rust type asked for.
    #[error("expected {expected}, found {found}")]
    UnexpectedShape {
        /// What the Rust side expected.
        expected: String,
        /// What the value was.
        found: String,
    },
    /// A field that the Rust type needs is not in the state.
    #[error("missing field `{0}`")]
    MissingField(String),
    /// The jellied value does not fit Banana's limits. Only the functions
    /// that write bytes, such as [`encode`](crate::encode), report this; it
    /// is the error [`Encoder::encode`](spread_banana::Encoder::encode)
    /// gives for the same value after [`to_sexp`](crate::to_sexp).
    #[error(transparent)]
    Encode(spread_banana::EncodeError),
    /// A message from a hand-written conversion or from serde.
    #[error("{0}")]
    Custom(String),
}

impl Error {
    /// An error of `kind` at the top of the value.
    pub fn new(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                path: Vec::new(),
            }),
        }
    }

    /// An error with a free-form message, for hand-written conversions.
    pub fn custom(msg: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// Where it went wrong, outermost first (empty at the top level).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.inner.path.iter().rev() {
            if !out.is_empty() && !segment.starts_with('[') {
                out.push('.');
            }
            out.push_str(segment);
        }
        out
    }

    /// Adds an enclosing position, such as `list[2]` or `dict["x"]`, while
    /// the error travels outwards.
    pub fn within(mut self, segment: impl Into<String>) -> Error {
        self.inner.path.push(segment.into());
        self
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

impl From<spread_banana::EncodeError> for Error {
    fn from(e: spread_banana::EncodeError) -> Error {
        Error::new(ErrorKind::Encode(e))
    }
}

impl From<TimeError> for Error {
    fn from(e: TimeError) -> Error {
        Error::new(ErrorKind::Time(e))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.path.is_empty() {
            write!(f, "{}", self.inner.kind)
        } else {
            write!(f, "at {}: {}", self.path(), self.inner.kind)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("path", &self.path())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            ErrorKind::Time(e) => Some(e),
            ErrorKind::Encode(e) => Some(e),
            _ => None,
        }
    }
}
