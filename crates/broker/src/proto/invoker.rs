//! Jellying PB's own objects with the connection's tables.

use std::sync::Arc;

use bytes::Bytes;
use spread_banana::Sexp;
use spread_flavors::{LocalCacheable, LocalReferenceable, Observer};
use spread_jelly::{Error as JellyError, Invoker, Object, to_sexp_with};

use super::{CacheEntry, Core, Local, ObjectId, Taken, tag};
use crate::RemoteReference;
use crate::cache::{BrokerObserver, RemoteCacheRef};

/// Jellies PB's own objects: local Referenceables become `remote` tokens,
/// references to the peer's objects go back as `local`.
pub(super) struct PbInvoker<'a> {
    pub(super) core: &'a mut Core,
    pub(super) taken: &'a mut Taken,
}

impl Invoker for PbInvoker<'_> {
    fn jelly_object(&mut self, object: &Object) -> Option<Result<Sexp, JellyError>> {
        if let Some(local) = object.downcast_ref::<LocalReferenceable>() {
            return Some(self.remote_token(local));
        }
        if let Some(local) = object.downcast_ref::<LocalCacheable>() {
            return Some(self.cache_token(local));
        }
        if let Some(cache) = object.downcast_ref::<RemoteCacheRef>() {
            return Some(if cache.link_id() == self.core.link.id {
                Ok(Sexp::List(vec![tag("lcache"), Sexp::Int(cache.luid())]))
            } else {
                Err(JellyError::custom(
                    "a cache can only be sent back to the connection it came from",
                ))
            });
        }
        if let Some(reference) = object.downcast_ref::<RemoteReference>() {
            return Some(if reference.link_id() == self.core.link.id {
                Ok(Sexp::List(vec![
                    tag("local"),
                    reference.object_id().to_sexp(),
                ]))
            } else {
                Err(JellyError::custom(
                    "a RemoteReference can only be sent back to the connection it came from",
                ))
            });
        }
        None
    }
}

impl PbInvoker<'_> {
    /// The first send of a Cacheable on this connection carries its state
    /// and makes the peer an observer; later sends are `cached` tokens.
    fn cache_token(&mut self, local: &LocalCacheable) -> Result<Sexp, JellyError> {
        let core = &mut *self.core;
        if let Some(luid) = core.cache_luid_of.get(&local.addr()).copied() {
            core.caches
                .get_mut(&luid)
                .expect("registered with its identity")
                .count += 1;
            self.taken.caches.push(luid);
            return Ok(Sexp::List(vec![tag("cached"), Sexp::Int(luid)]));
        }
        if core.caches.len() >= core.options.max_local_objects {
            return Err(JellyError::custom("Maximum PB cache count exceeded."));
        }
        let luid = core.next_luid;
        core.next_luid += 1;
        let observer = Observer::new(Arc::new(BrokerObserver {
            link: core.link.clone(),
            luid,
        }));
        let object = local.object().clone();
        let state = object.state_to_cache_and_observe_for(observer.clone())?;
        core.cache_luid_of.insert(local.addr(), luid);
        core.caches.insert(
            luid,
            CacheEntry {
                object,
                observer,
                count: 1,
            },
        );
        self.taken.caches.push(luid);
        // The state is its own jelly call here (Twisted numbers it with the
        // rest of the message; only shared objects between the two differ).
        let state = to_sexp_with(&state, self)?;
        let class = Sexp::Bytes(Bytes::copy_from_slice(
            local.object().type_to_copy().as_bytes(),
        ));
        Ok(Sexp::List(vec![class, Sexp::Int(luid), state]))
    }

    fn remote_token(&mut self, local: &LocalReferenceable) -> Result<Sexp, JellyError> {
        let core = &mut *self.core;
        let luid = match core.luid_of.get(&local.addr()) {
            Some(luid) => *luid,
            None => {
                // Counted without the root, as Twisted's limit works out
                // for a broker that has one.
                if core.luid_of.len() >= core.options.max_local_objects {
                    return Err(JellyError::custom("Maximum PB reference count exceeded."));
                }
                let luid = core.next_luid;
                core.next_luid += 1;
                core.luid_of.insert(local.addr(), luid);
                core.locals.insert(
                    ObjectId::Luid(luid),
                    Local {
                        object: local.object().clone(),
                        count: 0,
                    },
                );
                luid
            }
        };
        core.locals
            .get_mut(&ObjectId::Luid(luid))
            .expect("registered above")
            .count += 1;
        self.taken.refs.push(luid);
        Ok(Sexp::List(vec![tag("remote"), Sexp::Int(luid)]))
    }
}
