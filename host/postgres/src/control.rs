//! `StoreControl` for both stores: the store core's own controls, with its
//! errors carried in [`PgError::Store`].

use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};

use crate::done_ledger::PgDoneLedger;
use crate::error::PgError;
use crate::findings::PgFindingsSink;

macro_rules! impl_store_control {
    ($($store:ty),+) => {$(
        impl StoreControl for $store {
            type ControlError = PgError;

            fn set_auto_complete(&self, on: bool) -> Result<(), PgError> {
                Ok(self.core().set_auto_complete(on)?)
            }

            fn delay_next_writes(&self, count: usize) -> Result<(), PgError> {
                Ok(self.core().delay_next_writes(count)?)
            }

            fn fail_next_submissions(&self, count: usize) -> Result<(), PgError> {
                Ok(self.core().fail_next_submissions(count)?)
            }

            fn fail_next_commits(&self, count: usize) -> Result<(), PgError> {
                Ok(self.core().fail_next_commits(count)?)
            }

            fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, PgError> {
                Ok(self.core().release_next(order)?)
            }

            fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, PgError> {
                Ok(self.core().release_specific(op_id)?)
            }

            fn release_all(&self, order: CompletionOrder) -> Result<usize, PgError> {
                Ok(self.core().release_all(order)?)
            }

            fn pending_ids(&self) -> Result<Vec<PendingWriteId>, PgError> {
                Ok(self.core().pending_ids()?)
            }

            fn pending_count(&self) -> Result<usize, PgError> {
                Ok(self.core().pending_count()?)
            }
        }
    )+};
}

impl_store_control!(PgDoneLedger, PgFindingsSink);
