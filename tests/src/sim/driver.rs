//! The run schedules both simulations share: the two-phase safety/liveness
//! run and swizzle-clog. Each simulation supplies its ops and its step; the
//! order of PRNG draws lives here once, so both stay replayable the same way.

use std::collections::BTreeMap;

use gossip_persistence::PendingWriteId;

use super::context::SimContext;
use super::done_ledger::harness::WARMUP_OPS;
use super::pending::BackendViolation;
use super::report::{EventKind, EventLog, LogEntry};

pub(crate) type Counts<K> = BTreeMap<K, usize>;

/// What a simulation provides for the shared run schedules.
pub(crate) trait SimDriver: Sized {
    type Op;
    type Kind: EventKind;
    type Violation: BackendViolation;
    type Report;

    /// A random op; faults only when not suppressed (the warm-up).
    fn random_op(&mut self, suppress_faults: bool) -> Self::Op;
    /// Fault-free traffic for the liveness phase.
    fn liveness_op(&mut self) -> Self::Op;
    /// Swizzle-clog batch `idx`, as an upsert op.
    fn swizzle_upsert(&mut self, idx: usize) -> Self::Op;
    fn commit_failure_op() -> Self::Op;
    fn release_op(op_id: PendingWriteId) -> Self::Op;

    fn run_step(&mut self, op: Self::Op, counts: &mut Counts<Self::Kind>, violations: &mut Vec<Self::Violation>);
    fn set_auto_complete(&mut self, on: bool, violations: &mut Vec<Self::Violation>);
    /// The per-write PPM fault draws, when the level has faults.
    fn maybe_inject_swizzle_faults(&mut self);
    fn has_pending(&self) -> bool;
    /// The held writes in a shuffled release order, each marked whether its
    /// commit is made to fail.
    fn swizzle_plan(&mut self, violations: &mut Vec<Self::Violation>) -> Vec<(PendingWriteId, bool)>;
    /// Releases every pending write oldest-first, one logged step per write.
    fn drain_all_pending(&mut self, counts: &mut Counts<Self::Kind>, violations: &mut Vec<Self::Violation>);
    /// The end-of-run checks and the report.
    fn report(self, counts: Counts<Self::Kind>, violations: Vec<Self::Violation>) -> Self::Report;
}

/// `safety_ops` random ops (faults after the warm-up), then auto-complete
/// on, drain, `liveness_ops` fault-free ops, drain, and the end-of-run checks.
pub(crate) fn run_two_phase<D: SimDriver>(mut sim: D, safety_ops: usize, liveness_ops: usize) -> D::Report {
    let mut counts = Counts::new();
    let mut violations = Vec::new();
    for i in 0..safety_ops {
        let op = sim.random_op(i < WARMUP_OPS);
        sim.run_step(op, &mut counts, &mut violations);
    }
    sim.set_auto_complete(true, &mut violations);
    sim.drain_all_pending(&mut counts, &mut violations);
    for _ in 0..liveness_ops {
        let op = sim.liveness_op();
        sim.run_step(op, &mut counts, &mut violations);
    }
    if sim.has_pending() {
        sim.drain_all_pending(&mut counts, &mut violations);
    }
    sim.report(counts, violations)
}

/// FoundationDB's swizzle-clog: delay every write, then release them in a
/// shuffled order with a random subset of the commits failing.
pub(crate) fn run_swizzle_clog<D: SimDriver>(mut sim: D, batch_count: usize) -> D::Report {
    let mut counts = Counts::new();
    let mut violations = Vec::new();
    sim.set_auto_complete(false, &mut violations);
    for idx in 0..batch_count {
        sim.maybe_inject_swizzle_faults();
        let op = sim.swizzle_upsert(idx);
        sim.run_step(op, &mut counts, &mut violations);
    }
    for (op_id, fail) in sim.swizzle_plan(&mut violations) {
        if fail {
            sim.run_step(D::commit_failure_op(), &mut counts, &mut violations);
        }
        sim.run_step(D::release_op(op_id), &mut counts, &mut violations);
    }
    if sim.has_pending() {
        sim.drain_all_pending(&mut counts, &mut violations);
    }
    sim.report(counts, violations)
}

/// Logs a finished step (a drained write when `op` is `None`) with its
/// violations, and advances the step counter.
pub(crate) fn log_step<O, E, V>(
    context: &mut SimContext,
    log: &mut EventLog<O, E, V>,
    op: Option<O>,
    drained: PendingWriteId,
    event: &E,
    violations: &[V],
) where
    O: std::fmt::Display,
    E: std::fmt::Display + Clone,
    V: std::fmt::Display + Clone,
{
    let step = context.step_counter();
    log.push(match op {
        Some(op) => LogEntry::Step { step, op, event: event.clone() },
        None => LogEntry::Drain { step, op_id: drained.as_raw(), event: event.clone() },
    });
    for v in violations {
        log.push(LogEntry::Violation(v.clone()));
    }
    context.tick();
}
