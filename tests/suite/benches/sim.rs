//! Simulated ops per second on the native stores, invariant checking and
//! the oracle included. The baseline is the same sunny-day workload (the
//! very ops the simulation generates) applied to the bare store without any
//! checking, so the checking overhead reads as a ratio within one run.

use std::hint::black_box;

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
};
use gossip_suite::sim::done_ledger::{DoneLedgerPlugin, DoneLedgerSim, DoneLedgerSimOp, DoneLedgerStoreOp};
use gossip_suite::sim::findings::FindingsPlugin;
use gossip_suite::sim::{FaultLevel, Sim, SimOp, StorePlugin};

const OPS: usize = 2_000;
const SEED: u64 = 7;

/// The checked simulation of a fresh native store, sunny and stormy.
fn checked<P: StorePlugin<S>, S: StoreControl + Default>(group: &mut BenchmarkGroup<'_, WallTime>) {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let ops = Sim::<P, S>::new(SEED, level, S::default()).run(OPS, 0).ops_executed;
        group.throughput(Throughput::Elements(ops as u64));
        group.bench_with_input(BenchmarkId::new("checked", level), &level, |b, &level| {
            b.iter(|| black_box(Sim::<P, S>::new(SEED, level, S::default()).run(OPS, 0)));
        });
    }
}

fn done_ledger(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim_done_ledger");
    checked::<DoneLedgerPlugin, InMemoryDoneLedger>(&mut group);

    // The sunny workload without the harness: same ops, bare store.
    let mut generator = DoneLedgerSim::new(SEED, FaultLevel::SunnyDay, InMemoryDoneLedger::new());
    let workload: Vec<DoneLedgerSimOp> = (0..OPS).map(|_| generator.generate_random_op(true)).collect();
    let keys: Vec<_> = (0..50).map(|i| generator.key(i)).collect();
    group.throughput(Throughput::Elements(OPS as u64));
    group.bench_function(BenchmarkId::new("bare_store_baseline", FaultLevel::SunnyDay), |b| {
        b.iter(|| {
            let ledger = InMemoryDoneLedger::new();
            for op in &workload {
                match op {
                    SimOp::Store(DoneLedgerStoreOp::BatchUpsert { records }) => {
                        black_box(ledger.batch_upsert(records).and_then(CommitHandle::wait).ok());
                    }
                    SimOp::Store(DoneLedgerStoreOp::BatchGet { ovid_indices }) => {
                        let k = keys[0];
                        let hashes: Vec<_> = ovid_indices.iter().map(|i| keys[i % keys.len()].ovid_hash()).collect();
                        black_box(ledger.batch_get(k.tenant_id(), k.policy_hash(), &hashes).ok());
                    }
                    SimOp::ReleaseOldest => drop(black_box(ledger.release_next(CompletionOrder::OldestFirst))),
                    SimOp::ReleaseNewest => drop(black_box(ledger.release_next(CompletionOrder::NewestFirst))),
                    SimOp::ReleaseAll { order } => drop(black_box(ledger.release_all(*order))),
                    _ => {}
                }
            }
            ledger
        });
    });
    group.finish();
}

fn findings(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim_findings");
    checked::<FindingsPlugin, InMemoryFindingsSink>(&mut group);
    group.finish();
}

criterion_group!(benches, done_ledger, findings);
criterion_main!(benches);
