//! The oracle `scripts/mutants.sh` runs against every mutant of the
//! in-memory stores (docs/mutation.md): the conformance suite on the native
//! stores, then `check`'s short simulation (a stormy sweep of 4 seeds × 200
//! ops per store on `NativeBackend`). Nothing else: a mutant counts as
//! caught only if the conformance suite or that simulation notices it.

use gossip_suite::NativeBackend;
use gossip_suite::conformance::run_conformance;
use gossip_suite::sim::FaultLevel;
use gossip_suite::sim::sweep::{DEFAULT_LIVENESS_OPS, SimMode, SimRunSpec, SimStore};

/// `check`'s defaults: 4 stormy seeds of 200 ops per store.
const SEEDS: u64 = 4;
const OPS: usize = 200;

#[test]
fn mutation_oracle_conformance() {
    let report = run_conformance(&NativeBackend);
    assert!(report.all_passed(), "conformance failed on the native stores:\n{report}");
}

#[test]
fn mutation_oracle_short_simulation() {
    let seeds: Vec<u64> = (0..SEEDS).collect();
    let mut failures = Vec::new();
    for store in [SimStore::DoneLedger, SimStore::Findings] {
        let mode = SimMode::Run { safety_ops: OPS, liveness_ops: DEFAULT_LIVENESS_OPS };
        let spec = SimRunSpec::new(store, FaultLevel::Stormy, mode);
        for (seed, result) in spec.sweep(&NativeBackend, &seeds, 1, &|_| {}) {
            match result {
                Ok(outcome) if outcome.failure.is_none() && outcome.violations == 0 => {}
                Ok(outcome) => failures.push(format!(
                    "{} seed {seed}: {} ({} violations)",
                    store.name(),
                    outcome.failure.unwrap_or_default(),
                    outcome.violations
                )),
                Err(message) => failures.push(format!("{} seed {seed}: {message}", store.name())),
            }
        }
    }
    assert!(failures.is_empty(), "short simulation failed:\n{}", failures.join("\n"));
}
