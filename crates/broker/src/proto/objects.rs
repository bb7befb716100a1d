//! The one table of what the peer holds tokens for: this side's
//! Referenceables (`remote` tokens, released by `decref`) and Cacheables
//! (cache tokens, released by `decache`), under luids from one counter
//! (Twisted's `localObjects` and `remotelyCachedObjects`).

use std::collections::HashMap;
use std::sync::Arc;

use spread_flavors::{Cacheable, LocalCacheable, LocalReferenceable, Observer, Perspective};

/// What one luid stands for.
pub(super) enum Kind {
    /// A Referenceable, reached by `message`.
    Object(LocalReferenceable),
    /// A Cacheable and the peer's observer of it.
    Cache {
        object: LocalCacheable,
        observer: Observer,
        /// The login its state was made for.
        perspective: Option<Perspective>,
    },
}

struct Entry {
    kind: Kind,
    /// Tokens the peer holds; the entry goes when this reaches zero.
    count: u64,
}

/// The key an object is found under when it is sent again: the same object
/// keeps its luid while the peer holds a token for it.
#[derive(PartialEq, Eq, Hash)]
enum Identity {
    Object(LocalReferenceable),
    Cache(LocalCacheable),
}

/// What was taken while jellying one frame, to give back if it is not sent.
#[derive(Default)]
pub(super) struct Taken(Vec<i64>);

/// An entry whose last token the peer gave back.
pub(super) enum Released {
    /// A Referenceable, which may linger (see [`Objects::release`]).
    Object,
    /// A Cacheable: its observer has stopped.
    Cache {
        object: Arc<dyn Cacheable>,
        observer: Observer,
        perspective: Option<Perspective>,
    },
}

#[derive(Default)]
pub(super) struct Objects {
    entries: HashMap<i64, Entry>,
    by_identity: HashMap<Identity, i64>,
    /// Objects and Cacheables whose last token the peer released while
    /// answers to our calls were due. Twisted releases what a call received
    /// just before it sends the answer that may return it, so `["local",
    /// luid]` (or `["lcache", luid]`) can arrive right after the `decref`
    /// (or `decache`); the object must still be found (Twisted's own client
    /// finds `None`). They go when the next answer or error has been read,
    /// and count against the table's limit until then.
    lingering: HashMap<i64, Kind>,
    next_luid: i64,
    /// How many entries are Cacheables, kept so that counting is free.
    caches: usize,
}

impl Objects {
    /// How many Referenceables and Cacheables the peer holds tokens for.
    pub(super) fn counts(&self) -> (usize, usize) {
        (self.entries.len() - self.caches, self.caches)
    }

    /// The luid for `object`, taking one more token for it; `None` when the
    /// table already holds `max` entries.
    pub(super) fn take_object(
        &mut self,
        object: &LocalReferenceable,
        max: usize,
        taken: &mut Taken,
    ) -> Option<i64> {
        let identity = Identity::Object(object.clone());
        let luid = match self.by_identity.get(&identity) {
            Some(luid) => *luid,
            None => self.insert(identity, Kind::Object(object.clone()), max)?,
        };
        self.count_one(luid, taken);
        Some(luid)
    }

    /// The luid a Cacheable is already observed under, taking one more token.
    pub(super) fn take_cached(
        &mut self,
        object: &LocalCacheable,
        taken: &mut Taken,
    ) -> Option<i64> {
        let luid = *self.by_identity.get(&Identity::Cache(object.clone()))?;
        self.count_one(luid, taken);
        Some(luid)
    }

    /// A luid for a new observer, if there is room for one more entry.
    /// Luids are never reused, so one reserved and not used is harmless.
    pub(super) fn reserve(&mut self, max: usize) -> Option<i64> {
        if self.entries.len() + self.lingering.len() >= max {
            return None;
        }
        self.next_luid += 1;
        Some(self.next_luid)
    }

    /// Records a new observer of `object` under a reserved luid, with one
    /// token.
    pub(super) fn insert_cache(
        &mut self,
        luid: i64,
        object: &LocalCacheable,
        observer: Observer,
        perspective: Option<Perspective>,
        taken: &mut Taken,
    ) {
        self.by_identity
            .insert(Identity::Cache(object.clone()), luid);
        self.caches += 1;
        self.entries.insert(
            luid,
            Entry {
                kind: Kind::Cache {
                    object: object.clone(),
                    observer,
                    perspective,
                },
                count: 0,
            },
        );
        self.count_one(luid, taken);
    }

    fn insert(&mut self, identity: Identity, kind: Kind, max: usize) -> Option<i64> {
        let luid = self.reserve(max)?;
        self.by_identity.insert(identity, luid);
        self.entries.insert(luid, Entry { kind, count: 0 });
        Some(luid)
    }

    fn count_one(&mut self, luid: i64, taken: &mut Taken) {
        if let Some(entry) = self.entries.get_mut(&luid) {
            entry.count += 1;
            taken.0.push(luid);
        }
    }

    /// The Referenceable `luid` names, including one released while answers
    /// that may return it are still due.
    pub(super) fn object(&self, luid: i64) -> Option<&LocalReferenceable> {
        match self.entries.get(&luid) {
            Some(Entry {
                kind: Kind::Object(object),
                ..
            }) => Some(object),
            Some(_) => None,
            None => match self.lingering.get(&luid) {
                Some(Kind::Object(object)) => Some(object),
                _ => None,
            },
        }
    }

    /// The Referenceable a `message` may call: only one the peer holds.
    pub(super) fn callable(&self, luid: i64) -> Option<&LocalReferenceable> {
        match self.entries.get(&luid) {
            Some(Entry {
                kind: Kind::Object(object),
                ..
            }) => Some(object),
            _ => None,
        }
    }

    /// The Cacheable `luid` names, including one released while answers
    /// that may return it are still due.
    pub(super) fn cacheable(&self, luid: i64) -> Option<&LocalCacheable> {
        let kind = match self.entries.get(&luid) {
            Some(entry) => &entry.kind,
            None => self.lingering.get(&luid)?,
        };
        match kind {
            Kind::Cache { object, .. } => Some(object),
            Kind::Object(_) => None,
        }
    }

    /// Whether `luid` is a Cacheable the peer observes now.
    pub(super) fn is_cache(&self, luid: i64) -> bool {
        matches!(
            self.entries.get(&luid),
            Some(Entry {
                kind: Kind::Cache { .. },
                ..
            })
        )
    }

    /// Gives back one token of `luid`, of the kind the peer's command names
    /// (`cache` for `decache`); `None` if there is no such entry. When the
    /// last token goes, the entry goes; it lingers if `linger` (an answer
    /// may still name it).
    pub(super) fn release(
        &mut self,
        luid: i64,
        cache: bool,
        linger: bool,
    ) -> Option<Option<Released>> {
        let entry = self.entries.get_mut(&luid)?;
        if matches!(entry.kind, Kind::Cache { .. }) != cache {
            return None;
        }
        entry.count -= 1;
        if entry.count > 0 {
            return Some(None);
        }
        let entry = self.entries.remove(&luid)?;
        let released = match &entry.kind {
            Kind::Object(object) => {
                self.by_identity.remove(&Identity::Object(object.clone()));
                Released::Object
            }
            Kind::Cache {
                object,
                observer,
                perspective,
            } => {
                self.by_identity.remove(&Identity::Cache(object.clone()));
                self.caches -= 1;
                Released::Cache {
                    object: object.object().clone(),
                    observer: observer.clone(),
                    perspective: perspective.clone(),
                }
            }
        };
        if linger {
            self.lingering.insert(luid, entry.kind);
        }
        Some(Some(released))
    }

    /// Gives back what one frame took, when the frame was not sent.
    pub(super) fn give_back(&mut self, taken: Taken) -> Vec<Released> {
        taken
            .0
            .into_iter()
            .filter_map(|luid| {
                let cache = self.is_cache(luid);
                self.release(luid, cache, false).flatten()
            })
            .collect()
    }

    /// Drops what lingers: an answer or error has been read since it was
    /// released.
    pub(super) fn expire_lingering(&mut self) {
        self.lingering.clear();
    }

    /// Empties the table: the connection is gone. Returns the observers
    /// that have stopped, and the objects, to drop after the observers have
    /// heard (dropping a login's avatar runs its logout, which comes last,
    /// as in Twisted).
    pub(super) fn clear(&mut self) -> (Vec<Released>, Vec<LocalReferenceable>) {
        self.by_identity.clear();
        self.caches = 0;
        let mut released = Vec::new();
        let mut objects = Vec::new();
        // What lingers was released already: its observers have heard.
        for (_, kind) in self.lingering.drain() {
            if let Kind::Object(object) = kind {
                objects.push(object);
            }
        }
        for kind in self.entries.drain().map(|(_, e)| e.kind) {
            match kind {
                Kind::Cache {
                    object,
                    observer,
                    perspective,
                } => released.push(Released::Cache {
                    object: object.object().clone(),
                    observer,
                    perspective,
                }),
                Kind::Object(object) => objects.push(object),
            }
        }
        (released, objects)
    }
}
