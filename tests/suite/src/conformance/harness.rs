//! Shared steps of the checks: fresh stores, submit-then-wait, reads,
//! expected rejections and state comparisons, each mapped to a
//! [`CheckFailure`] naming its case.

use core::cell::Cell;
use core::fmt::Display;

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{OvidHash, PolicyHash, TenantId};
use gossip_persistence::{CommitHandle, PendingWriteId, StoreControl, StoreError, TrackedHandle};

use super::error::{BoxError, CheckFailure};
use super::fixture::{FixtureError, SampleFixture, sample_fixture};
use crate::backend::{AsStoreError, Backend, SuiteLedger, SuiteSink};

fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> BoxError {
    Box::new(e)
}

pub(crate) fn fixture_failed(case: &'static str, e: FixtureError) -> CheckFailure {
    CheckFailure::FixtureConstruction { case, source: boxed(e) }
}

pub(crate) fn fixture(seed: u8, case: &'static str) -> Result<SampleFixture, CheckFailure> {
    sample_fixture(seed).map_err(|e| fixture_failed(case, e))
}

pub(crate) fn new_ledger<B: Backend>(backend: &B, case: &'static str) -> Result<B::Ledger, CheckFailure> {
    backend.new_ledger().map_err(|e| CheckFailure::Backend { case, source: e.into() })
}

pub(crate) fn new_sink<B: Backend>(backend: &B, case: &'static str) -> Result<B::Sink, CheckFailure> {
    backend.new_sink().map_err(|e| CheckFailure::Backend { case, source: e.into() })
}

pub(crate) fn ledger_invariant(case: &'static str, message: impl Into<String>) -> CheckFailure {
    CheckFailure::DoneLedgerInvariant { case, message: message.into() }
}

pub(crate) fn findings_invariant(case: &'static str, message: impl Into<String>) -> CheckFailure {
    CheckFailure::FindingsInvariant { case, message: message.into() }
}

pub(crate) fn ensure_ledger(
    ok: bool,
    case: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), CheckFailure> {
    if ok { Ok(()) } else { Err(ledger_invariant(case, message())) }
}

pub(crate) fn ensure_findings(
    ok: bool,
    case: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), CheckFailure> {
    if ok { Ok(()) } else { Err(findings_invariant(case, message())) }
}

pub(crate) fn ensure_control(
    ok: bool,
    case: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), CheckFailure> {
    if ok { Ok(()) } else { Err(CheckFailure::ControlInvariant { case, message: message() }) }
}

/// Maps a control call's error.
pub(crate) fn control<T, E: std::error::Error + Send + Sync + 'static>(
    result: Result<T, E>,
    case: &'static str,
) -> Result<T, CheckFailure> {
    result.map_err(|e| CheckFailure::Control { case, source: boxed(e) })
}

pub(crate) fn pending_ids<C: StoreControl>(store: &C, case: &'static str) -> Result<Vec<PendingWriteId>, CheckFailure> {
    control(store.pending_ids(), case)
}

thread_local! {
    /// Whether `settle` asks the store for its pending writes before waiting.
    static PENDING_GUARD: Cell<bool> = const { Cell::new(true) };
}

/// Turns the pending-write guard of [`settle`] on or off on this thread,
/// until dropped. The runner turns it off for a backend without the test
/// machinery: it cannot list pending writes, and (having no delays) it
/// never leaves one pending on purpose. Threads a check spawns keep the
/// guard on; only checks that need the test machinery spawn any.
pub(crate) struct PendingGuard {
    previous: bool,
}

impl PendingGuard {
    pub(crate) fn set(on: bool) -> Self {
        Self { previous: PENDING_GUARD.with(|guard| guard.replace(on)) }
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        PENDING_GUARD.with(|guard| guard.set(self.previous));
    }
}

/// Waits on a handle only once the store no longer lists it as pending: a
/// broken backend then fails the check instead of blocking the suite forever.
/// Without the test machinery (see [`PendingGuard`]) it just waits.
pub(crate) fn settle<C: StoreControl, H: CommitHandle + TrackedHandle>(
    store: &C,
    handle: H,
    case: &'static str,
) -> Result<Result<H::Receipt, H::Error>, CheckFailure> {
    if PENDING_GUARD.with(Cell::get) {
        let op_id = handle.operation_id();
        if pending_ids(store, case)?.contains(&op_id) {
            return Err(CheckFailure::StillPending { case, op_id });
        }
    }
    Ok(handle.wait())
}

/// Submit then wait; either failing fails the check.
pub(crate) fn submit_ledger<L: SuiteLedger>(
    ledger: &L,
    records: &[DoneLedgerRecord],
    case: &'static str,
) -> Result<DoneLedgerCommitReceipt, CheckFailure> {
    let handle = ledger.batch_upsert(records).map_err(|e| CheckFailure::DoneLedgerSubmit { case, source: boxed(e) })?;
    settle(ledger, handle, case)?.map_err(|e| CheckFailure::DoneLedgerWait { case, source: boxed(e) })
}

pub(crate) fn submit_sink<S: SuiteSink>(
    sink: &S,
    batch: FindingsUpsertBatch<'_>,
    case: &'static str,
) -> Result<FindingsCommitReceipt, CheckFailure> {
    let handle = sink.upsert_batch(batch).map_err(|e| CheckFailure::FindingsSubmit { case, source: boxed(e) })?;
    settle(sink, handle, case)?.map_err(|e| CheckFailure::FindingsWait { case, source: boxed(e) })
}

/// Waits on an accepted write that must succeed.
pub(crate) fn wait_ledger<L: SuiteLedger>(
    ledger: &L,
    handle: L::CommitHandle,
    case: &'static str,
) -> Result<DoneLedgerCommitReceipt, CheckFailure> {
    settle(ledger, handle, case)?.map_err(|e| CheckFailure::DoneLedgerWait { case, source: boxed(e) })
}

pub(crate) fn wait_sink<S: SuiteSink>(
    sink: &S,
    handle: S::CommitHandle,
    case: &'static str,
) -> Result<FindingsCommitReceipt, CheckFailure> {
    settle(sink, handle, case)?.map_err(|e| CheckFailure::FindingsWait { case, source: boxed(e) })
}

pub(crate) fn ledger_submit_only<L: SuiteLedger>(
    ledger: &L,
    records: &[DoneLedgerRecord],
    case: &'static str,
) -> Result<L::CommitHandle, CheckFailure> {
    ledger.batch_upsert(records).map_err(|e| CheckFailure::DoneLedgerSubmit { case, source: boxed(e) })
}

pub(crate) fn sink_submit_only<S: SuiteSink>(
    sink: &S,
    batch: FindingsUpsertBatch<'_>,
    case: &'static str,
) -> Result<S::CommitHandle, CheckFailure> {
    sink.upsert_batch(batch).map_err(|e| CheckFailure::FindingsSubmit { case, source: boxed(e) })
}

/// Where a rejected write surfaced its error. The contract lets a backend
/// reject at submit or at wait; both are accepted where the reference does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Submit,
    Wait,
}

impl Display for Stage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Submit => "submit",
            Self::Wait => "wait",
        })
    }
}

/// A write that must fail at submit or at wait; becoming durable fails the check.
pub(crate) fn ledger_rejection<L: SuiteLedger>(
    ledger: &L,
    records: &[DoneLedgerRecord],
    case: &'static str,
) -> Result<(Stage, L::E), CheckFailure> {
    let handle = match ledger.batch_upsert(records) {
        Ok(handle) => handle,
        Err(error) => return Ok((Stage::Submit, error)),
    };
    match settle(ledger, handle, case)? {
        Err(error) => Ok((Stage::Wait, error)),
        Ok(receipt) => {
            Err(ledger_invariant(case, format!("expected write failure, but the batch became durable ({receipt:?})")))
        }
    }
}

pub(crate) fn sink_rejection<S: SuiteSink>(
    sink: &S,
    batch: FindingsUpsertBatch<'_>,
    case: &'static str,
) -> Result<(Stage, S::E), CheckFailure> {
    let handle = match sink.upsert_batch(batch) {
        Ok(handle) => handle,
        Err(error) => return Ok((Stage::Submit, error)),
    };
    match settle(sink, handle, case)? {
        Err(error) => Ok((Stage::Wait, error)),
        Ok(receipt) => {
            Err(findings_invariant(case, format!("expected write failure, but the batch became durable ({receipt:?})")))
        }
    }
}

/// Compares a backend error with the reference error value, exactly.
pub(crate) fn expect_store_error<E: AsStoreError + Display>(
    case: &'static str,
    actual: &E,
    expected: &StoreError,
) -> Result<(), CheckFailure> {
    match actual.as_store_error() {
        Some(e) if e == expected => Ok(()),
        Some(e) => Err(CheckFailure::WrongError { case, expected: format!("{expected:?}"), actual: format!("{e:?}") }),
        None => Err(CheckFailure::WrongError {
            case,
            expected: format!("{expected:?}"),
            actual: format!("a non-store error: {actual}"),
        }),
    }
}

/// A rejection that must surface at `stage` with exactly `expected`.
pub(crate) fn expect_at<E: AsStoreError + Display>(
    case: &'static str,
    (stage, error): &(Stage, E),
    want_stage: Stage,
    expected: &StoreError,
) -> Result<(), CheckFailure> {
    expect_store_error(case, error, expected)?;
    if *stage == want_stage {
        Ok(())
    } else {
        Err(CheckFailure::WrongError {
            case,
            expected: format!("{expected:?} at {want_stage}"),
            actual: format!("the same error at {stage}"),
        })
    }
}

pub(crate) fn ledger_read<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
    case: &'static str,
) -> Result<T, CheckFailure> {
    r.map_err(|e| CheckFailure::DoneLedgerGet { case, source: boxed(e) })
}

pub(crate) fn findings_read<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
    case: &'static str,
) -> Result<T, CheckFailure> {
    r.map_err(|e| CheckFailure::FindingsRead { case, source: boxed(e) })
}

pub(crate) fn batch_get<L: SuiteLedger>(
    ledger: &L,
    tenant: TenantId,
    policy: PolicyHash,
    ovids: &[OvidHash],
    case: &'static str,
) -> Result<Vec<Option<DoneLedgerRecord>>, CheckFailure> {
    let rows = ledger_read(ledger.batch_get(tenant, policy, ovids), case)?;
    ensure_ledger(rows.len() == ovids.len(), case, || {
        format!("batch_get of {} hashes returned {} rows", ovids.len(), rows.len())
    })?;
    Ok(rows)
}

/// A read that must be refused (for example a too-large `batch_get` or
/// page): its error, or `invariant` naming how many rows it returned.
pub(crate) fn read_refused<T, E>(
    result: Result<Vec<T>, E>,
    case: &'static str,
    invariant: fn(&'static str, String) -> CheckFailure,
) -> Result<E, CheckFailure> {
    match result {
        Err(error) => Ok(error),
        Ok(rows) => {
            Err(invariant(case, format!("expected the read to be refused, but it returned {} rows", rows.len())))
        }
    }
}

/// The one durable row for `key`, read through `batch_get`.
pub(crate) fn get_single<L: SuiteLedger>(
    ledger: &L,
    key: &DoneLedgerKey,
    case: &'static str,
) -> Result<DoneLedgerRecord, CheckFailure> {
    let rows = ledger_read(ledger.batch_get(key.tenant_id(), key.policy_hash(), &[key.ovid_hash()]), case)?;
    match <[_; 1]>::try_from(rows) {
        Ok([Some(row)]) => Ok(row),
        Ok([None]) => Err(ledger_invariant(case, "expected durable record, got None")),
        Err(rows) => Err(ledger_invariant(case, format!("expected one result row, got {}", rows.len()))),
    }
}

/// Whether `key` has a durable row, read through `batch_get`.
pub(crate) fn is_durable<L: SuiteLedger>(
    ledger: &L,
    key: &DoneLedgerKey,
    case: &'static str,
) -> Result<bool, CheckFailure> {
    Ok(batch_get(ledger, key.tenant_id(), key.policy_hash(), &[key.ovid_hash()], case)?[0].is_some())
}

pub(crate) fn list_done<L: SuiteLedger>(
    ledger: &L,
    tenant: TenantId,
    policy: PolicyHash,
    case: &'static str,
) -> Result<Vec<OvidHash>, CheckFailure> {
    ledger_read(ledger.list_done_hashes(tenant, policy), case)
}

pub(crate) fn count_done<L: SuiteLedger>(
    ledger: &L,
    tenant: TenantId,
    policy: PolicyHash,
    case: &'static str,
) -> Result<Option<usize>, CheckFailure> {
    ledger_read(ledger.count_done_hashes(tenant, policy), case)
}

pub(crate) fn ledger_snapshot<L: SuiteLedger>(
    ledger: &L,
    case: &'static str,
) -> Result<Vec<DoneLedgerRecord>, CheckFailure> {
    ledger_read(ledger.snapshot(), case)
}

/// Fails unless the two snapshots are identical, naming the first difference.
pub(crate) fn ledger_unchanged(
    case: &'static str,
    before: &[DoneLedgerRecord],
    after: &[DoneLedgerRecord],
) -> Result<(), CheckFailure> {
    if before == after {
        return Ok(());
    }
    let first = before.iter().zip(after).position(|(a, b)| a != b).unwrap_or(before.len().min(after.len()));
    Err(ledger_invariant(
        case,
        format!(
            "durable rows changed: {} rows before, {} after; first difference at row {first}: {:?} -> {:?}",
            before.len(),
            after.len(),
            before.get(first),
            after.get(first)
        ),
    ))
}

pub(crate) fn probe<S: SuiteSink>(sink: &S, case: &'static str) -> Result<DurableFindingsCounts, CheckFailure> {
    sink.durable_counts().map_err(|e| CheckFailure::Probe { case, source: boxed(e) })
}

/// Every findings layer plus the probe's counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FindingsState {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
    pub counts: DurableFindingsCounts,
}

pub(crate) fn findings_state<S: SuiteSink>(sink: &S, case: &'static str) -> Result<FindingsState, CheckFailure> {
    Ok(FindingsState {
        findings: findings_read(sink.findings_snapshot(), case)?,
        occurrences: findings_read(sink.occurrences_snapshot(), case)?,
        observations: findings_read(sink.observations_snapshot(), case)?,
        counts: probe(sink, case)?,
    })
}

pub(crate) fn findings_unchanged(
    case: &'static str,
    before: &FindingsState,
    after: &FindingsState,
) -> Result<(), CheckFailure> {
    let mut changed = Vec::new();
    if before.findings != after.findings {
        changed.push(format!("findings {} -> {}", before.findings.len(), after.findings.len()));
    }
    if before.occurrences != after.occurrences {
        changed.push(format!("occurrences {} -> {}", before.occurrences.len(), after.occurrences.len()));
    }
    if before.observations != after.observations {
        changed.push(format!("observations {} -> {}", before.observations.len(), after.observations.len()));
    }
    if before.counts != after.counts {
        changed.push(format!("probe {:?} -> {:?}", before.counts, after.counts));
    }
    ensure_findings(changed.is_empty(), case, || format!("durable state changed: {}", changed.join("; ")))
}

pub(crate) fn get_finding<S: SuiteSink>(
    sink: &S,
    tenant: TenantId,
    record: &FindingRecord,
    case: &'static str,
) -> Result<Option<FindingRecord>, CheckFailure> {
    findings_read(sink.get_finding(tenant, record.finding_id()), case)
}

pub(crate) fn get_occurrence<S: SuiteSink>(
    sink: &S,
    tenant: TenantId,
    record: &OccurrenceRecord,
    case: &'static str,
) -> Result<Option<OccurrenceRecord>, CheckFailure> {
    findings_read(sink.get_occurrence(tenant, record.occurrence_id()), case)
}

pub(crate) fn get_observation<S: SuiteSink>(
    sink: &S,
    tenant: TenantId,
    record: &ObservationRecord,
    case: &'static str,
) -> Result<Option<ObservationRecord>, CheckFailure> {
    findings_read(sink.get_observation(tenant, record.observation_id()), case)
}
