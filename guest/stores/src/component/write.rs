//! The `done-write` and `findings-write` resources: one accepted write of
//! either store, polled to its receipt.

use std::cell::Cell;

use super::exports::done_ledger::GuestDoneWrite;
use super::exports::findings::GuestFindingsWrite;
use crate::control::TrackedHandle;
use crate::store::{InMemoryDoneLedgerHandle, InMemoryFindingsHandle, StoreError};
use crate::wit::types::{DoneReceipt, FindingsReceipt, StoreError as WitError};
use crate::wit::{done_receipt_out, findings_receipt_out, store_error};

/// A native store's write handle, as a write resource polls it.
pub trait Handle: TrackedHandle {
    /// The WIT receipt of a completed write.
    type Receipt;

    /// The outcome if the write has finished, without blocking, receipt
    /// converted: the outer error is the poll's own, the inner the write's.
    fn poll_out(&mut self) -> Result<Option<Result<Self::Receipt, StoreError>>, StoreError>;
}

impl Handle for InMemoryDoneLedgerHandle {
    type Receipt = DoneReceipt;

    fn poll_out(&mut self) -> Result<Option<Result<DoneReceipt, StoreError>>, StoreError> {
        Ok(self.poll()?.map(|result| result.map(done_receipt_out)))
    }
}

impl Handle for InMemoryFindingsHandle {
    type Receipt = FindingsReceipt;

    fn poll_out(&mut self) -> Result<Option<Result<FindingsReceipt, StoreError>>, StoreError> {
        Ok(self.poll()?.map(|result| result.map(findings_receipt_out)))
    }
}

pub struct Write<H> {
    op_id: u64,
    /// Taken out for the duration of a poll (resource methods get `&self`);
    /// a `Cell` rather than a `RefCell` so no borrow can ever panic.
    handle: Cell<Option<H>>,
}

impl<H: Handle> Write<H> {
    pub fn new(handle: H) -> Self {
        Self { op_id: handle.operation_id().as_raw(), handle: Cell::new(Some(handle)) }
    }

    /// None while the write is pending; a failed poll is reported as the
    /// write's outcome.
    fn outcome(&self) -> Option<Result<H::Receipt, WitError>> {
        let mut handle = self.handle.take()?;
        let polled = handle.poll_out();
        self.handle.set(Some(handle));
        match polled {
            Ok(None) => None,
            Ok(Some(Ok(receipt))) => Some(Ok(receipt)),
            Ok(Some(Err(error))) | Err(error) => Some(Err(store_error(error))),
        }
    }
}

impl GuestDoneWrite for Write<InMemoryDoneLedgerHandle> {
    fn operation_id(&self) -> u64 {
        self.op_id
    }

    fn poll(&self) -> Option<Result<DoneReceipt, WitError>> {
        self.outcome()
    }
}

impl GuestFindingsWrite for Write<InMemoryFindingsHandle> {
    fn operation_id(&self) -> u64 {
        self.op_id
    }

    fn poll(&self) -> Option<Result<FindingsReceipt, WitError>> {
        self.outcome()
    }
}
