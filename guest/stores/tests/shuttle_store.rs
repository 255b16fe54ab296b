//! shuttle: the real in-memory done-ledger under many threads at once —
//! four writers submitting and waiting on held writes, a releaser draining
//! them in both orders, and a fault injector arming commit failures — past
//! what the loom models can afford (two or three threads). The store core's
//! Mutex and Condvar are shuttle's through `gossip_persistence::sync`.
#![cfg(shuttle)]

#[path = "support/shuttle_model.rs"]
mod shuttle_model;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus, receipt_for,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::sync::Arc;
use gossip_persistence::sync::atomic::{AtomicBool, Ordering};
use gossip_persistence::sync::thread;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, InMemoryDoneLedger, StoreControl, StoreError,
};
use shuttle_model::explore;

const TENANT: TenantId = TenantId::from_bytes([1; 32]);
const POLICY: PolicyHash = PolicyHash::from_bytes([2; 32]);
const WRITERS: u8 = 4;

fn row(n: u8, writer: u8) -> DoneLedgerRecord {
    let status = if writer % 2 == 0 { DoneLedgerStatus::ScannedClean } else { DoneLedgerStatus::FailedRetryable };
    let code = (!status.is_scanned()).then(|| DoneLedgerErrorCode::try_new("timeout".to_owned()).expect("valid code"));
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(u64::from(writer) + 1),
        ShardId::from_raw(1),
        FenceEpoch::from_raw(1),
        LogicalTime::from_raw(1),
        LogicalTime::from_raw(u64::from(writer) + 2),
    );
    let key = DoneLedgerKey::new(TENANT, POLICY, OvidHash::from_bytes([n; 32]));
    DoneLedgerRecord::try_new(key, status, 100 * u64::from(writer), 0, provenance, code).expect("valid row")
}

/// Writer `w`'s batch: two keys, one of them shared with the next writer,
/// so concurrent writes to the same row must merge.
fn batch(w: u8) -> Vec<DoneLedgerRecord> {
    vec![row(w, w), row((w + 1) % WRITERS, w)]
}

#[test]
fn writers_releaser_and_injector_converge_to_the_merge_of_acknowledged_writes() {
    explore("store", || {
        let ledger = InMemoryDoneLedger::with_auto_complete(false);
        let done = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let ledger = ledger.clone();
                thread::spawn(move || {
                    let rows = batch(w);
                    let outcome = ledger.batch_upsert(&rows).expect("submitted").wait();
                    match &outcome {
                        Ok(receipt) => assert_eq!(*receipt, receipt_for(&rows), "writer {w} got another receipt"),
                        Err(error) => assert!(matches!(error, StoreError::InjectedCommitFailure { .. }), "{error:?}"),
                    }
                    (w, outcome.is_ok())
                })
            })
            .collect();
        let injector = {
            let ledger = ledger.clone();
            thread::spawn(move || ledger.fail_next_commits(1).expect("armed"))
        };
        let releaser = {
            let (ledger, done) = (ledger.clone(), Arc::clone(&done));
            thread::spawn(move || {
                let mut order = CompletionOrder::OldestFirst;
                while !done.load(Ordering::SeqCst) {
                    ledger.release_all(order).expect("released");
                    order = match order {
                        CompletionOrder::OldestFirst => CompletionOrder::NewestFirst,
                        CompletionOrder::NewestFirst => CompletionOrder::OldestFirst,
                    };
                    thread::yield_now();
                }
            })
        };
        injector.join().expect("injector");
        let outcomes: Vec<(u8, bool)> = writers.into_iter().map(|w| w.join().expect("writer")).collect();
        done.store(true, Ordering::SeqCst);
        releaser.join().expect("releaser");

        // The armed failure hit at most one write (none if every write was
        // applied before it was armed), and every acknowledged write is in.
        let failed = outcomes.iter().filter(|(_, ok)| !ok).count();
        assert!(failed <= 1, "{failed} writes failed for one armed fault");
        let mut expected: Vec<DoneLedgerRecord> = Vec::new();
        for &(w, _) in outcomes.iter().filter(|(_, ok)| *ok) {
            for r in batch(w) {
                match expected.iter_mut().find(|e| e.key() == r.key()) {
                    Some(e) => *e = e.merge(&r).expect("valid rows merge"),
                    None => expected.push(r),
                }
            }
        }
        expected.sort_by_key(|r| *r.key());
        assert_eq!(ledger.snapshot().expect("snapshot"), expected, "the store is not the merge of acknowledged writes");
        assert_eq!(ledger.pending_count().expect("count"), 0);
    });
}
