//! Simulated ops per second through the wasm component, invariant checking
//! and the oracle included. The baseline in the same run is the identical
//! seed on the native stores, so the component's cost reads as a ratio.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gossip_cli::ComponentBackend;
use gossip_host::ComponentRuntime;
use gossip_suite::sim::FaultLevel;
use gossip_suite::sim::done_ledger::DoneLedgerSim;
use gossip_suite::sim::findings::FindingsSim;
use gossip_suite::{Backend, NativeBackend};

const OPS: usize = 1_000;
const SEED: u64 = 7;

fn ledger_ops<B: Backend>(backend: &B, level: FaultLevel) -> usize {
    DoneLedgerSim::from_backend(backend, SEED, level).expect("a fresh ledger").run(OPS, 0).ops_executed
}

fn sink_ops<B: Backend>(backend: &B, level: FaultLevel) -> usize {
    FindingsSim::from_backend(backend, SEED, level).expect("a fresh sink").run(OPS, 0).ops_executed
}

fn bench_backend<B: Backend>(c: &mut Criterion, backend: &B) {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let mut group = c.benchmark_group(format!("sim_done_ledger_{level}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(ledger_ops(backend, level) as u64));
        group.bench_function(BenchmarkId::from_parameter(backend.name()), |b| {
            b.iter(|| black_box(ledger_ops(backend, level)));
        });
        group.finish();

        let mut group = c.benchmark_group(format!("sim_findings_{level}"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(sink_ops(backend, level) as u64));
        group.bench_function(BenchmarkId::from_parameter(backend.name()), |b| {
            b.iter(|| black_box(sink_ops(backend, level)));
        });
        group.finish();
    }
}

fn sims(c: &mut Criterion) {
    let component = ComponentBackend::new(
        ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, gossip_host::RuntimeConfig::default())
            .expect("the bundled component loads"),
    );
    bench_backend(c, &NativeBackend);
    bench_backend(c, &component);
}

criterion_group!(benches, sims);
criterion_main!(benches);
