//! Caches both ways: the owner's observers and the holder's copies.

use spread_banana::Sexp;
use spread_flavors::{LocalCacheable, NewRemoteCache, Observer};
use spread_jelly::{Dict, Error as JellyError, Value};

use super::{Core, Phase, tag};
use crate::cache::RemoteCacheRef;
use crate::{CallError, ProtocolError};

/// A local Cacheable the peer holds a cache of.
pub(super) struct CacheEntry {
    pub(super) object: std::sync::Arc<dyn spread_flavors::Cacheable>,
    pub(super) observer: Observer,
    /// Cache tokens the peer holds.
    pub(super) count: u64,
}

impl Core {
    /// The peer dropped one of its cache tokens for one of our Cacheables.
    pub(super) fn peer_decache(&mut self, luid: &Sexp) -> Result<(), ProtocolError> {
        let unknown = || ProtocolError::Unknown {
            what: "cache in decache",
            id: format!("{luid:?}"),
        };
        let Sexp::Int(luid) = luid else {
            return Err(unknown());
        };
        let entry = self.caches.get_mut(luid).ok_or_else(unknown)?;
        entry.count -= 1;
        if entry.count == 0 {
            self.stop_observing(*luid);
            let frame = Sexp::List(vec![tag("uncache"), Sexp::Int(*luid)]);
            self.write(&frame).expect("an uncache always encodes");
        }
        Ok(())
    }

    pub(super) fn stop_observing(&mut self, luid: i64) {
        if let Some(entry) = self.caches.remove(&luid) {
            self.cache_luid_of
                .remove(&LocalCacheable::new(entry.object.clone()).addr());
            entry.object.stopped_observing(&entry.observer);
        }
    }

    /// The connection is gone: every observer has stopped.
    pub(crate) fn connection_lost(&mut self) {
        let luids: Vec<i64> = self.caches.keys().copied().collect();
        for luid in luids {
            self.stop_observing(luid);
        }
        self.remote_caches.borrow_mut().clear();
    }

    /// One of our cache tokens was dropped: tell the owner, unless it has
    /// already forgotten the cache.
    pub(crate) fn decache(&mut self, luid: i64) {
        if self.phase == Phase::Ready && self.remote_caches.borrow().contains_key(&luid) {
            let frame = Sexp::List(vec![tag("decache"), Sexp::Int(luid)]);
            self.write(&frame).expect("a decache always encodes");
        }
    }

    /// An observer's call to the peer's cache of one of our Cacheables.
    pub(crate) fn cache_call(
        &mut self,
        luid: i64,
        method: &str,
        args: Vec<Value>,
        kwargs: Dict,
    ) -> Result<i64, CallError> {
        if !self.caches.contains_key(&luid) {
            return Err(CallError::DeadReference);
        }
        self.send_message("cachemessage", Sexp::Int(luid), method, args, kwargs, true)
            .map(|request| request.expect("an answer was asked for"))
    }

    /// Caches the peer holds of our Cacheables.
    pub(crate) fn cache_count(&self) -> usize {
        self.caches.len()
    }

    /// Caches this side holds of the peer's objects.
    pub(crate) fn remote_cache_count(&self) -> usize {
        self.remote_caches.borrow().len()
    }

    /// Records a cache just built from its first state, and gives the
    /// holder's handle for this token.
    pub(crate) fn new_remote_cache(
        &self,
        luid: i64,
        new: NewRemoteCache,
    ) -> Result<Value, JellyError> {
        let mut caches = self.remote_caches.borrow_mut();
        if caches.contains_key(&luid) {
            return Err(JellyError::custom(format!("cache {luid} sent twice")));
        }
        // An owner that never says `uncache` must not grow this table
        // without end.
        if caches.len() >= self.options.max_local_objects {
            return Err(JellyError::custom("Maximum PB cache count exceeded."));
        }
        caches.insert(luid, new.clone());
        Ok(RemoteCacheRef::new(self.link.clone(), luid, new.cache, new.any).into_value())
    }

    /// Another handle to a cache this side holds.
    pub(crate) fn cached(&self, luid: i64) -> Result<Value, JellyError> {
        let caches = self.remote_caches.borrow();
        let new = caches.get(&luid).ok_or_else(|| {
            JellyError::custom(format!("a cached reference to unknown cache {luid}"))
        })?;
        Ok(
            RemoteCacheRef::new(self.link.clone(), luid, new.cache.clone(), new.any.clone())
                .into_value(),
        )
    }

    /// One of our Cacheables, sent back by the peer.
    pub(crate) fn local_cacheable(&self, luid: i64) -> Option<Value> {
        self.caches
            .get(&luid)
            .map(|entry| LocalCacheable::new(entry.object.clone()).into_value())
    }
}
