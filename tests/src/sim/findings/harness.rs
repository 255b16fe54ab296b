//! `FindingsSim`: drives any findings sink through seeded batches that mix
//! new and replayed rows, orphans, conflicting contents and invalid batches,
//! under injected faults, checking every outcome against the oracle.
//!
//! As in the done-ledger harness, a write is only waited on once the
//! backend no longer lists it in `pending_ids()`.

use std::collections::VecDeque;

use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::{CommitHandle, CompletionOrder, PendingWriteId, StoreError, TrackedHandle};
use rand::Rng;

use super::events::{FindingsSimEvent, FindingsSimEventKind, Rejection};
use super::invariants::{FindingsInvariantChecker, FindingsInvariantViolation, Snapshot};
use super::ops::FindingsSimOp;
use super::oracle::FindingsOracle;
use super::rows::RowKey;
use super::universe::{
    BatchShape, BatchSpec, ConflictLayer, FINDINGS_PER_TENANT, OCCURRENCES_PER_FINDING, OCCURRENCES_PER_TENANT,
    POLICIES, Pick, Sighting, SimBatch, TENANTS, Universe,
};
use crate::backend::{AsStoreError, Backend, SuiteSink};
use crate::sim::PersistenceSim;
use crate::sim::context::{FaultConfig, FaultLevel, SimContext, should_inject};
use crate::sim::done_ledger::harness::MAX_OP_RETRIES;
use crate::sim::driver::{self, Counts, SimDriver};
use crate::sim::pending::{self, PendingWrites, ReleasedAll, ReleasedOne};
use crate::sim::report::{EventLog, LogEntry, SimReport};

pub type FindingsSimReport =
    SimReport<FindingsSimEventKind, FindingsInvariantViolation, FindingsSimOp, FindingsSimEvent>;
type Violations = Vec<FindingsInvariantViolation>;

/// Submitted batches kept for replays.
pub const REPLAY_HISTORY: usize = 16;

struct PendingBatch<H> {
    batch: SimBatch,
    handle: H,
}

/// A write settled by a release, whose visible effects are checked once the
/// whole release is settled.
struct Settled {
    batch: SimBatch,
    committed: bool,
}

/// Where a settled write came from, which decides its event and its F3 check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// Completed at submit; `pre` is the state just before.
    AtSubmit,
    Released,
}

pub struct FindingsSim<S: SuiteSink> {
    context: SimContext,
    level: FaultLevel,
    sink: S,
    universe: Universe,
    oracle: FindingsOracle,
    checker: FindingsInvariantChecker,
    fault_config: FaultConfig,
    ops_executed: usize,
    pending_batches: PendingWrites<PendingBatch<S::CommitHandle>>,
    history: VecDeque<SimBatch>,
    carried: Violations,
    log: EventLog<FindingsSimOp, FindingsSimEvent, FindingsInvariantViolation>,
}

fn is_injected_submit(e: &StoreError) -> bool {
    matches!(e, StoreError::InjectedSubmissionFailure { .. })
}

fn is_injected_commit(e: &StoreError) -> bool {
    matches!(e, StoreError::InjectedCommitFailure { .. })
}

fn verdict(expected: &Result<impl Sized, StoreError>) -> String {
    match expected {
        Ok(_) => "commit".to_owned(),
        Err(e) => format!("refusal: {e}"),
    }
}

impl<S: SuiteSink> FindingsSim<S> {
    /// A simulation of `sink`, which must be fresh (empty, auto-complete on).
    pub fn new(seed: u64, level: FaultLevel, sink: S) -> Self {
        let mut context = SimContext::new(seed);
        let universe = Universe::draw(context.rng());
        Self {
            context,
            level,
            sink,
            universe,
            oracle: FindingsOracle::new(),
            checker: FindingsInvariantChecker::new(),
            fault_config: FaultConfig::for_level(level),
            ops_executed: 0,
            pending_batches: PendingWrites::default(),
            history: VecDeque::with_capacity(REPLAY_HISTORY),
            carried: Vec::new(),
            log: EventLog::default(),
        }
    }

    /// A simulation of a fresh sink from `backend`; a backend without the
    /// test machinery is refused with [`TestingUnsupported`](crate::sim::TestingUnsupported).
    pub fn from_backend<B: Backend<Sink = S>>(backend: &B, seed: u64, level: FaultLevel) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::new(seed, level, backend.new_sink()?))
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    pub fn oracle(&self) -> &FindingsOracle {
        &self.oracle
    }

    pub fn universe(&self) -> &Universe {
        &self.universe
    }

    pub fn log(&self) -> &EventLog<FindingsSimOp, FindingsSimEvent, FindingsInvariantViolation> {
        &self.log
    }

    pub const fn ops_executed(&self) -> usize {
        self.ops_executed
    }

    pub fn pending_batch_count(&self) -> usize {
        self.pending_batches.len()
    }

    /// End-of-run checks now; every write must be settled first.
    pub fn check_convergence(&mut self) -> Violations {
        assert!(self.pending_batches.is_empty(), "check_convergence with pending batches");
        self.checker.check_final(&self.sink, &self.oracle)
    }

    /// The batch `spec` stands for.
    pub fn build_batch(&self, spec: &BatchSpec) -> SimBatch {
        self.universe.build(spec)
    }

    /// A batch submitted earlier (`index` modulo the history), for replays.
    pub fn replay(&self, index: usize) -> Option<SimBatch> {
        (!self.history.is_empty()).then(|| self.history[index % self.history.len()].clone())
    }

    /// The key of a pool row: layer 0 findings, 1 occurrences, 2 observations.
    pub fn pool_key(&self, layer: usize, tenant: usize, occurrence: usize, policy: usize) -> RowKey {
        let t = self.universe.tenant(tenant);
        match layer % 3 {
            0 => RowKey::Finding(t, self.universe.finding(tenant, occurrence / OCCURRENCES_PER_FINDING).finding_id()),
            1 => RowKey::Occurrence(t, self.universe.occurrence(tenant, occurrence).occurrence_id()),
            _ => RowKey::Observation(t, self.universe.observation_id(tenant, occurrence, policy)),
        }
    }

    fn draw_picks(&mut self, max: usize, sighting_in_3: u32) -> Vec<Pick> {
        let rng = self.context.rng();
        let n = rng.random_range(1..=max);
        (0..n)
            .map(|_| {
                let occurrence = rng.random_range(0..OCCURRENCES_PER_TENANT);
                let policy = rng.random_range(0..POLICIES);
                let sighting = (rng.random_range(0u32..3) < sighting_in_3).then(|| Sighting::draw(rng));
                Pick { occurrence, policy, sighting }
            })
            .collect()
    }

    /// A pool occurrence whose row in `layer` is durable, if any, so that
    /// crafted conflicts usually meet the row they conflict with.
    fn durable_target(&mut self, tenant: usize, layer: ConflictLayer) -> Pick {
        let candidates: Vec<Pick> = (0..OCCURRENCES_PER_TENANT)
            .flat_map(|occurrence| (0..POLICIES).map(move |policy| Pick { occurrence, policy, sighting: None }))
            .filter(|p| match layer {
                ConflictLayer::Finding => p.policy == 0 && p.occurrence % OCCURRENCES_PER_FINDING == 0,
                ConflictLayer::Occurrence => p.policy == 0,
                ConflictLayer::Observation => true,
            })
            .filter(|p| {
                let l = match layer {
                    ConflictLayer::Finding => 0,
                    ConflictLayer::Occurrence => 1,
                    ConflictLayer::Observation => 2,
                };
                self.oracle.expected(&self.pool_key(l, tenant, p.occurrence, p.policy)).is_some()
            })
            .collect();
        let rng = self.context.rng();
        let mut pick = if candidates.is_empty() {
            Pick {
                occurrence: rng.random_range(0..OCCURRENCES_PER_TENANT),
                policy: rng.random_range(0..POLICIES),
                sighting: None,
            }
        } else {
            candidates[rng.random_range(0..candidates.len())]
        };
        pick.sighting = Some(Sighting::draw(rng));
        pick
    }

    fn gen_upsert(&mut self, shape: u32) -> FindingsSimOp {
        let tenant = self.context.rng().random_range(0..TENANTS);
        let spec = match shape {
            0 => BatchSpec { tenant, shape: BatchShape::FullChain, picks: self.draw_picks(3, 2), salt: 0 },
            1 => BatchSpec { tenant, shape: BatchShape::Sightings, picks: self.draw_picks(4, 3), salt: 0 },
            2 => BatchSpec { tenant, shape: BatchShape::Children, picks: self.draw_picks(3, 1), salt: 0 },
            3 => {
                let layer = [ConflictLayer::Finding, ConflictLayer::Occurrence, ConflictLayer::Observation]
                    [self.context.rng().random_range(0..3)];
                let pick = self.durable_target(tenant, layer);
                let salt = self.context.rng().random::<u8>();
                BatchSpec { tenant, shape: BatchShape::Conflict(layer), picks: vec![pick], salt }
            }
            _ => {
                let shape = if self.context.rng().random_bool(0.5) {
                    BatchShape::MixedTenant
                } else {
                    BatchShape::BadObservationId
                };
                let picks = self.draw_picks(2, 2);
                let salt = self.context.rng().random::<u8>();
                BatchSpec { tenant, shape, picks, salt }
            }
        };
        FindingsSimOp::Upsert { batch: self.universe.build(&spec) }
    }

    fn gen_replay(&mut self) -> Option<FindingsSimOp> {
        if self.history.is_empty() {
            return None;
        }
        let index = self.context.rng().random_range(0..self.history.len());
        Some(FindingsSimOp::Upsert { batch: self.history[index].clone() })
    }

    fn gen_read(&mut self) -> FindingsSimOp {
        let n = self.context.rng().random_range(1..=6);
        let keys = (0..n)
            .map(|_| {
                let rng = self.context.rng();
                let (layer, tenant) = (rng.random_range(0..3), rng.random_range(0..TENANTS));
                let (occurrence, policy) = (rng.random_range(0..OCCURRENCES_PER_TENANT), rng.random_range(0..POLICIES));
                self.pool_key(layer, tenant, occurrence, policy)
            })
            .collect();
        FindingsSimOp::Read { keys }
    }

    fn try_gen_release_specific(&mut self) -> FindingsSimOp {
        FindingsSimOp::ReleaseSpecific { op_id: self.pending_batches.draw_release_target(self.context.rng()) }
    }

    fn gen_release_all(&mut self) -> FindingsSimOp {
        FindingsSimOp::ReleaseAll { order: pending::random_order(self.context.rng()) }
    }

    /// A weighted random op. Batch shapes: full chains, re-sightings,
    /// children without parents (orphans unless the parents are durable),
    /// replays, crafted conflicts and batches invalid at submit. With faults
    /// on, writes stay the majority (59%) and explicit fault ops arm one or
    /// two faults each, so faults are frequent without starving commits.
    pub fn generate_random_op(&mut self, suppress_faults: bool) -> FindingsSimOp {
        let faults_enabled = !suppress_faults && !self.fault_config.is_fault_free();
        for _ in 0..MAX_OP_RETRIES {
            let roll = self.context.rng().random_range(0u32..100);
            let op = if faults_enabled {
                match roll {
                    0..=25 => Some(self.gen_upsert(0)),
                    26..=37 => Some(self.gen_upsert(1)),
                    38..=44 => Some(self.gen_upsert(2)),
                    45..=49 => self.gen_replay(),
                    50..=55 => Some(self.gen_upsert(3)),
                    56..=58 => Some(self.gen_upsert(4)),
                    59..=70 => Some(self.gen_read()),
                    71..=74 => (!self.pending_batches.is_empty()).then_some(FindingsSimOp::ReleaseOldest),
                    75..=77 => Some(FindingsSimOp::ReleaseNewest),
                    78..=80 => Some(self.try_gen_release_specific()),
                    81..=85 => {
                        Some(FindingsSimOp::InjectSubmitFailure { count: self.context.rng().random_range(1..=2) })
                    }
                    86..=90 => {
                        Some(FindingsSimOp::InjectCommitFailure { count: self.context.rng().random_range(1..=2) })
                    }
                    91..=95 => Some(FindingsSimOp::InjectDelay { count: self.context.rng().random_range(1..=3) }),
                    _ => Some(self.gen_release_all()),
                }
            } else {
                match roll {
                    0..=29 => Some(self.gen_upsert(0)),
                    30..=44 => Some(self.gen_upsert(1)),
                    45..=54 => Some(self.gen_upsert(2)),
                    55..=61 => self.gen_replay(),
                    62..=66 => Some(self.gen_upsert(3)),
                    67..=69 => Some(self.gen_upsert(4)),
                    70..=84 => Some(self.gen_read()),
                    85..=89 => (!self.pending_batches.is_empty()).then_some(FindingsSimOp::ReleaseOldest),
                    90..=94 => Some(FindingsSimOp::ReleaseNewest),
                    _ => Some(self.gen_release_all()),
                }
            };
            if let Some(op) = op {
                if faults_enabled && !op.is_fault_injection() {
                    self.maybe_inject_faults();
                }
                return op;
            }
        }
        self.gen_upsert(0)
    }

    fn generate_liveness_op(&mut self) -> FindingsSimOp {
        if self.context.rng().random_range(0u32..100) < 80 { self.gen_upsert(0) } else { self.gen_read() }
    }

    fn maybe_inject_faults(&mut self) {
        let config = self.fault_config.clone();
        if should_inject(self.context.rng(), config.submit_fail_ppm) {
            self.control("fail_next_submissions", |s| s.fail_next_submissions(1));
        }
        if should_inject(self.context.rng(), config.commit_fail_ppm) {
            self.control("fail_next_commits", |s| s.fail_next_commits(1));
        }
        if should_inject(self.context.rng(), config.delay_ppm) {
            self.control("delay_next_writes", |s| s.delay_next_writes(1));
        }
    }

    fn control(&mut self, during: &'static str, f: impl FnOnce(&S) -> Result<(), S::E>) {
        if let Err(e) = f(&self.sink) {
            self.carried.push(FindingsInvariantViolation::backend(during, &e));
        }
    }

    fn remember(&mut self, batch: &SimBatch) {
        if self.history.len() == REPLAY_HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(batch.clone());
    }

    fn exec_upsert(&mut self, batch: &SimBatch, violations: &mut Violations) -> FindingsSimEvent {
        self.remember(batch);
        let keys = batch.keys();
        let pre = self.checker.read(&self.sink, &keys, violations);
        let must_reject = FindingsOracle::submit_rejection(batch);
        let handle = match self.sink.upsert_batch(batch.as_batch()) {
            Ok(handle) => handle,
            Err(e) => {
                let actual = e.as_store_error();
                let event = match (actual, &must_reject) {
                    (Some(a), Some(expected)) if a == expected => {
                        FindingsSimEvent::UpsertRejected { reason: Rejection::of(a).unwrap_or(Rejection::Other) }
                    }
                    (Some(a), None) if is_injected_submit(a) => FindingsSimEvent::UpsertSubmitFailed,
                    _ => {
                        violations.push(FindingsInvariantViolation::OutcomeAgreement {
                            op: 0,
                            expected: must_reject
                                .as_ref()
                                .map_or_else(|| "acceptance".to_owned(), |e| format!("refusal: {e}")),
                            actual: format!("refusal: {e}"),
                        });
                        match actual.and_then(Rejection::of) {
                            Some(reason) => FindingsSimEvent::UpsertRejected { reason },
                            None => FindingsSimEvent::UpsertSubmitFailed,
                        }
                    }
                };
                violations.extend(self.checker.check_unchanged(&self.sink, "submit refusal", &pre));
                return event;
            }
        };
        let op_id = handle.operation_id();
        if let Some(expected) = must_reject {
            violations.push(FindingsInvariantViolation::OutcomeAgreement {
                op: op_id.as_raw(),
                expected: format!("refusal at submit: {expected}"),
                actual: "acceptance".to_owned(),
            });
        }
        let delayed = pending::is_delayed(&self.sink, op_id, violations);
        self.oracle.submit(op_id, batch.clone());
        if delayed {
            self.pending_batches.hold(op_id, PendingBatch { batch: batch.clone(), handle }, "upsert_batch", violations);
            violations.extend(self.checker.check_unchanged(&self.sink, "delayed submit", &pre));
            return FindingsSimEvent::UpsertPending { op_id };
        }
        let result = handle.wait();
        self.settle(op_id, batch, result, Settle::AtSubmit, &pre, None, violations)
    }

    /// Compares a settled write with the oracle's prediction, then commits or
    /// aborts it in the oracle. What is now visible is checked at once, or,
    /// when `deferred` is given (several writes released together), once
    /// every write of the release is settled: a later write of the same
    /// release may already have changed the keys.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &mut self,
        op_id: PendingWriteId,
        batch: &SimBatch,
        result: Result<FindingsCommitReceipt, S::E>,
        how: Settle,
        pre: &Snapshot,
        deferred: Option<&mut Vec<Settled>>,
        violations: &mut Violations,
    ) -> FindingsSimEvent {
        let predicted = self.oracle.predict(op_id).unwrap_or_else(|| self.oracle.predict_batch(batch));
        let (event, committed) = match result {
            Ok(receipt) => {
                let resighted = match &predicted {
                    Ok(p) => {
                        violations.extend(FindingsInvariantChecker::check_receipt(&p.receipt, &receipt));
                        self.oracle.commit(op_id, p);
                        p.resighted
                    }
                    Err(_) => {
                        violations.push(FindingsInvariantViolation::OutcomeAgreement {
                            op: op_id.as_raw(),
                            expected: verdict(&predicted),
                            actual: "commit".to_owned(),
                        });
                        self.oracle.abort(op_id);
                        0
                    }
                };
                let event = match how {
                    Settle::AtSubmit => FindingsSimEvent::UpsertCommitted { op_id, receipt, resighted },
                    Settle::Released => FindingsSimEvent::Released { op_id, receipt, resighted },
                };
                (event, true)
            }
            Err(e) => {
                self.oracle.abort(op_id);
                let event = match e.as_store_error() {
                    Some(a) if is_injected_commit(a) => match how {
                        Settle::AtSubmit => FindingsSimEvent::UpsertCommitFailed { op_id },
                        Settle::Released => FindingsSimEvent::ReleasedCommitFailed { op_id },
                    },
                    Some(a) if Rejection::of(a).is_some() => {
                        if predicted.as_ref().err() != Some(a) {
                            violations.push(FindingsInvariantViolation::OutcomeAgreement {
                                op: op_id.as_raw(),
                                expected: verdict(&predicted),
                                actual: format!("refusal: {a}"),
                            });
                        }
                        let reason = Rejection::of(a).unwrap_or(Rejection::Other);
                        match how {
                            Settle::AtSubmit => FindingsSimEvent::UpsertIntegrityFailed { op_id, reason },
                            Settle::Released => FindingsSimEvent::ReleasedIntegrityFailed { op_id, reason },
                        }
                    }
                    _ => {
                        violations.push(FindingsInvariantViolation::backend("wait", &e));
                        match how {
                            Settle::AtSubmit => FindingsSimEvent::UpsertCommitFailed { op_id },
                            Settle::Released => FindingsSimEvent::ReleasedCommitFailed { op_id },
                        }
                    }
                };
                (event, false)
            }
        };
        if how == Settle::AtSubmit && !committed {
            // A refused or failed batch changes nothing.
            violations.extend(self.checker.check_unchanged(&self.sink, "failed commit", pre));
            return event;
        }
        let settled = Settled { batch: batch.clone(), committed };
        match deferred {
            Some(list) => list.push(settled),
            None => self.check_settled(std::slice::from_ref(&settled), violations),
        }
        event
    }

    /// After writes settle: a committed batch left no orphan and reads back
    /// as the oracle says (F1, F4); a failed released batch changed nothing,
    /// so its keys read back as the oracle's state, which it did not touch (F3).
    fn check_settled(&mut self, settled: &[Settled], violations: &mut Violations) {
        for s in settled.iter().filter(|s| s.committed) {
            violations.extend(self.checker.check_no_orphans(&self.sink, &s.batch));
            self.checker.check_against_oracle(
                &self.sink,
                &s.batch.keys(),
                &self.oracle,
                |key, oracle, actual| FindingsInvariantViolation::ReadConsistency { key, oracle, actual },
                violations,
            );
        }
        for s in settled.iter().filter(|s| !s.committed) {
            self.checker.check_against_oracle(
                &self.sink,
                &s.batch.keys(),
                &self.oracle,
                |key, expected, actual| FindingsInvariantViolation::RejectedUnchanged {
                    stage: "failed release",
                    key,
                    expected,
                    actual,
                },
                violations,
            );
        }
    }

    fn exec_read(&mut self, keys: &[RowKey], violations: &mut Violations) -> FindingsSimEvent {
        let rows = self.checker.check_against_oracle(
            &self.sink,
            keys,
            &self.oracle,
            |key, oracle, actual| FindingsInvariantViolation::ReadConsistency { key, oracle, actual },
            violations,
        );
        violations.extend(FindingsInvariantChecker::check_counts(&self.sink, &self.oracle));
        let found = rows.iter().filter(|(_, r)| r.is_some()).count();
        FindingsSimEvent::ReadOk { found, missing: rows.len() - found }
    }

    fn finish_released_batch(
        &mut self,
        op_id: PendingWriteId,
        pending: PendingBatch<S::CommitHandle>,
        deferred: Option<&mut Vec<Settled>>,
        violations: &mut Violations,
    ) -> FindingsSimEvent {
        let result = pending.handle.wait();
        self.settle(op_id, &pending.batch, result, Settle::Released, &Vec::new(), deferred, violations)
    }

    fn finish_released_one(
        &mut self,
        released: ReleasedOne<PendingBatch<S::CommitHandle>>,
        violations: &mut Violations,
    ) -> FindingsSimEvent {
        match released {
            ReleasedOne::Batch(op_id, batch) => self.finish_released_batch(op_id, batch, None, violations),
            ReleasedOne::Noop => FindingsSimEvent::ReleaseNoop,
        }
    }

    fn exec_release_next(&mut self, order: CompletionOrder, violations: &mut Violations) -> FindingsSimEvent {
        let released = self.pending_batches.release_next(&self.sink, order, violations);
        self.finish_released_one(released, violations)
    }

    fn exec_release_specific(&mut self, op_id: PendingWriteId, violations: &mut Violations) -> FindingsSimEvent {
        let released = self.pending_batches.release_specific(&self.sink, op_id, violations);
        self.finish_released_one(released, violations)
    }

    /// Releases every pending write; the ones the sink still holds are
    /// aborted in the oracle.
    fn release_all(
        &mut self,
        order: CompletionOrder,
        violations: &mut Violations,
    ) -> ReleasedAll<PendingBatch<S::CommitHandle>> {
        let all = self.pending_batches.release_all(&self.sink, order, violations);
        for id in &all.held {
            self.oracle.abort(*id);
        }
        all
    }

    fn exec_release_all(&mut self, order: CompletionOrder, violations: &mut Violations) -> FindingsSimEvent {
        let all = self.release_all(order, violations);
        let (mut committed, mut failed) = (0, 0);
        let mut settled = Vec::new();
        for (op_id, batch) in all.batches {
            match self.finish_released_batch(op_id, batch, Some(&mut settled), violations) {
                FindingsSimEvent::Released { .. } => committed += 1,
                _ => failed += 1,
            }
        }
        self.check_settled(&settled, violations);
        FindingsSimEvent::ReleasedAll { count: all.released, committed, failed }
    }

    fn exec_inject(&mut self, op: &FindingsSimOp, violations: &mut Violations) -> FindingsSimEvent {
        let (during, result) = match *op {
            FindingsSimOp::InjectSubmitFailure { count } => {
                ("fail_next_submissions", self.sink.fail_next_submissions(count))
            }
            FindingsSimOp::InjectCommitFailure { count } => ("fail_next_commits", self.sink.fail_next_commits(count)),
            FindingsSimOp::InjectDelay { count } => ("delay_next_writes", self.sink.delay_next_writes(count)),
            _ => return FindingsSimEvent::ReleaseNoop,
        };
        if let Err(e) = result {
            violations.push(FindingsInvariantViolation::backend(during, &e));
        }
        FindingsSimEvent::FaultConfigured
    }
    fn record_event(event: &FindingsSimEvent, counts: &mut Counts<FindingsSimEventKind>) {
        *counts.entry(event.kind()).or_default() += 1;
        for kind in event.extra_kinds() {
            *counts.entry(kind).or_default() += 1;
        }
    }
    fn finish_step(
        &mut self,
        op: Option<FindingsSimOp>,
        drained: PendingWriteId,
        event: &FindingsSimEvent,
        violations: &Violations,
    ) {
        driver::log_step(&mut self.context, &mut self.log, op, drained, event, violations);
        self.ops_executed += 1;
    }

    /// Safety ops (faults after the warm-up), then auto-complete on, drain,
    /// fault-free liveness ops, drain, and the end-of-run checks.
    pub fn run(self, safety_ops: usize, liveness_ops: usize) -> FindingsSimReport {
        driver::run_two_phase(self, safety_ops, liveness_ops)
    }

    /// Swizzle-clog: every write delayed, then released in a shuffled order
    /// with a random subset of the commits failing.
    pub fn run_swizzle_clog(self, batch_count: usize) -> FindingsSimReport {
        driver::run_swizzle_clog(self, batch_count)
    }

    /// Batch `idx` of tenant 0's chain: group `idx / 3`'s finding, then its
    /// two occurrences, then their sightings (plus a re-sighting of the
    /// previous group, so merge order depends on release order too).
    pub fn build_swizzle_clog_batch(&self, idx: usize) -> SimBatch {
        let group = (idx / 3) % FINDINGS_PER_TENANT;
        let occurrences = [group * OCCURRENCES_PER_FINDING, group * OCCURRENCES_PER_FINDING + 1];
        let sighting = |k: usize| Sighting {
            run: idx as u64 + 1,
            shard: 1,
            fence: 1,
            seen_at: 10 + (idx % 7) as u64,
            location: Some(k % 4),
        };
        let picks: Vec<Pick> = match idx % 3 {
            0 | 1 => occurrences.iter().map(|&occurrence| Pick { occurrence, policy: 0, sighting: None }).collect(),
            _ => {
                let mut picks: Vec<Pick> = occurrences
                    .iter()
                    .map(|&occurrence| Pick {
                        occurrence,
                        policy: group % POLICIES,
                        sighting: Some(sighting(occurrence)),
                    })
                    .collect();
                if group > 0 {
                    let occurrence = (group - 1) * OCCURRENCES_PER_FINDING;
                    picks.push(Pick { occurrence, policy: (group - 1) % POLICIES, sighting: Some(sighting(idx)) });
                }
                picks
            }
        };
        let shape = match idx % 3 {
            0 => BatchShape::FullChain,
            1 => BatchShape::Children,
            _ => BatchShape::Sightings,
        };
        let mut batch = self.universe.build(&BatchSpec { tenant: 0, shape, picks, salt: 0 });
        if idx.is_multiple_of(3) {
            // The group's finding alone: its occurrences come in the next batch.
            batch.occurrences.clear();
            batch.observations.clear();
        }
        batch
    }
}

impl<S: SuiteSink> PersistenceSim for FindingsSim<S> {
    type Op = FindingsSimOp;
    type Event = FindingsSimEvent;
    type Violation = FindingsInvariantViolation;

    /// Executes one op. Never draws from the PRNG.
    fn step(&mut self, op: FindingsSimOp) -> (FindingsSimEvent, Violations) {
        let mut violations = std::mem::take(&mut self.carried);
        let event = match &op {
            FindingsSimOp::Upsert { batch } => self.exec_upsert(batch, &mut violations),
            FindingsSimOp::Read { keys } => self.exec_read(keys, &mut violations),
            FindingsSimOp::ReleaseOldest => self.exec_release_next(CompletionOrder::OldestFirst, &mut violations),
            FindingsSimOp::ReleaseNewest => self.exec_release_next(CompletionOrder::NewestFirst, &mut violations),
            FindingsSimOp::ReleaseSpecific { op_id } => self.exec_release_specific(*op_id, &mut violations),
            FindingsSimOp::ReleaseAll { order } => self.exec_release_all(*order, &mut violations),
            FindingsSimOp::InjectSubmitFailure { .. }
            | FindingsSimOp::InjectCommitFailure { .. }
            | FindingsSimOp::InjectDelay { .. } => self.exec_inject(&op, &mut violations),
        };
        self.finish_step(Some(op), PendingWriteId::from_raw(0), &event, &violations);
        (event, violations)
    }
}

impl<S: SuiteSink> SimDriver for FindingsSim<S> {
    type Op = FindingsSimOp;
    type Kind = FindingsSimEventKind;
    type Violation = FindingsInvariantViolation;
    type Report = FindingsSimReport;

    fn random_op(&mut self, suppress_faults: bool) -> FindingsSimOp {
        self.generate_random_op(suppress_faults)
    }

    fn liveness_op(&mut self) -> FindingsSimOp {
        self.generate_liveness_op()
    }

    fn swizzle_upsert(&mut self, idx: usize) -> FindingsSimOp {
        let batch = self.build_swizzle_clog_batch(idx);
        FindingsSimOp::Upsert { batch }
    }

    fn commit_failure_op() -> FindingsSimOp {
        FindingsSimOp::InjectCommitFailure { count: 1 }
    }

    fn release_op(op_id: PendingWriteId) -> FindingsSimOp {
        FindingsSimOp::ReleaseSpecific { op_id }
    }

    fn run_step(&mut self, op: Self::Op, counts: &mut Counts<Self::Kind>, violations: &mut Violations) {
        let (event, mut v) = self.step(op);
        Self::record_event(&event, counts);
        violations.append(&mut v);
    }

    fn set_auto_complete(&mut self, on: bool, violations: &mut Violations) {
        if let Err(e) = self.sink.set_auto_complete(on) {
            violations.push(FindingsInvariantViolation::backend("set_auto_complete", &e));
        }
    }

    fn maybe_inject_swizzle_faults(&mut self) {
        if !self.fault_config.is_fault_free() {
            self.maybe_inject_faults();
        }
    }

    fn has_pending(&self) -> bool {
        !self.pending_batches.is_empty()
    }

    fn swizzle_plan(&mut self, violations: &mut Violations) -> Vec<(PendingWriteId, bool)> {
        let seed = self.context.seed();
        self.pending_batches.swizzle_plan(&self.sink, "sink", seed, self.context.rng(), violations)
    }

    fn drain_all_pending(&mut self, counts: &mut Counts<Self::Kind>, violations: &mut Violations) {
        let mut step_violations = Vec::new();
        let batches = self.release_all(CompletionOrder::OldestFirst, &mut step_violations).batches;
        for v in &step_violations {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        violations.append(&mut step_violations);
        let mut settled = Vec::new();
        for (op_id, batch) in batches {
            let mut v = Vec::new();
            let event = self.finish_released_batch(op_id, batch, Some(&mut settled), &mut v);
            self.finish_step(None, op_id, &event, &v);
            Self::record_event(&event, counts);
            violations.append(&mut v);
        }
        let mut v = Vec::new();
        self.check_settled(&settled, &mut v);
        for violation in &v {
            self.log.push(LogEntry::Violation(violation.clone()));
        }
        violations.append(&mut v);
    }

    fn report(mut self, counts: Counts<Self::Kind>, mut violations: Violations) -> FindingsSimReport {
        violations.append(&mut self.carried);
        let final_violations = self.checker.check_final(&self.sink, &self.oracle);
        for v in &final_violations {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        let converged = final_violations.is_empty();
        let (f, o, b) = self.oracle.counts();
        self.log
            .push(LogEntry::Note(format!("end ops={} converged={converged} rows=({f},{o},{b})", self.ops_executed)));
        violations.extend(final_violations);
        SimReport {
            seed: self.context.seed(),
            level: self.level,
            ops_executed: self.ops_executed,
            violations,
            event_counts: counts,
            converged,
            log: self.log,
        }
    }
}
