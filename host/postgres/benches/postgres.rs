//! PostgreSQL against the in-memory stores on the same batches as
//! `host/embed/benches/three_way.rs` (its shared 1,000-row done-ledger
//! batches, and the same 1,000 × 3 findings batch), in one run:
//! - done-ledger: 1,000 new keys per batch, and a re-merge of 1,000 existing keys;
//! - findings: 1,000 findings + occurrences + observations into a fresh
//!   schema, and a replay into a schema that holds them.
//!
//! Prints rows per second for both, the ratio, and the round trips each
//! batch costs once its statements are prepared (goal: one per done-ledger
//! batch, one transaction per findings batch). The server is
//! `GOSSIP_POSTGRES_URL`, or a throwaway cluster started for the run.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../embed/benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, RuleFingerprint, RunId, ShardId, StableItemId,
    TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{CommitHandle, FindingsSink, Location};
use gossip_suite::{Backend, NativeBackend};
use support::{POLICY, TENANT, batch, bench_insert, mean, record, upsert_and_wait};

const ROWS: u64 = 1_000;
/// Batches per fresh store in the new-keys benchmark.
const INSERT_BATCHES: u64 = 20;

/// As in `three_way.rs`: `ROWS` chains under one tenant, every other
/// observation with a location.
struct FindingsBatch {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl FindingsBatch {
    fn new() -> Self {
        let key = TenantSecretKey::from_bytes([9; 32]);
        let location =
            Arc::new(Location::try_new("repo/src/config.rs", Some("https://example.test/r")).expect("valid"));
        let mut out = Self { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
        for i in 0..ROWS {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            seed[31] = 0x5A;
            let finding = FindingRecord::new(
                TENANT,
                StableItemId::from_bytes(seed),
                RuleFingerprint::from_bytes([3; 32]),
                key_secret_hash(&key, &NormHash::from_digest(seed)),
            );
            let occurrence =
                OccurrenceRecord::try_new(TENANT, finding.finding_id(), ObjectVersionId::from_bytes(seed), i * 64, 32)
                    .expect("non-zero span");
            let observation = ObservationRecord::new(
                TENANT,
                occurrence.occurrence_id(),
                POLICY,
                OvidHash::from_bytes(seed),
                RunId::from_raw(1),
                ShardId::from_raw(i % 16),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(i),
            );
            let observation = if i % 2 == 0 { observation.with_location(Arc::clone(&location)) } else { observation };
            out.findings.push(finding);
            out.occurrences.push(occurrence);
            out.observations.push(observation);
        }
        out
    }

    fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

fn upsert_findings<S: FindingsSink>(sink: &S, batch: FindingsUpsertBatch<'_>) {
    let receipt = sink.upsert_batch(batch).ok().and_then(|h| h.wait().ok());
    assert!(receipt.is_some(), "a valid batch must commit");
    black_box(receipt);
}

fn timed(id: &str, iters: u64, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        op();
    }
    let elapsed = start.elapsed();
    record(id, elapsed, iters);
    elapsed
}

fn id(kind: &str, backend: &impl Backend) -> &'static str {
    Box::leak(format!("{kind}/{}", backend.name()).into_boxed_str())
}

fn bench_done_ledger<B: Backend>(group: &mut BenchmarkGroup<'_, WallTime>, backend: &B) {
    let rows = batch(0);
    let ledger = backend.new_ledger().expect("a fresh ledger");
    upsert_and_wait(&ledger, &rows);
    let merge = id("ledger-merge", backend);
    group.bench_function(merge, |b| b.iter_custom(|iters| timed(merge, iters, || upsert_and_wait(&ledger, &rows))));

    let batches: Vec<_> = (0..INSERT_BATCHES).map(|i| batch(i * ROWS)).collect();
    bench_insert(group, id("ledger-insert", backend), || backend.new_ledger().expect("a fresh ledger"), &batches);
}

fn bench_findings<B: Backend>(group: &mut BenchmarkGroup<'_, WallTime>, backend: &B, batch: &FindingsBatch) {
    let new = id("findings-new", backend);
    group.bench_function(new, |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                // Only the upsert is timed, not making the empty store.
                let sink = backend.new_sink().expect("a fresh sink");
                let start = Instant::now();
                upsert_findings(&sink, batch.view());
                elapsed += start.elapsed();
            }
            record(new, elapsed, iters);
            elapsed
        });
    });

    let sink = backend.new_sink().expect("a fresh sink");
    upsert_findings(&sink, batch.view());
    let replay = id("findings-replay", backend);
    group.bench_function(replay, |b| {
        b.iter_custom(|iters| timed(replay, iters, || upsert_findings(&sink, batch.view())));
    });
}

/// Round trips of one batch of each kind, after a first batch has prepared
/// the statements on the connection.
fn round_trips(db: &common::TestDb, findings: &FindingsBatch) -> [u64; 4] {
    let database = db.fresh();
    let ledger = database.done_ledger();
    upsert_and_wait(&ledger, &batch(100 * ROWS));
    let trips = |f: &dyn Fn()| {
        let before = database.round_trips();
        f();
        database.round_trips() - before
    };
    let insert = trips(&|| upsert_and_wait(&ledger, &batch(0)));
    let merge = trips(&|| upsert_and_wait(&ledger, &batch(0)));
    let sink = database.findings_sink();
    upsert_findings(&sink, FindingsUpsertBatch::new(&findings.findings[..1], &[], &[]));
    let new = trips(&|| upsert_findings(&sink, findings.view()));
    let replay = trips(&|| upsert_findings(&sink, findings.view()));
    [insert, merge, new, replay]
}

fn report(records: [u64; 4], trips: [u64; 4]) {
    println!("\n== PostgreSQL vs in-memory (means over every criterion iteration) ==");
    println!(
        "{:<30} {:>11} {:>13} {:>11} {:>13} {:>9} {:>12}",
        "", "in-memory", "rows/s", "postgres", "rows/s", "pg/mem", "round trips"
    );
    let kinds = [
        ("done-ledger 1,000 (new keys)", "ledger-insert"),
        ("done-ledger 1,000 (re-merge)", "ledger-merge"),
        ("findings 1,000x3 (new)", "findings-new"),
        ("findings 1,000x3 (replay)", "findings-replay"),
    ];
    for (i, (label, kind)) in kinds.into_iter().enumerate() {
        let (Some(n), Some(p)) = (mean(&format!("{kind}/native")), mean(&format!("{kind}/postgres"))) else {
            continue;
        };
        let per_second = |d: Duration| records[i] as f64 / d.as_secs_f64();
        println!(
            "{label:<30} {n:>11.3?} {:>13.0} {p:>11.3?} {:>13.0} {:>8.4}x {:>12}",
            per_second(n),
            per_second(p),
            n.as_secs_f64() / p.as_secs_f64(),
            trips[i]
        );
    }
}

fn main() {
    let Some(db) = common::test_db("bench") else { return };
    let findings = FindingsBatch::new();
    let trips = round_trips(&db, &findings);
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();

    let backend = db.backend();
    let mut group = c.benchmark_group("postgres_done_ledger_1000");
    group.throughput(Throughput::Elements(ROWS));
    bench_done_ledger(&mut group, &NativeBackend);
    bench_done_ledger(&mut group, &backend);
    group.finish();

    let total = findings.view().total_records() as u64;
    let mut group = c.benchmark_group("postgres_findings_1000x3");
    group.throughput(Throughput::Elements(total));
    bench_findings(&mut group, &NativeBackend, &findings);
    bench_findings(&mut group, &backend, &findings);
    group.finish();

    report([ROWS, ROWS, total, total], trips);
}
