//! Delayed completion across threads: a thread blocked in `wait()` is woken
//! by a release from another thread with its own outcome, and only by that.
//!
//! "Still blocked" is observed with `recv_timeout` on a channel the waiter
//! reports to; no test asserts on how fast anything runs.

mod common;

use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::{chain, clean_row, done_record, key, provenance, tenant};
use gossip_persistence::done_ledger::DoneLedgerStatus;
use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsInspect, FindingsSink, InMemoryDoneLedger,
    InMemoryFindingsSink, PersistenceInputError, StoreControl, StoreError, StoreKind,
};

const WAKE: Duration = Duration::from_secs(30);
const STILL_BLOCKED: Duration = Duration::from_millis(100);

type Outcome<H> = Result<<H as CommitHandle>::Receipt, <H as CommitHandle>::Error>;

/// Moves `handle` to a new thread that blocks in `wait()` and reports the outcome.
fn wait_in_thread<H: CommitHandle>(handle: H) -> (Receiver<Outcome<H>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        // The receiver may be gone if the test already failed.
        let _ = tx.send(handle.wait());
    });
    (rx, thread)
}

fn assert_blocked<T: std::fmt::Debug>(rx: &Receiver<T>) {
    match rx.recv_timeout(STILL_BLOCKED) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("waiter should still be blocked, got {other:?}"),
    }
}

fn woken<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(WAKE).expect("waiter was not woken")
}

fn delayed_ledger_with(rows: &[u8]) -> (InMemoryDoneLedger, Vec<<InMemoryDoneLedger as DoneLedger>::CommitHandle>) {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let handles = rows.iter().map(|&o| ledger.batch_upsert(&[clean_row(1, 2, o, 1)]).expect("accepted")).collect();
    (ledger, handles)
}

#[test]
fn done_ledger_waiter_is_woken_by_release_next_from_another_thread() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let batch = [
        done_record(1, 2, 3, DoneLedgerStatus::ScannedWithFindings, 10, 4, provenance(1, 1, 1, 1, 2), None),
        done_record(1, 2, 4, DoneLedgerStatus::Skipped, 10, 0, provenance(1, 1, 1, 1, 2), Some("SIZE_CAP")),
    ];
    let handle = ledger.batch_upsert(&batch).expect("accepted");
    let (rx, waiter) = wait_in_thread(handle);
    assert_blocked(&rx);
    let releaser = {
        let ledger = ledger.clone();
        thread::spawn(move || ledger.release_next(CompletionOrder::OldestFirst).expect("release"))
    };
    assert!(releaser.join().expect("releaser").is_some());
    let receipt = woken(&rx).expect("durable");
    assert_eq!((receipt.record_count(), receipt.scanned_count(), receipt.findings_count()), (2, 1, 4));
    waiter.join().expect("waiter");
    assert_eq!(ledger.snapshot().expect("snapshot").len(), 2);
}

#[test]
fn done_ledger_waiter_is_woken_by_release_specific_and_release_all() {
    let (ledger, mut handles) = delayed_ledger_with(&[1, 2]);
    let h2 = handles.pop().expect("h2");
    let h1 = handles.pop().expect("h1");
    let op1 = h1.operation_id();
    let (rx1, t1) = wait_in_thread(h1);
    let (rx2, t2) = wait_in_thread(h2);
    assert_blocked(&rx1);
    assert_blocked(&rx2);
    assert!(ledger.release_specific(op1).expect("release"));
    assert_eq!(woken(&rx1).expect("durable").record_count(), 1);
    assert_blocked(&rx2);
    assert_eq!(ledger.release_all(CompletionOrder::NewestFirst).expect("release"), 1);
    assert_eq!(woken(&rx2).expect("durable").record_count(), 1);
    t1.join().expect("waiter");
    t2.join().expect("waiter");
}

#[test]
fn waiter_is_not_woken_by_the_release_of_another_write() {
    let (ledger, mut handles) = delayed_ledger_with(&[1, 2, 3]);
    let h3 = handles.pop().expect("h3");
    let h2 = handles.pop().expect("h2");
    let h1 = handles.pop().expect("h1");
    let (op2, op3) = (h2.operation_id(), h3.operation_id());
    let (rx1, t1) = wait_in_thread(h1);
    // Releasing other writes wakes every waiter on the shared condvar; the
    // waiter for h1 must re-check and go back to sleep.
    assert!(ledger.release_specific(op3).expect("release"));
    assert_blocked(&rx1);
    assert_eq!(ledger.release_next(CompletionOrder::NewestFirst).expect("release"), Some(op2));
    assert_blocked(&rx1);
    assert_eq!(h2.wait().expect("durable").record_count(), 1);
    assert_eq!(h3.wait().expect("durable").record_count(), 1);
    assert_blocked(&rx1);
    assert!(ledger.get_record(&key(1, 2, 1)).expect("read").is_none());
    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release").map(|id| id.as_raw()), Some(1));
    woken(&rx1).expect("durable");
    t1.join().expect("waiter");
}

#[test]
fn waiter_receives_an_injected_commit_failure() {
    let (ledger, mut handles) = delayed_ledger_with(&[1]);
    let (rx, t) = wait_in_thread(handles.pop().expect("h"));
    ledger.fail_next_commits(1).expect("arm");
    assert_blocked(&rx);
    assert!(ledger.release_next(CompletionOrder::OldestFirst).expect("release").is_some());
    assert_eq!(woken(&rx), Err(StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger }));
    t.join().expect("waiter");
    assert!(ledger.snapshot().expect("snapshot").is_empty());
}

#[test]
fn waiter_receives_a_done_ledger_data_error() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let invalid = done_record(1, 2, 3, DoneLedgerStatus::FailedRetryable, 0, 0, provenance(1, 1, 1, 1, 1), None);
    let (rx, t) = wait_in_thread(ledger.batch_upsert(&[clean_row(1, 2, 4, 1), invalid]).expect("accepted"));
    assert_blocked(&rx);
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    assert_eq!(
        woken(&rx),
        Err(StoreError::BatchValidation(PersistenceInputError::MissingErrorCode { status: "FailedRetryable" }))
    );
    t.join().expect("waiter");
    assert!(ledger.snapshot().expect("snapshot").is_empty(), "the valid row of the batch was not applied");
}

#[test]
fn findings_waiter_is_woken_with_receipt_commit_failure_and_data_error() {
    let sink = InMemoryFindingsSink::with_auto_complete(false);
    let good = chain(1, 10);
    let orphan = chain(1, 20);
    let good_h = sink.upsert_batch(good.batch()).expect("accepted");
    let failing_h = sink.upsert_batch(good.batch()).expect("accepted");
    let orphan_h = sink
        .upsert_batch(FindingsUpsertBatch::new(&[], core::slice::from_ref(&orphan.occurrence), &[]))
        .expect("accepted");
    let (good_op, failing_op) = (good_h.operation_id(), failing_h.operation_id());
    let (rx_good, t1) = wait_in_thread(good_h);
    let (rx_fail, t2) = wait_in_thread(failing_h);
    let (rx_orphan, t3) = wait_in_thread(orphan_h);
    for rx in [&rx_good, &rx_fail] {
        assert_blocked(rx);
    }
    assert_blocked(&rx_orphan);

    assert!(sink.release_specific(good_op).expect("release"));
    let receipt = woken(&rx_good).expect("durable");
    assert_eq!((receipt.finding_count(), receipt.occurrence_count(), receipt.observation_count()), (1, 1, 1));
    assert_blocked(&rx_fail);

    sink.fail_next_commits(1).expect("arm");
    assert!(sink.release_specific(failing_op).expect("release"));
    assert_eq!(woken(&rx_fail), Err(StoreError::InjectedCommitFailure { store: StoreKind::Findings }));
    assert_blocked(&rx_orphan);

    assert_eq!(sink.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    assert_eq!(
        woken(&rx_orphan),
        Err(StoreError::MissingFinding {
            tenant_id: tenant(1),
            finding_id: orphan.finding.finding_id(),
            occurrence_id: orphan.occurrence.occurrence_id(),
        })
    );
    for t in [t1, t2, t3] {
        t.join().expect("waiter");
    }
    assert_eq!(sink.findings_snapshot().expect("snapshot"), vec![good.finding]);
    assert_eq!(sink.occurrences_snapshot().expect("snapshot"), vec![good.occurrence]);
}

#[test]
fn many_waiters_each_get_their_own_receipt_in_release_order() {
    const N: u8 = 8;
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    // Write i carries i + 1 distinct keys, so each receipt identifies its write.
    let mut waiters = Vec::new();
    for i in 0..N {
        let rows: Vec<_> = (0..=i).map(|k| clean_row(1, i, k, 1)).collect();
        let handle = ledger.batch_upsert(&rows).expect("accepted");
        waiters.push((u64::from(i) + 1, wait_in_thread(handle)));
    }
    for (_, (rx, _)) in &waiters {
        assert_blocked(rx);
    }
    // Release newest first; after each release only that waiter reports.
    for released in (0..waiters.len()).rev() {
        assert!(ledger.release_next(CompletionOrder::NewestFirst).expect("release").is_some());
        let (expected, (rx, _)) = &waiters[released];
        assert_eq!(woken(rx).expect("durable").record_count(), *expected);
        if released > 0 {
            assert_blocked(&waiters[released - 1].1.0);
        }
    }
    for (_, (rx, t)) in waiters {
        t.join().expect("waiter");
        assert!(rx.try_recv().is_err(), "each waiter reports once");
    }
    assert_eq!(ledger.snapshot().expect("snapshot").len(), (1..=usize::from(N)).sum::<usize>());
    assert_eq!(ledger.pending_count().expect("count"), 0);
}

#[test]
fn concurrent_submitters_waiters_and_a_releaser_converge() {
    const THREADS: u8 = 4;
    const WRITES: u8 = 25;
    let total = usize::from(THREADS) * usize::from(WRITES);
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let (done_tx, done_rx) = mpsc::channel();
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let ledger = ledger.clone();
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                for w in 0..WRITES {
                    let handle = ledger.batch_upsert(&[clean_row(t, 1, w, u64::from(w))]).expect("accepted");
                    let _ = done_tx.send(handle.wait().map(|r| r.record_count()));
                }
            })
        })
        .collect();
    drop(done_tx);
    // Keep releasing until every write has reported. A lost wake-up shows as
    // no write completing for a whole WAKE period, which fails instead of hanging.
    let mut completed = 0;
    let mut idle = Duration::ZERO;
    let tick = Duration::from_millis(1);
    while completed < total {
        ledger.release_all(CompletionOrder::OldestFirst).expect("release");
        match done_rx.recv_timeout(tick) {
            Ok(outcome) => {
                assert_eq!(outcome, Ok(1));
                completed += 1;
                idle = Duration::ZERO;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                idle += tick;
                assert!(idle < WAKE, "no write completed for {WAKE:?}: {completed}/{total} done");
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(completed, total);
    assert_eq!(ledger.snapshot().expect("snapshot").len(), total);
    assert_eq!(ledger.pending_count().expect("count"), 0);
}

#[test]
fn abandoned_pending_handles_still_apply_and_leave_nothing_pending() {
    for release in ["next", "specific", "all"] {
        let (ledger, mut handles) = delayed_ledger_with(&[1, 2]);
        let kept = handles.pop().expect("kept");
        let dropped = handles.pop().expect("dropped");
        let dropped_op = dropped.operation_id();
        drop(dropped);
        assert_eq!(ledger.pending_ids().expect("ids"), vec![dropped_op, kept.operation_id()]);
        assert_eq!(ledger.pending_count().expect("count"), 2);
        match release {
            "next" => assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(dropped_op)),
            "specific" => assert!(ledger.release_specific(dropped_op).expect("release")),
            _ => assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 2),
        }
        assert!(ledger.get_record(&key(1, 2, 1)).expect("read").is_some(), "{release}: abandoned write applied");
        if release != "all" {
            assert_eq!(ledger.pending_ids().expect("ids"), vec![kept.operation_id()]);
            assert!(ledger.release_specific(kept.operation_id()).expect("release"));
        }
        kept.wait().expect("durable");
        assert_eq!(ledger.pending_count().expect("count"), 0, "{release}");
        assert!(ledger.pending_ids().expect("ids").is_empty(), "{release}");
        assert!(!ledger.release_specific(dropped_op).expect("release"), "{release}: nothing left to release");
        assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), None);
    }
}

#[test]
fn abandoned_findings_handle_still_applies() {
    let sink = InMemoryFindingsSink::with_auto_complete(false);
    let c = chain(1, 10);
    drop(sink.upsert_batch(c.batch()).expect("accepted"));
    assert_eq!(sink.pending_count().expect("count"), 1);
    assert_eq!(sink.release_all(CompletionOrder::NewestFirst).expect("release"), 1);
    assert_eq!(sink.pending_count().expect("count"), 0);
    assert!(sink.pending_ids().expect("ids").is_empty());
    assert_eq!(sink.findings_snapshot().expect("snapshot"), vec![c.finding]);
}

#[test]
fn handle_outlives_the_store_clone_that_issued_it() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let handle = ledger.batch_upsert(&[clean_row(1, 2, 3, 1)]).expect("accepted");
    let releaser = ledger.clone();
    drop(ledger);
    let (rx, t) = wait_in_thread(handle);
    assert_blocked(&rx);
    assert_eq!(releaser.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    assert_eq!(woken(&rx).expect("durable").record_count(), 1);
    t.join().expect("waiter");
}
