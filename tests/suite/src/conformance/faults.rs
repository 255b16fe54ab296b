//! Fault injection: armed submission faults reject exactly that many
//! submissions before any state change; armed commit faults fail exactly
//! that many applies (whichever writes are applied next), and a release
//! still counts a write whose commit failed.

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};
use gossip_persistence::findings::{DurableFindingsCounts, FindingsCommitReceipt};
use gossip_persistence::identity::{PolicyHash, TenantId};
use gossip_persistence::{CompletionOrder, StoreControl, StoreError, StoreKind, TrackedHandle};

use super::error::CheckFailure;
use super::fixture::{clean_rows, fill32};
use super::harness::{
    Stage, control, ensure_control, ensure_findings, ensure_ledger, expect_at, expect_store_error, fixture,
    fixture_failed, is_durable, ledger_invariant, ledger_rejection, ledger_snapshot, ledger_submit_only, new_ledger,
    new_sink, pending_ids, probe, settle, sink_rejection, submit_ledger, submit_sink, wait_ledger,
};
use crate::backend::Backend;

const LEDGER_SUBMIT: StoreError = StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger };
const LEDGER_COMMIT: StoreError = StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger };
const FINDINGS_SUBMIT: StoreError = StoreError::InjectedSubmissionFailure { store: StoreKind::Findings };
const FINDINGS_COMMIT: StoreError = StoreError::InjectedCommitFailure { store: StoreKind::Findings };

fn rows(seed: u8, n: usize, case: &'static str) -> Result<Vec<DoneLedgerRecord>, CheckFailure> {
    let tenant = TenantId::from_bytes(fill32(seed));
    let policy = PolicyHash::from_bytes(fill32(seed.wrapping_add(1)));
    clean_rows(tenant, policy, 0, n).map_err(|e| fixture_failed(case, e))
}

pub(crate) fn done_ledger_submit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const ARMED: &str = "faults/done-ledger-submit-failure:armed";
    const SPENT: &str = "faults/done-ledger-submit-failure:spent";
    let rows = rows(0x23, 1, ARMED)?;
    let ledger = new_ledger(backend, ARMED)?;
    // Arming adds up: two rejections in total.
    control(ledger.fail_next_submissions(1), ARMED)?;
    control(ledger.fail_next_submissions(1), ARMED)?;
    for _ in 0..2 {
        expect_at(ARMED, &ledger_rejection(&ledger, &rows, ARMED)?, Stage::Submit, &LEDGER_SUBMIT)?;
        let pending = pending_ids(&ledger, ARMED)?;
        ensure_control(pending.is_empty(), ARMED, || format!("a rejected submission is pending: {pending:?}"))?;
    }
    let snapshot = ledger_snapshot(&ledger, ARMED)?;
    ensure_ledger(snapshot.is_empty(), ARMED, || format!("rejected submissions left rows: {snapshot:?}"))?;
    let receipt = submit_ledger(&ledger, &rows, SPENT)?;
    let expected = DoneLedgerCommitReceipt::new(1, 1, 0);
    ensure_ledger(receipt == expected, SPENT, || format!("receipt {receipt:?}, expected {expected:?}"))?;
    ensure_ledger(is_durable(&ledger, rows[0].key(), SPENT)?, SPENT, || {
        "the third submission is not durable".to_owned()
    })
}

pub(crate) fn findings_submit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const ARMED: &str = "faults/findings-submit-failure:armed";
    const SPENT: &str = "faults/findings-submit-failure:spent";
    let fx = fixture(0x24, ARMED)?;
    let sink = new_sink(backend, ARMED)?;
    control(sink.fail_next_submissions(2), ARMED)?;
    for _ in 0..2 {
        expect_at(ARMED, &sink_rejection(&sink, fx.full_batch(), ARMED)?, Stage::Submit, &FINDINGS_SUBMIT)?;
        let pending = pending_ids(&sink, ARMED)?;
        ensure_control(pending.is_empty(), ARMED, || format!("a rejected submission is pending: {pending:?}"))?;
    }
    let counts = probe(&sink, ARMED)?;
    ensure_findings(counts == DurableFindingsCounts::default(), ARMED, || {
        format!("rejected submissions left rows: {counts:?}")
    })?;
    let receipt = submit_sink(&sink, fx.full_batch(), SPENT)?;
    let expected = FindingsCommitReceipt::new(1, 1, 1);
    ensure_findings(receipt == expected, SPENT, || format!("receipt {receipt:?}, expected {expected:?}"))
}

pub(crate) fn done_ledger_commit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const ARMED: &str = "faults/done-ledger-commit-failure:armed";
    const SPENT: &str = "faults/done-ledger-commit-failure:spent";
    let rows = rows(0x25, 1, ARMED)?;
    let ledger = new_ledger(backend, ARMED)?;
    control(ledger.fail_next_commits(1), ARMED)?;
    expect_at(ARMED, &ledger_rejection(&ledger, &rows, ARMED)?, Stage::Wait, &LEDGER_COMMIT)?;
    ensure_ledger(!is_durable(&ledger, rows[0].key(), ARMED)?, ARMED, || "a failed commit left its row".to_owned())?;
    submit_ledger(&ledger, &rows, SPENT)?;
    ensure_ledger(is_durable(&ledger, rows[0].key(), SPENT)?, SPENT, || "the retried write is not durable".to_owned())
}

pub(crate) fn findings_commit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const ARMED: &str = "faults/findings-commit-failure:armed";
    const SPENT: &str = "faults/findings-commit-failure:spent";
    let fx = fixture(0x26, ARMED)?;
    let sink = new_sink(backend, ARMED)?;
    control(sink.fail_next_commits(1), ARMED)?;
    expect_at(ARMED, &sink_rejection(&sink, fx.full_batch(), ARMED)?, Stage::Wait, &FINDINGS_COMMIT)?;
    let counts = probe(&sink, ARMED)?;
    ensure_findings(counts == DurableFindingsCounts::default(), ARMED, || {
        format!("a failed commit left rows: {counts:?}")
    })?;
    submit_sink(&sink, fx.full_batch(), SPENT)?;
    let counts = probe(&sink, SPENT)?;
    ensure_findings(counts == DurableFindingsCounts::new(1, 1, 1), SPENT, || {
        format!("the retried write left counts {counts:?}")
    })
}

/// The commit fault belongs to the next *applied* write: a delayed write
/// submitted first escapes it, the auto-completed one after it fails.
pub(crate) fn commit_failure_hits_next_applied<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "faults/commit-failure-hits-next-applied:submit";
    const RELEASE: &str = "faults/commit-failure-hits-next-applied:release";
    let rows = rows(0x27, 2, SUBMIT)?;
    let ledger = new_ledger(backend, SUBMIT)?;
    control(ledger.fail_next_commits(1), SUBMIT)?;
    control(ledger.delay_next_writes(1), SUBMIT)?;
    let delayed = ledger_submit_only(&ledger, &rows[..1], SUBMIT)?;
    let delayed_id = delayed.operation_id();
    let applied = ledger_submit_only(&ledger, &rows[1..], SUBMIT)?;
    match settle(&ledger, applied, SUBMIT)? {
        Err(error) => expect_store_error(SUBMIT, &error, &LEDGER_COMMIT)?,
        Ok(receipt) => {
            return Err(ledger_invariant(
                SUBMIT,
                format!("the first applied write escaped the commit fault: {receipt:?}"),
            ));
        }
    }
    ensure_ledger(!is_durable(&ledger, rows[1].key(), SUBMIT)?, SUBMIT, || "the failed write left its row".to_owned())?;
    ensure_ledger(!is_durable(&ledger, rows[0].key(), SUBMIT)?, SUBMIT, || "the delayed write is visible".to_owned())?;
    let released = control(ledger.release_specific(delayed_id), RELEASE)?;
    ensure_control(released, RELEASE, || format!("release_specific({delayed_id}) returned false"))?;
    wait_ledger(&ledger, delayed, RELEASE)?;
    ensure_ledger(is_durable(&ledger, rows[0].key(), RELEASE)?, RELEASE, || {
        "the released write is not durable".to_owned()
    })
}

/// `release_next` reports a write as released even when its commit fails;
/// the failure reaches only that write's handle.
pub(crate) fn failed_commit_still_released<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "faults/failed-commit-still-released:submit";
    const RELEASE: &str = "faults/failed-commit-still-released:release";
    let rows = rows(0x28, 2, SUBMIT)?;
    let ledger = new_ledger(backend, SUBMIT)?;
    control(ledger.set_auto_complete(false), SUBMIT)?;
    let first = ledger_submit_only(&ledger, &rows[..1], SUBMIT)?;
    let second = ledger_submit_only(&ledger, &rows[1..], SUBMIT)?;
    let (a, b) = (first.operation_id(), second.operation_id());
    control(ledger.fail_next_commits(1), SUBMIT)?;
    let released = control(ledger.release_next(CompletionOrder::NewestFirst), RELEASE)?;
    ensure_control(released == Some(b), RELEASE, || format!("release_next returned {released:?}, expected {b}"))?;
    match settle(&ledger, second, RELEASE)? {
        Err(error) => expect_store_error(RELEASE, &error, &LEDGER_COMMIT)?,
        Ok(receipt) => return Err(ledger_invariant(RELEASE, format!("the faulted write succeeded: {receipt:?}"))),
    }
    let released = control(ledger.release_next(CompletionOrder::NewestFirst), RELEASE)?;
    ensure_control(released == Some(a), RELEASE, || format!("release_next returned {released:?}, expected {a}"))?;
    wait_ledger(&ledger, first, RELEASE)?;
    let mask = (is_durable(&ledger, rows[0].key(), RELEASE)?, is_durable(&ledger, rows[1].key(), RELEASE)?);
    ensure_ledger(mask == (true, false), RELEASE, || format!("rows durable {mask:?}, expected (true, false)"))
}
