//! The findings sink's plug-in for the simulation engine: seeded batches that
//! mix new and replayed rows, orphans, conflicting contents and invalid
//! batches, its reads, its oracle and invariants F0–F8. [`FindingsSim`] is
//! the engine running it.

use core::fmt;
use std::collections::VecDeque;

use gossip_persistence::{PendingWriteId, StoreError};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::events::{self, FindingsCommit, FindingsOutcome, FindingsSimEvent, FindingsSimEventKind, Rejection};
use super::invariants::{FindingsInvariantChecker, FindingsInvariantViolation, Snapshot};
use super::ops::{FindingsSimOp, FindingsStoreOp};
use super::oracle::FindingsOracle;
use super::rows::RowKey;
use super::universe::{
    BatchShape, BatchSpec, ConflictLayer, FINDINGS_PER_TENANT, OCCURRENCES_PER_FINDING, OCCURRENCES_PER_TENANT,
    POLICIES, Pick, Sighting, SimBatch, TENANTS, Universe,
};
use crate::backend::{AsStoreError, Backend, SuiteSink};
use crate::sim::context::FaultLevel;
use crate::sim::coverage::Coverage;
use crate::sim::engine::{Sim, Stage, StoreOp, StorePlugin, WaitResult};
use crate::sim::events::{Settlement, SimEvent};
use crate::sim::ops::{ControlMix, OpMix};
use crate::sim::report::SimReport;
use crate::sim::swarm::SimOptions;

/// The engine simulating a findings sink `S`.
pub type FindingsSim<S> = Sim<FindingsPlugin, S>;
/// The report of a findings run.
pub type FindingsSimReport =
    SimReport<FindingsSimEventKind, FindingsInvariantViolation, FindingsSimOp, FindingsSimEvent>;
type Violations = Vec<FindingsInvariantViolation>;

/// Submitted batches kept for replays.
pub const REPLAY_HISTORY: usize = 16;

/// The batch shapes the findings op mixes draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertDraw {
    /// Parents with their children.
    FullChain,
    /// Observations only: re-sightings, or orphans.
    Sightings,
    /// Children without parents: orphans unless the parents are durable.
    Children,
    /// A row conflicting with a durable one.
    Conflict,
    /// A batch refused at submit.
    Invalid,
}

/// What the findings op mixes draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingsDraw {
    /// A new batch of this shape.
    Upsert(UpsertDraw),
    /// A batch submitted earlier; none before the first submit.
    Replay,
    /// Point lookups of pool keys.
    Read,
}

/// A write settled by a release, whose visible effects are checked once the
/// whole release is settled.
pub struct Settled {
    batch: SimBatch,
    committed: bool,
}

/// What a write's checks keep from before its submit: the rows of its keys,
/// and the refusal batch validation must give it.
pub struct PreSubmit {
    rows: Snapshot,
    must_reject: Option<StoreError>,
}

/// The findings sink's side of a simulation: the fixed cast, the batches
/// kept for replays, the oracle and the invariant checker.
pub struct FindingsPlugin {
    universe: Universe,
    oracle: FindingsOracle,
    checker: FindingsInvariantChecker,
    history: VecDeque<SimBatch>,
    /// Occurrences per tenant random batches and reads use.
    occurrences: usize,
    /// The most picks a random batch makes.
    max_picks: usize,
    resighted: usize,
    conflicts: usize,
    orphans: usize,
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

impl FindingsPlugin {
    /// What the sink must hold.
    pub fn oracle(&self) -> &FindingsOracle {
        &self.oracle
    }

    /// The fixed cast batches are built from.
    pub fn universe(&self) -> &Universe {
        &self.universe
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

    fn draw_picks(&self, rng: &mut ChaCha8Rng, max: usize, sighting_in_3: u32) -> Vec<Pick> {
        let n = rng.random_range(1..=max.min(self.max_picks));
        (0..n)
            .map(|_| {
                let occurrence = rng.random_range(0..self.occurrences);
                let policy = rng.random_range(0..POLICIES);
                let sighting = (rng.random_range(0u32..3) < sighting_in_3).then(|| Sighting::draw(rng));
                Pick { occurrence, policy, sighting }
            })
            .collect()
    }

    /// A pool occurrence whose row in `layer` is durable, if any, so that
    /// crafted conflicts usually meet the row they conflict with.
    fn durable_target(&self, rng: &mut ChaCha8Rng, tenant: usize, layer: ConflictLayer) -> Pick {
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
        let mut pick = if candidates.is_empty() {
            Pick {
                occurrence: rng.random_range(0..self.occurrences),
                policy: rng.random_range(0..POLICIES),
                sighting: None,
            }
        } else {
            candidates[rng.random_range(0..candidates.len())]
        };
        pick.sighting = Some(Sighting::draw(rng));
        pick
    }

    fn gen_upsert(&self, rng: &mut ChaCha8Rng, what: UpsertDraw) -> FindingsStoreOp {
        let tenant = rng.random_range(0..TENANTS);
        let spec = match what {
            UpsertDraw::FullChain => {
                BatchSpec { tenant, shape: BatchShape::FullChain, picks: self.draw_picks(rng, 3, 2), salt: 0 }
            }
            UpsertDraw::Sightings => {
                BatchSpec { tenant, shape: BatchShape::Sightings, picks: self.draw_picks(rng, 4, 3), salt: 0 }
            }
            UpsertDraw::Children => {
                BatchSpec { tenant, shape: BatchShape::Children, picks: self.draw_picks(rng, 3, 1), salt: 0 }
            }
            UpsertDraw::Conflict => {
                let layer = [ConflictLayer::Finding, ConflictLayer::Occurrence, ConflictLayer::Observation]
                    [rng.random_range(0..3)];
                let pick = self.durable_target(rng, tenant, layer);
                let salt = rng.random::<u8>();
                BatchSpec { tenant, shape: BatchShape::Conflict(layer), picks: vec![pick], salt }
            }
            UpsertDraw::Invalid => {
                let shape = if rng.random_bool(0.5) { BatchShape::MixedTenant } else { BatchShape::BadObservationId };
                let picks = self.draw_picks(rng, 2, 2);
                let salt = rng.random::<u8>();
                BatchSpec { tenant, shape, picks, salt }
            }
        };
        FindingsStoreOp::Upsert { batch: self.universe.build(&spec) }
    }

    fn gen_read(&self, rng: &mut ChaCha8Rng) -> FindingsStoreOp {
        let n = rng.random_range(1..=6);
        let keys = (0..n)
            .map(|_| {
                let (layer, tenant) = (rng.random_range(0..3), rng.random_range(0..TENANTS));
                let (occurrence, policy) = (rng.random_range(0..self.occurrences), rng.random_range(0..POLICIES));
                self.pool_key(layer, tenant, occurrence, policy)
            })
            .collect();
        FindingsStoreOp::Read { keys }
    }

    fn count_refusal(&mut self, reason: Rejection) {
        match reason {
            Rejection::MissingFinding | Rejection::MissingOccurrence => self.orphans += 1,
            Rejection::FindingConflict | Rejection::OccurrenceConflict | Rejection::ObservationConflict => {
                self.conflicts += 1;
            }
            _ => {}
        }
    }

    fn remember(&mut self, batch: &SimBatch) {
        if self.history.len() == REPLAY_HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(batch.clone());
    }

    /// Batch `idx` of tenant 0's chain: group `idx / 3`'s finding, then its
    /// two occurrences, then their sightings (plus a re-sighting of the
    /// previous group, so merge order depends on release order too).
    pub fn swizzle_clog_batch(&self, idx: usize) -> SimBatch {
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

impl<S: SuiteSink> StorePlugin<S> for FindingsPlugin {
    type Op = FindingsStoreOp;
    type Write = SimBatch;
    type Read = Vec<RowKey>;
    type Draw = FindingsDraw;
    type Commit = FindingsCommit;
    type Outcome = FindingsOutcome;
    type Violation = FindingsInvariantViolation;
    type Handle = S::CommitHandle;
    type Pre = PreSubmit;
    /// A committed write is checked for orphans and read back; a failed
    /// one for changes.
    type Settled = Settled;

    const SUBMIT_CALL: &'static str = "upsert_batch";
    const HOLDER: &'static str = "sink";
    /// Batch shapes: full chains, re-sightings, children without parents,
    /// replays, crafted conflicts and batches invalid at submit. With faults
    /// on, writes stay the majority (59%) and explicit fault ops arm one or
    /// two faults each, so faults are frequent without starving commits.
    const FAULTY_MIX: OpMix<FindingsDraw> = OpMix {
        store: &[
            (26, FindingsDraw::Upsert(UpsertDraw::FullChain)),
            (12, FindingsDraw::Upsert(UpsertDraw::Sightings)),
            (7, FindingsDraw::Upsert(UpsertDraw::Children)),
            (5, FindingsDraw::Replay),
            (6, FindingsDraw::Upsert(UpsertDraw::Conflict)),
            (3, FindingsDraw::Upsert(UpsertDraw::Invalid)),
            (12, FindingsDraw::Read),
        ],
        controls: ControlMix { oldest: 4, newest: 3, by_id: 3, submit: (5, 2), commit: (5, 2), delay: (5, 3), all: 4 },
    };
    const CALM_MIX: OpMix<FindingsDraw> = OpMix {
        store: &[
            (30, FindingsDraw::Upsert(UpsertDraw::FullChain)),
            (15, FindingsDraw::Upsert(UpsertDraw::Sightings)),
            (10, FindingsDraw::Upsert(UpsertDraw::Children)),
            (7, FindingsDraw::Replay),
            (5, FindingsDraw::Upsert(UpsertDraw::Conflict)),
            (3, FindingsDraw::Upsert(UpsertDraw::Invalid)),
            (15, FindingsDraw::Read),
        ],
        controls: ControlMix { oldest: 5, newest: 5, all: 5, ..ControlMix::NONE },
    };
    /// Mostly full chains.
    const LIVENESS_MIX: OpMix<FindingsDraw> = OpMix {
        store: &[(80, FindingsDraw::Upsert(UpsertDraw::FullChain)), (20, FindingsDraw::Read)],
        controls: ControlMix::NONE,
    };

    /// The universe, drawn first. The options' key universe is how many
    /// of a tenant's occurrences random batches use (at least one finding's
    /// two), their batch size the most picks a batch makes.
    fn new(rng: &mut ChaCha8Rng, options: &SimOptions) -> Self {
        Self {
            universe: Universe::draw(rng),
            oracle: FindingsOracle::new(),
            checker: FindingsInvariantChecker::new(),
            history: VecDeque::with_capacity(REPLAY_HISTORY),
            occurrences: options.key_universe.clamp(OCCURRENCES_PER_FINDING, OCCURRENCES_PER_TENANT),
            max_picks: options.max_batch.max(1),
            resighted: 0,
            conflicts: 0,
            orphans: 0,
        }
    }

    fn draw(&mut self, what: FindingsDraw, rng: &mut ChaCha8Rng) -> Option<FindingsStoreOp> {
        match what {
            FindingsDraw::Upsert(shape) => Some(self.gen_upsert(rng, shape)),
            FindingsDraw::Replay => {
                if self.history.is_empty() {
                    return None;
                }
                let index = rng.random_range(0..self.history.len());
                Some(FindingsStoreOp::Upsert { batch: self.history[index].clone() })
            }
            FindingsDraw::Read => Some(self.gen_read(rng)),
        }
    }

    fn swizzle_clog_op(&mut self, idx: usize) -> FindingsStoreOp {
        FindingsStoreOp::Upsert { batch: self.swizzle_clog_batch(idx) }
    }

    fn split(op: &FindingsStoreOp) -> StoreOp<'_, SimBatch, Vec<RowKey>> {
        match op {
            FindingsStoreOp::Upsert { batch } => StoreOp::Write(batch),
            FindingsStoreOp::Read { keys } => StoreOp::Read(keys),
        }
    }

    /// F4 for each key, and F8.
    fn read(&mut self, sink: &S, keys: &Vec<RowKey>, violations: &mut Violations) -> FindingsOutcome {
        let rows = self.checker.check_against_oracle(
            sink,
            keys,
            &self.oracle,
            |key, oracle, actual| FindingsInvariantViolation::ReadConsistency { key, oracle, actual },
            violations,
        );
        violations.extend(FindingsInvariantChecker::check_counts(sink, &self.oracle));
        let found = rows.iter().filter(|(_, r)| r.is_some()).count();
        FindingsOutcome::ReadOk { found, missing: rows.len() - found }
    }

    /// Keeps the batch for replays, and reads its keys (checking F2).
    fn before_submit(&mut self, sink: &S, batch: &SimBatch, violations: &mut Violations) -> PreSubmit {
        self.remember(batch);
        let keys = batch.keys();
        let rows = self.checker.read(sink, &keys, violations);
        PreSubmit { rows, must_reject: FindingsOracle::submit_rejection(batch) }
    }

    fn submit(sink: &S, batch: &SimBatch) -> Result<S::CommitHandle, S::E> {
        sink.upsert_batch(batch.as_batch())
    }

    /// F6 on the refusal, then F3.
    fn submit_refused(
        &mut self,
        sink: &S,
        _batch: &SimBatch,
        pre: PreSubmit,
        error: S::E,
        violations: &mut Violations,
    ) -> FindingsSimEvent {
        let actual = error.as_store_error();
        let event = match (actual, &pre.must_reject) {
            (Some(a), Some(expected)) if a == expected => SimEvent::Store(FindingsOutcome::UpsertRejected {
                reason: Rejection::of(a).unwrap_or(Rejection::Other),
            }),
            (Some(a), None) if is_injected_submit(a) => SimEvent::UpsertSubmitFailed,
            _ => {
                violations.push(FindingsInvariantViolation::OutcomeAgreement {
                    op: 0,
                    expected: pre
                        .must_reject
                        .as_ref()
                        .map_or_else(|| "acceptance".to_owned(), |e| format!("refusal: {e}")),
                    actual: format!("refusal: {error}"),
                });
                match actual.and_then(Rejection::of) {
                    Some(reason) => SimEvent::Store(FindingsOutcome::UpsertRejected { reason }),
                    None => SimEvent::UpsertSubmitFailed,
                }
            }
        };
        violations.extend(self.checker.check_unchanged(sink, "submit refusal", &pre.rows));
        event
    }

    /// F6 if batch validation should have refused it.
    fn accepted(&mut self, op_id: PendingWriteId, batch: &SimBatch, pre: &PreSubmit, violations: &mut Violations) {
        if let Some(expected) = &pre.must_reject {
            violations.push(FindingsInvariantViolation::OutcomeAgreement {
                op: op_id.as_raw(),
                expected: format!("refusal at submit: {expected}"),
                actual: "acceptance".to_owned(),
            });
        }
        self.oracle.submit(op_id, batch.clone());
    }

    /// F3: a delayed batch changed nothing yet.
    fn check_delayed(&mut self, sink: &S, _batch: &SimBatch, pre: &PreSubmit, violations: &mut Violations) {
        violations.extend(self.checker.check_unchanged(sink, "delayed submit", &pre.rows));
    }

    /// Compares a settled write with the oracle's prediction (F6, F7), then
    /// commits or aborts it in the oracle. A write that failed at submit
    /// changed nothing (F3); what any other write made visible is checked by
    /// `check_settled`, once its release is settled: a later write of the
    /// same release may already have changed the keys.
    fn settle(
        &mut self,
        sink: &S,
        op_id: PendingWriteId,
        batch: &SimBatch,
        result: WaitResult<S::CommitHandle>,
        stage: Stage<'_, PreSubmit>,
        deferred: &mut Vec<Settled>,
        violations: &mut Violations,
    ) -> Settlement<FindingsCommit, FindingsOutcome> {
        let predicted = self.oracle.predict(op_id).unwrap_or_else(|| self.oracle.predict_batch(batch));
        let (settlement, committed) = match result {
            Ok(receipt) => {
                let resighted = match &predicted {
                    Ok(p) => {
                        violations.extend(FindingsInvariantChecker::check_receipt(&p.receipt, &receipt));
                        self.oracle.commit(op_id, p);
                        self.resighted += p.resighted;
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
                (Settlement::Committed(FindingsCommit { receipt, resighted }), true)
            }
            Err(e) => {
                self.oracle.abort(op_id);
                let settlement = match e.as_store_error() {
                    Some(a) if is_injected_commit(a) => Settlement::Failed,
                    Some(a) if Rejection::of(a).is_some() => {
                        if predicted.as_ref().err() != Some(a) {
                            violations.push(FindingsInvariantViolation::OutcomeAgreement {
                                op: op_id.as_raw(),
                                expected: verdict(&predicted),
                                actual: format!("refusal: {a}"),
                            });
                        }
                        let reason = Rejection::of(a).unwrap_or(Rejection::Other);
                        self.count_refusal(reason);
                        Settlement::Store(match stage {
                            Stage::AtSubmit(_) => FindingsOutcome::UpsertIntegrityFailed { op_id, reason },
                            Stage::Released => FindingsOutcome::ReleasedIntegrityFailed { op_id, reason },
                        })
                    }
                    _ => {
                        violations.push(FindingsInvariantViolation::backend("wait", &e));
                        Settlement::Failed
                    }
                };
                (settlement, false)
            }
        };
        if let Stage::AtSubmit(pre) = stage
            && !committed
        {
            // A refused or failed batch changes nothing.
            violations.extend(self.checker.check_unchanged(sink, "failed commit", &pre.rows));
            return settlement;
        }
        deferred.push(Settled { batch: batch.clone(), committed });
        settlement
    }

    /// After writes settle: a committed batch left no orphan and reads back
    /// as the oracle says (F1, F4); a failed released batch changed nothing,
    /// so its keys read back as the oracle's state, which it did not touch (F3).
    fn check_settled(&mut self, sink: &S, settled: &[Settled], violations: &mut Violations) {
        for s in settled.iter().filter(|s| s.committed) {
            violations.extend(self.checker.check_no_orphans(sink, &s.batch));
            self.checker.check_against_oracle(
                sink,
                &s.batch.keys(),
                &self.oracle,
                |key, oracle, actual| FindingsInvariantViolation::ReadConsistency { key, oracle, actual },
                violations,
            );
        }
        for s in settled.iter().filter(|s| !s.committed) {
            self.checker.check_against_oracle(
                sink,
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

    fn abort(&mut self, op_id: PendingWriteId) {
        self.oracle.abort(op_id);
    }

    /// F1, F2, F5 and F8 over full snapshots.
    fn final_checks(&mut self, sink: &S) -> Violations {
        self.checker.check_final(sink, &self.oracle)
    }

    fn rows(&self) -> impl fmt::Display {
        let (f, o, b) = self.oracle.counts();
        format!("({f},{o},{b})")
    }

    /// Durable rows, re-sightings merged, conflicts and orphans refused.
    /// Findings rows never tie: a replayed row is either the same row or a
    /// conflict.
    fn coverage(&self, coverage: &mut Coverage) {
        let (f, o, b) = self.oracle.counts();
        coverage.keys_touched += usize::try_from(f + o + b).unwrap_or(usize::MAX);
        coverage.merges_changed += self.resighted;
        coverage.conflicts += self.conflicts;
        coverage.orphans += self.orphans;
    }

    fn extra_kinds(event: &FindingsSimEvent) -> impl Iterator<Item = (FindingsSimEventKind, usize)> {
        events::extra_kinds(event).map(|kind| (kind, 1))
    }
}

/// The findings sink's own entry points and helpers, for tests and benches.
impl<S: SuiteSink> FindingsSim<S> {
    /// A simulation of a fresh sink from `backend`; a backend without the
    /// test machinery is refused with [`TestingUnsupported`](crate::sim::TestingUnsupported).
    pub fn from_backend<B: Backend<Sink = S>>(backend: &B, seed: u64, level: FaultLevel) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::new(seed, level, backend.new_sink()?))
    }

    /// Like [`from_backend`](Self::from_backend), with explicit options.
    pub fn from_backend_with<B: Backend<Sink = S>>(
        backend: &B,
        seed: u64,
        options: SimOptions,
    ) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::with_options(seed, options, backend.new_sink()?))
    }

    /// The batch `spec` stands for.
    pub fn build_batch(&self, spec: &BatchSpec) -> SimBatch {
        self.plugin().universe().build(spec)
    }

    /// See [`FindingsPlugin::replay`].
    pub fn replay(&self, index: usize) -> Option<SimBatch> {
        self.plugin().replay(index)
    }

    /// See [`FindingsPlugin::pool_key`].
    pub fn pool_key(&self, layer: usize, tenant: usize, occurrence: usize, policy: usize) -> RowKey {
        self.plugin().pool_key(layer, tenant, occurrence, policy)
    }
}
