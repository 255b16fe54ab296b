//! Native vs component in the same run, reported as ratios:
//! - `batch_upsert` + `wait` of 1,000-record done-ledger batches, as new keys
//!   and as re-merges of existing keys (goal: component ≤ 1.5× native);
//! - a one-key `batch_get` round trip (goal: ≤ 1 µs);
//! - the same one-key `batch_get` and a one-record `batch_upsert` + `wait`
//!   from 4 threads at once on one shared store: the component instance is
//!   shared through the host's flat combiner, the native store through its
//!   mutex (reported as the ratio of wall time per round of 4 operations);
//! - a fresh instance from the pre-instantiated component (goal: ≤ 50 µs),
//!   with the default and the pooling allocator.
//!
//! Each measurement is also summed here (`iter_custom`), so the run ends
//! with the component/native ratios instead of leaving them to arithmetic.

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use gossip_host::{ComponentRuntime, RuntimeConfig};
use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::identity::OvidHash;
use gossip_persistence::{CommitHandle, DoneLedger, InMemoryDoneLedger};
use support::{POLICY, TENANT, batch, bench_insert, mean, record, upsert_and_wait};

fn bench_batch_upsert(c: &mut Criterion, runtime: &ComponentRuntime) {
    let mut group = c.benchmark_group("batch_upsert_1000");
    group.throughput(Throughput::Elements(1_000));

    // Re-merging the same 1,000 keys: the steady state of a rescan.
    let rows = batch(0);
    let native = InMemoryDoneLedger::new();
    let component = runtime.new_ledger().expect("instance");
    upsert_and_wait(&native, &rows);
    upsert_and_wait(&component, &rows);
    group.bench_function("merge/native", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                upsert_and_wait(&native, &rows);
            }
            let elapsed = start.elapsed();
            record("merge/native", elapsed, iters);
            elapsed
        });
    });
    group.bench_function("merge/component", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                upsert_and_wait(&component, &rows);
            }
            let elapsed = start.elapsed();
            record("merge/component", elapsed, iters);
            elapsed
        });
    });

    // New keys each time: stores grow, as in a first scan. A fresh store
    // every 50 batches keeps both at comparable sizes.
    let batches: Vec<Vec<DoneLedgerRecord>> = (0..50).map(|i| batch(i * 1_000)).collect();
    bench_insert(&mut group, "insert/native", InMemoryDoneLedger::new, &batches);
    bench_insert(&mut group, "insert/component", || runtime.new_ledger().expect("instance"), &batches);
    group.finish();
}

fn bench_batch_get(c: &mut Criterion, runtime: &ComponentRuntime) {
    let mut group = c.benchmark_group("batch_get_one_key");
    let rows = batch(0);
    let native = InMemoryDoneLedger::new();
    let component = runtime.new_ledger().expect("instance");
    upsert_and_wait(&native, &rows);
    upsert_and_wait(&component, &rows);
    let ovid = [*rows[17].key()].map(|k| k.ovid_hash());
    let get = |ledger: &dyn Fn() -> bool, id: &'static str, b: &mut criterion::Bencher<'_>| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                assert!(ledger());
            }
            let elapsed = start.elapsed();
            record(id, elapsed, iters);
            elapsed
        });
    };
    group.bench_function("native", |b| {
        get(
            &|| matches!(native.batch_get(TENANT, POLICY, black_box(&ovid)).as_deref(), Ok([Some(_)])),
            "get/native",
            b,
        );
    });
    group.bench_function("component", |b| {
        get(
            &|| matches!(component.batch_get(TENANT, POLICY, black_box(&ovid)).as_deref(), Ok([Some(_)])),
            "get/component",
            b,
        );
    });
    group.finish();
}

const THREADS: usize = 4;

/// Wall time for `THREADS` threads each running `op(thread)` `iters` times.
fn contended(iters: u64, op: &(dyn Fn(usize) -> bool + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for _ in 0..iters {
                    assert!(op(t));
                }
            });
        }
    });
    start.elapsed()
}

fn bench_contended(c: &mut Criterion, runtime: &ComponentRuntime) {
    let mut group = c.benchmark_group("contended_4_threads");
    let rows = batch(0);
    let native = InMemoryDoneLedger::new();
    let component = runtime.new_ledger().expect("instance");
    upsert_and_wait(&native, &rows);
    upsert_and_wait(&component, &rows);
    // Each thread reads and re-merges its own key of one shared store.
    let ovids: Vec<[OvidHash; 1]> = (0..THREADS).map(|t| [rows[t * 100].key().ovid_hash()]).collect();
    let singles: Vec<&[DoneLedgerRecord]> = (0..THREADS).map(|t| &rows[t * 100..=t * 100]).collect();
    let run = |id: &'static str, op: &(dyn Fn(usize) -> bool + Sync), b: &mut criterion::Bencher<'_>| {
        b.iter_custom(|iters| {
            let elapsed = contended(iters, op);
            record(id, elapsed, iters);
            elapsed
        });
    };
    let get =
        |ledger: &dyn DoneLedgerGet, t: usize| matches!(ledger.get(black_box(&ovids[t])).as_deref(), Some([Some(_)]));
    group.bench_function("get/native", |b| run("contended-get/native", &|t| get(&native, t), b));
    group.bench_function("get/component", |b| run("contended-get/component", &|t| get(&component, t), b));
    let upsert = |ledger: &dyn DoneLedgerGet, t: usize| ledger.upsert(singles[t]);
    group.bench_function("upsert/native", |b| run("contended-upsert/native", &|t| upsert(&native, t), b));
    group.bench_function("upsert/component", |b| run("contended-upsert/component", &|t| upsert(&component, t), b));
    group.finish();
}

/// The two contended operations, object-safe so one closure serves both stores.
trait DoneLedgerGet: Sync {
    fn get(&self, ovids: &[OvidHash]) -> Option<Vec<Option<DoneLedgerRecord>>>;
    fn upsert(&self, rows: &[DoneLedgerRecord]) -> bool;
}

impl<L: DoneLedger + Sync> DoneLedgerGet for L {
    fn get(&self, ovids: &[OvidHash]) -> Option<Vec<Option<DoneLedgerRecord>>> {
        self.batch_get(TENANT, POLICY, ovids).ok()
    }

    fn upsert(&self, rows: &[DoneLedgerRecord]) -> bool {
        self.batch_upsert(rows)
            .ok()
            .and_then(|h| h.wait().ok())
            .is_some_and(|r| usize::try_from(r.record_count()) == Ok(rows.len()))
    }
}

fn bench_instantiate(c: &mut Criterion, default: &ComponentRuntime, pooled: &ComponentRuntime) {
    let mut group = c.benchmark_group("fresh_instance");
    for (name, runtime) in [("instantiate/default", default), ("instantiate/pooling", pooled)] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(runtime.instantiate().expect("instance"));
                }
                let elapsed = start.elapsed();
                record(name, elapsed, iters);
                elapsed
            });
        });
    }
    // A whole store: instance + ledger resource + its controller.
    group.bench_function("new_ledger/default", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(default.new_ledger().expect("instance"));
            }
            let elapsed = start.elapsed();
            record("new_ledger/default", elapsed, iters);
            elapsed
        });
    });
    group.finish();
}

fn report() {
    println!("\n== component vs native (means over every criterion iteration) ==");
    let ratio = |label: &str, component: &str, native: &str, goal: Option<f64>| {
        if let (Some(c), Some(n)) = (mean(component), mean(native)) {
            let r = c.as_secs_f64() / n.as_secs_f64();
            let goal = goal.map_or_else(String::new, |goal| {
                let verdict = if r <= goal { "met" } else { "NOT met" };
                format!(" (goal <= {goal}x: {verdict})")
            });
            println!("{label:<34} native {n:>12.3?}  component {c:>12.3?}  ratio {r:5.2}x{goal}");
        }
    };
    ratio("batch_upsert 1,000 (re-merge)", "merge/component", "merge/native", Some(1.5));
    ratio("batch_upsert 1,000 (new keys)", "insert/component", "insert/native", Some(1.5));
    let absolute = |label: &str, id: &str, goal: Duration| {
        if let Some(m) = mean(id) {
            let verdict = if m <= goal { "met" } else { "NOT met" };
            println!("{label:<34} {m:>12.3?}  (goal <= {goal:?}: {verdict})");
        }
    };
    absolute("batch_get one key, component", "get/component", Duration::from_micros(1));
    absolute("batch_get one key, native", "get/native", Duration::from_micros(1));
    ratio("4 threads x one-key batch_get", "contended-get/component", "contended-get/native", None);
    ratio("4 threads x one-row upsert+wait", "contended-upsert/component", "contended-upsert/native", None);
    absolute("fresh instance (default alloc)", "instantiate/default", Duration::from_micros(50));
    absolute("fresh instance (pooling alloc)", "instantiate/pooling", Duration::from_micros(50));
    absolute("new ledger (instance + resources)", "new_ledger/default", Duration::from_micros(50));
}

fn main() {
    let runtime = ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, RuntimeConfig::default())
        .expect("bundled component");
    let pooled = ComponentRuntime::from_bytes(
        "pooled",
        gossip_artifacts::STORE,
        RuntimeConfig { pooling_instances: Some(64), ..RuntimeConfig::default() },
    )
    .expect("pooled runtime");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    bench_batch_upsert(&mut c, &runtime);
    bench_batch_get(&mut c, &runtime);
    bench_contended(&mut c, &runtime);
    bench_instantiate(&mut c, &runtime, &pooled);
    c.final_summary();
    report();
}
