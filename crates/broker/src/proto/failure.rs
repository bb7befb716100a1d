//! Errors on the wire: Twisted's `CopyableFailure`, both ways.

use spread_banana::Sexp;
use spread_flavors::RemoteError;
use spread_jelly::{Dict, ErrorKind, Instance, Value};

/// The class of Twisted's error payloads.
pub(super) const COPYABLE_FAILURE: &str = "twisted.spread.pb.CopyableFailure";

/// What Twisted sends instead of a traceback unless `unsafeTracebacks` is on.
const NO_TRACEBACK: &str = "Traceback unavailable\n";

/// The `CopyableFailure` Twisted sends for `error`, field for field.
pub(super) fn to_sexp(
    error: &RemoteError,
    unsafe_tracebacks: bool,
) -> Result<Sexp, spread_jelly::Error> {
    let traceback = match (&error.traceback, unsafe_tracebacks) {
        (Some(tb), true) => tb.clone(),
        _ => NO_TRACEBACK.to_owned(),
    };
    let entry = |k: &str, v: Value| (Value::from(k), v);
    let state = Dict::from_iter([
        // Twisted's process-wide failure counter: meaningless to the peer.
        entry("count", Value::from(0)),
        // The one field Twisted sends as bytes.
        entry(
            "type",
            Value::Bytes(error.remote_type.clone().into_bytes().into()),
        ),
        entry("value", Value::from(error.value.as_str())),
        entry("captureVars", Value::Bool(false)),
        entry("tb", Value::None),
        entry("unsafeTracebacks", Value::Bool(unsafe_tracebacks)),
        entry(
            "parents",
            Value::List(
                error
                    .parents
                    .iter()
                    .map(|p| Value::from(p.as_str()))
                    .collect(),
            ),
        ),
        entry("frames", Value::List(Vec::new())),
        entry("stack", Value::List(Vec::new())),
        entry("traceback", Value::from(traceback)),
    ]);
    spread_jelly::to_sexp(&Value::from(Instance::new(COPYABLE_FAILURE, state)))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Str(s) => Some(s.clone()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// Reads an error payload: a `CopyableFailure`, an exception object sent as
/// itself, or anything else (which Twisted also wraps in a failure).
pub(super) fn from_value(payload: &Value) -> RemoteError {
    let Value::Instance(instance) = payload else {
        return RemoteError::new("builtins.Exception", format!("{payload:?}"));
    };
    let state = instance.state.as_dict();
    if instance.class != COPYABLE_FAILURE {
        return RemoteError::new(instance.class.clone(), format!("{:?}", instance.state));
    }
    let field = |name: &str| state.and_then(|d| d.get_str(name));
    let remote_type = text(field("type")).unwrap_or_else(|| "builtins.Exception".to_owned());
    let mut error = RemoteError::new(remote_type, text(field("value")).unwrap_or_default());
    if let Some(parents) = field("parents").and_then(Value::as_seq) {
        error.parents = parents.iter().filter_map(|p| text(Some(p))).collect();
    }
    error.traceback = text(field("traceback")).filter(|tb| tb != NO_TRACEBACK);
    error
}

/// The failure Twisted sends when it cannot unjelly a call's arguments.
pub(super) fn from_jelly_error(e: &spread_jelly::Error) -> RemoteError {
    match e.kind() {
        ErrorKind::Insecure { tag, .. } => {
            // The peer gets Twisted's own wording, which Python code may test
            // for; the path and reason stay in our log.
            let message = match tag.rsplit_once('.') {
                Some((module, _)) => format!("Module {module} not allowed (in type {tag})."),
                None => format!("b'{tag}'"),
            };
            RemoteError::new("twisted.spread.jelly.InsecureJelly", message)
        }
        _ => RemoteError::type_error(e.to_string()),
    }
}
