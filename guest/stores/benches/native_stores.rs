//! Native throughput of the in-memory stores: `batch_upsert` + `wait` for
//! 1,000-record done-ledger batches (new keys and re-merges of existing keys)
//! and 1,000-chain findings batches (new and replayed), plus the resident
//! bytes per stored done-ledger row, measured with a counting allocator.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, ShardId,
    StableItemId, TenantId, TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{CommitHandle, DoneLedger, FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink};

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, live_bytes};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const BATCH: usize = 1_000;
const RESIDENT_ROWS: usize = 100_000;

fn ovid_for(index: u64) -> OvidHash {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&index.to_le_bytes());
    bytes[8..16].copy_from_slice(&index.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
    OvidHash::from_bytes(bytes)
}

fn provenance(run: u64, started: u64, finished: u64) -> DoneLedgerProvenance {
    DoneLedgerProvenance::new(
        RunId::from_raw(run),
        ShardId::from_raw(1),
        FenceEpoch::from_raw(1),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    )
}

/// Rows `first..first + count`; a mix of scanned and failed statuses so the
/// merge and the error-code clone are both exercised.
fn done_rows(first: u64, count: usize, run: u64) -> Vec<DoneLedgerRecord> {
    let timeout = DoneLedgerErrorCode::try_new("TIMEOUT").expect("valid code");
    (first..first + count as u64)
        .map(|i| {
            let key = DoneLedgerKey::new(TenantId::from_bytes([1; 32]), PolicyHash::from_bytes([2; 32]), ovid_for(i));
            let (status, findings, code) = match (i + run) % 4 {
                0 => (DoneLedgerStatus::FailedRetryable, 0, Some(timeout.clone())),
                1 => (DoneLedgerStatus::ScannedWithFindings, 3, None),
                _ => (DoneLedgerStatus::ScannedClean, 0, None),
            };
            DoneLedgerRecord::try_new(key, status, 4096 + i, findings, provenance(run, run * 10, run * 10 + 5), code)
                .expect("consistent findings count")
        })
        .collect()
}

fn upsert(ledger: &InMemoryDoneLedger, rows: &[DoneLedgerRecord]) {
    let receipt = ledger.batch_upsert(rows).expect("accepted").wait().expect("durable");
    black_box(receipt);
}

fn bench_done_ledger(c: &mut Criterion) {
    let mut group = c.benchmark_group("done_ledger_batch_upsert");
    group.throughput(Throughput::Elements(BATCH as u64));

    group.bench_function("new_keys_1000", |b| {
        let rows = done_rows(0, BATCH, 1);
        b.iter_batched(
            InMemoryDoneLedger::new,
            |ledger| {
                upsert(&ledger, &rows);
                // Returned so the drop happens outside the timed section.
                ledger
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("remerge_existing_1000", |b| {
        let ledger = InMemoryDoneLedger::new();
        upsert(&ledger, &done_rows(0, BATCH, 1));
        // Alternate two batches over the same keys so every upsert merges
        // against a row that a different batch wrote.
        let batches = [done_rows(0, BATCH, 2), done_rows(0, BATCH, 3)];
        let mut turn = 0usize;
        b.iter(|| {
            upsert(&ledger, &batches[turn % 2]);
            turn += 1;
        });
    });
    group.finish();
}

struct FindingsBatch {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl FindingsBatch {
    fn new(count: usize) -> Self {
        let tenant = TenantId::from_bytes([1; 32]);
        let key = TenantSecretKey::from_bytes([9; 32]);
        let mut findings = Vec::with_capacity(count);
        let mut occurrences = Vec::with_capacity(count);
        let mut observations = Vec::with_capacity(count);
        for i in 0..count as u64 {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            let secret = key_secret_hash(&key, &NormHash::from_digest(seed));
            let finding = FindingRecord::new(
                tenant,
                StableItemId::from_bytes(seed),
                RuleFingerprint::from_bytes([3; 32]),
                secret,
            );
            let occurrence =
                OccurrenceRecord::try_new(tenant, finding.finding_id(), ObjectVersionId::from_bytes(seed), i * 64, 32)
                    .expect("non-zero span");
            let observation = ObservationRecord::new(
                tenant,
                occurrence.occurrence_id(),
                PolicyHash::from_bytes([2; 32]),
                ovid_for(i),
                RunId::from_raw(1),
                ShardId::from_raw(1),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(i),
            );
            findings.push(finding);
            occurrences.push(occurrence);
            observations.push(observation);
        }
        Self { findings, occurrences, observations }
    }

    fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

fn upsert_findings(sink: &InMemoryFindingsSink, batch: FindingsUpsertBatch<'_>) {
    let receipt = sink.upsert_batch(batch).expect("accepted").wait().expect("durable");
    black_box(receipt);
}

fn bench_findings(c: &mut Criterion) {
    let mut group = c.benchmark_group("findings_upsert_batch");
    let batch = FindingsBatch::new(BATCH);
    group.throughput(Throughput::Elements(batch.view().total_records() as u64));

    group.bench_function("new_1000x3", |b| {
        b.iter_batched(
            InMemoryFindingsSink::new,
            |sink| {
                upsert_findings(&sink, batch.view());
                sink
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("replay_1000x3", |b| {
        let sink = InMemoryFindingsSink::new();
        upsert_findings(&sink, batch.view());
        b.iter(|| upsert_findings(&sink, batch.view()));
    });
    group.finish();
}

/// Live heap bytes per durable row after inserting `RESIDENT_ROWS` rows,
/// with the input batches already freed. Printed, never asserted.
fn report_resident_bytes() {
    let before = live_bytes();
    let ledger = InMemoryDoneLedger::new();
    for start in (0..RESIDENT_ROWS).step_by(BATCH) {
        upsert(&ledger, &done_rows(start as u64, BATCH, 1));
    }
    let after = live_bytes();
    let rows = ledger.len().expect("len");
    let per_row = (after - before) as f64 / rows as f64;
    eprintln!(
        "resident bytes per done-ledger row: {per_row:.1} ({rows} rows, 1 in 4 with an error code; \
         size_of::<DoneLedgerRecord>() = {}, stored row = {}, table entry = {})",
        size_of::<DoneLedgerRecord>(),
        InMemoryDoneLedger::STORED_ROW_SIZE,
        InMemoryDoneLedger::STORED_ENTRY_SIZE,
    );
}

criterion_group!(benches, bench_done_ledger, bench_findings);

fn main() {
    report_resident_bytes();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
