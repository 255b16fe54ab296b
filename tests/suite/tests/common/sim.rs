//! What every store's simulation runs the same way on the native stores:
//! the sweeps (through the store-agnostic [`SimRunSpec`], so one loop covers
//! every store), the clean-run assertions and the replay check.

use std::collections::BTreeMap;
use std::fmt;

use gossip_persistence::StoreControl;
use gossip_suite::NativeBackend;
use gossip_suite::sim::coverage::shortfalls;
use gossip_suite::sim::sweep::{SimMode, SimRunSpec, SimStore, SweepSummary, default_threads};
use gossip_suite::sim::{Coverage, EventKind, FaultLevel, FaultModel, Sim, SimReport, StorePlugin};

pub const SUNNY_DAY_OPS: usize = 200;
pub const STORMY_SWEEP_SEEDS: u64 = 100;
pub const STORMY_SWEEP_OPS: usize = 500;
pub const SWIZZLE_SWEEP_SEEDS: u64 = 100;
pub const SWIZZLE_BATCHES: usize = 10;
pub const RADIOACTIVE_SMOKE_SEEDS: u64 = 5;
pub const RADIOACTIVE_SMOKE_OPS: usize = 200;
pub const RADIOACTIVE_SWEEP_SEEDS: u64 = 50;
pub const RADIOACTIVE_SWEEP_OPS: usize = 1_000;

/// Every store the simulation has a plug-in for.
pub const STORES: [SimStore; 2] = [SimStore::DoneLedger, SimStore::Findings];

pub fn assert_clean<K: EventKind, V: fmt::Display, O, E>(report: &SimReport<K, V, O, E>) {
    assert!(report.is_clean(), "seed {}: {}", report.seed, report.failure().unwrap_or_default());
}

pub fn assert_sweep_clean<K: EventKind>(summary: &SweepSummary<K>) {
    assert!(summary.failures.is_empty(), "{summary}");
    assert_eq!(summary.violations, 0, "{summary}");
}

/// A sweep of one native store, counted by kind name so every store's
/// sweep has the same shape.
pub struct StoreSweep {
    spec: SimRunSpec,
    seeds: u64,
    ops: usize,
    violations: usize,
    counts: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
    /// What the seeds exercised, summed.
    pub coverage: Coverage,
}

impl StoreSweep {
    /// Seeds `0..seeds` of `store` at `level` through `mode`, in parallel,
    /// under the default fault model.
    pub fn run(store: SimStore, level: FaultLevel, mode: SimMode, seeds: u64) -> Self {
        Self::run_spec(SimRunSpec::new(store, level, mode), seeds)
    }

    /// Like [`run`](Self::run), under `model`.
    pub fn run_model(store: SimStore, level: FaultLevel, model: FaultModel, mode: SimMode, seeds: u64) -> Self {
        Self::run_spec(SimRunSpec::new(store, level, mode).with_model(model), seeds)
    }

    fn run_spec(spec: SimRunSpec, seeds: u64) -> Self {
        let mut sweep = Self {
            spec,
            seeds,
            ops: 0,
            violations: 0,
            counts: BTreeMap::new(),
            failures: Vec::new(),
            coverage: Coverage::default(),
        };
        let seed_list: Vec<u64> = (0..seeds).collect();
        for (seed, outcome) in spec.sweep(&NativeBackend, &seed_list, default_threads(), &|_| {}) {
            match outcome {
                Ok(outcome) => {
                    sweep.ops += outcome.ops;
                    sweep.coverage += outcome.coverage;
                    sweep.violations += outcome.violations;
                    for (kind, n) in outcome.counts {
                        *sweep.counts.entry(kind).or_default() += n;
                    }
                    sweep.failures.extend(outcome.failure.map(|f| format!("seed {seed}: {f}")));
                }
                Err(message) => sweep.failures.push(format!("seed {seed}: {message}")),
            }
        }
        sweep
    }

    /// No violation, and every run converged.
    pub fn assert_clean(&self) -> &Self {
        assert!(self.failures.is_empty(), "{self}");
        assert_eq!(self.violations, 0, "{self}");
        assert!(self.ops > 0, "{self}");
        self
    }

    pub fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// The kinds of the store no seed reached.
    pub fn missing_kinds(&self) -> Vec<&'static str> {
        self.spec.store.kind_names().into_iter().filter(|kind| self.count(kind) == 0).collect()
    }

    /// What falls short of the coverage minimums; empty when the sweep meets them.
    pub fn shortfalls(&self) -> Vec<String> {
        shortfalls(&self.coverage, &self.missing_kinds())
    }
}

impl fmt::Display for StoreSweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} x {} seeds: {} ops, {} violations",
            self.spec.options(),
            self.seeds,
            self.ops,
            self.violations
        )?;
        writeln!(f, "  coverage: {}", self.coverage)?;
        for (kind, n) in &self.counts {
            writeln!(f, "  {kind:<24} {n}")?;
        }
        for failure in self.failures.iter().take(10) {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

/// One seed replays to the same log and report, at every level and in
/// swizzle-clog; another seed takes another path.
pub fn assert_deterministic<P: StorePlugin<S>, S: StoreControl + Default>() {
    let sim = |seed, level| Sim::<P, S>::new(seed, level, S::default());
    for (level, seed) in [(FaultLevel::SunnyDay, 5), (FaultLevel::Stormy, 17), (FaultLevel::Radioactive, 23)] {
        let (a, b) = (sim(seed, level).run(300, 50), sim(seed, level).run(300, 50));
        assert!(a.log.lines().len() > 300, "one line per op at least");
        assert_eq!(a.log.first_difference(&b.log), None);
        assert_eq!(a, b);
        assert_eq!(sim(seed, level).run_swizzle_clog(10), sim(seed, level).run_swizzle_clog(10));
    }
    let (one, two) = (sim(1, FaultLevel::Stormy).run(100, 0), sim(2, FaultLevel::Stormy).run(100, 0));
    assert_ne!(one.log, two.log);
}
