//! Many threads on one shared component ledger, through the host's flat
//! combiner: mixed reads, writes and controls interleave freely, yet every
//! handle gets the receipt of its own batch and the final state is the
//! lattice join of everything committed.

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use gossip_host::ComponentDoneLedger;
use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus, dedupe_batch, receipt_for,
};
use gossip_persistence::identity::{OvidHash, PolicyHash, TenantId};
use gossip_persistence::{CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, StoreControl};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{id, key, provenance, runtime};

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 150;
/// Few keys, so the threads' writes keep merging into the same rows.
const KEYS: u8 = 12;

const STATUSES: [DoneLedgerStatus; 5] = [
    DoneLedgerStatus::FailedRetryable,
    DoneLedgerStatus::FailedPermanent,
    DoneLedgerStatus::Skipped,
    DoneLedgerStatus::ScannedClean,
    DoneLedgerStatus::ScannedWithFindings,
];

fn random_row(rng: &mut ChaCha8Rng) -> DoneLedgerRecord {
    let status = STATUSES[rng.random_range(0..STATUSES.len())];
    let findings = if status == DoneLedgerStatus::ScannedWithFindings { rng.random_range(1..5) } else { 0 };
    let code = (!status.is_scanned()).then(|| {
        DoneLedgerErrorCode::try_new(["timeout", "denied", "gone"][rng.random_range(0..3)]).expect("valid code")
    });
    let started = rng.random_range(0..50);
    DoneLedgerRecord::try_new(
        key(1, 2, rng.random_range(0..KEYS)),
        status,
        rng.random_range(0..10_000),
        findings,
        provenance(started, started + rng.random_range(0..5)),
        code,
    )
    .expect("valid row")
}

/// One worker's share of the load; returns every batch it got a receipt for.
fn worker(ledger: &ComponentDoneLedger, seed: u64) -> Vec<Vec<DoneLedgerRecord>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut committed = Vec::new();
    // Handles waited later, so other threads' releases and reads run while
    // this thread's writes are still pending.
    let mut parked = Vec::new();
    let ovids: Vec<OvidHash> = (0..KEYS).map(|k| OvidHash::from_bytes(id(k))).collect();
    for _ in 0..OPS_PER_THREAD {
        match rng.random_range(0..10) {
            0..=3 => {
                let rows: Vec<_> = (0..rng.random_range(1..4)).map(|_| random_row(&mut rng)).collect();
                let handle = ledger.batch_upsert(&rows).expect("a valid batch is accepted");
                if rng.random_bool(0.5) {
                    let receipt = handle.wait().expect("the write commits");
                    assert_eq!(receipt, receipt_for(&dedupe_batch(&rows).expect("valid batch")), "receipt of {rows:?}");
                    committed.push(rows);
                } else {
                    parked.push((rows, handle));
                }
            }
            4..=6 => {
                let wanted = &ovids[rng.random_range(0..ovids.len())..];
                let got =
                    ledger.batch_get(TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)), wanted).expect("read");
                assert_eq!(got.len(), wanted.len());
                for (row, ovid) in got.iter().zip(wanted) {
                    if let Some(row) = row {
                        assert_eq!(row.key().ovid_hash(), *ovid, "a row answers its own key");
                    }
                }
            }
            7 => ledger.delay_next_writes(rng.random_range(1..3)).expect("delay"),
            8 => {
                let order =
                    if rng.random_bool(0.5) { CompletionOrder::OldestFirst } else { CompletionOrder::NewestFirst };
                ledger.release_next(order).expect("release");
            }
            _ => {
                ledger.release_all(CompletionOrder::OldestFirst).expect("release");
            }
        }
    }
    for (rows, handle) in parked {
        let receipt = handle.wait().expect("the parked write commits");
        assert_eq!(receipt, receipt_for(&dedupe_batch(&rows).expect("valid batch")), "receipt of {rows:?}");
        committed.push(rows);
    }
    committed
}

#[test]
fn four_threads_share_one_ledger_and_every_write_joins() {
    let ledger = runtime().new_ledger().expect("instance");
    let done = AtomicBool::new(false);
    let start = Barrier::new(THREADS);
    let committed: Vec<Vec<DoneLedgerRecord>> = thread::scope(|scope| {
        // Delayed writes whose owner waits on them are released by someone
        // else: the other workers, or this releaser when they are all waiting.
        scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                ledger.release_all(CompletionOrder::NewestFirst).expect("release");
                thread::sleep(Duration::from_millis(1));
            }
        });
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (ledger, start) = (&ledger, &start);
                scope.spawn(move || {
                    start.wait();
                    worker(ledger, 0xC0FFEE + t as u64)
                })
            })
            .collect();
        // Join every worker before judging any: a failed assertion must stop
        // the releaser too, or the scope would wait for it forever.
        let outcomes: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        done.store(true, Ordering::Release);
        outcomes.into_iter().flat_map(|o| o.expect("no worker panicked")).collect()
    });
    assert_eq!(ledger.pending_count().expect("control"), 0, "every write was waited for");

    let all: Vec<DoneLedgerRecord> = committed.into_iter().flatten().collect();
    assert!(all.len() > THREADS * 20, "the load wrote something: {} rows", all.len());
    let expected: BTreeMap<DoneLedgerKey, DoneLedgerRecord> =
        dedupe_batch(&all).expect("valid rows").into_iter().map(|r| (*r.key(), r)).collect();
    let actual: BTreeMap<DoneLedgerKey, DoneLedgerRecord> =
        ledger.snapshot().expect("snapshot").into_iter().map(|r| (*r.key(), r)).collect();
    assert_eq!(actual, expected, "the ledger is the lattice join of every committed write");
}
