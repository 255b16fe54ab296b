//! `StoreControl` for both stores: the store core's own controls, with its
//! errors carried in [`SqlitePersistenceError::Store`].

use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};

use crate::done_ledger::SqliteDoneLedger;
use crate::error::SqlitePersistenceError;
use crate::findings::SqliteFindingsSink;

macro_rules! impl_store_control {
    ($($store:ty),+) => {$(
        impl StoreControl for $store {
            type ControlError = SqlitePersistenceError;

            fn set_auto_complete(&self, on: bool) -> Result<(), SqlitePersistenceError> {
                Ok(self.core().set_auto_complete(on)?)
            }

            fn delay_next_writes(&self, count: usize) -> Result<(), SqlitePersistenceError> {
                Ok(self.core().delay_next_writes(count)?)
            }

            fn fail_next_submissions(&self, count: usize) -> Result<(), SqlitePersistenceError> {
                Ok(self.core().fail_next_submissions(count)?)
            }

            fn fail_next_commits(&self, count: usize) -> Result<(), SqlitePersistenceError> {
                Ok(self.core().fail_next_commits(count)?)
            }

            fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, SqlitePersistenceError> {
                Ok(self.core().release_next(order)?)
            }

            fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, SqlitePersistenceError> {
                Ok(self.core().release_specific(op_id)?)
            }

            fn release_all(&self, order: CompletionOrder) -> Result<usize, SqlitePersistenceError> {
                Ok(self.core().release_all(order)?)
            }

            fn pending_ids(&self) -> Result<Vec<PendingWriteId>, SqlitePersistenceError> {
                Ok(self.core().pending_ids()?)
            }

            fn pending_count(&self) -> Result<usize, SqlitePersistenceError> {
                Ok(self.core().pending_count()?)
            }
        }
    )+};
}

impl_store_control!(SqliteDoneLedger, SqliteFindingsSink);
