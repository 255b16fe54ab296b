//! The done-ledger's plug-in for the simulation engine: its pool of keys and
//! its records, its reads, its sequencing oracle and invariants I1–I10.
//! [`DoneLedgerSim`] is the engine running it.

use core::fmt;
use std::collections::VecDeque;
use std::convert::Infallible;

use gossip_persistence::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord,
    DoneLedgerStatus,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::{PendingWriteId, StoreError};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::events::{self, DoneLedgerOutcome, DoneLedgerSimEvent, DoneLedgerSimEventKind};
use super::invariants::{DoneLedgerInvariantChecker, DoneLedgerInvariantViolation, read_rows};
use super::ops::{DoneLedgerSimOp, DoneLedgerStoreOp};
use super::oracle::DoneLedgerOracle;
use crate::backend::{AsStoreError, Backend, SuiteLedger};
use crate::sim::context::{FaultLevel, FaultModel, should_inject};
use crate::sim::coverage::Coverage;
use crate::sim::engine::{Sim, Stage, StoreOp, StorePlugin, WaitResult};
use crate::sim::events::{Settlement, SimEvent};
use crate::sim::ops::{ControlMix, OpMix};
use crate::sim::report::SimReport;
use crate::sim::swarm::SimOptions;

/// Keys the reference's random records write to (a bounded run's options
/// choose their own).
pub const OVID_POOL_SIZE: usize = 50;
/// Batches kept for replays.
pub const REPLAY_HISTORY: usize = 16;
/// Keys the proptest state machine writes to: few, so writes collide often.
pub const PROPTEST_OVID_POOL_SIZE: usize = 8;
/// The statuses random records take.
pub const ALL_STATUSES: [DoneLedgerStatus; 5] = DoneLedgerStatus::ALL;

/// The engine simulating a done-ledger `L`.
pub type DoneLedgerSim<L> = Sim<DoneLedgerPlugin, L>;
/// The report of a done-ledger run.
pub type DoneLedgerSimReport =
    SimReport<DoneLedgerSimEventKind, DoneLedgerInvariantViolation, DoneLedgerSimOp, DoneLedgerSimEvent>;
type Violations = Vec<DoneLedgerInvariantViolation>;

/// The fields of a record the proptest state machine chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    /// The pool key (modulo the pool).
    pub ovid_index: usize,
    /// The record's status.
    pub status: DoneLedgerStatus,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Findings; must suit the status.
    pub findings_count: u32,
    /// When the scan started.
    pub started_at: u64,
    /// How long after `started_at` it finished.
    pub duration: u64,
}

/// What the done-ledger's op mixes draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoneLedgerDraw {
    /// 1 to 20 random records.
    Upsert,
    /// 1 to 10 pool keys.
    Get,
}

/// The done-ledger's side of a simulation: the key pool and the next run
/// id its records take, the oracle and the invariant checker.
pub struct DoneLedgerPlugin {
    oracle: DoneLedgerOracle,
    checker: DoneLedgerInvariantChecker,
    tenant: TenantId,
    policy: PolicyHash,
    ovid_pool: Vec<OvidHash>,
    sim_error_code: DoneLedgerErrorCode,
    next_run_id: u64,
    max_batch: u32,
    replay_ppm: u32,
    history: VecDeque<Vec<DoneLedgerRecord>>,
}

fn is_injected_submit(e: &StoreError) -> bool {
    matches!(e, StoreError::InjectedSubmissionFailure { .. })
}

fn is_injected_commit(e: &StoreError) -> bool {
    matches!(e, StoreError::InjectedCommitFailure { .. })
}

/// I0 unless the error is the kind an injected fault produces.
fn unexpected<E: AsStoreError + std::fmt::Display>(
    error: &E,
    during: &'static str,
    expected: fn(&StoreError) -> bool,
) -> Option<DoneLedgerInvariantViolation> {
    (!error.as_store_error().is_some_and(expected)).then(|| DoneLedgerInvariantViolation::backend(during, error))
}

impl DoneLedgerPlugin {
    /// What the ledger must hold.
    pub fn oracle(&self) -> &DoneLedgerOracle {
        &self.oracle
    }

    /// The key of pool entry `ovid_index` (modulo the pool).
    pub fn key(&self, ovid_index: usize) -> DoneLedgerKey {
        DoneLedgerKey::new(self.tenant, self.policy, self.ovid_pool[ovid_index % self.ovid_pool.len()])
    }

    /// How many keys the pool holds.
    pub fn pool_size(&self) -> usize {
        self.ovid_pool.len()
    }

    /// A record for pool key `ovid_index` with the next run id. `findings`
    /// must suit `status` (0 for ScannedClean, at least 1 for ScannedWithFindings).
    pub fn build_record(
        &mut self,
        ovid_index: usize,
        status: DoneLedgerStatus,
        bytes_scanned: u64,
        findings_count: u32,
        started_at: u64,
        finished_at: u64,
    ) -> DoneLedgerRecord {
        let run_id = self.next_run_id;
        self.next_run_id += 1;
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(run_id),
            ShardId::from_raw(1),
            FenceEpoch::from_raw(1),
            LogicalTime::from_raw(started_at),
            LogicalTime::from_raw(finished_at),
        );
        let error_code = (status.is_failure() || status.is_skipped()).then(|| self.sim_error_code.clone());
        DoneLedgerRecord::try_new(self.key(ovid_index), status, bytes_scanned, findings_count, provenance, error_code)
            .expect("findings count suits the status")
    }

    /// A record of random fields, drawn from `rng`.
    pub fn random_record(&mut self, rng: &mut ChaCha8Rng) -> DoneLedgerRecord {
        let ovid_idx = rng.random_range(0..self.ovid_pool.len());
        let status = ALL_STATUSES[rng.random_range(0..ALL_STATUSES.len())];
        let bytes_scanned = rng.random_range(0u64..=10_000);
        let findings_count = match status {
            DoneLedgerStatus::ScannedClean => 0,
            DoneLedgerStatus::ScannedWithFindings => rng.random_range(1u32..=50),
            _ => rng.random_range(0u32..=10),
        };
        let started_at = rng.random_range(1u64..=1000);
        let finished_at = started_at + rng.random_range(1u64..=500);
        self.build_record(ovid_idx, status, bytes_scanned, findings_count, started_at, finished_at)
    }

    /// Three records per batch over five overlapping keys, statuses cycling
    /// through the lattice, so release order decides every merge.
    pub fn swizzle_clog_batch(&mut self, idx: usize) -> Vec<DoneLedgerRecord> {
        const BATCH_WIDTH: usize = 3;
        const OVERLAP_POOL: usize = 5;
        const STATUSES: [DoneLedgerStatus; 5] = [
            DoneLedgerStatus::FailedRetryable,
            DoneLedgerStatus::ScannedWithFindings,
            DoneLedgerStatus::ScannedClean,
            DoneLedgerStatus::FailedPermanent,
            DoneLedgerStatus::Skipped,
        ];
        let status = STATUSES[idx % 5];
        let base = idx % OVERLAP_POOL;
        let started_at = 1000 + 10 * idx as u64;
        (0..BATCH_WIDTH)
            .map(|offset| {
                let findings = match status {
                    DoneLedgerStatus::ScannedClean => 0,
                    DoneLedgerStatus::ScannedWithFindings => offset as u32 + 1,
                    _ => offset as u32,
                };
                self.build_record(
                    (base + offset) % OVERLAP_POOL,
                    status,
                    100 + 25 * idx as u64 + offset as u64,
                    findings,
                    started_at + offset as u64,
                    started_at + offset as u64 + 5,
                )
            })
            .collect()
    }
}

impl<L: SuiteLedger> StorePlugin<L> for DoneLedgerPlugin {
    type Op = DoneLedgerStoreOp;
    /// A batch of records.
    type Write = Vec<DoneLedgerRecord>;
    /// Indices into the OVID pool.
    type Read = Vec<usize>;
    type Draw = DoneLedgerDraw;
    type Commit = DoneLedgerCommitReceipt;
    type Outcome = DoneLedgerOutcome;
    type Violation = DoneLedgerInvariantViolation;
    type Handle = L::CommitHandle;
    /// Each record's row before the submit.
    type Pre = Vec<Option<DoneLedgerRecord>>;
    /// Every check runs as soon as its write settles.
    type Settled = Infallible;

    const SUBMIT_CALL: &'static str = "batch_upsert";
    const HOLDER: &'static str = "ledger";
    const FAULTY_MIX: OpMix<DoneLedgerDraw> = OpMix {
        store: &[(35, DoneLedgerDraw::Upsert), (20, DoneLedgerDraw::Get)],
        controls: ControlMix { oldest: 5, newest: 5, by_id: 5, submit: (10, 3), commit: (7, 3), delay: (8, 5), all: 5 },
    };
    const CALM_MIX: OpMix<DoneLedgerDraw> = OpMix {
        store: &[(55, DoneLedgerDraw::Upsert), (20, DoneLedgerDraw::Get)],
        controls: ControlMix { oldest: 10, newest: 10, all: 5, ..ControlMix::NONE },
    };
    /// Mostly writes.
    const LIVENESS_MIX: OpMix<DoneLedgerDraw> =
        OpMix { store: &[(80, DoneLedgerDraw::Upsert), (20, DoneLedgerDraw::Get)], controls: ControlMix::NONE };

    /// The OVID pool, drawn first: as many keys as the options' universe.
    fn new(rng: &mut ChaCha8Rng, options: &SimOptions) -> Self {
        let ovid_pool = (0..options.key_universe.max(1))
            .map(|_| {
                let mut bytes = [0u8; 32];
                rng.fill(&mut bytes);
                OvidHash::from_bytes(bytes)
            })
            .collect();
        Self {
            oracle: DoneLedgerOracle::new(),
            checker: DoneLedgerInvariantChecker::new(),
            tenant: TenantId::from_bytes([0x01; 32]),
            policy: PolicyHash::from_bytes([0x02; 32]),
            ovid_pool,
            sim_error_code: DoneLedgerErrorCode::try_new("SIM_ERROR").expect("a valid code"),
            next_run_id: 1,
            max_batch: u32::try_from(options.max_batch.clamp(1, 10_000)).unwrap_or(20),
            replay_ppm: if options.model == FaultModel::Reference { 0 } else { options.replay_ppm },
            history: VecDeque::with_capacity(REPLAY_HISTORY),
        }
    }

    fn draw(&mut self, what: DoneLedgerDraw, rng: &mut ChaCha8Rng) -> Option<DoneLedgerStoreOp> {
        Some(match what {
            DoneLedgerDraw::Upsert => {
                // A replay resubmits a batch as is, the retry a worker makes
                // after a failed commit: its rows tie with what they left.
                if should_inject(rng, self.replay_ppm) && !self.history.is_empty() {
                    let index = rng.random_range(0..self.history.len());
                    return Some(DoneLedgerStoreOp::BatchUpsert { records: self.history[index].clone() });
                }
                let batch_size = rng.random_range(1u32..=self.max_batch);
                let records: Vec<DoneLedgerRecord> = (0..batch_size).map(|_| self.random_record(rng)).collect();
                if self.replay_ppm > 0 {
                    if self.history.len() == REPLAY_HISTORY {
                        self.history.pop_front();
                    }
                    self.history.push_back(records.clone());
                }
                DoneLedgerStoreOp::BatchUpsert { records }
            }
            DoneLedgerDraw::Get => {
                let count = rng.random_range(1usize..=10);
                let pool = self.ovid_pool.len();
                DoneLedgerStoreOp::BatchGet { ovid_indices: (0..count).map(|_| rng.random_range(0..pool)).collect() }
            }
        })
    }

    fn swizzle_clog_op(&mut self, idx: usize) -> DoneLedgerStoreOp {
        DoneLedgerStoreOp::BatchUpsert { records: self.swizzle_clog_batch(idx) }
    }

    fn split(op: &DoneLedgerStoreOp) -> StoreOp<'_, Vec<DoneLedgerRecord>, Vec<usize>> {
        match op {
            DoneLedgerStoreOp::BatchUpsert { records } => StoreOp::Write(records),
            DoneLedgerStoreOp::BatchGet { ovid_indices } => StoreOp::Read(ovid_indices),
        }
    }

    /// I7: every read must return the oracle's committed state.
    fn read(&mut self, ledger: &L, ovid_indices: &Vec<usize>, violations: &mut Violations) -> DoneLedgerOutcome {
        let keys: Vec<DoneLedgerKey> = ovid_indices.iter().map(|i| self.key(*i)).collect();
        let hashes: Vec<OvidHash> = keys.iter().map(DoneLedgerKey::ovid_hash).collect();
        let results = match ledger.batch_get(self.tenant, self.policy, &hashes) {
            Ok(results) => results,
            Err(e) => {
                violations.push(DoneLedgerInvariantViolation::backend("batch_get", &e));
                return DoneLedgerOutcome::GetOk { results: Vec::new() };
            }
        };
        if results.len() != keys.len() {
            violations.push(DoneLedgerInvariantViolation::Backend {
                during: "batch_get",
                error: format!("{} results for {} keys", results.len(), keys.len()),
            });
        }
        for (key, actual) in keys.iter().zip(&results) {
            let oracle = self.oracle.expected_state(key);
            if oracle != actual.as_ref() {
                violations.push(DoneLedgerInvariantViolation::ReadConsistency {
                    key: *key,
                    oracle: oracle.map(|r| Box::new(r.clone())),
                    actual: actual.as_ref().map(|r| Box::new(r.clone())),
                });
            }
        }
        DoneLedgerOutcome::GetOk { results }
    }

    fn before_submit(
        &mut self,
        ledger: &L,
        records: &Vec<DoneLedgerRecord>,
        violations: &mut Violations,
    ) -> Vec<Option<DoneLedgerRecord>> {
        let keys: Vec<DoneLedgerKey> = records.iter().map(|r| *r.key()).collect();
        read_rows(ledger, &keys).unwrap_or_else(|e| {
            violations.push(DoneLedgerInvariantViolation::backend("batch_get", &e));
            vec![None; keys.len()]
        })
    }

    fn submit(ledger: &L, records: &Vec<DoneLedgerRecord>) -> Result<L::CommitHandle, L::E> {
        ledger.batch_upsert(records)
    }

    /// I4: a rejected write changed nothing.
    fn submit_refused(
        &mut self,
        ledger: &L,
        records: &Vec<DoneLedgerRecord>,
        pre: Vec<Option<DoneLedgerRecord>>,
        error: L::E,
        violations: &mut Violations,
    ) -> DoneLedgerSimEvent {
        violations.extend(unexpected(&error, "batch_upsert", is_injected_submit));
        violations.extend(self.checker.check_after_submit_failure(ledger, records, &pre));
        SimEvent::UpsertSubmitFailed
    }

    fn accepted(
        &mut self,
        op_id: PendingWriteId,
        records: &Vec<DoneLedgerRecord>,
        _pre: &Vec<Option<DoneLedgerRecord>>,
        _violations: &mut Violations,
    ) {
        self.oracle.submit(op_id, records.to_vec());
    }

    /// I4 again: a delayed write must not leak into visible state.
    fn check_delayed(
        &mut self,
        ledger: &L,
        records: &Vec<DoneLedgerRecord>,
        pre: &Vec<Option<DoneLedgerRecord>>,
        violations: &mut Violations,
    ) {
        violations.extend(self.checker.check_after_submit_failure(ledger, records, pre));
    }

    /// Commits or aborts the write in the oracle, then I1–I3 and I8–I10
    /// after a commit, I5 after a failed commit at submit. A released write's
    /// submit-time snapshot is stale, so only I1–I3 and I9 apply to it.
    fn settle(
        &mut self,
        ledger: &L,
        op_id: PendingWriteId,
        records: &Vec<DoneLedgerRecord>,
        result: WaitResult<L::CommitHandle>,
        stage: Stage<'_, Vec<Option<DoneLedgerRecord>>>,
        _deferred: &mut Vec<Infallible>,
        violations: &mut Violations,
    ) -> Settlement<DoneLedgerCommitReceipt, DoneLedgerOutcome> {
        match result {
            Ok(receipt) => {
                self.oracle.commit(op_id);
                let pre = match stage {
                    Stage::AtSubmit(pre) => pre.as_slice(),
                    Stage::Released => &[],
                };
                violations.extend(self.checker.check_after_committed_upsert(ledger, records, &receipt, pre));
                Settlement::Committed(receipt)
            }
            Err(e) => {
                violations.extend(unexpected(&e, "wait", is_injected_commit));
                self.oracle.abort(op_id);
                if let Stage::AtSubmit(pre) = stage {
                    violations.extend(self.checker.check_after_commit_failure(ledger, records, pre));
                }
                Settlement::Failed
            }
        }
    }

    fn abort(&mut self, op_id: PendingWriteId) {
        self.oracle.abort(op_id);
    }

    /// I6.
    fn final_checks(&mut self, ledger: &L) -> Violations {
        self.oracle.verify_convergence(ledger)
    }

    fn rows(&self) -> impl fmt::Display {
        self.oracle.committed_count()
    }

    /// Keys with a durable row, and the merges the oracle made.
    fn coverage(&self, coverage: &mut Coverage) {
        coverage.keys_touched += self.oracle.committed_count();
        coverage.merges_changed += self.oracle.merges_changed();
        coverage.merges_tied += self.oracle.merges_tied();
    }

    fn extra_kinds(event: &DoneLedgerSimEvent) -> impl Iterator<Item = (DoneLedgerSimEventKind, usize)> {
        events::extra_kinds(event).into_iter()
    }
}

/// The done-ledger's own entry points and helpers, for tests and benches.
impl<L: SuiteLedger> DoneLedgerSim<L> {
    /// A simulation of a fresh ledger from `backend`; a backend without
    /// the test machinery is refused with [`TestingUnsupported`](crate::sim::TestingUnsupported).
    pub fn from_backend<B: Backend<Ledger = L>>(backend: &B, seed: u64, level: FaultLevel) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::new(seed, level, backend.new_ledger()?))
    }

    /// Like [`from_backend`](Self::from_backend), with explicit options.
    pub fn from_backend_with<B: Backend<Ledger = L>>(
        backend: &B,
        seed: u64,
        options: SimOptions,
    ) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::with_options(seed, options, backend.new_ledger()?))
    }

    /// For the harness's own tests, which plant oracle-only state.
    pub fn oracle_mut(&mut self) -> &mut DoneLedgerOracle {
        &mut self.plugin_mut().oracle
    }

    /// See [`DoneLedgerPlugin::key`].
    pub fn key(&self, ovid_index: usize) -> DoneLedgerKey {
        self.plugin().key(ovid_index)
    }

    /// A record for `spec` with the next run id.
    pub fn build_test_record(&mut self, spec: &RecordSpec) -> DoneLedgerRecord {
        self.plugin_mut().build_record(
            spec.ovid_index,
            spec.status,
            spec.bytes_scanned,
            spec.findings_count,
            spec.started_at,
            spec.started_at + spec.duration,
        )
    }

    /// A random record, drawn from the run's PRNG.
    pub fn generate_random_record(&mut self) -> DoneLedgerRecord {
        let (plugin, rng) = self.plugin_and_rng();
        plugin.random_record(rng)
    }
}
