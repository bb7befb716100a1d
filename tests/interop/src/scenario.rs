//! The scenario server in Rust: the same remote methods as
//! `tests/interop/python/pb_server.py`, so that Twisted's scenario client
//! (`pb_client.py`) can be run against either and must pass against both.

use std::sync::{Arc, Mutex};

use spread_broker::{Broker, RemoteReference};
use spread_flavors::{BoxFuture, Call, FromValue, Referenceable, RemoteError, reference};
use spread_jelly::{Dict, Value};

/// One connection's root, as Twisted's `rootObject(broker)` makes one.
#[derive(Debug)]
pub struct ScenarioRoot {
    /// A handle only: the connection's task ends when the connection
    /// closes, whoever holds handles.
    broker: Broker,
    kept: Mutex<Vec<Value>>,
    records: Mutex<Vec<Value>>,
}

impl ScenarioRoot {
    /// The root for `broker`'s connection.
    pub fn new(broker: &Broker) -> Arc<ScenarioRoot> {
        Arc::new(ScenarioRoot {
            broker: broker.clone(),
            kept: Mutex::new(Vec::new()),
            records: Mutex::new(Vec::new()),
        })
    }
}

struct Child;

impl Referenceable for Child {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            match call.method.as_str() {
                "ping" => Ok(Value::List(vec![Value::from("pong"), call.arg(0)?.clone()])),
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}

fn remote_reference(value: &Value) -> Result<RemoteReference, RemoteError> {
    RemoteReference::from_value(value)
}

impl Referenceable for ScenarioRoot {
    fn remote_message(self: Arc<Self>, call: Call) -> BoxFuture<Result<Value, RemoteError>> {
        Box::pin(async move {
            let text = |v: &Value| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{v:?}"))
            };
            match call.method.as_str() {
                "echo" => Ok(call.arg(0)?.clone()),
                "add" => Ok(Value::from(call.arg_as::<i64>(0)? + call.arg_as::<i64>(1)?)),
                "fail" => Err(RemoteError::value_error(text(call.arg(0)?))),
                "failWithTraceback" => {
                    let mut e = RemoteError::value_error("traced");
                    e.traceback = Some("Traceback (most recent call last):\n  in failWithTraceback\nValueError: traced\n".into());
                    Err(e)
                }
                "failExpected" => {
                    let mut e = RemoteError::pb_error(text(call.arg(0)?));
                    e.remote_type = "__main__.KnownError".into();
                    e.parents.insert(0, "__main__.KnownError".into());
                    Err(e)
                }
                "kw" => {
                    let a = call.arg(0)?.clone();
                    let pick = |name: &str, index: usize| {
                        call.kwarg(name)
                            .or(call.args.get(index))
                            .cloned()
                            .unwrap_or(Value::None)
                    };
                    Ok(Value::Dict(Dict::from_iter([
                        (Value::from("a"), a),
                        (Value::from("b"), pick("b", 1)),
                        (Value::from("c"), pick("c", 2)),
                    ])))
                }
                "callBack" => {
                    let target = remote_reference(call.arg(0)?)?;
                    target
                        .call_remote("notify", vec![call.arg(1)?.clone()])
                        .await
                        .map_err(|e| RemoteError::new("twisted.spread.pb.Error", e.to_string()))
                }
                "returnIt" => Ok(call.arg(0)?.clone()),
                "keep" => {
                    let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                    kept.push(call.arg(0)?.clone());
                    Ok(Value::from(kept.len() as i64))
                }
                "dropKept" => {
                    self.kept.lock().unwrap_or_else(|e| e.into_inner()).clear();
                    Ok(Value::Bool(true))
                }
                "makeChild" => Ok(reference(Arc::new(Child))),
                "record" => {
                    self.records
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(call.arg(0)?.clone());
                    Ok(Value::None)
                }
                "recorded" => Ok(Value::List(
                    self.records
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone(),
                )),
                "tableSize" => Ok(Value::from(self.broker.stats().local_objects as i64)),
                "hang" => std::future::pending().await,
                // Calls the peer made before this one are in progress: the
                // connection closes under them, as Twisted's loseConnection
                // closes it (a graceful close would wait for them).
                "hangUp" => {
                    self.broker.abort();
                    std::future::pending().await
                }
                _ => Err(RemoteError::no_such_method(&call.method)),
            }
        })
    }
}
