//! Jellying PB's own objects with the connection's tables, both ways: local
//! Referenceables and Cacheables become `remote` and cache tokens, handles
//! to the peer's objects go back as `local` and `lcache`; tokens that arrive
//! become handles the driver makes ([`Handles`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use spread_banana::Sexp;
use spread_flavors::__private::NewRemoteCache;
use spread_flavors::{
    LocalCacheable, LocalReferenceable, LocalViewable, Perspective, Referenceable, RemoteCache,
    reference,
};
use spread_jelly::{Error, Instance, Invoker, Object, Policy, Unjellier, Value, to_sexp_with};
use spread_security::SecurityOptions;

use super::failure::COPYABLE_FAILURE;
use super::frame::word;
use super::objects::{Objects, Taken};
use super::{Handles, PeerObject};

/// Jellies PB's own objects for one frame, counting the tokens it gives out
/// in `taken` so that they can be given back if the frame is not sent.
pub(super) struct PbInvoker<'a> {
    pub(super) objects: &'a mut Objects,
    /// The login this frame is sent for: Twisted's `serializingPerspective`.
    pub(super) perspective: Option<&'a Perspective>,
    pub(super) max_objects: usize,
    pub(super) handles: &'a dyn Handles,
    pub(super) taken: &'a mut Taken,
}

impl Invoker for PbInvoker<'_> {
    fn jelly_object(&mut self, object: &Object) -> Option<Result<Sexp, Error>> {
        if let Some(local) = object.downcast_ref::<LocalReferenceable>() {
            return Some(
                match self
                    .objects
                    .take_object(local, self.max_objects, self.taken)
                {
                    Some(luid) => Ok(Sexp::List(vec![word("remote"), Sexp::Int(luid)])),
                    // Twisted's words for the same limit.
                    None => Err(Error::custom("Maximum PB reference count exceeded.")),
                },
            );
        }
        if let Some(local) = object.downcast_ref::<LocalCacheable>() {
            return Some(self.cache_token(local));
        }
        if let Some(local) = object.downcast_ref::<LocalViewable>() {
            // A new view point each time, as Twisted makes one per send.
            let view =
                LocalReferenceable::view_point(local.object().clone(), self.perspective.cloned());
            return Some(
                match self
                    .objects
                    .take_object(&view, self.max_objects, self.taken)
                {
                    Some(luid) => Ok(Sexp::List(vec![word("remote"), Sexp::Int(luid)])),
                    None => Err(Error::custom("Maximum PB reference count exceeded.")),
                },
            );
        }
        let token = match self.handles.peer_object(object)? {
            Ok(PeerObject::Reference(id)) => Sexp::List(vec![word("local"), id.to_sexp()]),
            Ok(PeerObject::Cache(luid)) => Sexp::List(vec![word("lcache"), Sexp::Int(luid)]),
            Err(_) => {
                return Some(Err(Error::custom(
                    "a reference or cache can only be sent back to the connection it came from",
                )));
            }
        };
        Some(Ok(token))
    }
}

impl PbInvoker<'_> {
    /// The first send of a Cacheable on this connection carries its state
    /// and makes the peer an observer; later sends are `cached` tokens.
    fn cache_token(&mut self, local: &LocalCacheable) -> Result<Sexp, Error> {
        if let Some(luid) = self.objects.take_cached(local, self.taken) {
            return Ok(Sexp::List(vec![word("cached"), Sexp::Int(luid)]));
        }
        let luid = self
            .objects
            .reserve(self.max_objects)
            .ok_or_else(|| Error::custom("Maximum PB cache count exceeded."))?;
        let observer = self.handles.observer(luid);
        let object = local.object();
        // The application's hook: a panic in it fails this send, as an
        // exception in Twisted's `getStateToCacheAndObserveFor` fails the
        // jelly, and leaves the connection up.
        let perspective = self.perspective;
        let hook = AssertUnwindSafe(|| {
            object.state_to_cache_and_observe_for(perspective, observer.clone())
        });
        let state = std::panic::catch_unwind(hook).unwrap_or_else(|_| {
            Err(Error::custom(format!(
                "{}.getStateToCacheAndObserveFor panicked",
                object.type_to_copy()
            )))
        })?;
        self.objects
            .insert_cache(luid, local, observer, perspective.cloned(), self.taken);
        // The state is its own jelly call here (Twisted numbers it with the
        // rest of the message; only objects shared between the two differ).
        let state = to_sexp_with(&state, self)?;
        let class = Sexp::Bytes(Bytes::copy_from_slice(object.type_to_copy().as_bytes()));
        Ok(Sexp::List(vec![class, Sexp::Int(luid), state]))
    }
}

/// What a broker accepts: the application's security options, plus PB's own
/// forms (references, caches and failures), which Twisted registers for
/// every broker.
pub(super) struct PbPolicy<'a> {
    pub(super) security: &'a SecurityOptions,
    pub(super) objects: &'a Objects,
    pub(super) root: Option<&'a Arc<dyn Referenceable>>,
    pub(super) remote_caches: RefCell<&'a mut HashMap<i64, Arc<dyn RemoteCache>>>,
    pub(super) max_remote_caches: usize,
    pub(super) handles: &'a dyn Handles,
    /// The luids of the reference handles made while unjellying, for the
    /// connection's count (and, if the payload is refused, to tell which of
    /// its tokens still need a decref).
    pub(super) new_references: RefCell<Vec<i64>>,
    /// How many more reference handles this payload may make.
    pub(super) references_left: usize,
    /// Accept any class as a generic instance (for error payloads, which
    /// Twisted may send as the exception object itself: data, never a local
    /// type).
    pub(super) generic_instances: bool,
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
        Some(match (tag, rest) {
            ("cached", [Sexp::Int(luid)]) => {
                let cache = self.remote_caches.borrow().get(luid).cloned();
                match cache {
                    Some(cache) => Ok(self.handles.remote_cache(*luid, cache)),
                    None => Err(Error::custom(format!(
                        "a cached reference to unknown cache {luid}"
                    ))),
                }
            }
            ("lcache", [Sexp::Int(luid)]) => match self.objects.cacheable(*luid) {
                Some(local) => Ok(Value::from(local.clone())),
                None => Err(Error::custom(format!(
                    "a cache of {luid}, which this side does not hold"
                ))),
            },
            // One handle per token: each sends its own decref when dropped.
            ("remote", [Sexp::Int(luid)]) => {
                let mut made = self.new_references.borrow_mut();
                if made.len() >= self.references_left {
                    return Some(Err(Error::custom("Maximum PB reference count exceeded.")));
                }
                made.push(*luid);
                Ok(self.handles.remote_reference(*luid))
            }
            // Our own object, back from the peer: the object itself.
            ("local", [Sexp::Int(luid)]) => match self.objects.object(*luid) {
                Some(local) => Ok(Value::from(local.clone())),
                None => Err(Error::custom(format!(
                    "a reference to {luid}, which this side does not hold"
                ))),
            },
            ("local", [Sexp::Bytes(name)]) if &name[..] == b"root" => match self.root {
                Some(root) => Ok(reference(root.clone())),
                None => Err(Error::custom(
                    "a reference to a root this side does not have",
                )),
            },
            ("remote" | "local" | "cached" | "lcache", _) => {
                Err(Error::custom(format!("malformed {tag} token")))
            }
            _ => return None,
        })
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

/// The luids of every `remote` token in a payload, in any order.
pub(super) fn remote_tokens(sexp: &Sexp, luids: &mut Vec<i64>) {
    let Sexp::List(items) = sexp else { return };
    match items.as_slice() {
        [Sexp::Bytes(tag), Sexp::Int(luid)] if &tag[..] == b"remote" => luids.push(*luid),
        _ => items.iter().for_each(|item| remote_tokens(item, luids)),
    }
}

impl PbPolicy<'_> {
    /// A cache of the peer's object, built by the class registered for it.
    fn first_cache(&self, class: &str, luid: i64, state: &Sexp) -> Result<Value, Error> {
        self.allows_class(class)?;
        // Its own jelly call: see the sending side, `PbInvoker::cache_token`.
        let state = Unjellier::new(self).unjelly(state)?;
        let value = self.instance(class, state)?;
        let Some(new) = value.downcast_ref::<NewRemoteCache>() else {
            return Err(Error::custom(format!(
                "{class} is registered as a copy, not a cache"
            )));
        };
        let mut caches = self.remote_caches.borrow_mut();
        if caches.contains_key(&luid) {
            return Err(Error::custom(format!("cache {luid} sent twice")));
        }
        // An owner that never says `uncache` must not grow this table
        // without end.
        if caches.len() >= self.max_remote_caches {
            return Err(Error::custom("Maximum PB cache count exceeded."));
        }
        caches.insert(luid, new.cache.clone());
        drop(caches);
        Ok(self.handles.remote_cache(luid, new.cache.clone()))
    }

    fn instance(&self, class: &str, state: Value) -> Result<Value, Error> {
        if class == COPYABLE_FAILURE || self.generic_instances {
            return Ok(Value::from(Instance::new(class, state)));
        }
        self.security.unjelly_instance(class, state)
    }
}
