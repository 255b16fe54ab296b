//! Native vs component vs SQLite on the same batches, in one run, reported
//! as throughput ratios against SQLite (the test double a user would
//! otherwise pick):
//! - `batch_upsert` + `wait` of 1,000-record done-ledger batches, as new keys
//!   and as re-merges of existing keys (goals: native ≥ 10×, component ≥ 5×
//!   SQLite's throughput);
//! - `upsert_batch` + `wait` of findings batches of 1,000 findings + 1,000
//!   occurrences + 1,000 observations, into a fresh store and as a replay
//!   into a store that holds them (same goals).
//!
//! Every store comes from its suite `Backend`, so the three are built the
//! way the conformance suite builds them.

/// The SQLite peer as a suite backend: the adapter its own tests use.
#[path = "../../../tests/sqlite/tests/common/mod.rs"]
mod sqlite_backend;
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use gossip_cli::ComponentBackend;
use gossip_host::ComponentRuntime;
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, RuleFingerprint, RunId, ShardId, StableItemId,
    TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{CommitHandle, FindingsSink, Location};
use gossip_suite::{Backend, NativeBackend};
use sqlite_backend::SqliteBackend;
use support::{POLICY, TENANT, batch, bench_insert, mean, record, upsert_and_wait};

const ROWS: u64 = 1_000;
/// Batches per fresh store in the new-keys benchmark.
const INSERT_BATCHES: u64 = 50;

/// `ROWS` chains finding → occurrence → observation under one tenant; every
/// other observation carries a location.
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

/// Times `op` over `iters` runs and keeps the total under `id` for the report.
fn timed(id: &str, iters: u64, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        op();
    }
    let elapsed = start.elapsed();
    record(id, elapsed, iters);
    elapsed
}

/// Leaks the id: criterion wants `&'static str` for the totals, and a
/// bench run makes a dozen of them.
fn id(kind: &str, backend: &impl Backend) -> &'static str {
    Box::leak(format!("{kind}/{}", backend.name()).into_boxed_str())
}

fn bench_done_ledger<B: Backend>(group: &mut BenchmarkGroup<'_, WallTime>, backend: &B) {
    // Re-merging the same 1,000 keys: the steady state of a rescan.
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
                // Only the upsert is timed, not building the empty store.
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

/// Throughput ratio of `fast` over SQLite (SQLite's mean time over `fast`'s).
fn ratio(kind: &str, fast: &str) -> Option<(Duration, Duration, f64)> {
    let (f, s) = (mean(&format!("{kind}/{fast}"))?, mean(&format!("{kind}/sqlite"))?);
    Some((f, s, s.as_secs_f64() / f.as_secs_f64()))
}

fn report() {
    println!("\n== native / component / SQLite (means over every criterion iteration) ==");
    println!("{:<34} {:>12} {:>12} {:>12}   throughput vs SQLite", "", "native", "component", "sqlite");
    let rows = [
        ("done-ledger 1,000 (new keys)", "ledger-insert"),
        ("done-ledger 1,000 (re-merge)", "ledger-merge"),
        ("findings 1,000x3 (new)", "findings-new"),
        ("findings 1,000x3 (replay)", "findings-replay"),
    ];
    for (label, kind) in rows {
        let (Some((n, s, rn)), Some((c, _, rc))) = (ratio(kind, "native"), ratio(kind, "component")) else {
            continue;
        };
        let verdict = |r: f64, goal: f64| if r >= goal { "met" } else { "NOT met" };
        println!(
            "{label:<34} {n:>12.3?} {c:>12.3?} {s:>12.3?}   native {rn:6.2}x (goal >= 10x: {}), component {rc:6.2}x (goal >= 5x: {})",
            verdict(rn, 10.0),
            verdict(rc, 5.0),
        );
    }
}

fn main() {
    let component = ComponentBackend::new(
        ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, gossip_host::RuntimeConfig::default())
            .expect("bundled component"),
    );
    let findings = FindingsBatch::new();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();

    let mut group = c.benchmark_group("done_ledger_1000");
    group.throughput(Throughput::Elements(ROWS));
    bench_done_ledger(&mut group, &NativeBackend);
    bench_done_ledger(&mut group, &component);
    bench_done_ledger(&mut group, &SqliteBackend);
    group.finish();

    let mut group = c.benchmark_group("findings_1000x3");
    group.throughput(Throughput::Elements(findings.view().total_records() as u64));
    bench_findings(&mut group, &NativeBackend, &findings);
    bench_findings(&mut group, &component, &findings);
    bench_findings(&mut group, &SqliteBackend, &findings);
    group.finish();

    c.final_summary();
    report();
}
