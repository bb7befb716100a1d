//! What a broker accepts: the application's security options, plus PB's own
//! forms (references and failures), which Twisted registers for every broker.

use std::sync::Arc;

use spread_banana::Sexp;
use spread_flavors::{LocalReferenceable, NewRemoteCache};
use spread_jelly::{Error, Instance, Policy, Unjellier, Value};
use spread_security::SecurityOptions;

use crate::RemoteReference;
use crate::connection::Link;
use crate::proto::{Core, ObjectId};

/// The class of Twisted's error payloads.
pub(crate) const COPYABLE_FAILURE: &str = "twisted.spread.pb.CopyableFailure";

pub(crate) struct PbPolicy<'a> {
    pub(crate) security: &'a SecurityOptions,
    pub(crate) core: &'a Core,
    pub(crate) link: &'a Arc<Link>,
    /// Accept any class as a generic instance (for error payloads, which
    /// Twisted may send as the exception object itself: data, never a local
    /// type).
    pub(crate) generic_instances: bool,
}

impl Policy for PbPolicy<'_> {
    fn allows_type(&self, tag: &str) -> bool {
        matches!(tag, "remote" | "local" | "cached" | "lcache") || self.security.allows_type(tag)
    }

    fn allows_class(&self, class: &str) -> Result<(), Error> {
        if class == COPYABLE_FAILURE || self.generic_instances {
            return Ok(());
        }
        self.security.allows_class(class)
    }

    fn unjelly_tag(&self, tag: &str, rest: &[Sexp]) -> Option<Result<Value, Error>> {
        // The first send of a Cacheable: `[class, luid, state]`.
        if tag.contains('.') {
            let [Sexp::Int(luid), state] = rest else {
                return None;
            };
            return Some(self.first_cache(tag, *luid, state));
        }
        match (tag, rest) {
            ("cached", [Sexp::Int(luid)]) => return Some(self.core.cached(*luid)),
            ("lcache", [Sexp::Int(luid)]) => {
                return Some(self.core.local_cacheable(*luid).ok_or_else(|| {
                    Error::custom(format!("a cache of {luid}, which this side does not hold"))
                }));
            }
            ("cached" | "lcache", _) => {
                return Some(Err(Error::custom(format!("malformed {tag}"))));
            }
            _ => {}
        }
        let id = match rest {
            [Sexp::Int(luid)] => ObjectId::Luid(*luid),
            [Sexp::Bytes(name)] => ObjectId::Name(name.clone()),
            _ => return Some(Err(Error::custom(format!("malformed {tag} reference")))),
        };
        match tag {
            // One handle per token: each sends its own decref when dropped.
            "remote" => Some(match id {
                ObjectId::Luid(_) => {
                    Ok(RemoteReference::new(self.link.clone(), id, true).into_value())
                }
                ObjectId::Name(_) => Err(Error::custom("a remote reference must carry a luid")),
            }),
            // Our own object, back from the peer: the object itself.
            "local" => Some(match self.core.local_object(&id) {
                Some(object) => Ok(LocalReferenceable::new(object.clone()).into_value()),
                None => Err(Error::custom(format!(
                    "a reference to {id:?}, which this side does not hold"
                ))),
            }),
            _ => None,
        }
    }

    fn unjelly_instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        match self.instance(class, state)? {
            // A cache class in the copy form: there is no cache to keep.
            Value::Object(o) if o.downcast_ref::<NewRemoteCache>().is_some() => Err(Error::custom(
                format!("{class} is registered as a cache, and arrived as a copy"),
            )),
            value => Ok(value),
        }
    }
}

impl PbPolicy<'_> {
    /// A cache of the peer's object, built by the class registered for it.
    fn first_cache(&self, class: &str, luid: i64, state: &Sexp) -> Result<Value, Error> {
        self.allows_class(class)?;
        // Its own jelly call: see the sending side in `proto`.
        let state = Unjellier::new(self).unjelly(state)?;
        match self.instance(class, state)? {
            Value::Object(object) => match object.downcast_ref::<NewRemoteCache>() {
                Some(new) => self.core.new_remote_cache(luid, new.clone()),
                None => Err(Error::custom(format!(
                    "{class} is registered as a copy, not a cache"
                ))),
            },
            _ => Err(Error::custom(format!(
                "{class} is registered as a copy, not a cache"
            ))),
        }
    }

    fn instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        if class == COPYABLE_FAILURE || self.generic_instances {
            return Ok(Value::from(Instance::new(class, state)));
        }
        self.security.unjelly_instance(class, state)
    }
}
