//! The native stores a worker is served from, behind object-safe traits so
//! one runtime (one linker, one host-state type) serves any backend: the
//! in-memory stores, PostgreSQL, a component store. Implemented for every
//! type implementing the `gossip_persistence` traits.

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    AsStoreError, CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    StoreError, TrackedHandle,
};

/// Why a served store call failed.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// A contract error: the guest gets it as its `store-error`.
    Store(StoreError),
    /// A backend failure the contract has no error for (a lost connection,
    /// a trapped component): the call traps with it.
    Backend(String),
}

pub(crate) type Served<T> = Result<T, Failure>;

fn failure<E: AsStoreError + std::fmt::Display>(error: E) -> Failure {
    match error.as_store_error() {
        Some(contract) => Failure::Store(contract.clone()),
        None => Failure::Backend(error.to_string()),
    }
}

/// The blocking `wait` of one accepted write, to run off the guest's thread.
pub(crate) type Wait<R> = Box<dyn FnOnce() -> Served<R> + Send>;

/// One accepted write: its id, and how to wait for its outcome.
pub(crate) struct Submitted<R> {
    pub(crate) op_id: u64,
    pub(crate) wait: Wait<R>,
}

fn submitted<H>(handle: H) -> Submitted<H::Receipt>
where
    H: CommitHandle + TrackedHandle,
    H::Error: AsStoreError,
{
    let op_id = handle.operation_id().as_raw();
    Submitted { op_id, wait: Box::new(move || handle.wait().map_err(failure)) }
}

/// A done-ledger as the served `done-ledger` resource uses it.
pub(crate) trait LedgerPort: Send + Sync + 'static {
    fn batch_get(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        ovids: &[OvidHash],
    ) -> Served<Vec<Option<DoneLedgerRecord>>>;
    fn list_done_hashes_page(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Served<Vec<OvidHash>>;
    fn count_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Served<Option<usize>>;
    fn batch_upsert(&self, rows: &[DoneLedgerRecord]) -> Served<Submitted<DoneLedgerCommitReceipt>>;
    fn get_record(&self, key: &DoneLedgerKey) -> Served<Option<DoneLedgerRecord>>;
    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Served<Vec<DoneLedgerRecord>>;
}

impl<L> LedgerPort for L
where
    L: DoneLedgerInspect + 'static,
{
    fn batch_get(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        ovids: &[OvidHash],
    ) -> Served<Vec<Option<DoneLedgerRecord>>> {
        DoneLedger::batch_get(self, tenant, policy, ovids).map_err(failure)
    }

    fn list_done_hashes_page(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Served<Vec<OvidHash>> {
        DoneLedger::list_done_hashes_page(self, tenant, policy, after, limit).map_err(failure)
    }

    fn count_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Served<Option<usize>> {
        DoneLedger::count_done_hashes(self, tenant, policy).map_err(failure)
    }

    fn batch_upsert(&self, rows: &[DoneLedgerRecord]) -> Served<Submitted<DoneLedgerCommitReceipt>> {
        DoneLedger::batch_upsert(self, rows).map(submitted).map_err(failure)
    }

    fn get_record(&self, key: &DoneLedgerKey) -> Served<Option<DoneLedgerRecord>> {
        DoneLedgerInspect::get_record(self, key).map_err(failure)
    }

    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Served<Vec<DoneLedgerRecord>> {
        DoneLedgerInspect::snapshot_page(self, after, limit).map_err(failure)
    }
}

/// A findings sink as the served `findings-sink` resource uses it.
pub(crate) trait SinkPort: Send + Sync + 'static {
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Served<Submitted<FindingsCommitReceipt>>;
    fn durable_counts(&self) -> Served<DurableFindingsCounts>;
    fn get_finding(&self, tenant: TenantId, id: FindingId) -> Served<Option<FindingRecord>>;
    fn get_occurrence(&self, tenant: TenantId, id: OccurrenceId) -> Served<Option<OccurrenceRecord>>;
    fn get_observation(&self, tenant: TenantId, id: ObservationId) -> Served<Option<ObservationRecord>>;
    fn findings_page(&self, after: Option<(TenantId, FindingId)>, limit: usize) -> Served<Vec<FindingRecord>>;
    fn occurrences_page(&self, after: Option<(TenantId, OccurrenceId)>, limit: usize) -> Served<Vec<OccurrenceRecord>>;
    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Served<Vec<ObservationRecord>>;
}

impl<S> SinkPort for S
where
    S: FindingsInspect + FindingsConformanceProbe + 'static,
{
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Served<Submitted<FindingsCommitReceipt>> {
        FindingsSink::upsert_batch(self, batch).map(submitted).map_err(failure)
    }

    fn durable_counts(&self) -> Served<DurableFindingsCounts> {
        FindingsConformanceProbe::durable_counts(self).map_err(failure)
    }

    fn get_finding(&self, tenant: TenantId, id: FindingId) -> Served<Option<FindingRecord>> {
        FindingsInspect::get_finding(self, tenant, id).map_err(failure)
    }

    fn get_occurrence(&self, tenant: TenantId, id: OccurrenceId) -> Served<Option<OccurrenceRecord>> {
        FindingsInspect::get_occurrence(self, tenant, id).map_err(failure)
    }

    fn get_observation(&self, tenant: TenantId, id: ObservationId) -> Served<Option<ObservationRecord>> {
        FindingsInspect::get_observation(self, tenant, id).map_err(failure)
    }

    fn findings_page(&self, after: Option<(TenantId, FindingId)>, limit: usize) -> Served<Vec<FindingRecord>> {
        FindingsInspect::findings_page(self, after, limit).map_err(failure)
    }

    fn occurrences_page(&self, after: Option<(TenantId, OccurrenceId)>, limit: usize) -> Served<Vec<OccurrenceRecord>> {
        FindingsInspect::occurrences_page(self, after, limit).map_err(failure)
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Served<Vec<ObservationRecord>> {
        FindingsInspect::observations_page(self, after, limit).map_err(failure)
    }
}
