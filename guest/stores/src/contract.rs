//! The persistence traits every backend implements.

use core::fmt::Debug;

use crate::control::TrackedHandle;
use crate::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use crate::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use crate::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use crate::input_error::check_read_size;
use crate::store::StoreError;

/// Reads a backend's error as the contract's [`StoreError`], when it is one.
/// `None` means an infrastructure failure the contract has no variant for
/// (a trapped component, a lost connection), which no check ever expects.
pub trait AsStoreError {
    /// The contract error this error is, if any.
    fn as_store_error(&self) -> Option<&StoreError>;
}

impl AsStoreError for StoreError {
    fn as_store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

/// What every store error type offers: the contract's errors convert into it
/// (so shared checks, such as read limits, can raise them) and read back out.
pub trait BackendError: std::error::Error + From<StoreError> + AsStoreError + Send + Sync + 'static {}

impl<T: std::error::Error + From<StoreError> + AsStoreError + Send + Sync + 'static> BackendError for T {}

/// One page of `rows` (sorted ascending by `key`): those strictly after
/// `after`, at most `limit`. The default paging of the traits below, for
/// backends that only produce whole sorted snapshots.
pub fn page_of<T, K: Ord>(rows: Vec<T>, after: Option<&K>, limit: usize, key: impl Fn(&T) -> K) -> Vec<T> {
    let start = after.map_or(0, |after| rows.partition_point(|row| key(row) <= *after));
    rows.into_iter().skip(start).take(limit).collect()
}

/// Marker for durable-write acknowledgements.
pub trait CommitReceipt: Clone + Debug + Send + Sync + 'static {}

impl CommitReceipt for DoneLedgerCommitReceipt {}
impl CommitReceipt for FindingsCommitReceipt {}

/// Proof that a write was *accepted*; it is durable only once `wait` returns Ok.
#[must_use = "durability is not established until wait() returns a receipt"]
pub trait CommitHandle: Send + 'static {
    /// What the write acknowledges once it is durable.
    type Receipt: CommitReceipt;
    /// A failed write's outcome; the write changed nothing (`docs/contract.md §9.7`).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Blocks until the write is durable or has failed. Consumes the handle.
    fn wait(self) -> Result<Self::Receipt, Self::Error>;
}

/// A handle for backends whose writes are durable before submit returns.
#[derive(Debug)]
pub struct ReadyCommitHandle<R, E>(Result<R, E>);

impl<R, E> ReadyCommitHandle<R, E> {
    /// A handle for a write already durable, acknowledged by `receipt`.
    pub const fn ok(receipt: R) -> Self {
        Self(Ok(receipt))
    }

    /// A handle for a write that already failed with `error`.
    pub const fn err(error: E) -> Self {
        Self(Err(error))
    }

    /// A handle for a write whose outcome is already known.
    pub const fn from_result(result: Result<R, E>) -> Self {
        Self(result)
    }
}

impl<R: CommitReceipt, E: std::error::Error + Send + Sync + 'static> CommitHandle for ReadyCommitHandle<R, E> {
    type Receipt = R;
    type Error = E;

    fn wait(self) -> Result<R, E> {
        self.0
    }
}

/// Which object versions are done, merged per key as a monotonic lattice.
pub trait DoneLedger: Send + Sync {
    /// Every contract error converts into it and reads back out (`docs/contract.md §10.1`).
    type Error: BackendError;
    /// Tracks one accepted `batch_upsert` until it is durable.
    type CommitHandle: CommitHandle<Receipt = DoneLedgerCommitReceipt, Error = Self::Error> + TrackedHandle;

    /// Positional: element i is the durable row for `ovid_hashes[i]`, or None.
    /// At most [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE) keys, else
    /// `BatchTooLarge` before anything is read.
    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Self::Error>;

    /// Every ovid in exactly this (tenant, policy) scope whose durable status is
    /// terminal, without duplicates, in unspecified order.
    fn list_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Vec<OvidHash>, Self::Error>;

    /// One page of `list_done_hashes`, ascending by bytes, strictly after
    /// `after`, at most `limit` (at most [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE),
    /// else `BatchTooLarge`). A page shorter than `limit` is the last.
    fn list_done_hashes_page(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Result<Vec<OvidHash>, Self::Error> {
        check_read_size(limit).map_err(StoreError::from)?;
        let mut all = self.list_done_hashes(tenant_id, policy_hash)?;
        all.sort_unstable();
        Ok(page_of(all, after.as_ref(), limit, |h| *h))
    }

    /// A cheap count of `list_done_hashes`, or `Ok(None)` when unsupported.
    fn count_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Option<usize>, Self::Error> {
        let _ = (tenant_id, policy_hash);
        Ok(None)
    }

    /// Accepts a batch; in-batch duplicate keys are merged, then merged into
    /// durable state. Durable only once the handle's `wait` returns a receipt.
    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<Self::CommitHandle, Self::Error>;
}

/// Findings, occurrences and observations, with referential integrity.
pub trait FindingsSink: Send + Sync {
    /// Every contract error converts into it and reads back out (`docs/contract.md §10.1`).
    type Error: BackendError;
    /// Tracks one accepted `upsert_batch` until it is durable.
    type CommitHandle: CommitHandle<Receipt = FindingsCommitReceipt, Error = Self::Error> + TrackedHandle;

    /// Accepts a batch of one tenant's rows whose parents are in the batch or durable
    /// (`docs/contract.md §7`). Durable only once the handle's `wait` returns a receipt.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<Self::CommitHandle, Self::Error>;
}

/// Durable row counts, for backend-agnostic idempotency checks.
pub trait FindingsConformanceProbe: Send + Sync {
    /// Every contract error converts into it and reads back out (`docs/contract.md §10.1`).
    type Error: BackendError;

    /// Durable rows per layer across all tenants, counting every applied write.
    fn durable_counts(&self) -> Result<DurableFindingsCounts, Self::Error>;
}

/// Point lookups and sorted snapshots of a done-ledger's durable state.
pub trait DoneLedgerInspect: DoneLedger {
    /// The durable row for `key`, or None; pending writes are invisible.
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Self::Error>;
    /// Every durable row, sorted by (tenant, policy, ovid) bytes.
    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Self::Error>;

    /// One page of `snapshot`: the rows strictly after `after`, at most
    /// `limit` (at most [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE), else
    /// `BatchTooLarge`). A page shorter than `limit` is the last.
    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Result<Vec<DoneLedgerRecord>, Self::Error> {
        check_read_size(limit).map_err(StoreError::from)?;
        Ok(page_of(self.snapshot()?, after, limit, |r| *r.key()))
    }
}

/// Point lookups and sorted snapshots of a findings sink's durable state.
pub trait FindingsInspect: FindingsSink {
    /// The durable finding `id` of `tenant_id`, or None; ids never match across tenants.
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Self::Error>;
    /// The durable occurrence `id` of `tenant_id`, or None.
    fn get_occurrence(&self, tenant_id: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Self::Error>;
    /// The durable observation `id` of `tenant_id`, or None.
    fn get_observation(&self, tenant_id: TenantId, id: ObservationId)
    -> Result<Option<ObservationRecord>, Self::Error>;
    /// Sorted by (tenant, id) bytes, like the other snapshots.
    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Self::Error>;
    /// Sorted by (tenant, id) bytes, like the other snapshots.
    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Self::Error>;
    /// Sorted by (tenant, id) bytes, like the other snapshots.
    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Self::Error>;

    /// One page of `findings_snapshot`: rows strictly after the (tenant, id)
    /// `after`, at most `limit` (at most [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE),
    /// else `BatchTooLarge`). A page shorter than `limit` is the last.
    fn findings_page(
        &self,
        after: Option<(TenantId, FindingId)>,
        limit: usize,
    ) -> Result<Vec<FindingRecord>, Self::Error> {
        check_read_size(limit).map_err(StoreError::from)?;
        Ok(page_of(self.findings_snapshot()?, after.as_ref(), limit, |r| (r.tenant_id(), r.finding_id())))
    }

    /// One page of `occurrences_snapshot`, paged like `findings_page`.
    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        check_read_size(limit).map_err(StoreError::from)?;
        Ok(page_of(self.occurrences_snapshot()?, after.as_ref(), limit, |r| (r.tenant_id(), r.occurrence_id())))
    }

    /// One page of `observations_snapshot`, paged like `findings_page`.
    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, Self::Error> {
        check_read_size(limit).map_err(StoreError::from)?;
        Ok(page_of(self.observations_snapshot()?, after.as_ref(), limit, |r| (r.tenant_id(), r.observation_id())))
    }
}
