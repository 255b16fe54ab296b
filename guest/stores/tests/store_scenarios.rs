//! The 31 unit scenarios of the reference in-memory backend
//! (docs/contract.md §5, §7–§9), one test each, in the same order.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{
    done_record, finding_record, key, location, observation_record, occurrence_record, ovid, policy, provenance,
    sink_state, tenant, upsert_done, upsert_findings,
};
use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::done_ledger::DoneLedgerStatus::*;
use gossip_persistence::findings::{FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, RunId, ShardId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsInspect, FindingsSink, InMemoryDoneLedger,
    InMemoryFindingsSink, PersistenceInputError, StoreControl, StoreError, StoreKind,
};

/// Long enough that a woken waiter always reports in time; only reached if
/// the wake-up is genuinely lost.
const WAKE: Duration = Duration::from_secs(30);
/// How long a waiter is watched to show it is still blocked.
const STILL_BLOCKED: Duration = Duration::from_millis(100);

#[test]
fn t01_done_ledger_merge_is_monotonic_and_batch_get_is_positional() {
    let ledger = InMemoryDoneLedger::new();
    let first = done_record(1, 2, 3, FailedRetryable, 100, 0, provenance(10, 11, 12, 20, 30), Some("TIMEOUT"));
    let clean = done_record(1, 2, 3, ScannedClean, 90, 0, provenance(20, 21, 22, 40, 50), None);
    let late_failure = done_record(1, 2, 3, FailedPermanent, 200, 0, provenance(30, 31, 32, 60, 70), Some("FATAL"));
    for r in [&first, &clean, &late_failure] {
        upsert_done(&ledger, core::slice::from_ref(r));
    }
    let stored = ledger.get_record(&key(1, 2, 3)).expect("read").expect("row exists");
    assert_eq!(stored.status(), ScannedClean);
    assert_eq!(stored.bytes_scanned(), 200);
    assert_eq!(stored.findings_count(), 0);
    assert_eq!(*stored.provenance(), *clean.provenance());
    assert_eq!(stored.error_code(), None);
    let got = ledger.batch_get(tenant(1), policy(2), &[ovid(3), ovid(9)]).expect("read");
    assert_eq!(got, vec![Some(stored), None]);
}

#[test]
fn t02_done_ledger_snapshot_is_sorted_for_deterministic_assertions() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[common::clean_row(1, 2, 9, 1), common::clean_row(1, 2, 1, 1)]);
    let order: Vec<_> = ledger.snapshot().expect("snapshot").iter().map(|r| r.key().ovid_hash()).collect();
    assert_eq!(order, vec![ovid(1), ovid(9)]);
}

#[test]
fn t03_done_ledger_handles_block_until_release_and_support_manual_controls() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let h1 = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    let h2 = ledger.batch_upsert(&[common::clean_row(1, 2, 4, 1)]).expect("accepted");
    let (op1, op2) = (h1.operation_id(), h2.operation_id());
    assert_eq!(ledger.pending_ids().expect("ids"), vec![op1, op2]);

    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || tx.send(h1.wait()).expect("send"));
    assert!(rx.recv_timeout(STILL_BLOCKED).is_err(), "h1 must block until released");

    assert_eq!(ledger.release_next(CompletionOrder::NewestFirst).expect("release"), Some(op2));
    assert_eq!(h2.wait().expect("durable").record_count(), 1);
    assert_eq!(ledger.pending_count().expect("count"), 1);

    assert!(ledger.release_specific(op1).expect("release"));
    let receipt = rx.recv_timeout(WAKE).expect("waiter woken").expect("durable");
    assert_eq!(receipt.record_count(), 1);
    waiter.join().expect("waiter thread");
    assert!(!ledger.release_specific(op1).expect("release"), "already released");

    ledger.fail_next_commits(1).expect("arm");
    let failing = ledger.batch_upsert(&[common::clean_row(1, 2, 5, 1)]).expect("accepted");
    assert!(ledger.release_specific(failing.operation_id()).expect("release"));
    assert_eq!(failing.wait(), Err(StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger }));
    assert_eq!(ledger.pending_count().expect("count"), 0);
    assert_eq!(ledger.get_record(&key(1, 2, 5)).expect("read"), None);
}

#[test]
fn t04_findings_upsert_is_idempotent_and_merges_observation_provenance() {
    let sink = InMemoryFindingsSink::new();
    let finding = finding_record(1, 10);
    let occurrence = occurrence_record(1, &finding, 20, 0);
    let first = observation_record(1, &occurrence, 30, 40, 50, 60, 70, 80);
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&finding),
            core::slice::from_ref(&occurrence),
            core::slice::from_ref(&first),
        ),
    );
    let newer = observation_record(1, &occurrence, 30, 40, 90, 91, 92, 100).with_location(location("repo/path"));
    upsert_findings(&sink, FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&newer)));
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(core::slice::from_ref(&finding), core::slice::from_ref(&occurrence), &[]),
    );

    let state = sink_state(&sink);
    assert_eq!(state.findings, vec![finding.clone()]);
    assert_eq!(state.occurrences, vec![occurrence.clone()]);
    assert_eq!(state.observations.len(), 1);
    let stored = &state.observations[0];
    assert_eq!(stored.seen_at(), LogicalTime::from_raw(100));
    assert_eq!(stored.run_id(), RunId::from_raw(90));
    assert_eq!(stored.shard_id(), ShardId::from_raw(91));
    assert_eq!(stored.fence_epoch(), FenceEpoch::from_raw(92));
    assert_eq!(stored.location().map(|l| l.display()), Some("repo/path"));

    assert_eq!(sink.get_finding(tenant(1), finding.finding_id()).expect("read"), Some(finding));
    assert_eq!(sink.get_occurrence(tenant(1), occurrence.occurrence_id()).expect("read"), Some(occurrence));
    assert_eq!(sink.get_observation(tenant(1), first.observation_id()).expect("read").as_ref(), Some(stored));
}

#[test]
fn t05_findings_upsert_rejects_missing_finding_without_partial_commit() {
    let sink = InMemoryFindingsSink::new();
    let present = finding_record(1, 10);
    let absent = finding_record(1, 11);
    let orphan = occurrence_record(1, &absent, 20, 0);
    let result = sink
        .upsert_batch(FindingsUpsertBatch::new(core::slice::from_ref(&present), core::slice::from_ref(&orphan), &[]))
        .expect("accepted")
        .wait();
    assert_eq!(
        result,
        Err(StoreError::MissingFinding {
            tenant_id: tenant(1),
            finding_id: absent.finding_id(),
            occurrence_id: orphan.occurrence_id(),
        })
    );
    let state = sink_state(&sink);
    assert!(state.findings.is_empty() && state.occurrences.is_empty() && state.observations.is_empty());
}

#[test]
fn t06_findings_upsert_rejects_missing_occurrence_without_partial_commit() {
    let sink = InMemoryFindingsSink::new();
    let c = common::chain(1, 10);
    let result = sink
        .upsert_batch(FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&c.observation)))
        .expect("accepted")
        .wait();
    assert_eq!(
        result,
        Err(StoreError::MissingOccurrence {
            tenant_id: tenant(1),
            occurrence_id: c.occurrence.occurrence_id(),
            observation_id: c.observation.observation_id(),
        })
    );
    let state = sink_state(&sink);
    assert!(state.findings.is_empty() && state.occurrences.is_empty() && state.observations.is_empty());
}

#[test]
fn t07_findings_submission_failures_and_release_all_are_deterministic() {
    let sink = InMemoryFindingsSink::with_auto_complete(false);
    let c = common::chain(1, 10);
    sink.fail_next_submissions(1).expect("arm");
    assert_eq!(
        sink.upsert_batch(c.batch()).map(|_| ()),
        Err(StoreError::InjectedSubmissionFailure { store: StoreKind::Findings })
    );
    assert_eq!(sink.pending_count().expect("count"), 0);
    let h1 = sink.upsert_batch(c.batch()).expect("accepted");
    let h2 = sink.upsert_batch(c.batch()).expect("accepted");
    assert_eq!(sink.pending_ids().expect("ids"), vec![h1.operation_id(), h2.operation_id()]);
    assert_eq!(sink.release_all(CompletionOrder::OldestFirst).expect("release"), 2);
    assert_eq!(h1.wait().expect("durable").finding_count(), 1);
    assert_eq!(h2.wait().expect("durable").observation_count(), 1);
    assert_eq!(sink.pending_count().expect("count"), 0);
}

#[test]
fn t08_release_specific_does_not_leave_stale_order_entries() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let handles: Vec<_> =
        (10..15).map(|o| ledger.batch_upsert(&[common::clean_row(1, 2, o, 1)]).expect("accepted")).collect();
    for h in &handles {
        assert!(ledger.release_specific(h.operation_id()).expect("release"));
    }
    for h in handles {
        h.wait().expect("durable");
    }
    assert_eq!(ledger.pending_count().expect("count"), 0);
    assert!(ledger.pending_ids().expect("ids").is_empty());
    let fresh = ledger.batch_upsert(&[common::clean_row(1, 2, 20, 1)]).expect("accepted");
    assert_eq!(ledger.pending_ids().expect("ids"), vec![fresh.operation_id()]);
    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(fresh.operation_id()));
    fresh.wait().expect("durable");
}

#[test]
fn t09_findings_receipt_counts_deduplicated_rows_not_raw_input() {
    let sink = InMemoryFindingsSink::new();
    let f = finding_record(1, 10);
    let twice = [f.clone(), f];
    let receipt =
        sink.upsert_batch(FindingsUpsertBatch::new(&twice, &[], &[])).expect("accepted").wait().expect("durable");
    assert_eq!(receipt.finding_count(), 1);
    assert_eq!(sink.findings_snapshot().expect("snapshot").len(), 1);
}

#[test]
fn t10_done_ledger_empty_batch_returns_zero_receipt() {
    let ledger = InMemoryDoneLedger::new();
    let receipt = ledger.batch_upsert(&[]).expect("accepted").wait().expect("durable");
    assert_eq!((receipt.record_count(), receipt.scanned_count(), receipt.findings_count()), (0, 0, 0));
    assert!(ledger.snapshot().expect("snapshot").is_empty());
}

#[test]
fn t11_findings_empty_batch_returns_zero_receipt() {
    let sink = InMemoryFindingsSink::new();
    let receipt = sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted").wait().expect("durable");
    assert_eq!((receipt.finding_count(), receipt.occurrence_count(), receipt.observation_count()), (0, 0, 0));
}

#[test]
fn t12_observation_conflict_on_mismatched_identity_fields() {
    let sink = InMemoryFindingsSink::new();
    let finding = finding_record(1, 10);
    let occurrence = occurrence_record(1, &finding, 20, 0);
    let obs_a = observation_record(1, &occurrence, 30, 40, 50, 60, 70, 80);
    let obs_b = observation_record(1, &occurrence, 30, 41, 50, 60, 70, 90);
    assert_eq!(obs_a.observation_id(), obs_b.observation_id(), "same derived id, different ovid");
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&finding),
            core::slice::from_ref(&occurrence),
            core::slice::from_ref(&obs_a),
        ),
    );
    let result =
        sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&obs_b))).expect("accepted").wait();
    assert_eq!(
        result,
        Err(StoreError::ObservationConflict { tenant_id: obs_b.tenant_id(), observation_id: obs_b.observation_id() })
    );
    let stored = sink.get_observation(tenant(1), obs_a.observation_id()).expect("read").expect("row");
    assert_eq!(stored.seen_at(), LogicalTime::from_raw(80));
}

#[test]
fn t13_observation_conflict_within_single_batch() {
    let sink = InMemoryFindingsSink::new();
    let finding = finding_record(1, 10);
    let occurrence = occurrence_record(1, &finding, 20, 0);
    let obs = [
        observation_record(1, &occurrence, 30, 40, 50, 60, 70, 80),
        observation_record(1, &occurrence, 30, 41, 50, 60, 70, 90),
    ];
    let result = sink
        .upsert_batch(FindingsUpsertBatch::new(
            core::slice::from_ref(&finding),
            core::slice::from_ref(&occurrence),
            &obs,
        ))
        .expect("accepted")
        .wait();
    assert!(matches!(result, Err(StoreError::ObservationConflict { .. })), "{result:?}");
    let state = sink_state(&sink);
    assert!(state.findings.is_empty() && state.occurrences.is_empty() && state.observations.is_empty());
}

#[test]
fn t14_delay_next_writes_overrides_auto_complete_for_exact_count() {
    let ledger = InMemoryDoneLedger::new();
    ledger.delay_next_writes(1).expect("arm");
    let delayed = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    assert_eq!(ledger.pending_count().expect("count"), 1);
    let auto = ledger.batch_upsert(&[common::clean_row(1, 2, 4, 1)]).expect("accepted");
    assert_eq!(auto.wait().expect("durable").record_count(), 1);
    assert!(ledger.get_record(&key(1, 2, 4)).expect("read").is_some());
    assert!(ledger.get_record(&key(1, 2, 3)).expect("read").is_none(), "delayed write not yet visible");
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    delayed.wait().expect("durable");
    assert_eq!(ledger.pending_count().expect("count"), 0);
    assert!(ledger.get_record(&key(1, 2, 3)).expect("read").is_some());
}

#[test]
fn t15_done_ledger_intra_batch_duplicate_keys_merge_correctly() {
    let ledger = InMemoryDoneLedger::new();
    let batch = [
        done_record(1, 2, 3, FailedRetryable, 100, 0, provenance(1, 1, 1, 10, 20), Some("TIMEOUT")),
        done_record(1, 2, 3, ScannedClean, 200, 0, provenance(1, 1, 1, 30, 40), None),
    ];
    let receipt = ledger.batch_upsert(&batch).expect("accepted").wait().expect("durable");
    assert_eq!(receipt.record_count(), 1, "distinct keys");
    let stored = ledger.get_record(&key(1, 2, 3)).expect("read").expect("row");
    assert_eq!(stored.status(), ScannedClean);
    assert_eq!(stored.bytes_scanned(), 200);
    assert_eq!(stored.error_code(), None);
    assert_eq!(ledger.snapshot().expect("snapshot").len(), 1);
}

#[test]
fn t16_done_ledger_merge_failure_to_scanned_clean_clears_findings_count() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(
        &ledger,
        &[done_record(1, 2, 3, FailedRetryable, 100, 3, provenance(1, 1, 1, 10, 20), Some("TIMEOUT"))],
    );
    upsert_done(&ledger, &[done_record(1, 2, 3, ScannedClean, 200, 0, provenance(1, 1, 1, 30, 40), None)]);
    let stored = ledger.get_record(&key(1, 2, 3)).expect("read").expect("row");
    assert_eq!((stored.status(), stored.findings_count(), stored.bytes_scanned()), (ScannedClean, 0, 200));
    assert_eq!(stored.error_code(), None);
}

#[test]
fn t17_batch_dedup_then_merge_agrees_with_two_phase_semantics() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[done_record(1, 2, 3, ScannedWithFindings, 500, 1, provenance(1, 2, 3, 10, 20), None)]);
    upsert_done(
        &ledger,
        &[
            done_record(1, 2, 3, FailedRetryable, 100, 3, provenance(1, 2, 3, 30, 40), Some("TIMEOUT")),
            done_record(1, 2, 3, ScannedClean, 200, 0, provenance(1, 2, 3, 50, 60), None),
        ],
    );
    let stored = ledger.get_record(&key(1, 2, 3)).expect("read").expect("row");
    assert_eq!((stored.status(), stored.findings_count(), stored.bytes_scanned()), (ScannedWithFindings, 1, 500));
}

#[test]
fn t18_done_ledger_delay_next_writes_delays_exact_count() {
    let ledger = InMemoryDoneLedger::new();
    ledger.delay_next_writes(2).expect("arm");
    let r1 = ledger.batch_upsert(&[common::clean_row(1, 2, 1, 1)]).expect("accepted");
    let r2 = ledger.batch_upsert(&[common::clean_row(1, 2, 2, 1)]).expect("accepted");
    assert_eq!(ledger.pending_count().expect("count"), 2);
    let r3 = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    r3.wait().expect("durable");
    assert!(ledger.get_record(&key(1, 2, 3)).expect("read").is_some());
    assert_eq!(ledger.pending_count().expect("count"), 2);
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 2);
    r1.wait().expect("durable");
    r2.wait().expect("durable");
    assert!(ledger.get_record(&key(1, 2, 1)).expect("read").is_some());
    assert!(ledger.get_record(&key(1, 2, 2)).expect("read").is_some());
}

#[test]
fn t19_multiple_threads_wait_on_different_handles() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let h1 = ledger.batch_upsert(&[common::clean_row(1, 2, 1, 1)]).expect("accepted");
    let h2 = ledger.batch_upsert(&[common::clean_row(1, 2, 2, 1)]).expect("accepted");
    let (tx1, rx1) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let t1 = thread::spawn(move || tx1.send(h1.wait()).expect("send"));
    let t2 = thread::spawn(move || tx2.send(h2.wait()).expect("send"));
    assert!(rx1.recv_timeout(Duration::from_millis(50)).is_err());
    assert!(rx2.recv_timeout(Duration::from_millis(50)).is_err());
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 2);
    assert_eq!(rx1.recv_timeout(WAKE).expect("woken").expect("durable").record_count(), 1);
    assert_eq!(rx2.recv_timeout(WAKE).expect("woken").expect("durable").record_count(), 1);
    t1.join().expect("thread");
    t2.join().expect("thread");
}

#[test]
fn t20_release_next_returns_none_on_empty_queue() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let sink = InMemoryFindingsSink::with_auto_complete(false);
    for order in [CompletionOrder::OldestFirst, CompletionOrder::NewestFirst] {
        assert_eq!(ledger.release_next(order).expect("release"), None);
        assert_eq!(sink.release_next(order).expect("release"), None);
    }
}

/// Commits a finding, its occurrence and `existing`, then upserts `incoming`
/// alone, and returns the stored observation.
fn merge_through_store(
    existing: impl FnOnce(&OccurrenceRecord) -> ObservationRecord,
    incoming: impl FnOnce(&OccurrenceRecord) -> ObservationRecord,
) -> ObservationRecord {
    let sink = InMemoryFindingsSink::new();
    let finding = finding_record(1, 10);
    let occurrence = occurrence_record(1, &finding, 20, 0);
    let existing = existing(&occurrence);
    let incoming = incoming(&occurrence);
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&finding),
            core::slice::from_ref(&occurrence),
            core::slice::from_ref(&existing),
        ),
    );
    upsert_findings(&sink, FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&incoming)));
    let rows = sink.observations_snapshot().expect("snapshot");
    assert_eq!(rows.len(), 1);
    rows.into_iter().next().expect("one row")
}

#[test]
fn t21_observation_merge_preserves_location_from_either_record() {
    let stored = merge_through_store(
        |occ| observation_record(1, occ, 30, 40, 50, 51, 52, 100),
        |occ| observation_record(1, occ, 30, 40, 90, 91, 92, 80).with_location(location("repo/path")),
    );
    assert_eq!(stored.seen_at(), LogicalTime::from_raw(100));
    assert_eq!(stored.run_id(), RunId::from_raw(50));
    assert_eq!(stored.location().map(|l| l.display()), Some("repo/path"));
}

#[test]
fn t22_combined_failure_modes_are_independent() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    ledger.fail_next_submissions(1).expect("arm");
    ledger.fail_next_commits(1).expect("arm");
    assert_eq!(
        ledger.batch_upsert(&[common::clean_row(1, 2, 1, 1)]).map(|_| ()),
        Err(StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger })
    );
    let r2 = ledger.batch_upsert(&[common::clean_row(1, 2, 2, 1)]).expect("accepted");
    assert!(ledger.release_specific(r2.operation_id()).expect("release"));
    assert_eq!(r2.wait(), Err(StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger }));
    let r3 = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    assert!(ledger.release_specific(r3.operation_id()).expect("release"));
    assert_eq!(r3.wait().expect("durable").record_count(), 1);
    assert!(ledger.get_record(&key(1, 2, 3)).expect("read").is_some());
    assert!(ledger.get_record(&key(1, 2, 2)).expect("read").is_none());
}

#[test]
fn t23_get_record_and_get_finding_return_none_for_missing_keys() {
    let ledger = InMemoryDoneLedger::new();
    let sink = InMemoryFindingsSink::new();
    let c = common::chain(1, 10);
    assert_eq!(ledger.get_record(&key(1, 2, 3)).expect("read"), None);
    assert_eq!(sink.get_finding(tenant(1), c.finding.finding_id()).expect("read"), None);
    assert_eq!(sink.get_occurrence(tenant(1), c.occurrence.occurrence_id()).expect("read"), None);
    assert_eq!(sink.get_observation(tenant(1), c.observation.observation_id()).expect("read"), None);
}

fn two_writes(first: DoneLedgerRecord, second: DoneLedgerRecord) -> DoneLedgerRecord {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[first]);
    upsert_done(&ledger, &[second]);
    ledger.get_record(&key(1, 2, 3)).expect("read").expect("row")
}

#[test]
fn t24_skipped_dominates_failed_retryable() {
    let stored = two_writes(
        done_record(1, 2, 3, FailedRetryable, 100, 0, provenance(1, 1, 1, 10, 20), Some("TIMEOUT")),
        done_record(1, 2, 3, Skipped, 50, 0, provenance(2, 2, 2, 30, 40), Some("UNSUPPORTED_FORMAT")),
    );
    assert_eq!(stored.status(), Skipped);
    assert_eq!(stored.bytes_scanned(), 100);
    assert_eq!(stored.error_code().map(|c| c.as_str()), Some("UNSUPPORTED_FORMAT"));
}

#[test]
fn t25_scanned_clean_dominates_skipped() {
    let stored = two_writes(
        done_record(1, 2, 3, Skipped, 80, 0, provenance(1, 1, 1, 10, 20), Some("SIZE_CAP")),
        done_record(1, 2, 3, ScannedClean, 200, 0, provenance(2, 2, 2, 30, 40), None),
    );
    assert_eq!((stored.status(), stored.bytes_scanned()), (ScannedClean, 200));
    assert_eq!(stored.error_code(), None);
}

#[test]
fn t26_scanned_with_findings_not_downgraded_by_skipped() {
    let stored = two_writes(
        done_record(1, 2, 3, ScannedWithFindings, 300, 5, provenance(1, 1, 1, 10, 20), None),
        done_record(1, 2, 3, Skipped, 50, 0, provenance(2, 2, 2, 30, 40), Some("FILTERED")),
    );
    assert_eq!((stored.status(), stored.findings_count(), stored.bytes_scanned()), (ScannedWithFindings, 5, 300));
    assert_eq!(stored.error_code(), None);
}

#[test]
fn t27_scanned_with_findings_not_downgraded_by_scanned_clean() {
    let stored = two_writes(
        done_record(1, 2, 3, ScannedWithFindings, 250, 3, provenance(1, 1, 1, 10, 20), None),
        done_record(1, 2, 3, ScannedClean, 400, 0, provenance(2, 2, 2, 30, 40), None),
    );
    assert_eq!((stored.status(), stored.findings_count(), stored.bytes_scanned()), (ScannedWithFindings, 3, 400));
    assert_eq!(stored.error_code(), None);
}

#[test]
fn t28_inconsistent_tenant_batch_is_rejected_before_lock() {
    let sink = InMemoryFindingsSink::new();
    let findings = [finding_record(1, 10), finding_record(2, 10)];
    assert_eq!(
        sink.upsert_batch(FindingsUpsertBatch::new(&findings, &[], &[])).map(|_| ()),
        Err(StoreError::BatchValidation(PersistenceInputError::InconsistentTenant))
    );
    let state = sink_state(&sink);
    assert!(state.findings.is_empty() && state.occurrences.is_empty() && state.observations.is_empty());
}

#[test]
fn t29_observation_merge_equal_seen_at_both_with_location_keeps_existing() {
    let stored = merge_through_store(
        |occ| observation_record(1, occ, 30, 40, 50, 51, 52, 100).with_location(location("existing/path")),
        |occ| observation_record(1, occ, 30, 40, 90, 91, 92, 100).with_location(location("incoming/path")),
    );
    assert_eq!(stored.run_id(), RunId::from_raw(50));
    assert_eq!(stored.location().map(|l| l.display()), Some("existing/path"));
}

#[test]
fn t30_observation_merge_earlier_incoming_keeps_existing_provenance() {
    let stored = merge_through_store(
        |occ| observation_record(1, occ, 30, 40, 50, 51, 52, 200),
        |occ| observation_record(1, occ, 30, 40, 90, 91, 92, 100).with_location(location("incoming/path")),
    );
    assert_eq!(stored.seen_at(), LogicalTime::from_raw(200));
    assert_eq!(stored.run_id(), RunId::from_raw(50));
    assert_eq!(stored.location().map(|l| l.display()), Some("incoming/path"));
}

#[test]
fn t31_observation_merge_equal_seen_at_existing_has_location_keeps_existing() {
    let stored = merge_through_store(
        |occ| observation_record(1, occ, 30, 40, 50, 51, 52, 100).with_location(location("existing/path")),
        |occ| observation_record(1, occ, 30, 40, 90, 91, 92, 100),
    );
    assert_eq!(stored.run_id(), RunId::from_raw(50));
    assert_eq!(stored.location().map(|l| l.display()), Some("existing/path"));
}
