//! The `done-ledger` and `done-write` resources over `InMemoryDoneLedger`.

use std::cell::Cell;

use super::control::Controller;
use super::convert::{digest_in, digest_out, done_record_in, done_record_out, key_in};
use super::errors::{invalid_input, store_error};
use super::exports::gossip::persistence::control::Controller as WitController;
use super::exports::gossip::persistence::done_ledger::{DoneWrite, GuestDoneLedger, GuestDoneWrite};
use super::exports::gossip::persistence::types::{Digest, DoneKey, DoneReceipt, DoneRecord, StoreError};
use crate::contract::{DoneLedger, DoneLedgerInspect};
use crate::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};
use crate::identity::{OvidHash, PolicyHash, TenantId};
use crate::input_error::check_batch_size;
use crate::store::{InMemoryDoneLedger, InMemoryDoneLedgerHandle};

pub struct Ledger {
    store: InMemoryDoneLedger,
}

fn scope(tenant_id: Digest, policy_hash: Digest) -> (TenantId, PolicyHash) {
    (TenantId::from_bytes(digest_in(tenant_id)), PolicyHash::from_bytes(digest_in(policy_hash)))
}

const fn receipt_out(r: DoneLedgerCommitReceipt) -> DoneReceipt {
    DoneReceipt { record_count: r.record_count(), scanned_count: r.scanned_count(), findings_count: r.findings_count() }
}

impl GuestDoneLedger for Ledger {
    fn new(auto_complete: bool) -> Self {
        Self { store: InMemoryDoneLedger::with_auto_complete(auto_complete) }
    }

    fn controller(&self) -> WitController {
        WitController::new(Controller::new(self.store.clone()))
    }

    fn batch_get(
        &self,
        tenant_id: Digest,
        policy_hash: Digest,
        ovid_hashes: Vec<Digest>,
    ) -> Result<Vec<Option<DoneRecord>>, StoreError> {
        let (tenant, policy) = scope(tenant_id, policy_hash);
        let ovids: Vec<OvidHash> = ovid_hashes.into_iter().map(|o| OvidHash::from_bytes(digest_in(o))).collect();
        let rows = self.store.batch_get(tenant, policy, &ovids).map_err(store_error)?;
        Ok(rows.iter().map(|row| row.as_ref().map(done_record_out)).collect())
    }

    fn list_done_hashes(&self, tenant_id: Digest, policy_hash: Digest) -> Result<Vec<Digest>, StoreError> {
        let (tenant, policy) = scope(tenant_id, policy_hash);
        let hashes = self.store.list_done_hashes(tenant, policy).map_err(store_error)?;
        Ok(hashes.iter().map(|h| digest_out(h.as_bytes())).collect())
    }

    fn count_done_hashes(&self, tenant_id: Digest, policy_hash: Digest) -> Result<Option<u64>, StoreError> {
        let (tenant, policy) = scope(tenant_id, policy_hash);
        let count = self.store.count_done_hashes(tenant, policy).map_err(store_error)?;
        Ok(count.map(|n| n as u64))
    }

    /// The size limit is checked before any record is converted, as the
    /// native store checks it before looking at any record.
    fn batch_upsert(&self, records: Vec<DoneRecord>) -> Result<DoneWrite, StoreError> {
        check_batch_size(records.len()).map_err(invalid_input)?;
        let rows = records.into_iter().map(done_record_in).collect::<Result<Vec<DoneLedgerRecord>, _>>()?;
        let handle = self.store.batch_upsert(&rows).map_err(store_error)?;
        Ok(DoneWrite::new(LedgerWrite { op_id: handle.operation_id().as_raw(), handle: Cell::new(Some(handle)) }))
    }

    fn get_record(&self, key: DoneKey) -> Result<Option<DoneRecord>, StoreError> {
        let key = key_in(&key);
        let row = self.store.get_record(&key).map_err(store_error)?;
        Ok(row.as_ref().map(done_record_out))
    }

    fn snapshot(&self) -> Result<Vec<DoneRecord>, StoreError> {
        let rows = self.store.snapshot().map_err(store_error)?;
        Ok(rows.iter().map(done_record_out).collect())
    }
}

pub struct LedgerWrite {
    op_id: u64,
    /// Taken out for the duration of a poll (resource methods get `&self`);
    /// a `Cell` rather than a `RefCell` so no borrow can ever panic.
    handle: Cell<Option<InMemoryDoneLedgerHandle>>,
}

impl GuestDoneWrite for LedgerWrite {
    fn operation_id(&self) -> u64 {
        self.op_id
    }

    fn poll(&self) -> Option<Result<DoneReceipt, StoreError>> {
        let mut handle = self.handle.take()?;
        let outcome = handle.poll();
        self.handle.set(Some(handle));
        match outcome {
            Ok(None) => None,
            Ok(Some(result)) => Some(result.map(receipt_out).map_err(store_error)),
            Err(error) => Some(Err(store_error(error))),
        }
    }
}
