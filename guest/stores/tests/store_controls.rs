//! The store core's lifecycle and controls (docs/contract.md §9),
//! exercised through both stores.

mod common;

use common::{chain, clean_row, key, ledger_state};
use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsSink, InMemoryDoneLedger,
    InMemoryFindingsSink, PendingWriteId, RECOMMENDED_MAX_BATCH_SIZE, StoreControl, StoreError, StoreKind,
    TrackedHandle,
};

const LEDGER: StoreKind = StoreKind::DoneLedger;

fn submit(ledger: &InMemoryDoneLedger, ovid: u8) -> <InMemoryDoneLedger as DoneLedger>::CommitHandle {
    ledger.batch_upsert(&[clean_row(1, 2, ovid, 1)]).expect("accepted")
}

fn raw_ids(ids: &[PendingWriteId]) -> Vec<u64> {
    ids.iter().map(|id| id.as_raw()).collect()
}

#[test]
fn op_ids_start_at_one_and_are_shared_by_delayed_and_auto_writes() {
    let ledger = InMemoryDoneLedger::new();
    let a = submit(&ledger, 1);
    ledger.delay_next_writes(1).expect("arm");
    let b = submit(&ledger, 2);
    let c = submit(&ledger, 3);
    assert_eq!([a.operation_id(), b.operation_id(), c.operation_id()].map(PendingWriteId::as_raw), [1, 2, 3]);
    assert_eq!(TrackedHandle::operation_id(&b), b.operation_id());
    assert_eq!(raw_ids(&ledger.pending_ids().expect("ids")), vec![2], "auto-completed writes never queue");
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    for h in [a, b, c] {
        h.wait().expect("durable");
    }
}

#[test]
fn rejected_submissions_use_no_op_id() {
    let ledger = InMemoryDoneLedger::new();
    ledger.fail_next_submissions(2).expect("arm");
    for _ in 0..2 {
        assert_eq!(
            ledger.batch_upsert(&[clean_row(1, 2, 1, 1)]).map(|_| ()),
            Err(StoreError::InjectedSubmissionFailure { store: LEDGER })
        );
    }
    assert_eq!(submit(&ledger, 1).operation_id().as_raw(), 1);
    assert!(ledger_state(&ledger).iter().any(|r| *r.key() == key(1, 2, 1)));
}

#[test]
fn batch_validation_at_submit_consumes_neither_an_id_nor_a_submission_fault() {
    let sink = InMemoryFindingsSink::new();
    sink.fail_next_submissions(1).expect("arm");
    let findings = [common::finding_record(1, 10), common::finding_record(2, 10)];
    assert!(matches!(
        sink.upsert_batch(FindingsUpsertBatch::new(&findings, &[], &[])),
        Err(StoreError::BatchValidation(_))
    ));
    let c = chain(1, 10);
    assert_eq!(
        sink.upsert_batch(c.batch()).map(|_| ()),
        Err(StoreError::InjectedSubmissionFailure { store: StoreKind::Findings }),
        "the armed fault was still there"
    );
    assert_eq!(sink.upsert_batch(c.batch()).expect("accepted").operation_id().as_raw(), 1);

    let ledger = InMemoryDoneLedger::new();
    ledger.fail_next_submissions(1).expect("arm");
    let too_many = vec![clean_row(1, 2, 3, 1); RECOMMENDED_MAX_BATCH_SIZE + 1];
    assert!(matches!(ledger.batch_upsert(&too_many), Err(StoreError::BatchValidation(_))));
    assert!(matches!(ledger.batch_upsert(&[]), Err(StoreError::InjectedSubmissionFailure { .. })));
    assert_eq!(submit(&ledger, 1).operation_id().as_raw(), 1);
}

#[test]
fn controls_add_up() {
    let ledger = InMemoryDoneLedger::new();
    ledger.delay_next_writes(2).expect("arm");
    ledger.delay_next_writes(3).expect("arm");
    let handles: Vec<_> = (0..6).map(|o| submit(&ledger, o)).collect();
    assert_eq!(ledger.pending_count().expect("count"), 5, "2 + 3 delayed, the sixth auto-completes");

    ledger.fail_next_submissions(1).expect("arm");
    ledger.fail_next_submissions(1).expect("arm");
    assert!(ledger.batch_upsert(&[]).is_err());
    assert!(ledger.batch_upsert(&[]).is_err());
    ledger.batch_upsert(&[]).expect("third submission accepted").wait().expect("durable");

    ledger.fail_next_commits(1).expect("arm");
    ledger.fail_next_commits(1).expect("arm");
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 5);
    let outcomes: Vec<bool> = handles.into_iter().map(|h| h.wait().is_ok()).collect();
    assert_eq!(outcomes, [false, false, true, true, true, true], "the first two applies fail");
    // Saturating arm: a huge count cannot wrap around to zero.
    ledger.fail_next_submissions(usize::MAX).expect("arm");
    ledger.fail_next_submissions(1).expect("arm");
    assert!(ledger.batch_upsert(&[]).is_err());
}

#[test]
fn auto_complete_switch_affects_future_submissions_only() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let pending = submit(&ledger, 1);
    ledger.set_auto_complete(true).expect("switch");
    assert_eq!(ledger.pending_count().expect("count"), 1, "already pending stays pending");
    submit(&ledger, 2).wait().expect("auto-completed");
    assert!(ledger.get_record(&key(1, 2, 1)).expect("read").is_none());
    ledger.set_auto_complete(false).expect("switch");
    let later = submit(&ledger, 3);
    assert_eq!(raw_ids(&ledger.pending_ids().expect("ids")), vec![1, 3]);
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 2);
    pending.wait().expect("durable");
    later.wait().expect("durable");
    assert_eq!(ledger_state(&ledger).len(), 3);
}

#[test]
fn commit_fault_hits_whichever_write_is_applied_next() {
    let ledger = InMemoryDoneLedger::new();
    ledger.fail_next_commits(1).expect("arm");
    ledger.delay_next_writes(1).expect("arm");
    let a = submit(&ledger, 1);
    let b = submit(&ledger, 2);
    assert_eq!(b.wait(), Err(StoreError::InjectedCommitFailure { store: LEDGER }));
    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(a.operation_id()));
    assert_eq!(a.wait().expect("durable").record_count(), 1);
    assert!(ledger.get_record(&key(1, 2, 1)).expect("read").is_some());
    assert!(ledger.get_record(&key(1, 2, 2)).expect("read").is_none());
}

#[test]
fn release_next_drains_from_the_requested_end() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let handles: Vec<_> = (1..=4).map(|o| submit(&ledger, o)).collect();
    let ids: Vec<_> = handles.iter().map(|h| h.operation_id()).collect();
    assert_eq!(ledger.release_next(CompletionOrder::NewestFirst).expect("release"), Some(ids[3]));
    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(ids[0]));
    assert!(ledger.release_specific(ids[2]).expect("release"));
    // ids[2] is stale in the queue now and must be skipped.
    assert_eq!(ledger.release_next(CompletionOrder::NewestFirst).expect("release"), Some(ids[1]));
    assert_eq!(ledger.release_next(CompletionOrder::NewestFirst).expect("release"), None);
    for h in handles {
        h.wait().expect("durable");
    }
}

#[test]
fn release_all_applies_in_the_requested_order() {
    for (order, failing) in [(CompletionOrder::OldestFirst, 0), (CompletionOrder::NewestFirst, 2)] {
        let ledger = InMemoryDoneLedger::with_auto_complete(false);
        let handles: Vec<_> = (1..=3).map(|o| submit(&ledger, o)).collect();
        ledger.fail_next_commits(1).expect("arm");
        assert_eq!(ledger.release_all(order).expect("release"), 3, "a failed apply still counts as released");
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.wait().is_err(), i == failing, "{order:?}: write {i}");
        }
        assert_eq!(ledger.release_all(order).expect("release"), 0);
    }
}

#[test]
fn release_of_a_failing_write_still_reports_it_released() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let h = submit(&ledger, 1);
    ledger.fail_next_commits(1).expect("arm");
    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(h.operation_id()));
    assert!(h.wait().is_err());
}

#[test]
fn release_specific_of_unknown_or_finished_ids_changes_nothing() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let h = submit(&ledger, 1);
    for id in [0, 2, 99, u64::MAX] {
        assert!(!ledger.release_specific(PendingWriteId::from_raw(id)).expect("release"));
    }
    assert_eq!(ledger.pending_count().expect("count"), 1);
    ledger.set_auto_complete(true).expect("switch");
    let auto = submit(&ledger, 2);
    assert!(!ledger.release_specific(auto.operation_id()).expect("release"), "finished, not pending");
    auto.wait().expect("durable");
    assert!(ledger.release_specific(h.operation_id()).expect("release"));
    h.wait().expect("durable");
}

#[test]
fn pending_count_excludes_finished_unwaited_writes() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    let finished = sink.upsert_batch(c.batch()).expect("accepted");
    assert_eq!(sink.pending_count().expect("count"), 0);
    assert!(sink.pending_ids().expect("ids").is_empty());
    sink.delay_next_writes(1).expect("arm");
    let delayed = sink.upsert_batch(c.batch()).expect("accepted");
    assert_eq!(sink.pending_ids().expect("ids"), vec![delayed.operation_id()]);
    assert_eq!(sink.pending_count().expect("count"), 1);
    finished.wait().expect("durable");
    assert_eq!(sink.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    delayed.wait().expect("durable");
}

#[test]
fn poll_reports_pending_then_the_outcome_once() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let mut h = submit(&ledger, 1);
    assert_eq!(h.poll().expect("poll"), None);
    assert!(ledger.release_specific(h.operation_id()).expect("release"));
    assert_eq!(h.poll().expect("poll").expect("finished").expect("durable").record_count(), 1);
    let op_id = h.operation_id();
    assert_eq!(h.poll(), Err(StoreError::UnknownOperation { store: LEDGER, op_id }));
    assert_eq!(h.wait(), Err(StoreError::UnknownOperation { store: LEDGER, op_id }));

    let sink = InMemoryFindingsSink::new();
    let mut f = sink.upsert_batch(chain(1, 10).batch()).expect("accepted");
    assert_eq!(f.poll().expect("poll").expect("finished").expect("durable").finding_count(), 1);
    let op_id = f.operation_id();
    assert_eq!(f.poll(), Err(StoreError::UnknownOperation { store: StoreKind::Findings, op_id }));
}

#[test]
fn clones_share_one_store() {
    let ledger = InMemoryDoneLedger::new();
    let control = ledger.clone();
    control.set_auto_complete(false).expect("switch");
    control.fail_next_commits(1).expect("arm");
    let h = submit(&ledger, 1);
    assert_eq!(control.pending_ids().expect("ids"), vec![h.operation_id()]);
    assert_eq!(control.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    assert_eq!(h.wait(), Err(StoreError::InjectedCommitFailure { store: LEDGER }));
    let h = submit(&ledger, 2);
    control.release_all(CompletionOrder::OldestFirst).expect("release");
    h.wait().expect("durable");
    assert_eq!(control.snapshot().expect("snapshot"), ledger.snapshot().expect("snapshot"));
    assert_eq!(control.len().expect("len"), 1);

    let sink = InMemoryFindingsSink::default();
    let other = sink.clone();
    other.upsert_batch(chain(1, 10).batch()).expect("accepted").wait().expect("durable");
    assert_eq!(common::sink_state(&sink), common::sink_state(&other));
    assert_eq!(sink.pending_count().expect("count"), 0);
}

#[test]
fn default_stores_auto_complete() {
    let ledger = InMemoryDoneLedger::default();
    submit(&ledger, 1).wait().expect("durable");
    assert!(!ledger.is_empty().expect("read"));
    let sink = InMemoryFindingsSink::default();
    sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted").wait().expect("durable");
    assert_eq!(sink.pending_count().expect("count"), 0);
}
