//! The `done-ledger` resource: `Store` over `InMemoryDoneLedger` (its writes are `write::Write`).

use super::exports::done_ledger::{DoneWrite, GuestDoneLedger};
use super::page::{limit_in, list_out};
use super::resource::Store;
use super::write::Write;
use crate::contract::{DoneLedger, DoneLedgerInspect};
use crate::done_ledger::DoneLedgerRecord;
use crate::identity::{OvidHash, PolicyHash, TenantId};
use crate::input_error::{check_batch_size, check_read_size};
use crate::store::{InMemoryDoneLedger, StoreKind};
use crate::wit::types::{Digest, DoneKey, DoneRecord, StoreError};
use crate::wit::{digest_in, digest_out, done_record_in, done_record_out, invalid_input, key_in, store_error};

impl GuestDoneLedger for Store<InMemoryDoneLedger> {
    fn new() -> Self {
        Self::open()
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
        let handle = self.store.batch_upsert_owned(rows).map_err(store_error)?;
        Ok(DoneWrite::new(Write::new(handle)))
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

fn scope(tenant_id: Digest, policy_hash: Digest) -> (TenantId, PolicyHash) {
    (TenantId::from_bytes(digest_in(tenant_id)), PolicyHash::from_bytes(digest_in(policy_hash)))
}

const KIND: StoreKind = StoreKind::DoneLedger;
