//! The batches and timed loops the cross-backend benchmarks share
//! (`three_way.rs` here, `host/postgres/benches/postgres.rs`): 1,000-row
//! done-ledger batches from `support`, a 1,000 × 3 findings batch, and the
//! same measurement for every suite `Backend`.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, RuleFingerprint, RunId, ShardId, StableItemId,
    TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{CommitHandle, FindingsSink, Location};
use gossip_suite::Backend;

use crate::support::{POLICY, TENANT, batch, bench_insert, record, upsert_and_wait};

pub const ROWS: u64 = 1_000;

/// `ROWS` chains finding → occurrence → observation under one tenant; every
/// other observation carries a location.
pub struct FindingsBatch {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
}

impl FindingsBatch {
    pub fn new() -> Self {
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

    pub fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

pub fn upsert_findings<S: FindingsSink>(sink: &S, batch: FindingsUpsertBatch<'_>) {
    let receipt = sink.upsert_batch(batch).ok().and_then(|h| h.wait().ok());
    assert!(receipt.is_some(), "a valid batch must commit");
    black_box(receipt);
}

/// Times `op` over `iters` runs and keeps the total under `id` for the report.
pub fn timed(id: &str, iters: u64, mut op: impl FnMut()) -> Duration {
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
pub fn id(kind: &str, backend: &impl Backend) -> &'static str {
    Box::leak(format!("{kind}/{}", backend.name()).into_boxed_str())
}

/// Re-merges of one batch, then `insert_batches` new-key batches per fresh store.
pub fn bench_done_ledger<B: Backend>(group: &mut BenchmarkGroup<'_, WallTime>, backend: &B, insert_batches: u64) {
    // Re-merging the same 1,000 keys: the steady state of a rescan.
    let rows = batch(0);
    let ledger = backend.new_ledger().expect("a fresh ledger");
    upsert_and_wait(&ledger, &rows);
    let merge = id("ledger-merge", backend);
    group.bench_function(merge, |b| b.iter_custom(|iters| timed(merge, iters, || upsert_and_wait(&ledger, &rows))));

    let batches: Vec<_> = (0..insert_batches).map(|i| batch(i * ROWS)).collect();
    bench_insert(group, id("ledger-insert", backend), || backend.new_ledger().expect("a fresh ledger"), &batches);
}

/// A batch into a fresh store, and its replay into a store that holds it.
pub fn bench_findings<B: Backend>(group: &mut BenchmarkGroup<'_, WallTime>, backend: &B, batch: &FindingsBatch) {
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
