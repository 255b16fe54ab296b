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

#[path = "../../embed/benches/support/backends.rs"]
mod backends;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../embed/benches/support/mod.rs"]
mod support;

use std::time::Duration;

use backends::{FindingsBatch, ROWS, bench_done_ledger, bench_findings, upsert_findings};
use criterion::{Criterion, Throughput};
use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_suite::NativeBackend;
use support::{batch, mean, upsert_and_wait};

/// Batches per fresh store in the new-keys benchmark.
const INSERT_BATCHES: u64 = 20;

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
    bench_done_ledger(&mut group, &NativeBackend, INSERT_BATCHES);
    bench_done_ledger(&mut group, &backend, INSERT_BATCHES);
    group.finish();

    let total = findings.view().total_records() as u64;
    let mut group = c.benchmark_group("postgres_findings_1000x3");
    group.throughput(Throughput::Elements(total));
    bench_findings(&mut group, &NativeBackend, &findings);
    bench_findings(&mut group, &backend, &findings);
    group.finish();

    report([ROWS, ROWS, total, total], trips);
}
