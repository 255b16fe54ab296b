//! loom: the real in-memory stores (`InMemoryDoneLedger`,
//! `InMemoryFindingsSink`) through their public API and `StoreControl`,
//! with the store core's Mutex and Condvar swapped for loom's by
//! `gossip_persistence::sync`.
//!
//! The model's main thread only sets up, joins and checks: loom explores a
//! race only once both sides run on spawned threads.
#![cfg(loom)]

#[path = "support/loom_model.rs"]
mod loom_model;

use std::num::NonZeroU64;

use gossip_persistence::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord,
    DoneLedgerStatus, receipt_for,
};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::sync::thread;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl, StoreError, StoreKind,
};
use loom_model::explore;

// ---------------------------------------------------------------- fixtures

const TENANT: TenantId = TenantId::from_bytes([1; 32]);
const POLICY: PolicyHash = PolicyHash::from_bytes([2; 32]);

fn key(n: u8) -> DoneLedgerKey {
    DoneLedgerKey::new(TENANT, POLICY, OvidHash::from_bytes([n; 32]))
}

fn provenance(run: u64, finished: u64) -> DoneLedgerProvenance {
    DoneLedgerProvenance::new(
        RunId::from_raw(run),
        ShardId::from_raw(1),
        FenceEpoch::from_raw(1),
        LogicalTime::from_raw(finished.saturating_sub(1)),
        LogicalTime::from_raw(finished),
    )
}

fn row(n: u8, status: DoneLedgerStatus, findings: u32, bytes: u64, run: u64, finished: u64) -> DoneLedgerRecord {
    let code = (!status.is_scanned()).then(|| DoneLedgerErrorCode::try_new(format!("code-{run}")).unwrap());
    DoneLedgerRecord::try_new(key(n), status, bytes, findings, provenance(run, finished), code).unwrap()
}

fn clean(n: u8) -> DoneLedgerRecord {
    row(n, DoneLedgerStatus::ScannedClean, 0, 100, 1, 2)
}

fn receipt(batch: &[DoneLedgerRecord]) -> DoneLedgerCommitReceipt {
    receipt_for(batch)
}

type Outcome = Result<DoneLedgerCommitReceipt, StoreError>;

/// A ledger holding two delayed writes of different sizes, so each
/// receipt tells which write it belongs to.
fn ledger_with_two_delayed_writes()
-> (InMemoryDoneLedger, [Vec<DoneLedgerRecord>; 2], [<InMemoryDoneLedger as DoneLedger>::CommitHandle; 2]) {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let batches = [vec![clean(1)], vec![clean(2), clean(3)]];
    let first = ledger.batch_upsert(&batches[0]).unwrap();
    let second = ledger.batch_upsert(&batches[1]).unwrap();
    (ledger, batches, [first, second])
}

fn spawn_waiter(
    handle: <InMemoryDoneLedger as DoneLedger>::CommitHandle,
    expected: Outcome,
    which: &'static str,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let outcome = handle.wait();
        assert_eq!(outcome, expected, "waiter of the {which} write woken with the wrong outcome");
    })
}

/// Two threads wait on two delayed writes while a third releases them.
fn two_waiters_one_releaser(release: fn(&InMemoryDoneLedger, [gossip_persistence::PendingWriteId; 2])) {
    let (ledger, batches, [first, second]) = ledger_with_two_delayed_writes();
    let ids = [first.operation_id(), second.operation_id()];
    let waiters = [
        spawn_waiter(first, Ok(receipt(&batches[0])), "first"),
        spawn_waiter(second, Ok(receipt(&batches[1])), "second"),
    ];
    let releaser = {
        let ledger = ledger.clone();
        thread::spawn(move || release(&ledger, ids))
    };
    releaser.join().unwrap();
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(ledger.pending_ids().unwrap(), vec![]);
    assert_eq!(ledger.snapshot().unwrap(), vec![clean(1), clean(2), clean(3)]);
}

// ---------------------------------------------------------------- wake-ups

#[test]
fn release_next_wakes_each_waiter_with_its_receipt() {
    explore("release_next_wakes_each_waiter_with_its_receipt", 3, || {
        two_waiters_one_releaser(|ledger, ids| {
            assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).unwrap(), Some(ids[0]));
            assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).unwrap(), Some(ids[1]));
        });
    });
}

fn release_second_then_first(ledger: &InMemoryDoneLedger, ids: [gossip_persistence::PendingWriteId; 2]) {
    assert!(ledger.release_specific(ids[1]).unwrap());
    assert!(ledger.release_specific(ids[0]).unwrap());
}

#[test]
fn release_specific_wakes_the_right_waiter() {
    explore("release_specific_wakes_the_right_waiter", 3, || two_waiters_one_releaser(release_second_then_first));
}

fn release_all_at_once(ledger: &InMemoryDoneLedger, _: [gossip_persistence::PendingWriteId; 2]) {
    assert_eq!(ledger.release_all(CompletionOrder::NewestFirst).unwrap(), 2);
}

#[test]
fn release_all_wakes_every_waiter() {
    explore("release_all_wakes_every_waiter", 3, || two_waiters_one_releaser(release_all_at_once));
}

#[test]
fn injected_commit_failure_reaches_its_waiter() {
    explore("injected_commit_failure_reaches_its_waiter", 3, || {
        let (ledger, batches, [first, second]) = ledger_with_two_delayed_writes();
        ledger.fail_next_commits(1).unwrap();
        let failure = StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger };
        let ids = [first.operation_id(), second.operation_id()];
        let waiters =
            [spawn_waiter(first, Err(failure), "first"), spawn_waiter(second, Ok(receipt(&batches[1])), "second")];
        let releaser = {
            let ledger = ledger.clone();
            thread::spawn(move || {
                // The first applied write takes the failure, whichever it is.
                assert!(ledger.release_specific(ids[0]).unwrap());
                assert!(ledger.release_specific(ids[1]).unwrap());
            })
        };
        releaser.join().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(ledger.snapshot().unwrap(), vec![clean(2), clean(3)], "the failed write left no row");
    });
}

// ---------------------------------------------------------------- convergence

#[test]
fn concurrent_upserts_converge_to_the_lattice_join() {
    explore("concurrent_upserts_converge_to_the_lattice_join", 3, || {
        let ledger = InMemoryDoneLedger::new();
        // Same two keys from both writers, with different statuses, counts
        // and provenance, so the join differs from either input.
        let a = vec![
            row(1, DoneLedgerStatus::FailedRetryable, 0, 500, 7, 9),
            row(2, DoneLedgerStatus::Skipped, 0, 10, 7, 9),
        ];
        let b = vec![
            row(1, DoneLedgerStatus::ScannedWithFindings, 3, 40, 8, 4),
            row(2, DoneLedgerStatus::FailedPermanent, 0, 90, 8, 12),
        ];
        let writers: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|batch| {
                let ledger = ledger.clone();
                thread::spawn(move || {
                    let outcome = ledger.batch_upsert(&batch).unwrap().wait();
                    assert_eq!(outcome, Ok(receipt(&batch)));
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        for (x, y) in a.iter().zip(&b) {
            let join = x.merge(y).unwrap();
            assert_eq!(join, y.merge(x).unwrap(), "the merge commutes");
            assert_eq!(ledger.get_record(x.key()).unwrap(), Some(join), "store diverged from the lattice join");
        }
        assert_eq!(ledger.len().unwrap(), 2);
    });
}

#[test]
fn concurrent_findings_upserts_keep_integrity_and_merge_sightings() {
    explore("concurrent_findings_upserts_keep_integrity_and_merge_sightings", 3, || {
        let sink = InMemoryFindingsSink::new();
        let finding = FindingRecord::new(
            TENANT,
            StableItemId::from_bytes([3; 32]),
            RuleFingerprint::from_bytes([4; 32]),
            SecretHash::from_persisted_bytes([5; 32]),
        );
        let occurrence = OccurrenceRecord::new(
            TENANT,
            finding.finding_id(),
            ObjectVersionId::from_bytes([6; 32]),
            0,
            NonZeroU64::new(8).unwrap(),
        );
        let sighting = |run: u64, seen: u64| {
            ObservationRecord::new(
                TENANT,
                occurrence.occurrence_id(),
                POLICY,
                OvidHash::from_bytes([7; 32]),
                RunId::from_raw(run),
                ShardId::from_raw(1),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(seen),
            )
        };
        let writers: Vec<_> = [sighting(1, 5), sighting(2, 7)]
            .into_iter()
            .map(|observation| {
                let sink = sink.clone();
                let (finding, occurrence) = (finding.clone(), occurrence.clone());
                thread::spawn(move || {
                    let (f, o, obs) = ([finding], [occurrence], [observation]);
                    let outcome = sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &obs)).unwrap().wait();
                    assert_eq!(outcome, Ok(FindingsCommitReceipt::new(1, 1, 1)));
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(sink.durable_counts().unwrap(), DurableFindingsCounts::new(1, 1, 1));
        let stored = sink.observations_snapshot().unwrap();
        assert_eq!(stored, vec![sighting(2, 7)], "the later sighting wins in either order");
    });
}

// ---------------------------------------------------------------- release_all vs submissions

#[test]
fn release_all_racing_submissions_loses_and_duplicates_nothing() {
    explore("release_all_racing_submissions_loses_and_duplicates_nothing", 3, || {
        let ledger = InMemoryDoneLedger::with_auto_complete(false);
        let submitters: Vec<_> = [1u8, 2]
            .into_iter()
            .map(|n| {
                let ledger = ledger.clone();
                thread::spawn(move || ledger.batch_upsert(&[clean(n)]).unwrap())
            })
            .collect();
        let releaser = {
            let ledger = ledger.clone();
            thread::spawn(move || ledger.release_all(CompletionOrder::OldestFirst).unwrap())
        };
        let handles: Vec<_> = submitters.into_iter().map(|s| s.join().unwrap()).collect();
        let raced = releaser.join().unwrap();
        let rest = ledger.release_all(CompletionOrder::OldestFirst).unwrap();
        assert_eq!(raced + rest, 2, "a write was lost or applied twice");
        for (n, handle) in (1u8..).zip(handles) {
            assert_eq!(handle.wait(), Ok(receipt(&[clean(n)])));
        }
        assert_eq!(ledger.pending_ids().unwrap(), vec![]);
        assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).unwrap(), 0);
        assert_eq!(ledger.snapshot().unwrap(), vec![clean(1), clean(2)]);
    });
}

// ---------------------------------------------------------------- fault injection

/// Two writers race an armed fault; exactly one of them meets it.
fn one_armed_fault_two_writers(arm: fn(&InMemoryDoneLedger), failure: StoreError) {
    let ledger = InMemoryDoneLedger::new();
    arm(&ledger);
    let writers: Vec<_> = [1u8, 2]
        .into_iter()
        .map(|n| {
            let ledger = ledger.clone();
            thread::spawn(move || ledger.batch_upsert(&[clean(n)]).and_then(CommitHandle::wait))
        })
        .collect();
    let outcomes: Vec<Outcome> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let failed: Vec<bool> = outcomes.iter().map(|o| o.as_ref().err() == Some(&failure)).collect();
    assert_eq!(failed.iter().filter(|f| **f).count(), 1, "the fault fired {outcomes:?}");
    let survivor = (1u8..).zip(&outcomes).find(|(_, o)| o.is_ok()).map(|(n, _)| n).unwrap();
    assert_eq!(ledger.snapshot().unwrap(), vec![clean(survivor)]);
    // Spent: the next write goes through.
    assert_eq!(ledger.batch_upsert(&[clean(9)]).unwrap().wait(), Ok(receipt(&[clean(9)])));
}

#[test]
fn injected_submission_fault_fires_exactly_once() {
    explore("injected_submission_fault_fires_exactly_once", 3, || {
        one_armed_fault_two_writers(
            |l| l.fail_next_submissions(1).unwrap(),
            StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger },
        );
    });
}

#[test]
fn injected_commit_fault_fires_exactly_once() {
    explore("injected_commit_fault_fires_exactly_once", 3, || {
        one_armed_fault_two_writers(
            |l| l.fail_next_commits(1).unwrap(),
            StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger },
        );
    });
}

#[test]
fn injected_faults_fire_exactly_twice_among_three_writers() {
    explore("injected_faults_fire_exactly_twice_among_three_writers", 3, || {
        let ledger = InMemoryDoneLedger::new();
        ledger.fail_next_commits(2).unwrap();
        let writers: Vec<_> = [1u8, 2, 3]
            .into_iter()
            .map(|n| {
                let ledger = ledger.clone();
                thread::spawn(move || ledger.batch_upsert(&[clean(n)]).and_then(CommitHandle::wait).is_err())
            })
            .collect();
        let failures = writers.into_iter().map(|w| w.join().unwrap()).filter(|failed| *failed).count();
        assert_eq!(failures, 2);
        assert_eq!(ledger.len().unwrap(), 1);
    });
}

// ---------------------------------------------------------------- planted bugs

/// Planted bug `notify_one`: a finished write wakes one waiter, and the
/// store's condvar is shared by every write, so the other sleeps forever.
#[cfg(loom_planted_bug = "notify_one")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_notify_one_is_caught() {
    loom_model::expect_caught("planted_notify_one_is_caught", 3, &["deadlock"], || {
        two_waiters_one_releaser(release_all_at_once)
    });
}

/// Planted bug `no_recheck`: a waiter woken by another write's release
/// returns without re-checking that its own write finished.
#[cfg(loom_planted_bug = "no_recheck")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_no_recheck_is_caught() {
    loom_model::expect_caught("planted_no_recheck_is_caught", 3, &["woken with the wrong outcome"], || {
        two_waiters_one_releaser(release_second_then_first);
    });
}
