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

#[path = "support/backends.rs"]
mod backends;
/// The SQLite peer as a suite backend: the adapter its own tests use.
#[path = "../../../tests/sqlite/tests/common/mod.rs"]
mod sqlite_backend;
mod support;

use std::time::Duration;

use backends::{FindingsBatch, ROWS, bench_done_ledger, bench_findings};
use criterion::{Criterion, Throughput};
use gossip_cli::ComponentBackend;
use gossip_host::ComponentRuntime;
use gossip_suite::NativeBackend;
use sqlite_backend::SqliteBackend;
use support::mean;

/// Batches per fresh store in the new-keys benchmark.
const INSERT_BATCHES: u64 = 50;

/// Throughput ratio of `fast` over SQLite (SQLite's mean time over `fast`'s).
fn ratio(kind: &str, fast: &str) -> Option<(Duration, Duration, f64)> {
    let (f, s) = (mean(&format!("{kind}/{fast}"))?, mean(&format!("{kind}/sqlite"))?);
    Some((f, s, s.as_secs_f64() / f.as_secs_f64()))
}

/// Time of `slow` over native's: the component's overhead (goal ≤ 1.5×).
fn overhead(kind: &str, slow: &str) -> Option<f64> {
    Some(mean(&format!("{kind}/{slow}"))?.as_secs_f64() / mean(&format!("{kind}/native"))?.as_secs_f64())
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
    println!("\n== component time / native time (goal <= 1.5x) ==");
    for (label, kind) in rows {
        let cell = |backend: &str| {
            overhead(kind, backend)
                .map_or_else(|| "-".to_owned(), |r| format!("{r:5.2}x ({})", if r <= 1.5 { "met" } else { "NOT met" }))
        };
        println!("{label:<34} default allocator {:<16} pooling allocator {}", cell("component"), cell(POOLED));
    }
}

/// The pooled runtime's name, and so its benchmark ids' backend part.
const POOLED: &str = "component-pooled";

fn main() {
    let component = ComponentBackend::new(
        ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, gossip_host::RuntimeConfig::default())
            .expect("bundled component"),
    );
    // The same component under the pooling allocator, its slots' memory
    // kept resident between instances (what a host that makes many short-
    // lived stores would configure; `RuntimeConfig::pooling_instances`).
    let pooled = ComponentBackend::new(
        ComponentRuntime::from_bytes(
            POOLED,
            gossip_artifacts::STORE,
            gossip_host::RuntimeConfig { pooling_instances: Some(16), ..gossip_host::RuntimeConfig::default() },
        )
        .expect("bundled component, pooled"),
    );
    let findings = FindingsBatch::new();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();

    let mut group = c.benchmark_group("done_ledger_1000");
    group.throughput(Throughput::Elements(ROWS));
    bench_done_ledger(&mut group, &NativeBackend, INSERT_BATCHES);
    bench_done_ledger(&mut group, &component, INSERT_BATCHES);
    bench_done_ledger(&mut group, &pooled, INSERT_BATCHES);
    bench_done_ledger(&mut group, &SqliteBackend, INSERT_BATCHES);
    group.finish();

    let mut group = c.benchmark_group("findings_1000x3");
    group.throughput(Throughput::Elements(findings.view().total_records() as u64));
    bench_findings(&mut group, &NativeBackend, &findings);
    bench_findings(&mut group, &component, &findings);
    bench_findings(&mut group, &pooled, &findings);
    bench_findings(&mut group, &SqliteBackend, &findings);
    group.finish();

    c.final_summary();
    report();
}
