//! The local-object table: what the peer holds references to, and objects
//! released while answers that may name them are still due.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use spread_banana::Sexp;
use spread_flavors::{LocalReferenceable, Referenceable};

use super::{Core, ObjectId, Taken};
use crate::ProtocolError;

impl Core {
    /// Local objects the peer holds references to (the root is not counted).
    pub(crate) fn local_count(&self) -> usize {
        self.luid_of.len()
    }

    /// A local object by id, including one released while answers that may
    /// return it are still due.
    pub(crate) fn local_object(&self, id: &ObjectId) -> Option<&Arc<dyn Referenceable>> {
        match (self.locals.get(id), id) {
            (Some(local), _) => Some(&local.object),
            (None, ObjectId::Luid(luid)) => self.lingering.get(luid).map(|(object, _)| object),
            (None, ObjectId::Name(_)) => None,
        }
    }

    /// Forgets a local object whose count reached zero; it lingers while
    /// answers asked for by then are due.
    pub(super) fn forget(&mut self, luid: i64) {
        if let Some(local) = self.locals.remove(&ObjectId::Luid(luid)) {
            self.luid_of
                .remove(&LocalReferenceable::new(local.object.clone()).addr());
            if !self.outstanding.is_empty() {
                self.lingering
                    .insert(luid, (local.object, self.next_request - 1));
            }
        }
        self.link
            .local_objects
            .store(self.local_count(), Ordering::Relaxed);
    }

    /// Drops lingering objects once no answer that could return them is due.
    pub(super) fn expire_lingering(&mut self) {
        if self.lingering.is_empty() {
            return;
        }
        let oldest_due = self.outstanding.iter().min().copied();
        self.lingering
            .retain(|_, (_, watermark)| oldest_due.is_some_and(|oldest| oldest <= *watermark));
    }

    pub(super) fn peer_decref(&mut self, luid: &Sexp) -> Result<(), ProtocolError> {
        let unknown = || ProtocolError::Unknown {
            what: "luid in decref",
            id: format!("{luid:?}"),
        };
        let Sexp::Int(luid) = luid else {
            return Err(unknown());
        };
        let local = self
            .locals
            .get_mut(&ObjectId::Luid(*luid))
            .ok_or_else(unknown)?;
        local.count -= 1;
        if local.count == 0 {
            self.forget(*luid);
        }
        Ok(())
    }

    pub(super) fn release(&mut self, taken: Taken) {
        for luid in taken.refs {
            if let Some(local) = self.locals.get_mut(&ObjectId::Luid(luid)) {
                local.count -= 1;
                if local.count == 0 {
                    self.forget(luid);
                }
            }
        }
        // A cache the peer never received: its observer stops at once.
        for luid in taken.caches {
            if let Some(entry) = self.caches.get_mut(&luid) {
                entry.count -= 1;
                if entry.count == 0 {
                    self.stop_observing(luid);
                }
            }
        }
    }
}
