//! Seed sweeps: many seeds in parallel, one panic-isolated run per seed,
//! aggregated into one summary. Shared by the tests, the CLI and the benches.

use core::fmt;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use gossip_persistence::StoreControl;

use super::context::{FaultLevel, FaultModel};
use super::coverage::Coverage;
use super::done_ledger::DoneLedgerSim;
use super::engine::{Sim, StorePlugin};
use super::findings::FindingsSim;
use super::report::{EventKind, SimReport, missing_kinds};
use super::swarm::SimOptions;
use crate::backend::Backend;

/// Fault-free ops the CLI and the sweeps run after the faulty phase, so
/// every run ends with its liveness checks.
pub const DEFAULT_LIVENESS_OPS: usize = 200;

/// Worker threads for a sweep: one per available core (4 if unknown).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Runs `runner` once per seed over `threads` scoped threads (seeds split in
/// contiguous chunks). A panic or an error becomes that seed's `Err`, never
/// the sweep's. `on_done` is called after each seed, from its worker thread.
pub fn run_parallel<R, F>(
    seeds: &[u64],
    threads: usize,
    runner: F,
    on_done: &(dyn Fn(u64) + Sync),
) -> Vec<(u64, Result<R, String>)>
where
    R: Send,
    F: Fn(u64) -> anyhow::Result<R> + Sync,
{
    if seeds.is_empty() {
        return Vec::new();
    }
    let chunk = seeds.len().div_ceil(threads.max(1));
    let runner = &runner;
    let mut results: Vec<(u64, Result<R, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = seeds
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&seed| {
                            let outcome = match catch_unwind(AssertUnwindSafe(|| runner(seed))) {
                                Ok(Ok(report)) => Ok(report),
                                Ok(Err(e)) => Err(format!("ERROR: {e:#}")),
                                Err(payload) => Err(format!("PANIC: {}", panic_message(&*payload))),
                            };
                            on_done(seed);
                            (seed, outcome)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|payload| std::panic::resume_unwind(payload)))
            .collect()
    });
    results.sort_by_key(|(seed, _)| *seed);
    results
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFailure {
    pub seed: u64,
    pub message: String,
}

/// Aggregate of a sweep: ops, events per kind, and every failing seed.
#[derive(Debug, Clone)]
pub struct SweepSummary<K: EventKind> {
    pub seeds: usize,
    pub ops: usize,
    pub event_counts: BTreeMap<K, usize>,
    /// What the seeds exercised, summed.
    pub coverage: Coverage,
    pub violations: usize,
    pub failures: Vec<SeedFailure>,
    pub elapsed: Duration,
}

impl<K: EventKind> SweepSummary<K> {
    pub fn missing_kinds(&self) -> Vec<K> {
        missing_kinds(&self.event_counts)
    }

    pub fn count(&self, kind: K) -> usize {
        self.event_counts.get(&kind).copied().unwrap_or(0)
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// What falls short of the coverage minimums (see [`coverage::shortfalls`](super::coverage::shortfalls)).
    pub fn shortfalls(&self) -> Vec<String> {
        let missing: Vec<&str> = self.missing_kinds().into_iter().map(K::name).collect();
        super::coverage::shortfalls(&self.coverage, &missing)
    }
}

impl<K: EventKind> fmt::Display for SweepSummary<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} seeds, {} ops, {} violations, {} failing seeds, {:.2?}",
            self.seeds,
            self.ops,
            self.violations,
            self.failures.len(),
            self.elapsed
        )?;
        writeln!(f, "  coverage: {}", self.coverage)?;
        for (kind, n) in &self.event_counts {
            writeln!(f, "  {:<24} {n}", kind.name())?;
        }
        for failure in self.failures.iter().take(10) {
            writeln!(f, "  seed {}: {}", failure.seed, failure.message)?;
        }
        Ok(())
    }
}

/// What a sweep keeps of one seed's report: the log is dropped in the
/// worker, so a sweep's memory does not grow with its seeds' logs.
struct SeedTally<K> {
    ops: usize,
    coverage: Coverage,
    violations: usize,
    counts: BTreeMap<K, usize>,
    failure: Option<String>,
}

/// A sweep over `seeds` with `runner` producing one report per seed.
pub fn run_seed_sweep<K, V, O, E, F>(seeds: impl IntoIterator<Item = u64>, runner: F) -> SweepSummary<K>
where
    K: EventKind,
    V: fmt::Display,
    F: Fn(u64) -> anyhow::Result<SimReport<K, V, O, E>> + Sync,
{
    let seeds: Vec<u64> = seeds.into_iter().collect();
    let started = Instant::now();
    let results = run_parallel(
        &seeds,
        default_threads(),
        |seed| {
            runner(seed).map(|report| SeedTally {
                ops: report.ops_executed,
                coverage: report.coverage,
                violations: report.violations.len(),
                failure: report.failure(),
                counts: report.event_counts,
            })
        },
        &|_| {},
    );
    let mut summary = SweepSummary {
        seeds: seeds.len(),
        ops: 0,
        event_counts: BTreeMap::new(),
        coverage: Coverage::default(),
        violations: 0,
        failures: Vec::new(),
        elapsed: started.elapsed(),
    };
    for (seed, result) in results {
        match result {
            Ok(tally) => {
                summary.ops += tally.ops;
                summary.coverage += tally.coverage;
                summary.violations += tally.violations;
                for (kind, n) in tally.counts {
                    *summary.event_counts.entry(kind).or_default() += n;
                }
                if let Some(message) = tally.failure {
                    summary.failures.push(SeedFailure { seed, message });
                }
            }
            Err(message) => summary.failures.push(SeedFailure { seed, message }),
        }
    }
    summary
}

/// Which store a run simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimStore {
    DoneLedger,
    Findings,
}

impl SimStore {
    pub const fn name(self) -> &'static str {
        match self {
            Self::DoneLedger => "done-ledger",
            Self::Findings => "findings",
        }
    }

    /// The names of every event kind of the store's simulation.
    pub fn kind_names(self) -> Vec<&'static str> {
        fn names<K: EventKind>() -> Vec<&'static str> {
            K::all().into_iter().map(K::name).collect()
        }
        match self {
            Self::DoneLedger => names::<super::done_ledger::DoneLedgerSimEventKind>(),
            Self::Findings => names::<super::findings::FindingsSimEventKind>(),
        }
    }

    /// The event kinds a sweep at `level` must reach: every kind, except at
    /// sunny, which injects no faults and so cannot reach the kinds only a
    /// fault leads to.
    pub fn expected_kind_names(self, level: FaultLevel) -> Vec<&'static str> {
        fn names<S: super::events::StoreKind>(level: FaultLevel) -> Vec<&'static str> {
            super::events::SimEventKind::<S>::all()
                .into_iter()
                .filter(|kind| level != FaultLevel::SunnyDay || !kind.needs_faults())
                .map(EventKind::name)
                .collect()
        }
        match self {
            Self::DoneLedger => names::<super::done_ledger::DoneLedgerStoreKind>(level),
            Self::Findings => names::<super::findings::FindingsStoreKind>(level),
        }
    }
}

impl core::str::FromStr for SimStore {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "done-ledger" => Ok(Self::DoneLedger),
            "findings" => Ok(Self::Findings),
            other => Err(format!("unknown store {other:?} (expected done-ledger or findings)")),
        }
    }
}

/// Which runner a seed goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimMode {
    /// `run(safety_ops, liveness_ops)`.
    Run { safety_ops: usize, liveness_ops: usize },
    /// `run_swizzle_clog(batches)`.
    SwizzleClog { batches: usize },
}

/// Everything besides the seed that determines a run: with the seed, it
/// replays the run exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimRunSpec {
    pub store: SimStore,
    pub level: FaultLevel,
    /// How faults are armed.
    pub model: FaultModel,
    pub mode: SimMode,
    /// Options to run every seed with instead of the ones each seed draws
    /// (a replay from a printed options line); their level and model win.
    pub options: Option<SimOptions>,
}

/// One seed's outcome, the same shape for both stores. The rendered log is
/// kept only for a failing seed, or when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOutcome {
    pub seed: u64,
    /// The options the seed ran with.
    pub options: SimOptions,
    /// What the seed exercised.
    pub coverage: Coverage,
    pub ops: usize,
    pub violations: usize,
    pub counts: BTreeMap<&'static str, usize>,
    pub failure: Option<String>,
    pub log: Option<Vec<String>>,
}

impl SeedOutcome {
    fn from_report<K, V, O, E>(report: SimReport<K, V, O, E>, keep_log: bool) -> Self
    where
        K: EventKind,
        V: fmt::Display,
        O: fmt::Display,
        E: fmt::Display,
    {
        let failure = report.failure();
        let log = (keep_log || failure.is_some()).then(|| report.log.lines());
        Self {
            seed: report.seed,
            options: report.options,
            coverage: report.coverage,
            ops: report.ops_executed,
            violations: report.violations.len(),
            counts: report.named_counts(),
            failure,
            log,
        }
    }
}

impl SimRunSpec {
    /// A spec with the default fault model and the options each seed draws.
    pub const fn new(store: SimStore, level: FaultLevel, mode: SimMode) -> Self {
        Self { store, level, model: FaultModel::Bounded, mode, options: None }
    }

    /// The same spec under `model`.
    pub const fn with_model(self, model: FaultModel) -> Self {
        Self { model, ..self }
    }

    /// The command-line options this spec expands to (without a seed or
    /// its options line).
    pub fn options(&self) -> String {
        let mode = match self.mode {
            SimMode::Run { safety_ops, liveness_ops } => format!("--ops {safety_ops} --liveness-ops {liveness_ops}"),
            SimMode::SwizzleClog { batches } => format!("--swizzle-clog {batches}"),
        };
        let model = match self.model {
            FaultModel::Bounded => String::new(),
            other => format!(" --fault-model {other}"),
        };
        format!("--store {} --level {}{model} {mode}", self.store.name(), self.level)
    }

    /// The options `seed` runs with.
    pub fn seed_options(&self, seed: u64) -> SimOptions {
        self.options.unwrap_or_else(|| SimOptions::for_seed(seed, self.level, self.model))
    }

    /// Runs one seed on a fresh store from `backend`; `keep_log` keeps the
    /// rendered event log even when the seed passes. A backend without the
    /// test machinery is refused with [`TestingUnsupported`](crate::sim::TestingUnsupported)
    /// (downcast the error to tell).
    pub fn run_seed<B: Backend>(&self, backend: &B, seed: u64, keep_log: bool) -> anyhow::Result<SeedOutcome> {
        let options = self.seed_options(seed);
        Ok(match self.store {
            SimStore::DoneLedger => self.outcome(DoneLedgerSim::from_backend_with(backend, seed, options)?, keep_log),
            SimStore::Findings => self.outcome(FindingsSim::from_backend_with(backend, seed, options)?, keep_log),
        })
    }

    fn outcome<P: StorePlugin<S>, S: StoreControl>(&self, sim: Sim<P, S>, keep_log: bool) -> SeedOutcome {
        let report = match self.mode {
            SimMode::Run { safety_ops, liveness_ops } => sim.run(safety_ops, liveness_ops),
            SimMode::SwizzleClog { batches } => sim.run_swizzle_clog(batches),
        };
        SeedOutcome::from_report(report, keep_log)
    }

    /// A sweep of this spec over `seeds`, calling `on_done` after each seed
    /// (for progress bars). Outcomes come back sorted by seed. On a backend
    /// without the test machinery every seed fails with the
    /// [`TestingUnsupported`](crate::sim::TestingUnsupported) message; check
    /// [`require_testing`](crate::sim::require_testing) first to skip instead.
    pub fn sweep<B: Backend>(
        &self,
        backend: &B,
        seeds: &[u64],
        threads: usize,
        on_done: &(dyn Fn(u64) + Sync),
    ) -> Vec<(u64, Result<SeedOutcome, String>)> {
        run_parallel(seeds, threads, |seed| self.run_seed(backend, seed, false), on_done)
    }
}
