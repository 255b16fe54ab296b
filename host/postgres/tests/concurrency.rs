//! Concurrent writers converge: several threads, each with stores of its
//! own connected to the same schema, write overlapping batches at once; the
//! final rows must equal the in-memory oracle's after all the same batches
//! written one by one. Once plainly, once with faults injected into every
//! writer (failed submissions and commits, delayed writes released
//! newest-first), each failed write resubmitted until it is durable.

mod common;

use std::num::NonZeroU64;
use std::sync::Arc;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::{
    AsStoreError, CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink, Location, StoreControl, StoreError,
};
use gossip_postgres::{PgDatabase, PgError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WRITERS: u64 = 4;
const BATCHES: u64 = 24;

/// Values at the signed/unsigned edges, where a wrong column encoding would
/// pick another winner.
const EDGES: [u64; 6] = [0, 1, 7, 1 << 63, u64::MAX - 1, u64::MAX];

fn edge(rng: &mut ChaCha8Rng) -> u64 {
    if rng.random_bool(0.5) { EDGES[rng.random_range(0..EDGES.len())] } else { rng.random_range(0..16) }
}

fn ledger_record(rng: &mut ChaCha8Rng) -> DoneLedgerRecord {
    let key = DoneLedgerKey::new(
        TenantId::from_bytes([rng.random_range(1..3u8); 32]),
        PolicyHash::from_bytes([0x7F + rng.random_range(0..2u8); 32]),
        OvidHash::from_bytes([rng.random_range(0..24u8); 32]),
    );
    let status = [
        DoneLedgerStatus::FailedRetryable,
        DoneLedgerStatus::FailedPermanent,
        DoneLedgerStatus::Skipped,
        DoneLedgerStatus::ScannedClean,
        DoneLedgerStatus::ScannedWithFindings,
    ][rng.random_range(0..5)];
    let (findings, code) = match status {
        DoneLedgerStatus::ScannedClean => (0, None),
        DoneLedgerStatus::ScannedWithFindings => (rng.random_range(1..5), None),
        _ => {
            let code = ["TIMEOUT", "TIMEOUT:io", "A", "AB"][rng.random_range(0..4)];
            (rng.random_range(0..5), Some(DoneLedgerErrorCode::try_new(code).expect("a valid code")))
        }
    };
    let started = edge(rng);
    let finished = started.max(edge(rng));
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(edge(rng)),
        ShardId::from_raw(edge(rng)),
        FenceEpoch::from_raw(edge(rng)),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    );
    DoneLedgerRecord::try_new(key, status, edge(rng), findings, provenance, code).expect("a valid row")
}

fn ledger_batches(writer: u64) -> Vec<Vec<DoneLedgerRecord>> {
    let mut rng = ChaCha8Rng::seed_from_u64(writer);
    (0..BATCHES).map(|_| (0..rng.random_range(1..60)).map(|_| ledger_record(&mut rng)).collect()).collect()
}

fn injected(error: &PgError) -> bool {
    matches!(
        error.as_store_error(),
        Some(StoreError::InjectedSubmissionFailure { .. } | StoreError::InjectedCommitFailure { .. })
    )
}

/// Writes every batch, arming faults and delays first when `faults` is
/// set; any batch that fails by injection is resubmitted until durable.
/// Returns each batch's receipt, in batch order.
fn write_all<S, R>(
    store: &S,
    batches: usize,
    seed: u64,
    faults: bool,
    submit: impl Fn(&S, usize) -> Result<Box<dyn FnOnce() -> Result<R, PgError>>, PgError>,
) -> Vec<R>
where
    S: StoreControl<ControlError = PgError>,
{
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xFA17);
    let mut receipts: Vec<Option<R>> = (0..batches).map(|_| None).collect();
    let mut next = 0;
    while next < batches {
        let group: Vec<usize> = (next..batches.min(next + rng.random_range(1..4))).collect();
        next += group.len();
        let delay = faults && rng.random_bool(0.4);
        if faults {
            store.fail_next_submissions(usize::from(rng.random_bool(0.2))).unwrap();
            store.fail_next_commits(usize::from(rng.random_bool(0.3))).unwrap();
            store.set_auto_complete(!delay).unwrap();
        }
        let mut waits = Vec::new();
        let mut retry = Vec::new();
        for &i in &group {
            match submit(store, i) {
                Ok(wait) => waits.push((i, wait)),
                Err(e) if injected(&e) => retry.push(i),
                Err(e) => panic!("batch {i}: {e}"),
            }
        }
        if delay {
            store.release_all(CompletionOrder::NewestFirst).unwrap();
            store.set_auto_complete(true).unwrap();
        }
        for (i, wait) in waits {
            match wait() {
                Ok(receipt) => receipts[i] = Some(receipt),
                Err(e) if injected(&e) => retry.push(i),
                Err(e) => panic!("batch {i}: {e}"),
            }
        }
        for i in retry {
            // Faults are spent; a resubmission may meet at most what is still armed.
            receipts[i] = Some(loop {
                match submit(store, i).and_then(|wait| wait()) {
                    Ok(receipt) => break receipt,
                    Err(e) if injected(&e) => continue,
                    Err(e) => panic!("batch {i}: {e}"),
                }
            });
        }
    }
    receipts.into_iter().map(|r| r.expect("every batch became durable")).collect()
}

fn ledgers_converge(faults: bool) {
    let Some(db) = common::test_db(if faults { "concurrent_ledger_faults" } else { "concurrent_ledger" }) else {
        return;
    };
    let options = db.options("shared");
    let all: Vec<Vec<Vec<DoneLedgerRecord>>> = (0..WRITERS).map(ledger_batches).collect();
    let receipts: Vec<_> = std::thread::scope(|scope| {
        let writers: Vec<_> = all
            .iter()
            .enumerate()
            .map(|(w, batches)| {
                let options = &options;
                scope.spawn(move || {
                    // Each writer connects on its own, as separate workers would.
                    let ledger = PgDatabase::connect(db.url, options).expect("connect").done_ledger();
                    write_all(&ledger, batches.len(), w as u64, faults, |ledger, i| {
                        let handle = ledger.batch_upsert(&batches[i])?;
                        Ok(Box::new(move || handle.wait()))
                    })
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().expect("writer thread")).collect()
    });

    let oracle = InMemoryDoneLedger::new();
    for (batches, receipts) in all.iter().zip(&receipts) {
        for (batch, receipt) in batches.iter().zip(receipts) {
            let expected = oracle.batch_upsert(batch).unwrap().wait().unwrap();
            assert_eq!(*receipt, expected, "receipts depend only on the batch");
        }
    }
    let pg = PgDatabase::connect(db.url, &options).unwrap().done_ledger();
    let expected = oracle.snapshot().unwrap();
    assert!(expected.len() > 50, "the writers must overlap on many keys: {}", expected.len());
    assert_eq!(pg.snapshot().unwrap(), expected, "concurrent writers did not converge to the lattice join");
}

#[test]
fn concurrent_ledger_writers_converge_to_the_lattice_join() {
    ledgers_converge(false);
}

#[test]
fn concurrent_ledger_writers_converge_under_fault_injection() {
    ledgers_converge(true);
}

// ---- findings ----

const TENANT: TenantId = TenantId::from_bytes([0x42; 32]);
const FINDINGS: u64 = 24;
/// Findings whose chains are durable before the writers start.
const DURABLE_PARENTS: u64 = 4;

/// Finding `f`'s chain: the same finding and occurrence whoever writes
/// them, observed under two policies.
fn chain(f: u64) -> (FindingRecord, OccurrenceRecord) {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&f.to_le_bytes());
    let finding = FindingRecord::new(
        TENANT,
        StableItemId::from_bytes(seed),
        RuleFingerprint::from_bytes([3; 32]),
        SecretHash::from_persisted_bytes([0x5A; 32]),
    );
    let occurrence = OccurrenceRecord::new(
        TENANT,
        finding.finding_id(),
        ObjectVersionId::from_bytes(seed),
        f * 64,
        NonZeroU64::new(32).unwrap(),
    );
    (finding, occurrence)
}

struct Batch {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl Batch {
    fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

/// Every sighting has a location and its own `seen_at`, so the merged row
/// of each observation is the latest sighting's whatever the order
/// (`docs/contract.md §7.3`), and the oracle does not depend on it.
fn findings_batches(writer: u64) -> Vec<Batch> {
    let mut rng = ChaCha8Rng::seed_from_u64(100 + writer);
    (0..BATCHES)
        .map(|b| {
            let mut batch = Batch { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
            for i in 0..rng.random_range(1..12u64) {
                let f = rng.random_range(0..FINDINGS);
                let (finding, occurrence) = chain(f);
                let policy = PolicyHash::from_bytes([rng.random_range(1..3u8); 32]);
                let seen = (writer << 32) | (b << 16) | i;
                let location = Location::try_new(format!("w{writer}/b{b}/{i}"), Some(format!("u{seen}"))).unwrap();
                let observation = ObservationRecord::new(
                    TENANT,
                    occurrence.occurrence_id(),
                    policy,
                    OvidHash::from_bytes([f as u8; 32]),
                    RunId::from_raw(edge(&mut rng)),
                    ShardId::from_raw(edge(&mut rng)),
                    FenceEpoch::from_raw(writer),
                    // Interleaved across writers, distinct everywhere.
                    LogicalTime::from_raw(seen.rotate_left(29) ^ rng.random_range(0..4) << 60),
                )
                .with_location(Arc::new(location));
                // The first findings were written before the writers
                // started: their parents are durable and may be left out.
                if f >= DURABLE_PARENTS || rng.random_bool(0.5) {
                    batch.findings.push(finding);
                    batch.occurrences.push(occurrence);
                }
                batch.observations.push(observation);
            }
            batch
        })
        .collect()
}

fn sinks_converge(faults: bool) {
    let Some(db) = common::test_db(if faults { "concurrent_findings_faults" } else { "concurrent_findings" }) else {
        return;
    };
    let options = db.options("shared");
    let all: Vec<Vec<Batch>> = (0..WRITERS).map(findings_batches).collect();
    let (findings, occurrences): (Vec<_>, Vec<_>) = (0..DURABLE_PARENTS).map(chain).unzip();
    let parents = Batch { findings, occurrences, observations: Vec::new() };
    let oracle = InMemoryFindingsSink::new();
    oracle.upsert_batch(parents.view()).unwrap().wait().unwrap();
    let setup = PgDatabase::connect(db.url, &options).unwrap();
    setup.findings_sink().upsert_batch(parents.view()).unwrap().wait().unwrap();
    let (receipts, retries): (Vec<_>, Vec<u64>) = std::thread::scope(|scope| {
        let writers: Vec<_> = all
            .iter()
            .enumerate()
            .map(|(w, batches)| {
                let options = &options;
                scope.spawn(move || {
                    let database = PgDatabase::connect(db.url, options).expect("connect");
                    let receipts =
                        write_all(&database.findings_sink(), batches.len(), 100 + w as u64, faults, |sink, i| {
                            let handle = sink.upsert_batch(batches[i].view())?;
                            Ok(Box::new(move || handle.wait()))
                        });
                    (receipts, database.retries())
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().expect("writer thread")).collect()
    });

    for (batches, receipts) in all.iter().zip(&receipts) {
        for (batch, receipt) in batches.iter().zip(receipts) {
            let expected = oracle.upsert_batch(batch.view()).unwrap().wait().unwrap();
            assert_eq!(*receipt, expected, "receipts count the batch's distinct keys");
        }
    }
    println!("serialization failures retried: {}", retries.iter().sum::<u64>());
    let pg = setup.findings_sink();
    assert_eq!(pg.findings_snapshot().unwrap(), oracle.findings_snapshot().unwrap());
    assert_eq!(pg.occurrences_snapshot().unwrap(), oracle.occurrences_snapshot().unwrap());
    let expected = oracle.observations_snapshot().unwrap();
    assert!(expected.len() > FINDINGS as usize, "the writers must overlap: {}", expected.len());
    assert_eq!(pg.observations_snapshot().unwrap(), expected, "concurrent writers did not converge");
}

#[test]
fn concurrent_findings_writers_converge() {
    sinks_converge(false);
}

#[test]
fn concurrent_findings_writers_converge_under_fault_injection() {
    sinks_converge(true);
}
