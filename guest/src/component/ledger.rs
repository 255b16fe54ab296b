//! The `done-ledger` and `done-write` resources over `InMemoryDoneLedger`.

use std::cell::Cell;
use std::sync::Arc;

use super::convert::{digest_in, digest_out, done_record_in, done_record_out, key_in, limit_in, list_out};
use super::errors::{invalid_input, store_error};
use super::wit::done_ledger::{DoneWrite, GuestDoneLedger, GuestDoneWrite};
use super::wit::types::{Digest, DoneKey, DoneReceipt, DoneRecord, StoreError};
use crate::contract::{DoneLedger, DoneLedgerInspect};
use crate::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};
use crate::identity::{OvidHash, PolicyHash, TenantId};
use crate::input_error::{check_batch_size, check_read_size};
use crate::store::{InMemoryDoneLedger, InMemoryDoneLedgerHandle, StoreKind};

pub struct Ledger {
    /// Shared only with the `testing` registry, which holds it weakly: a
    /// ledger the worker dropped is no longer a live store.
    store: Arc<InMemoryDoneLedger>,
}

impl Ledger {
    #[cfg(feature = "testing")]
    pub const fn store(&self) -> &Arc<InMemoryDoneLedger> {
        &self.store
    }
}

fn scope(tenant_id: Digest, policy_hash: Digest) -> (TenantId, PolicyHash) {
    (TenantId::from_bytes(digest_in(tenant_id)), PolicyHash::from_bytes(digest_in(policy_hash)))
}

const fn receipt_out(r: DoneLedgerCommitReceipt) -> DoneReceipt {
    DoneReceipt { record_count: r.record_count(), scanned_count: r.scanned_count(), findings_count: r.findings_count() }
}

const KIND: StoreKind = StoreKind::DoneLedger;

impl GuestDoneLedger for Ledger {
    fn new() -> Self {
        let store = Arc::new(InMemoryDoneLedger::new());
        #[cfg(feature = "testing")]
        super::testing::register_ledger(&store);
        Self { store }
    }

    /// The key count is checked before any key is converted, as the native
    /// store checks it before reading.
    fn batch_get(
        &self,
        tenant_id: Digest,
        policy_hash: Digest,
        ovid_hashes: Vec<Digest>,
    ) -> Result<Vec<Option<DoneRecord>>, StoreError> {
        check_read_size(ovid_hashes.len()).map_err(invalid_input)?;
        let (tenant, policy) = scope(tenant_id, policy_hash);
        let ovids = list_out(KIND, &ovid_hashes, |o| OvidHash::from_bytes(digest_in(*o))).map_err(store_error)?;
        drop(ovid_hashes);
        let rows = self.store.batch_get(tenant, policy, &ovids).map_err(store_error)?;
        list_out(KIND, &rows, |row| row.as_ref().map(done_record_out)).map_err(store_error)
    }

    fn list_done_hashes(
        &self,
        tenant_id: Digest,
        policy_hash: Digest,
        after: Option<Digest>,
        limit: u32,
    ) -> Result<Vec<Digest>, StoreError> {
        let (tenant, policy) = scope(tenant_id, policy_hash);
        let after = after.map(|d| OvidHash::from_bytes(digest_in(d)));
        let hashes = self.store.list_done_hashes_page(tenant, policy, after, limit_in(limit)).map_err(store_error)?;
        list_out(KIND, &hashes, |h| digest_out(h.as_bytes())).map_err(store_error)
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

    fn snapshot(&self, after: Option<DoneKey>, limit: u32) -> Result<Vec<DoneRecord>, StoreError> {
        let after = after.as_ref().map(key_in);
        let rows = self.store.snapshot_page(after.as_ref(), limit_in(limit)).map_err(store_error)?;
        list_out(KIND, &rows, done_record_out).map_err(store_error)
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
