//! The in-memory stores and the core they share.

mod core;
mod countdown;
mod done_ledger;
mod done_row;
mod error;
mod findings;
mod page;
mod pending;
mod reserve;

pub use core::{Outcome, SharedCore, StoreBackend, StoreCore, StoreHandle};
pub use countdown::Countdown;
pub use done_ledger::{DoneLedgerBackend, InMemoryDoneLedger, InMemoryDoneLedgerHandle};
pub use error::{StoreError, StoreKind};
pub use findings::{FindingsBackend, InMemoryFindingsHandle, InMemoryFindingsSink};

use crate::control::{CompletionOrder, PendingWriteId, StoreControl};

macro_rules! impl_store_control {
    ($($store:ty),+) => {$(
        impl StoreControl for $store {
            type ControlError = StoreError;

            fn set_auto_complete(&self, on: bool) -> Result<(), StoreError> {
                self.core().set_auto_complete(on)
            }

            fn delay_next_writes(&self, count: usize) -> Result<(), StoreError> {
                self.core().delay_next_writes(count)
            }

            fn fail_next_submissions(&self, count: usize) -> Result<(), StoreError> {
                self.core().fail_next_submissions(count)
            }

            fn fail_next_commits(&self, count: usize) -> Result<(), StoreError> {
                self.core().fail_next_commits(count)
            }

            fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, StoreError> {
                self.core().release_next(order)
            }

            fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, StoreError> {
                self.core().release_specific(op_id)
            }

            fn release_all(&self, order: CompletionOrder) -> Result<usize, StoreError> {
                self.core().release_all(order)
            }

            fn pending_ids(&self) -> Result<Vec<PendingWriteId>, StoreError> {
                self.core().pending_ids()
            }

            fn pending_count(&self) -> Result<usize, StoreError> {
                self.core().pending_count()
            }
        }
    )+};
}

impl_store_control!(InMemoryDoneLedger, InMemoryFindingsSink);
