//! `DoneLedgerSim`: drives any done-ledger through seeded random operations,
//! checking every outcome against the invariants and the oracle.
//!
//! The harness never waits on a write the backend still holds: after each
//! submit it asks `pending_ids()` whether the write was delayed, and it only
//! waits on handles that completed at submit or that a release finished.

use std::collections::BTreeMap;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::{CommitHandle, CompletionOrder, PendingWriteId, StoreError, TrackedHandle};
use rand::Rng;

use super::events::{DoneLedgerSimEvent, DoneLedgerSimEventKind};
use super::invariants::{DoneLedgerInvariantChecker, DoneLedgerInvariantViolation, read_rows};
use super::ops::DoneLedgerSimOp;
use super::oracle::DoneLedgerOracle;
use crate::backend::{AsStoreError, Backend, SuiteLedger};
use crate::sim::PersistenceSim;
use crate::sim::context::{FaultConfig, FaultLevel, SimContext, should_inject};
use crate::sim::driver::{self, Counts, SimDriver};
use crate::sim::pending::{self, PendingWrites, ReleasedAll, ReleasedOne};
use crate::sim::report::{EventLog, LogEntry, SimReport};

pub const OVID_POOL_SIZE: usize = 50;
/// The first ops of a run are fault-free, so every run starts with some
/// committed state for the faults to act on.
pub const WARMUP_OPS: usize = 5;
pub const MAX_OP_RETRIES: usize = 10;
/// Keys the proptest state machine writes to: few, so writes collide often.
pub const PROPTEST_OVID_POOL_SIZE: usize = 8;
pub const ALL_STATUSES: [DoneLedgerStatus; 5] = DoneLedgerStatus::ALL;

pub type DoneLedgerSimReport =
    SimReport<DoneLedgerSimEventKind, DoneLedgerInvariantViolation, DoneLedgerSimOp, DoneLedgerSimEvent>;
type Violations = Vec<DoneLedgerInvariantViolation>;

/// The fields of a record the proptest state machine chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub ovid_index: usize,
    pub status: DoneLedgerStatus,
    pub bytes_scanned: u64,
    pub findings_count: u32,
    pub started_at: u64,
    pub duration: u64,
}

struct PendingBatch<H> {
    records: Vec<DoneLedgerRecord>,
    handle: H,
}

pub struct DoneLedgerSim<L: SuiteLedger> {
    context: SimContext,
    level: FaultLevel,
    ledger: L,
    oracle: DoneLedgerOracle,
    checker: DoneLedgerInvariantChecker,
    fault_config: FaultConfig,
    tenant: TenantId,
    policy: PolicyHash,
    ovid_pool: Vec<OvidHash>,
    ops_executed: usize,
    pending_batches: PendingWrites<PendingBatch<L::CommitHandle>>,
    sim_error_code: DoneLedgerErrorCode,
    next_run_id: u64,
    /// Violations found outside a step (a failed fault-injection call in the
    /// generator), reported with the next step.
    carried: Violations,
    log: EventLog<DoneLedgerSimOp, DoneLedgerSimEvent, DoneLedgerInvariantViolation>,
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

impl<L: SuiteLedger> DoneLedgerSim<L> {
    /// A simulation of `ledger`, which must be fresh (empty, auto-complete on).
    pub fn new(seed: u64, level: FaultLevel, ledger: L) -> Self {
        let mut context = SimContext::new(seed);
        // The pool is drawn first: it is the first thing every run consumes.
        let ovid_pool = (0..OVID_POOL_SIZE)
            .map(|_| {
                let mut bytes = [0u8; 32];
                context.rng().fill(&mut bytes);
                OvidHash::from_bytes(bytes)
            })
            .collect();
        Self {
            context,
            level,
            ledger,
            oracle: DoneLedgerOracle::new(),
            checker: DoneLedgerInvariantChecker::new(),
            fault_config: FaultConfig::for_level(level),
            tenant: TenantId::from_bytes([0x01; 32]),
            policy: PolicyHash::from_bytes([0x02; 32]),
            ovid_pool,
            ops_executed: 0,
            pending_batches: PendingWrites::default(),
            sim_error_code: DoneLedgerErrorCode::try_new("SIM_ERROR").expect("a valid code"),
            next_run_id: 1,
            carried: Vec::new(),
            log: EventLog::default(),
        }
    }

    /// A simulation of a fresh ledger from `backend`; a backend without
    /// the test machinery is refused with [`TestingUnsupported`](crate::sim::TestingUnsupported).
    pub fn from_backend<B: Backend<Ledger = L>>(backend: &B, seed: u64, level: FaultLevel) -> anyhow::Result<Self> {
        crate::sim::require_testing(backend)?;
        Ok(Self::new(seed, level, backend.new_ledger()?))
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    pub fn oracle(&self) -> &DoneLedgerOracle {
        &self.oracle
    }

    /// For the harness's own tests, which plant oracle-only state.
    pub fn oracle_mut(&mut self) -> &mut DoneLedgerOracle {
        &mut self.oracle
    }

    pub fn log(&self) -> &EventLog<DoneLedgerSimOp, DoneLedgerSimEvent, DoneLedgerInvariantViolation> {
        &self.log
    }

    pub const fn ops_executed(&self) -> usize {
        self.ops_executed
    }

    pub const fn seed(&self) -> u64 {
        self.context.seed()
    }

    pub fn pending_batch_count(&self) -> usize {
        self.pending_batches.len()
    }

    pub fn key(&self, ovid_index: usize) -> DoneLedgerKey {
        DoneLedgerKey::new(self.tenant, self.policy, self.ovid_pool[ovid_index % OVID_POOL_SIZE])
    }

    /// I6 now; every write must be settled first.
    pub fn check_convergence(&self) -> Violations {
        assert!(self.pending_batches.is_empty(), "check_convergence with pending batches");
        self.oracle.verify_convergence(&self.ledger)
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

    pub fn build_test_record(&mut self, spec: &RecordSpec) -> DoneLedgerRecord {
        self.build_record(
            spec.ovid_index,
            spec.status,
            spec.bytes_scanned,
            spec.findings_count,
            spec.started_at,
            spec.started_at + spec.duration,
        )
    }

    pub fn generate_random_record(&mut self) -> DoneLedgerRecord {
        let rng = self.context.rng();
        let ovid_idx = rng.random_range(0..OVID_POOL_SIZE);
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

    fn gen_batch_upsert(&mut self) -> DoneLedgerSimOp {
        let batch_size = self.context.rng().random_range(1u32..=20);
        let records = (0..batch_size).map(|_| self.generate_random_record()).collect();
        DoneLedgerSimOp::BatchUpsert { records }
    }

    fn gen_batch_get(&mut self) -> DoneLedgerSimOp {
        let rng = self.context.rng();
        let count = rng.random_range(1usize..=10);
        let ovid_indices = (0..count).map(|_| rng.random_range(0..OVID_POOL_SIZE)).collect();
        DoneLedgerSimOp::BatchGet { ovid_indices }
    }

    /// `None` without drawing when nothing is pending: no attempt is wasted
    /// on a certain no-op.
    fn try_gen_release_oldest(&self) -> Option<DoneLedgerSimOp> {
        (!self.pending_batches.is_empty()).then_some(DoneLedgerSimOp::ReleaseOldest)
    }

    /// Unguarded on purpose, so `ReleaseNoop` actually happens.
    fn try_gen_release_newest(&self) -> Option<DoneLedgerSimOp> {
        Some(DoneLedgerSimOp::ReleaseNewest)
    }

    fn try_gen_release_specific(&mut self) -> Option<DoneLedgerSimOp> {
        Some(DoneLedgerSimOp::ReleaseSpecific { op_id: self.pending_batches.draw_release_target(self.context.rng()) })
    }

    fn try_gen_release_all(&mut self) -> Option<DoneLedgerSimOp> {
        Some(DoneLedgerSimOp::ReleaseAll { order: pending::random_order(self.context.rng()) })
    }

    /// A weighted random op; faults (explicit inject ops and per-write PPM
    /// faults) only when enabled and not suppressed by the warm-up.
    pub fn generate_random_op(&mut self, suppress_faults: bool) -> DoneLedgerSimOp {
        let faults_enabled = !suppress_faults && !self.fault_config.is_fault_free();
        for _ in 0..MAX_OP_RETRIES {
            let roll = self.context.rng().random_range(0u32..100);
            let op = if faults_enabled {
                match roll {
                    0..=34 => Some(self.gen_batch_upsert()),
                    35..=54 => Some(self.gen_batch_get()),
                    55..=59 => self.try_gen_release_oldest(),
                    60..=64 => self.try_gen_release_newest(),
                    65..=69 => self.try_gen_release_specific(),
                    70..=79 => {
                        Some(DoneLedgerSimOp::InjectSubmitFailure { count: self.context.rng().random_range(1..=3) })
                    }
                    80..=86 => {
                        Some(DoneLedgerSimOp::InjectCommitFailure { count: self.context.rng().random_range(1..=3) })
                    }
                    87..=94 => Some(DoneLedgerSimOp::InjectDelay { count: self.context.rng().random_range(1..=5) }),
                    _ => self.try_gen_release_all(),
                }
            } else {
                match roll {
                    0..=54 => Some(self.gen_batch_upsert()),
                    55..=74 => Some(self.gen_batch_get()),
                    75..=84 => self.try_gen_release_oldest(),
                    85..=94 => self.try_gen_release_newest(),
                    _ => self.try_gen_release_all(),
                }
            };
            if let Some(op) = op {
                if faults_enabled && !op.is_fault_injection() {
                    self.maybe_inject_faults();
                }
                return op;
            }
        }
        self.gen_batch_upsert()
    }

    /// Fault-free traffic for the liveness phase: mostly writes.
    fn generate_liveness_op(&mut self) -> DoneLedgerSimOp {
        if self.context.rng().random_range(0u32..100) < 80 { self.gen_batch_upsert() } else { self.gen_batch_get() }
    }

    /// Three independent PPM draws, in this order: submit, commit, delay.
    fn maybe_inject_faults(&mut self) {
        let config = self.fault_config.clone();
        if should_inject(self.context.rng(), config.submit_fail_ppm) {
            self.control("fail_next_submissions", |l| l.fail_next_submissions(1));
        }
        if should_inject(self.context.rng(), config.commit_fail_ppm) {
            self.control("fail_next_commits", |l| l.fail_next_commits(1));
        }
        if should_inject(self.context.rng(), config.delay_ppm) {
            self.control("delay_next_writes", |l| l.delay_next_writes(1));
        }
    }

    fn control(&mut self, during: &'static str, f: impl FnOnce(&L) -> Result<(), L::E>) {
        if let Err(e) = f(&self.ledger) {
            self.carried.push(DoneLedgerInvariantViolation::backend(during, &e));
        }
    }

    fn pre_snapshot(&self, records: &[DoneLedgerRecord], violations: &mut Violations) -> Vec<Option<DoneLedgerRecord>> {
        let keys: Vec<DoneLedgerKey> = records.iter().map(|r| *r.key()).collect();
        read_rows(&self.ledger, &keys).unwrap_or_else(|e| {
            violations.push(DoneLedgerInvariantViolation::backend("batch_get", &e));
            vec![None; keys.len()]
        })
    }

    fn exec_upsert(&mut self, records: &[DoneLedgerRecord], violations: &mut Violations) -> DoneLedgerSimEvent {
        let pre = self.pre_snapshot(records, violations);
        let handle = match self.ledger.batch_upsert(records) {
            Ok(handle) => handle,
            Err(e) => {
                violations.extend(unexpected(&e, "batch_upsert", is_injected_submit));
                violations.extend(self.checker.check_after_submit_failure(&self.ledger, records, &pre));
                return DoneLedgerSimEvent::UpsertSubmitFailed;
            }
        };
        let op_id = handle.operation_id();
        if pending::is_delayed(&self.ledger, op_id, violations) {
            let batch = PendingBatch { records: records.to_vec(), handle };
            self.pending_batches.hold(op_id, batch, "batch_upsert", violations);
            // A delayed write must not leak into visible state.
            violations.extend(self.checker.check_after_submit_failure(&self.ledger, records, &pre));
            self.oracle.submit(op_id, records.to_vec());
            return DoneLedgerSimEvent::UpsertPending { op_id };
        }
        self.oracle.submit(op_id, records.to_vec());
        match handle.wait() {
            Ok(receipt) => {
                self.oracle.commit(op_id);
                violations.extend(self.checker.check_after_committed_upsert(&self.ledger, records, &receipt, &pre));
                DoneLedgerSimEvent::UpsertCommitted { op_id, receipt }
            }
            Err(e) => {
                violations.extend(unexpected(&e, "wait", is_injected_commit));
                self.oracle.abort(op_id);
                violations.extend(self.checker.check_after_commit_failure(&self.ledger, records, &pre));
                DoneLedgerSimEvent::UpsertCommitFailed { op_id }
            }
        }
    }

    /// I7: every read must return the oracle's committed state.
    fn exec_get(&mut self, ovid_indices: &[usize], violations: &mut Violations) -> DoneLedgerSimEvent {
        let keys: Vec<DoneLedgerKey> = ovid_indices.iter().map(|i| self.key(*i)).collect();
        let hashes: Vec<OvidHash> = keys.iter().map(DoneLedgerKey::ovid_hash).collect();
        let results = match self.ledger.batch_get(self.tenant, self.policy, &hashes) {
            Ok(results) => results,
            Err(e) => {
                violations.push(DoneLedgerInvariantViolation::backend("batch_get", &e));
                return DoneLedgerSimEvent::GetOk { results: Vec::new() };
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
        DoneLedgerSimEvent::GetOk { results }
    }

    /// Settles a write the backend reports released: waits, then commits or
    /// aborts it in the oracle. The submit-time snapshot is stale by now, so
    /// only I1–I3 and I9 apply.
    fn finish_released_batch(
        &mut self,
        op_id: PendingWriteId,
        batch: PendingBatch<L::CommitHandle>,
        violations: &mut Violations,
    ) -> DoneLedgerSimEvent {
        match batch.handle.wait() {
            Ok(receipt) => {
                self.oracle.commit(op_id);
                violations.extend(self.checker.check_after_committed_upsert(
                    &self.ledger,
                    &batch.records,
                    &receipt,
                    &[],
                ));
                DoneLedgerSimEvent::Released { op_id, receipt }
            }
            Err(e) => {
                violations.extend(unexpected(&e, "wait", is_injected_commit));
                self.oracle.abort(op_id);
                DoneLedgerSimEvent::ReleasedCommitFailed { op_id }
            }
        }
    }

    fn finish_released_one(
        &mut self,
        released: ReleasedOne<PendingBatch<L::CommitHandle>>,
        violations: &mut Violations,
    ) -> DoneLedgerSimEvent {
        match released {
            ReleasedOne::Batch(op_id, batch) => self.finish_released_batch(op_id, batch, violations),
            ReleasedOne::Noop => DoneLedgerSimEvent::ReleaseNoop,
        }
    }

    fn exec_release_next(&mut self, order: CompletionOrder, violations: &mut Violations) -> DoneLedgerSimEvent {
        let released = self.pending_batches.release_next(&self.ledger, order, violations);
        self.finish_released_one(released, violations)
    }

    fn exec_release_specific(&mut self, op_id: PendingWriteId, violations: &mut Violations) -> DoneLedgerSimEvent {
        let released = self.pending_batches.release_specific(&self.ledger, op_id, violations);
        self.finish_released_one(released, violations)
    }

    /// Releases every pending write; the ones the ledger still holds are
    /// aborted in the oracle.
    fn release_all(
        &mut self,
        order: CompletionOrder,
        violations: &mut Violations,
    ) -> ReleasedAll<PendingBatch<L::CommitHandle>> {
        let all = self.pending_batches.release_all(&self.ledger, order, violations);
        for id in &all.held {
            self.oracle.abort(*id);
        }
        all
    }

    fn exec_release_all(&mut self, order: CompletionOrder, violations: &mut Violations) -> DoneLedgerSimEvent {
        let all = self.release_all(order, violations);
        let (mut committed, mut failed) = (0, 0);
        for (op_id, batch) in all.batches {
            match self.finish_released_batch(op_id, batch, violations) {
                DoneLedgerSimEvent::Released { .. } => committed += 1,
                _ => failed += 1,
            }
        }
        DoneLedgerSimEvent::ReleasedAll { count: all.released, committed, failed }
    }

    fn exec_inject(&mut self, op: &DoneLedgerSimOp, violations: &mut Violations) -> DoneLedgerSimEvent {
        let (during, result) = match *op {
            DoneLedgerSimOp::InjectSubmitFailure { count } => {
                ("fail_next_submissions", self.ledger.fail_next_submissions(count))
            }
            DoneLedgerSimOp::InjectCommitFailure { count } => {
                ("fail_next_commits", self.ledger.fail_next_commits(count))
            }
            DoneLedgerSimOp::InjectDelay { count } => ("delay_next_writes", self.ledger.delay_next_writes(count)),
            _ => return DoneLedgerSimEvent::ReleaseNoop,
        };
        if let Err(e) = result {
            violations.push(DoneLedgerInvariantViolation::backend(during, &e));
        }
        DoneLedgerSimEvent::FaultConfigured
    }
    fn record_event(event: &DoneLedgerSimEvent, counts: &mut BTreeMap<DoneLedgerSimEventKind, usize>) {
        *counts.entry(event.kind()).or_default() += 1;
        if let DoneLedgerSimEvent::ReleasedAll { committed, failed, .. } = *event {
            for (kind, n) in
                [(DoneLedgerSimEventKind::Released, committed), (DoneLedgerSimEventKind::ReleasedCommitFailed, failed)]
            {
                if n > 0 {
                    *counts.entry(kind).or_default() += n;
                }
            }
        }
    }
    fn finish_step(
        &mut self,
        op: Option<DoneLedgerSimOp>,
        drained: PendingWriteId,
        event: &DoneLedgerSimEvent,
        violations: &Violations,
    ) {
        driver::log_step(&mut self.context, &mut self.log, op, drained, event, violations);
        self.ops_executed += 1;
    }

    /// Safety ops (faults after the warm-up), then auto-complete on, drain,
    /// fault-free liveness ops, drain, and the end-of-run checks.
    pub fn run(self, safety_ops: usize, liveness_ops: usize) -> DoneLedgerSimReport {
        driver::run_two_phase(self, safety_ops, liveness_ops)
    }

    /// Swizzle-clog: every write delayed, then released in a shuffled order
    /// with a random subset of the commits failing.
    pub fn run_swizzle_clog(self, batch_count: usize) -> DoneLedgerSimReport {
        driver::run_swizzle_clog(self, batch_count)
    }

    /// Three records per batch over five overlapping keys, statuses cycling
    /// through the lattice, so release order decides every merge.
    pub fn build_swizzle_clog_batch(&mut self, idx: usize) -> Vec<DoneLedgerRecord> {
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

impl<L: SuiteLedger> PersistenceSim for DoneLedgerSim<L> {
    type Op = DoneLedgerSimOp;
    type Event = DoneLedgerSimEvent;
    type Violation = DoneLedgerInvariantViolation;

    /// Executes one op. Never draws from the PRNG: faults come only from
    /// the generators or from explicit inject ops.
    fn step(&mut self, op: DoneLedgerSimOp) -> (DoneLedgerSimEvent, Violations) {
        let mut violations = std::mem::take(&mut self.carried);
        let event = match &op {
            DoneLedgerSimOp::BatchUpsert { records } => self.exec_upsert(records, &mut violations),
            DoneLedgerSimOp::BatchGet { ovid_indices } => self.exec_get(ovid_indices, &mut violations),
            DoneLedgerSimOp::ReleaseOldest => self.exec_release_next(CompletionOrder::OldestFirst, &mut violations),
            DoneLedgerSimOp::ReleaseNewest => self.exec_release_next(CompletionOrder::NewestFirst, &mut violations),
            DoneLedgerSimOp::ReleaseSpecific { op_id } => self.exec_release_specific(*op_id, &mut violations),
            DoneLedgerSimOp::ReleaseAll { order } => self.exec_release_all(*order, &mut violations),
            DoneLedgerSimOp::InjectSubmitFailure { .. }
            | DoneLedgerSimOp::InjectCommitFailure { .. }
            | DoneLedgerSimOp::InjectDelay { .. } => self.exec_inject(&op, &mut violations),
        };
        self.finish_step(Some(op), PendingWriteId::from_raw(0), &event, &violations);
        (event, violations)
    }
}

impl<L: SuiteLedger> SimDriver for DoneLedgerSim<L> {
    type Op = DoneLedgerSimOp;
    type Kind = DoneLedgerSimEventKind;
    type Violation = DoneLedgerInvariantViolation;
    type Report = DoneLedgerSimReport;

    fn random_op(&mut self, suppress_faults: bool) -> DoneLedgerSimOp {
        self.generate_random_op(suppress_faults)
    }

    fn liveness_op(&mut self) -> DoneLedgerSimOp {
        self.generate_liveness_op()
    }

    fn swizzle_upsert(&mut self, idx: usize) -> DoneLedgerSimOp {
        let records = self.build_swizzle_clog_batch(idx);
        DoneLedgerSimOp::BatchUpsert { records }
    }

    fn commit_failure_op() -> DoneLedgerSimOp {
        DoneLedgerSimOp::InjectCommitFailure { count: 1 }
    }

    fn release_op(op_id: PendingWriteId) -> DoneLedgerSimOp {
        DoneLedgerSimOp::ReleaseSpecific { op_id }
    }

    fn run_step(&mut self, op: Self::Op, counts: &mut Counts<DoneLedgerSimEventKind>, violations: &mut Violations) {
        let (event, mut v) = self.step(op);
        Self::record_event(&event, counts);
        violations.append(&mut v);
    }

    fn set_auto_complete(&mut self, on: bool, violations: &mut Violations) {
        if let Err(e) = self.ledger.set_auto_complete(on) {
            violations.push(DoneLedgerInvariantViolation::backend("set_auto_complete", &e));
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
        self.pending_batches.swizzle_plan(&self.ledger, "ledger", seed, self.context.rng(), violations)
    }

    fn drain_all_pending(&mut self, counts: &mut Counts<DoneLedgerSimEventKind>, violations: &mut Violations) {
        let mut step_violations = Vec::new();
        let batches = self.release_all(CompletionOrder::OldestFirst, &mut step_violations).batches;
        for v in &step_violations {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        violations.append(&mut step_violations);
        for (op_id, batch) in batches {
            let mut v = Vec::new();
            let event = self.finish_released_batch(op_id, batch, &mut v);
            self.finish_step(None, op_id, &event, &v);
            *counts.entry(event.kind()).or_default() += 1;
            violations.append(&mut v);
        }
    }

    fn report(mut self, counts: Counts<DoneLedgerSimEventKind>, mut violations: Violations) -> DoneLedgerSimReport {
        violations.append(&mut self.carried);
        let convergence = self.oracle.verify_convergence(&self.ledger);
        for v in &convergence {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        let converged = convergence.is_empty();
        self.log.push(LogEntry::Note(format!(
            "end ops={} converged={converged} rows={}",
            self.ops_executed,
            self.oracle.committed_count()
        )));
        violations.extend(convergence);
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
