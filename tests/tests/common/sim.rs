//! The sweeps and assertions both store simulations run the same way on the
//! native stores: only the harness type differs.

use std::fmt;

use gossip_persistence::{InMemoryDoneLedger, InMemoryFindingsSink};
use gossip_suite::sim::done_ledger::{
    DoneLedgerInvariantViolation, DoneLedgerSim, DoneLedgerSimEvent, DoneLedgerSimEventKind, DoneLedgerSimOp,
};
use gossip_suite::sim::findings::{
    FindingsInvariantViolation, FindingsSim, FindingsSimEvent, FindingsSimEventKind, FindingsSimOp,
};
use gossip_suite::sim::sweep::{SweepSummary, run_seed_sweep};
use gossip_suite::sim::{EventKind, FaultLevel, SimReport};

pub const SUNNY_DAY_OPS: usize = 200;
pub const STORMY_SWEEP_SEEDS: u64 = 100;
pub const STORMY_SWEEP_OPS: usize = 500;
pub const SWIZZLE_SWEEP_SEEDS: u64 = 100;
pub const SWIZZLE_BATCHES: usize = 10;
pub const RADIOACTIVE_SMOKE_SEEDS: u64 = 5;
pub const RADIOACTIVE_SMOKE_OPS: usize = 200;
pub const RADIOACTIVE_SWEEP_SEEDS: u64 = 50;
pub const RADIOACTIVE_SWEEP_OPS: usize = 1_000;

/// A simulation harness over its native store.
pub trait NativeSim: Sized {
    type Kind: EventKind;
    type Violation: fmt::Display + fmt::Debug + PartialEq;
    type Op: fmt::Display + fmt::Debug + PartialEq;
    type Event: fmt::Display + fmt::Debug + PartialEq;

    fn native(seed: u64, level: FaultLevel) -> Self;
    fn run(self, safety_ops: usize, liveness_ops: usize) -> Report<Self>;
    fn run_swizzle_clog(self, batch_count: usize) -> Report<Self>;
}

pub type Report<S> =
    SimReport<<S as NativeSim>::Kind, <S as NativeSim>::Violation, <S as NativeSim>::Op, <S as NativeSim>::Event>;

impl NativeSim for DoneLedgerSim<InMemoryDoneLedger> {
    type Kind = DoneLedgerSimEventKind;
    type Violation = DoneLedgerInvariantViolation;
    type Op = DoneLedgerSimOp;
    type Event = DoneLedgerSimEvent;

    fn native(seed: u64, level: FaultLevel) -> Self {
        Self::new(seed, level, InMemoryDoneLedger::new())
    }

    fn run(self, safety_ops: usize, liveness_ops: usize) -> Report<Self> {
        Self::run(self, safety_ops, liveness_ops)
    }

    fn run_swizzle_clog(self, batch_count: usize) -> Report<Self> {
        Self::run_swizzle_clog(self, batch_count)
    }
}

impl NativeSim for FindingsSim<InMemoryFindingsSink> {
    type Kind = FindingsSimEventKind;
    type Violation = FindingsInvariantViolation;
    type Op = FindingsSimOp;
    type Event = FindingsSimEvent;

    fn native(seed: u64, level: FaultLevel) -> Self {
        Self::new(seed, level, InMemoryFindingsSink::new())
    }

    fn run(self, safety_ops: usize, liveness_ops: usize) -> Report<Self> {
        Self::run(self, safety_ops, liveness_ops)
    }

    fn run_swizzle_clog(self, batch_count: usize) -> Report<Self> {
        Self::run_swizzle_clog(self, batch_count)
    }
}

pub fn assert_clean<K: EventKind, V: fmt::Display, O, E>(report: &SimReport<K, V, O, E>) {
    assert!(report.is_clean(), "seed {}: {}", report.seed, report.failure().unwrap_or_default());
}

pub fn assert_sweep_clean<K: EventKind>(summary: &SweepSummary<K>) {
    assert!(summary.failures.is_empty(), "{summary}");
    assert_eq!(summary.violations, 0, "{summary}");
}

/// `seeds` runs of `S`, each built by `run` from a fresh native harness.
fn sweep<S, F>(seeds: u64, level: FaultLevel, run: F) -> SweepSummary<S::Kind>
where
    S: NativeSim,
    F: Fn(S) -> Report<S> + Sync,
{
    run_seed_sweep(0..seeds, |seed| Ok(run(S::native(seed, level))))
}

/// The stormy sweep: clean, and every event kind reached.
pub fn stormy_sweep<S: NativeSim>() -> SweepSummary<S::Kind> {
    let summary = sweep::<S, _>(STORMY_SWEEP_SEEDS, FaultLevel::Stormy, |s| s.run(STORMY_SWEEP_OPS, 0));
    assert_sweep_clean(&summary);
    assert_eq!(summary.missing_kinds(), Vec::<S::Kind>::new(), "{summary}");
    summary
}

/// The swizzle-clog sweep at `level`, asserted clean.
pub fn swizzle_clog_sweep<S: NativeSim>(level: FaultLevel) -> SweepSummary<S::Kind> {
    let summary = sweep::<S, _>(SWIZZLE_SWEEP_SEEDS, level, |s| s.run_swizzle_clog(SWIZZLE_BATCHES));
    assert_sweep_clean(&summary);
    summary
}

pub fn radioactive_smoke<S: NativeSim>() {
    assert_sweep_clean(&sweep::<S, _>(RADIOACTIVE_SMOKE_SEEDS, FaultLevel::Radioactive, |s| {
        s.run(RADIOACTIVE_SMOKE_OPS, 0)
    }));
}

pub fn radioactive_sweep<S: NativeSim>() {
    assert_sweep_clean(&sweep::<S, _>(RADIOACTIVE_SWEEP_SEEDS, FaultLevel::Radioactive, |s| {
        s.run(RADIOACTIVE_SWEEP_OPS, 0)
    }));
}

/// One seed replays to the same log and report, at every level and in
/// swizzle-clog; another seed takes another path.
pub fn assert_deterministic<S: NativeSim>() {
    for (level, seed) in [(FaultLevel::SunnyDay, 5), (FaultLevel::Stormy, 17), (FaultLevel::Radioactive, 23)] {
        let a = S::native(seed, level).run(300, 50);
        let b = S::native(seed, level).run(300, 50);
        assert!(a.log.lines().len() > 300, "one line per op at least");
        assert_eq!(a.log.first_difference(&b.log), None);
        assert_eq!(a, b);
        assert_eq!(S::native(seed, level).run_swizzle_clog(10), S::native(seed, level).run_swizzle_clog(10));
    }
    let (one, two) = (S::native(1, FaultLevel::Stormy).run(100, 0), S::native(2, FaultLevel::Stormy).run(100, 0));
    assert_ne!(one.log, two.log);
}
