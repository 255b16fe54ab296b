//! The `controller` resource: one store's `StoreControl`, over the boundary.

use super::errors::store_error;
use super::exports::gossip::persistence::control::GuestController;
use super::exports::gossip::persistence::types::{CompletionOrder as WitOrder, StoreError};
use crate::control::{CompletionOrder, PendingWriteId, StoreControl};
use crate::store::InMemoryPersistenceError;

type DynControl = dyn StoreControl<ControlError = InMemoryPersistenceError>;

pub struct Controller {
    store: Box<DynControl>,
}

impl Controller {
    pub fn new(store: impl StoreControl<ControlError = InMemoryPersistenceError> + 'static) -> Self {
        Self { store: Box::new(store) }
    }
}

/// wasm32's `usize` is 32 bits; a larger count saturates, which for a
/// fault counter means "effectively forever", as it would natively.
fn count(raw: u64) -> usize {
    usize::try_from(raw).unwrap_or(usize::MAX)
}

const fn order(order: WitOrder) -> CompletionOrder {
    match order {
        WitOrder::OldestFirst => CompletionOrder::OldestFirst,
        WitOrder::NewestFirst => CompletionOrder::NewestFirst,
    }
}

impl GuestController for Controller {
    fn set_auto_complete(&self, on: bool) -> Result<(), StoreError> {
        self.store.set_auto_complete(on).map_err(store_error)
    }

    fn delay_next_writes(&self, n: u64) -> Result<(), StoreError> {
        self.store.delay_next_writes(count(n)).map_err(store_error)
    }

    fn fail_next_submissions(&self, n: u64) -> Result<(), StoreError> {
        self.store.fail_next_submissions(count(n)).map_err(store_error)
    }

    fn fail_next_commits(&self, n: u64) -> Result<(), StoreError> {
        self.store.fail_next_commits(count(n)).map_err(store_error)
    }

    fn release_next(&self, o: WitOrder) -> Result<Option<u64>, StoreError> {
        self.store.release_next(order(o)).map(|id| id.map(PendingWriteId::as_raw)).map_err(store_error)
    }

    fn release_specific(&self, op_id: u64) -> Result<bool, StoreError> {
        self.store.release_specific(PendingWriteId::from_raw(op_id)).map_err(store_error)
    }

    fn release_all(&self, o: WitOrder) -> Result<u64, StoreError> {
        self.store.release_all(order(o)).map(|n| n as u64).map_err(store_error)
    }

    fn pending_ids(&self) -> Result<Vec<u64>, StoreError> {
        self.store.pending_ids().map(|ids| ids.into_iter().map(PendingWriteId::as_raw).collect()).map_err(store_error)
    }

    fn pending_count(&self) -> Result<u64, StoreError> {
        self.store.pending_count().map(|n| n as u64).map_err(store_error)
    }
}
