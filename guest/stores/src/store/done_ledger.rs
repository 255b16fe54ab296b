//! `InMemoryDoneLedger`: the done-ledger over the store core.

use crate::hash::HashMap;
use core::fmt;

use super::core::{SharedCore, StoreBackend, StoreCore, StoreHandle};
use super::done_row::DoneRow;
use super::error::{StoreError, StoreKind};
use super::page;
use super::reserve::Reserver;
use crate::contract::{DoneLedger, DoneLedgerInspect};
use crate::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord, dedupe_into, receipt_for};
use crate::identity::{OvidHash, PolicyHash, TenantId};
use crate::input_error::{check_batch_size, check_read_size};

type Scope = (TenantId, PolicyHash);
/// A scope's rows by ovid, each without the key its scope and ovid already spell.
type ScopeTable = HashMap<OvidHash, DoneRow>;

fn scope_of(record: &DoneLedgerRecord) -> Scope {
    (record.key().tenant_id(), record.key().policy_hash())
}

fn key_of(&(tenant_id, policy_hash): &Scope, ovid_hash: OvidHash) -> DoneLedgerKey {
    DoneLedgerKey::new(tenant_id, policy_hash, ovid_hash)
}

/// Rows grouped by (tenant, policy) scope, so listing one scope never walks
/// another tenant's rows. Opaque: named only as the backend's durable state.
pub struct DoneLedgerDurable {
    scopes: HashMap<Scope, ScopeTable>,
    rows: usize,
    reserve: Reserver,
}

impl DoneLedgerDurable {
    fn new(reserve: Reserver) -> Self {
        Self { scopes: HashMap::default(), rows: 0, reserve }
    }

    fn get(&self, key: &DoneLedgerKey) -> Option<DoneLedgerRecord> {
        let row = self.scopes.get(&(key.tenant_id(), key.policy_hash()))?.get(&key.ovid_hash())?;
        Some(row.to_record(*key))
    }

    /// Stores rows sorted by scope, looking each scope's table up once per
    /// run, not once per row (a scope key is 64 bytes to hash). Only called
    /// once room for every row and scope was reserved, so it cannot allocate
    /// (a row moves its error code, it does not copy it).
    fn put_sorted(&mut self, rows: Vec<DoneLedgerRecord>) {
        let mut rows = rows.into_iter().peekable();
        while let Some(scope) = rows.peek().map(scope_of) {
            let table = self.scopes.entry(scope).or_default();
            while let Some(row) = rows.next_if(|row| scope_of(row) == scope) {
                if table.insert(row.key().ovid_hash(), DoneRow::from_record(row)).is_none() {
                    self.rows += 1;
                }
            }
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

    /// Merges `rows` (distinct keys, sorted by scope) with the durable rows
    /// they replace, and reserves room for every new one: for new scopes in
    /// the scope map, for new keys in their scope's table. Changes no row;
    /// returns the new scopes' tables, to be inserted before the rows.
    fn merge_and_reserve(&mut self, rows: &mut [DoneLedgerRecord]) -> Result<Vec<(Scope, ScopeTable)>, StoreError> {
        let Self { scopes, reserve, .. } = self;
        let same_scope = |a: &DoneLedgerRecord, b: &DoneLedgerRecord| scope_of(a) == scope_of(b);
        let new_scopes = rows.chunk_by(same_scope).filter(|run| !scopes.contains_key(&scope_of(&run[0]))).count();
        reserve.map(scopes, new_scopes)?;
        let mut fresh = Vec::new();
        reserve.vec(&mut fresh, new_scopes)?;
        for run in rows.chunk_by_mut(same_scope) {
            let scope = scope_of(&run[0]);
            if let Some(table) = scopes.get_mut(&scope) {
                let mut new_keys = 0;
                for row in run.iter_mut() {
                    match table.get_mut(&row.key().ovid_hash()) {
                        // The stored row is lent back as a whole record and
                        // is unchanged afterwards: only the merge decides.
                        Some(stored) => *row = stored.with_record(*row.key(), |existing| existing.merge(row))?,
                        None => new_keys += 1,
                    }
                }
                reserve.map(table, new_keys)?;
            } else {
                let mut table = ScopeTable::default();
                reserve.map(&mut table, run.len())?;
                fresh.push((scope, table));
            }
        }
        Ok(fresh)
    }

    /// The durable rows strictly after `after`, at most `limit`, sorted by key.
    fn rows_after(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Result<Vec<DoneLedgerRecord>, StoreError> {
        // Rows store no key: select by (scope, ovid) borrowed from the tables,
        // which orders exactly as `DoneLedgerKey` (tenant, policy, ovid), and
        // build the 96-byte keys only for the rows of the page.
        let after = after.map(|key| ((key.tenant_id(), key.policy_hash()), key.ovid_hash()));
        // A whole scope before the cursor's is skipped without looking at its rows.
        let candidates = self
            .scopes
            .iter()
            .filter(|(scope, _)| after.is_none_or(|(after_scope, _)| **scope >= after_scope))
            .flat_map(|(scope, table)| table.iter().map(move |(ovid, row)| ((scope, ovid), row)))
            .filter(|(at, _)| after.as_ref().is_none_or(|(scope, ovid)| *at > (scope, ovid)));
        let page = page::smallest(&self.reserve, candidates, self.rows, limit)?;
        let mut rows = Vec::new();
        self.reserve.vec(&mut rows, page.len())?;
        rows.extend(page.into_iter().map(|((scope, ovid), row)| row.to_record(key_of(scope, *ovid))));
        Ok(rows)
    }
}

/// The done-ledger rows behind the store core: how an in-memory write applies.
pub struct DoneLedgerBackend;

impl StoreBackend for DoneLedgerBackend {
    type Payload = Vec<DoneLedgerRecord>;
    type Receipt = DoneLedgerCommitReceipt;
    type Durable = DoneLedgerDurable;
    type Error = StoreError;
    const STORE_KIND: StoreKind = StoreKind::DoneLedger;

    fn apply(
        durable: &mut DoneLedgerDurable,
        records: &Vec<DoneLedgerRecord>,
    ) -> Result<DoneLedgerCommitReceipt, StoreError> {
        records.iter().try_for_each(DoneLedgerRecord::validate_for_write)?;
        let mut index = HashMap::default();
        durable.reserve.map(&mut index, records.len())?;
        let mut rows = Vec::new();
        durable.reserve.vec(&mut rows, records.len())?;
        dedupe_into(records, &mut index, &mut rows)?;
        drop(index);
        // The receipt counts what the batch carried, not the merged rows.
        let receipt = receipt_for(&rows);
        // One run per scope, so each scope's table is looked up and grown
        // once; a batch of one scope (the usual case) is already sorted.
        rows.sort_unstable_by_key(scope_of);
        // Merging and reserving everything before storing anything means
        // neither a refused reservation nor an (unreachable) merge error can
        // leave the batch half applied.
        for (scope, table) in durable.merge_and_reserve(&mut rows)? {
            durable.scopes.insert(scope, table);
        }
        durable.put_sorted(rows);
        Ok(receipt)
    }
}

/// The in-memory done-ledger. Clones share one store, so a test can inject
/// faults through one handle while the code under test uses another.
#[derive(Clone)]
pub struct InMemoryDoneLedger {
    core: SharedCore<DoneLedgerBackend>,
    /// Shared with the durable state; used here to stage batches outside the lock.
    reserve: Reserver,
}

impl Default for InMemoryDoneLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryDoneLedger {
    /// Bench and test support: bytes of one stored row (a record without its key).
    #[doc(hidden)]
    pub const STORED_ROW_SIZE: usize = size_of::<DoneRow>();

    /// Bench and test support: bytes of one scope-table entry (ovid and row),
    /// the unit a table reservation counts, before the table's control byte.
    #[doc(hidden)]
    pub const STORED_ENTRY_SIZE: usize = size_of::<(OvidHash, DoneRow)>();

    /// A ledger that applies writes at submit (auto-complete).
    pub fn new() -> Self {
        Self::with_auto_complete(true)
    }

    /// An empty ledger; with `auto_complete` off every write waits for a release.
    pub fn with_auto_complete(auto_complete: bool) -> Self {
        let reserve = Reserver::new(StoreKind::DoneLedger);
        let durable = DoneLedgerDurable::new(reserve.clone());
        Self { core: SharedCore::new(StoreCore::new(durable, auto_complete)), reserve }
    }

    /// Test support: poisons this store's lock (see the store core).
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn poison_for_tests(&self) {
        self.core.poison_for_tests();
    }

    /// Test support: the store's next memory reservation (staging a batch,
    /// growing a table when a write applies, a read buffer) is refused.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_next_reservation(&self) {
        self.reserve.fail_reservation_after(0);
    }

    /// Test support: lets `skip` reservations succeed, then refuses one.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_reservation_after(&self, skip: usize) {
        self.reserve.fail_reservation_after(skip);
    }

    /// Test support: removes an armed reservation fault; true if it had not fired.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn disarm_reservation_fault(&self) -> bool {
        self.reserve.disarm()
    }

    /// [`DoneLedger::batch_upsert`] of a batch the caller already owns (such
    /// as the component, which has just decoded it): the same checks and
    /// outcome, submitted as it is instead of staging a copy.
    pub fn batch_upsert_owned(&self, records: Vec<DoneLedgerRecord>) -> Result<InMemoryDoneLedgerHandle, StoreError> {
        check_batch_size(records.len())?;
        StoreCore::submit(&self.core, records)
    }

    pub(crate) fn core(&self) -> &StoreCore<DoneLedgerBackend> {
        &self.core
    }

    /// Number of durable rows.
    pub fn len(&self) -> Result<usize, StoreError> {
        self.core.read(|d| d.rows)
    }

    /// Whether the ledger holds no durable row.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        self.len().map(|n| n == 0)
    }
}

impl DoneLedger for InMemoryDoneLedger {
    type Error = StoreError;
    type CommitHandle = InMemoryDoneLedgerHandle;

    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Self::Error> {
        check_read_size(ovid_hashes.len())?;
        let mut rows = Vec::new();
        self.reserve.vec(&mut rows, ovid_hashes.len())?;
        let scope_key = (tenant_id, policy_hash);
        self.core.read(|d| {
            let scope = d.scopes.get(&scope_key);
            let row = |ovid: &OvidHash| Some(scope?.get(ovid)?.to_record(key_of(&scope_key, *ovid)));
            rows.extend(ovid_hashes.iter().map(row));
        })?;
        Ok(rows)
    }

    /// Ascending by bytes, not in table order, which would leak which ovids
    /// share hash bits under the seed (`docs/contract.md §5.2`).
    fn list_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Vec<OvidHash>, Self::Error> {
        let mut hashes = self.core.read(|d| {
            let mut hashes = Vec::new();
            d.reserve.vec(&mut hashes, d.done_hashes(tenant_id, policy_hash).count())?;
            hashes.extend(d.done_hashes(tenant_id, policy_hash));
            Ok::<_, StoreError>(hashes)
        })??;
        // Outside the lock: the order is the caller's concern, not the store's.
        hashes.sort_unstable();
        Ok(hashes)
    }

    fn list_done_hashes_page(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Result<Vec<OvidHash>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| {
            let Some(table) = d.scopes.get(&(tenant_id, policy_hash)) else { return Ok(Vec::new()) };
            let candidates = table
                .iter()
                .filter(|(ovid, row)| row.status().is_terminal() && after.is_none_or(|after| **ovid > after))
                .map(|(ovid, _)| (*ovid, ()));
            let page = page::smallest(&d.reserve, candidates, table.len(), limit)?;
            let mut hashes = Vec::new();
            d.reserve.vec(&mut hashes, page.len())?;
            hashes.extend(page.into_iter().map(|(ovid, ())| ovid));
            Ok(hashes)
        })?
    }

    fn count_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Option<usize>, Self::Error> {
        self.core.read(|d| Some(d.done_hashes(tenant_id, policy_hash).count()))
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<InMemoryDoneLedgerHandle, Self::Error> {
        check_batch_size(records.len())?;
        let mut staged = Vec::new();
        self.reserve.vec(&mut staged, records.len())?;
        staged.extend_from_slice(records);
        StoreCore::submit(&self.core, staged)
    }
}

impl DoneLedgerInspect for InMemoryDoneLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Self::Error> {
        self.core.read(|d| d.get(key))
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Self::Error> {
        self.core.read(|d| d.rows_after(None, usize::MAX))?
    }

    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Result<Vec<DoneLedgerRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| d.rows_after(after, limit))?
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

/// A claim on one accepted done-ledger write (see [`StoreHandle`]).
pub type InMemoryDoneLedgerHandle = StoreHandle<DoneLedgerBackend>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::CommitHandle;
    use crate::done_ledger::{DoneLedgerProvenance, DoneLedgerStatus};
    use crate::identity::{FenceEpoch, LogicalTime, RunId, ShardId};
    use crate::input_error::{PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE};

    fn row(ovid: u8, status: DoneLedgerStatus) -> DoneLedgerRecord {
        let key = DoneLedgerKey::new(
            TenantId::from_bytes([1; 32]),
            PolicyHash::from_bytes([2; 32]),
            OvidHash::from_bytes([ovid; 32]),
        );
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(1),
            ShardId::from_raw(0),
            FenceEpoch::from_raw(1),
            LogicalTime::from_raw(1),
            LogicalTime::from_raw(2),
        );
        let findings = u32::from(status == DoneLedgerStatus::ScannedWithFindings);
        DoneLedgerRecord::try_new(key, status, 10, findings, provenance, None).expect("valid row")
    }

    #[test]
    fn done_hashes_are_listed_ascending_whatever_the_table_order() {
        let ledger = InMemoryDoneLedger::new();
        // Enough rows that table order and byte order cannot agree by chance.
        let rows: Vec<_> = (0..=200).rev().map(|ovid| row(ovid, DoneLedgerStatus::ScannedClean)).collect();
        ledger.batch_upsert(&rows).expect("accepted").wait().expect("applied");
        let listed =
            ledger.list_done_hashes(TenantId::from_bytes([1; 32]), PolicyHash::from_bytes([2; 32])).expect("listed");
        let ascending: Vec<_> = (0..=200).map(|ovid| OvidHash::from_bytes([ovid; 32])).collect();
        assert_eq!(listed, ascending);
    }

    #[test]
    fn an_owned_batch_is_checked_and_merged_like_a_borrowed_one() {
        let batch = vec![row(1, DoneLedgerStatus::ScannedClean), row(2, DoneLedgerStatus::ScannedWithFindings)];
        let (owned, borrowed) = (InMemoryDoneLedger::new(), InMemoryDoneLedger::new());
        let a = owned.batch_upsert_owned(batch.clone()).expect("accepted").wait().expect("applied");
        let b = borrowed.batch_upsert(&batch).expect("accepted").wait().expect("applied");
        assert_eq!(a, b);
        assert_eq!(owned.snapshot(), borrowed.snapshot());
        let too_many = vec![row(3, DoneLedgerStatus::ScannedClean); RECOMMENDED_MAX_BATCH_SIZE + 1];
        assert!(matches!(
            owned.batch_upsert_owned(too_many),
            Err(StoreError::BatchValidation(PersistenceInputError::BatchTooLarge { .. }))
        ));
        assert_eq!(owned.len(), Ok(2));
    }
}
