//! Replays acknowledge identically: a batch written again (immediately, or
//! through a delayed write where the backend has the test machinery) returns
//! the same receipt and changes nothing.
//! The batches carry in-batch duplicates, so the receipts also pin the
//! "distinct keys of the batch-merged rows" rule.

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
};
use gossip_persistence::identity::{LogicalTime, PolicyHash, TenantId};
use gossip_persistence::{CompletionOrder, StoreControl, TrackedHandle};

use super::error::CheckFailure;
use super::fixture::{FixtureError, SampleFixture, done_record, fill32, indexed_ovid, provenance};
use super::harness::{
    control, ensure_control, ensure_findings, ensure_ledger, findings_state, findings_unchanged, fixture_failed,
    get_observation, get_single, ledger_snapshot, ledger_submit_only, ledger_unchanged, new_ledger, new_sink,
    submit_ledger, submit_sink, wait_ledger,
};
use crate::backend::Backend;

/// A batch with in-batch duplicates, its receipt, and the merged row of its
/// duplicated key.
fn replay_batch(
    tenant: TenantId,
    policy: PolicyHash,
) -> Result<(Vec<DoneLedgerRecord>, DoneLedgerRecord, DoneLedgerCommitReceipt), FixtureError> {
    use DoneLedgerStatus::{FailedRetryable, ScannedClean, ScannedWithFindings, Skipped};
    let key = |i| DoneLedgerKey::new(tenant, policy, indexed_ovid(i));
    let batch = vec![
        done_record(key(1), FailedRetryable, 100, 5, provenance(1, 1, 1, 10, 20), Some("TIMEOUT"))?,
        done_record(key(2), ScannedClean, 200, 0, provenance(2, 2, 2, 10, 20), None)?,
        done_record(key(1), ScannedWithFindings, 50, 2, provenance(3, 3, 3, 30, 40), None)?,
        done_record(key(3), Skipped, 10, 0, provenance(4, 4, 4, 10, 20), Some("UNSUPPORTED_FORMAT"))?,
    ];
    // Key 1 merges in-batch: scanned status, the larger bytes, the
    // scanned row's count and provenance, no error code.
    let merged = done_record(key(1), ScannedWithFindings, 100, 2, provenance(3, 3, 3, 30, 40), None)?;
    // Three distinct keys, two of them scanned, findings 2 + 0 + 0.
    Ok((batch, merged, DoneLedgerCommitReceipt::new(3, 2, 2)))
}

pub(crate) fn done_ledger_receipts<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const FIRST: &str = "replay/done-ledger-receipts:first";
    const REPLAY: &str = "replay/done-ledger-receipts:replay";
    let (tenant, policy) = (TenantId::from_bytes(fill32(0x91)), PolicyHash::from_bytes(fill32(0x92)));
    let (batch, merged, expected) = replay_batch(tenant, policy).map_err(|e| fixture_failed(FIRST, e))?;
    let ledger = new_ledger(backend, FIRST)?;

    let receipt = submit_ledger(&ledger, &batch, FIRST)?;
    ensure_ledger(receipt == expected, FIRST, || format!("receipt {receipt:?}, expected {expected:?}"))?;
    let row = get_single(&ledger, merged.key(), FIRST)?;
    ensure_ledger(row == merged, FIRST, || format!("in-batch merge gave {row:?}, expected {merged:?}"))?;
    let after_first = ledger_snapshot(&ledger, FIRST)?;

    let again = submit_ledger(&ledger, &batch, REPLAY)?;
    ensure_ledger(again == receipt, REPLAY, || format!("replay receipt {again:?} differs from {receipt:?}"))?;
    ledger_unchanged(REPLAY, &after_first, &ledger_snapshot(&ledger, REPLAY)?)
}

/// Needs the test machinery: the replay is held back by `delay_next_writes`.
pub(crate) fn done_ledger_delayed_receipts<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const FIRST: &str = "replay/done-ledger-delayed-receipts:first";
    const DELAYED: &str = "replay/done-ledger-delayed-receipts:delayed-replay";
    let (tenant, policy) = (TenantId::from_bytes(fill32(0x95)), PolicyHash::from_bytes(fill32(0x96)));
    let (batch, _, expected) = replay_batch(tenant, policy).map_err(|e| fixture_failed(FIRST, e))?;
    let ledger = new_ledger(backend, FIRST)?;

    let receipt = submit_ledger(&ledger, &batch, FIRST)?;
    ensure_ledger(receipt == expected, FIRST, || format!("receipt {receipt:?}, expected {expected:?}"))?;
    let after_first = ledger_snapshot(&ledger, FIRST)?;

    control(ledger.delay_next_writes(1), DELAYED)?;
    let handle = ledger_submit_only(&ledger, &batch, DELAYED)?;
    let id = handle.operation_id();
    let released = control(ledger.release_next(CompletionOrder::OldestFirst), DELAYED)?;
    ensure_control(released == Some(id), DELAYED, || format!("release_next returned {released:?}, expected {id}"))?;
    let delayed = wait_ledger(&ledger, handle, DELAYED)?;
    ensure_ledger(delayed == receipt, DELAYED, || {
        format!("delayed replay receipt {delayed:?} differs from {receipt:?}")
    })?;
    ledger_unchanged(DELAYED, &after_first, &ledger_snapshot(&ledger, DELAYED)?)
}

pub(crate) fn findings_receipts<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const FIRST: &str = "replay/findings-receipts:first";
    const REPLAY: &str = "replay/findings-receipts:replay";
    let tenant = TenantId::from_bytes(fill32(0x93));
    let policy = PolicyHash::from_bytes(fill32(0x94));
    let build = || -> Result<_, FixtureError> {
        Ok((SampleFixture::in_scope(0x30, tenant, policy)?, SampleFixture::in_scope(0x38, tenant, policy)?))
    };
    let (a, b) = build().map_err(|e| fixture_failed(FIRST, e))?;
    let seen = &a.observation;
    // The same observation seen later, without a location.
    let later = ObservationRecord::new(
        seen.tenant_id(),
        seen.occurrence_id(),
        seen.policy_hash(),
        seen.ovid_hash(),
        seen.run_id(),
        seen.shard_id(),
        seen.fence_epoch(),
        LogicalTime::from_raw(seen.seen_at().as_raw() + 5),
    );
    // The later sighting wins the provenance; the location falls back to the earlier one.
    let merged = match seen.location_arc() {
        Some(location) => later.clone().with_location(location),
        None => later.clone(),
    };
    let findings = [a.finding.clone(), b.finding.clone(), a.finding.clone()];
    let occurrences = [a.occurrence.clone(), b.occurrence.clone()];
    let observations = [a.observation.clone(), b.observation.clone(), later];
    let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
    let expected = FindingsCommitReceipt::new(2, 2, 2);
    let sink = new_sink(backend, FIRST)?;

    let receipt = submit_sink(&sink, batch, FIRST)?;
    ensure_findings(receipt == expected, FIRST, || format!("receipt {receipt:?}, expected {expected:?}"))?;
    let after_first = findings_state(&sink, FIRST)?;
    ensure_findings(after_first.counts == DurableFindingsCounts::new(2, 2, 2), FIRST, || {
        format!("durable counts {:?}, expected two rows per layer", after_first.counts)
    })?;
    let stored = get_observation(&sink, tenant, &merged, FIRST)?;
    ensure_findings(stored.as_ref() == Some(&merged), FIRST, || {
        format!("in-batch observation merge gave {stored:?}, expected {merged:?}")
    })?;

    let again = submit_sink(&sink, batch, REPLAY)?;
    ensure_findings(again == receipt, REPLAY, || format!("replay receipt {again:?} differs from {receipt:?}"))?;
    findings_unchanged(REPLAY, &after_first, &findings_state(&sink, REPLAY)?)
}
