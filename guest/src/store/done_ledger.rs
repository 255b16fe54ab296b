//! `InMemoryDoneLedger`: the done-ledger over the store core.

use crate::hash::HashMap;
use core::fmt;

use super::core::{StoreBackend, StoreCore, StoreHandle};
use super::error::{InMemoryPersistenceError, InMemoryStoreKind};
use crate::contract::{CommitHandle, DoneLedger, DoneLedgerInspect};
use crate::control::{PendingWriteId, TrackedHandle};
use crate::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord, dedupe_batch, receipt_for};
use crate::identity::{OvidHash, PolicyHash, TenantId};
use crate::input_error::check_batch_size;
use crate::sync::Arc;

/// Rows grouped by (tenant, policy) scope, so listing one scope never walks
/// another tenant's rows.
#[derive(Default)]
pub(crate) struct DoneLedgerDurable {
    scopes: HashMap<(TenantId, PolicyHash), HashMap<OvidHash, DoneLedgerRecord>>,
    rows: usize,
}

impl DoneLedgerDurable {
    fn get(&self, key: &DoneLedgerKey) -> Option<&DoneLedgerRecord> {
        self.scopes.get(&(key.tenant_id(), key.policy_hash()))?.get(&key.ovid_hash())
    }

    fn put(&mut self, record: DoneLedgerRecord) {
        let key = *record.key();
        let scope = self.scopes.entry((key.tenant_id(), key.policy_hash())).or_default();
        if scope.insert(key.ovid_hash(), record).is_none() {
            self.rows += 1;
        }
    }

    fn done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> impl Iterator<Item = OvidHash> + '_ {
        self.scopes
            .get(&(tenant_id, policy_hash))
            .into_iter()
            .flat_map(|scope| scope.iter())
            .filter(|(_, r)| r.status().is_terminal())
            .map(|(ovid, _)| *ovid)
    }
}

pub(crate) struct DoneLedgerBackend;

impl StoreBackend for DoneLedgerBackend {
    type Payload = Vec<DoneLedgerRecord>;
    type Receipt = DoneLedgerCommitReceipt;
    type Durable = DoneLedgerDurable;
    type Error = InMemoryPersistenceError;
    const STORE_KIND: InMemoryStoreKind = InMemoryStoreKind::DoneLedger;

    fn apply(
        durable: &mut DoneLedgerDurable,
        records: &Vec<DoneLedgerRecord>,
    ) -> Result<DoneLedgerCommitReceipt, InMemoryPersistenceError> {
        records.iter().try_for_each(DoneLedgerRecord::validate_for_write)?;
        let mut rows = dedupe_batch(records)?;
        // The receipt counts what the batch carried, not the merged rows.
        let receipt = receipt_for(&rows);
        // Merge everything before storing anything, so even an (unreachable)
        // merge error cannot leave the batch half applied.
        for row in &mut rows {
            if let Some(existing) = durable.get(row.key()) {
                *row = existing.merge(row)?;
            }
        }
        for row in rows {
            durable.put(row);
        }
        Ok(receipt)
    }
}

/// The in-memory done-ledger. Clones share one store, so a test can inject
/// faults through one handle while the code under test uses another.
#[derive(Clone)]
pub struct InMemoryDoneLedger {
    core: Arc<StoreCore<DoneLedgerBackend>>,
}

impl Default for InMemoryDoneLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryDoneLedger {
    /// A ledger that applies writes at submit (auto-complete).
    pub fn new() -> Self {
        Self::with_auto_complete(true)
    }

    pub fn with_auto_complete(auto_complete: bool) -> Self {
        Self { core: Arc::new(StoreCore::new(Default::default(), auto_complete)) }
    }

    /// Test support: poisons this store's lock (see the store core).
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn poison_for_tests(&self) {
        self.core.poison_for_tests();
    }

    pub(crate) fn core(&self) -> &StoreCore<DoneLedgerBackend> {
        &self.core
    }

    /// Number of durable rows.
    pub fn len(&self) -> Result<usize, InMemoryPersistenceError> {
        self.core.read(|d| d.rows)
    }

    pub fn is_empty(&self) -> Result<bool, InMemoryPersistenceError> {
        self.len().map(|n| n == 0)
    }
}

impl DoneLedger for InMemoryDoneLedger {
    type Error = InMemoryPersistenceError;
    type CommitHandle = InMemoryDoneLedgerHandle;

    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Self::Error> {
        self.core.read(|d| {
            let scope = d.scopes.get(&(tenant_id, policy_hash));
            ovid_hashes.iter().map(|ovid| scope.and_then(|s| s.get(ovid)).cloned()).collect()
        })
    }

    fn list_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Vec<OvidHash>, Self::Error> {
        self.core.read(|d| d.done_hashes(tenant_id, policy_hash).collect())
    }

    fn count_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Option<usize>, Self::Error> {
        self.core.read(|d| Some(d.done_hashes(tenant_id, policy_hash).count()))
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<InMemoryDoneLedgerHandle, Self::Error> {
        check_batch_size(records.len())?;
        Ok(InMemoryDoneLedgerHandle { handle: StoreCore::submit(&self.core, records.to_vec())? })
    }
}

impl DoneLedgerInspect for InMemoryDoneLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Self::Error> {
        self.core.read(|d| d.get(key).cloned())
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Self::Error> {
        let mut rows: Vec<DoneLedgerRecord> =
            self.core.read(|d| d.scopes.values().flat_map(|s| s.values().cloned()).collect())?;
        rows.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(rows)
    }
}

impl fmt::Debug for InMemoryDoneLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.try_lock() {
            Some(Ok(state)) => f
                .debug_struct("InMemoryDoneLedger")
                .field("durable_rows", &state.durable.rows)
                .field("pending_ops", &state.pending_count())
                .field("auto_complete", &state.auto_complete)
                .finish(),
            Some(Err(())) => f.write_str("InMemoryDoneLedger(<poisoned>)"),
            None => f.write_str("InMemoryDoneLedger(<locked>)"),
        }
    }
}

/// A claim on one accepted done-ledger write.
#[must_use = "durability is not established until wait() returns a receipt"]
pub struct InMemoryDoneLedgerHandle {
    handle: StoreHandle<DoneLedgerBackend>,
}

impl InMemoryDoneLedgerHandle {
    pub const fn operation_id(&self) -> PendingWriteId {
        self.handle.operation_id()
    }

    /// The outcome if the write has finished, without blocking.
    pub fn poll(
        &mut self,
    ) -> Result<Option<Result<DoneLedgerCommitReceipt, InMemoryPersistenceError>>, InMemoryPersistenceError> {
        self.handle.poll()
    }
}

impl TrackedHandle for InMemoryDoneLedgerHandle {
    fn operation_id(&self) -> PendingWriteId {
        self.handle.operation_id()
    }
}

impl CommitHandle for InMemoryDoneLedgerHandle {
    type Receipt = DoneLedgerCommitReceipt;
    type Error = InMemoryPersistenceError;

    fn wait(self) -> Result<DoneLedgerCommitReceipt, InMemoryPersistenceError> {
        self.handle.wait()
    }
}

impl fmt::Debug for InMemoryDoneLedgerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryDoneLedgerHandle").field("op_id", &self.handle.operation_id()).finish()
    }
}
