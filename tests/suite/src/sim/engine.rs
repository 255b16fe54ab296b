//! The simulation engine, written once for every store: the run schedules,
//! the step loop, the control ops every store shares (releases, fault
//! injection) and their execution, the write pipeline with its pending-write
//! bookkeeping, fault arming, the event log and the histogram. A store plugs
//! in what is its own through [`StorePlugin`]: drawing its writes and reads,
//! running its reads, applying its oracle and checking its invariants.
//!
//! Every decision comes from the one seeded PRNG, in a fixed order, so a
//! seed replays a run exactly. The engine never waits on a write the backend
//! still holds: after each submit it asks `pending_ids()` whether the write
//! was delayed, and it only waits on handles that completed at submit or
//! that a release finished.

use core::fmt;
use std::collections::BTreeMap;

use gossip_persistence::{CommitHandle, CompletionOrder, PendingWriteId, StoreControl, TrackedHandle};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::PersistenceSim;
use super::context::{FaultConfig, FaultLevel, FaultModel, SimContext, should_inject};
use super::coverage::Coverage;
use super::events::{ReceiptText, Settlement, SimEvent, SimEventKind, StoreOutcome};
use super::ops::{Draw, OpMix, SimOp};
use super::pending::{self, BackendViolation, PendingWrites, ReleasedAll, ReleasedOne};
use super::report::{EventLog, LogEntry, SimReport};
use super::swarm::{Completion, SimOptions};
use super::tally::{FaultDebt, RunTally};

/// The first ops of a run are fault-free, so every run starts with some
/// committed state for the faults to act on.
pub const WARMUP_OPS: usize = 5;
/// Draws an op mix may have refused before the generator falls back to the
/// mix's first entry.
pub const MAX_OP_RETRIES: usize = 10;

pub(crate) type Counts<K> = BTreeMap<K, usize>;

/// What waiting on a commit handle gives.
pub type WaitResult<H> = Result<<H as CommitHandle>::Receipt, <H as CommitHandle>::Error>;

/// A store op as the engine needs to see it: a write goes through the write
/// pipeline, a read goes back to the plug-in.
pub enum StoreOp<'a, W, R> {
    /// A write, for the write pipeline.
    Write(&'a W),
    /// A read, for the plug-in.
    Read(&'a R),
}

/// When a write settles: right after its submit (with what its checks kept
/// from before it), or when a release finished it (the submit-time state is
/// stale by then).
pub enum Stage<'a, Pre> {
    /// Right after its submit.
    AtSubmit(&'a Pre),
    /// When a release finished it.
    Released,
}

/// What a store brings to the engine. `S` is the store under test; the
/// associated types are its vocabulary, the methods its generators, oracle
/// and checks. None of them draws from the PRNG except `new` and `draw`.
pub trait StorePlugin<S: StoreControl>: Sized {
    /// The store's own ops: its writes and its reads.
    type Op: Clone + fmt::Debug + PartialEq + fmt::Display;
    /// One write: a batch of rows.
    type Write: Clone;
    /// What one read looks up.
    type Read;
    /// What an entry of the op mixes asks the plug-in to draw.
    type Draw: Copy + 'static;
    /// A commit, as the events carry it.
    type Commit: ReceiptText + Clone + fmt::Debug + PartialEq;
    /// The store's own outcomes (reads, refusals).
    type Outcome: StoreOutcome + Clone + fmt::Debug + PartialEq + fmt::Display;
    /// What the store's checks report.
    type Violation: BackendViolation + Clone + PartialEq + fmt::Debug + fmt::Display;
    /// The commit handle the store returns for a write.
    type Handle: CommitHandle + TrackedHandle;
    /// What a write's checks keep from just before its submit.
    type Pre;
    /// A write whose checks wait until its whole release has settled: a
    /// later write of the same release may change the same keys.
    type Settled;

    /// The store call that submits a write, as violations name it.
    const SUBMIT_CALL: &'static str;
    /// What violations call the store.
    const HOLDER: &'static str;
    /// The op mix of a run with faults.
    const FAULTY_MIX: OpMix<Self::Draw>;
    /// The op mix of a fault-free run (or of the warm-up).
    const CALM_MIX: OpMix<Self::Draw>;
    /// The fault-free traffic of the liveness phase: store ops that are
    /// always possible.
    const LIVENESS_MIX: OpMix<Self::Draw>;

    /// The plug-in's fixed cast, drawn first from a fresh run's PRNG, for
    /// a run with `options` (its batch sizes, key universe and replays).
    fn new(rng: &mut ChaCha8Rng, options: &SimOptions) -> Self;
    /// A store op of kind `what`, or `None` when there is none to draw now.
    fn draw(&mut self, what: Self::Draw, rng: &mut ChaCha8Rng) -> Option<Self::Op>;
    /// Write `idx` of a swizzle-clog run, which draws nothing.
    fn swizzle_clog_op(&mut self, idx: usize) -> Self::Op;
    /// Whether `op` is a write or a read.
    fn split(op: &Self::Op) -> StoreOp<'_, Self::Write, Self::Read>;

    /// Runs a read and compares it with the oracle.
    fn read(&mut self, store: &S, read: &Self::Read, violations: &mut Vec<Self::Violation>) -> Self::Outcome;

    /// What the write's checks need from before its submit.
    fn before_submit(&mut self, store: &S, write: &Self::Write, violations: &mut Vec<Self::Violation>) -> Self::Pre;
    /// Submits `write` to the store.
    fn submit(store: &S, write: &Self::Write) -> Result<Self::Handle, <Self::Handle as CommitHandle>::Error>;
    /// The store refused `write` at submit: judges the refusal and checks
    /// that nothing changed.
    fn submit_refused(
        &mut self,
        store: &S,
        write: &Self::Write,
        pre: Self::Pre,
        error: <Self::Handle as CommitHandle>::Error,
        violations: &mut Vec<Self::Violation>,
    ) -> SimEvent<Self::Commit, Self::Outcome>;
    /// The store accepted `write` as `op_id`: the oracle holds it until it
    /// settles.
    fn accepted(
        &mut self,
        op_id: PendingWriteId,
        write: &Self::Write,
        pre: &Self::Pre,
        violations: &mut Vec<Self::Violation>,
    );
    /// The store delayed `write`: nothing of it may be visible yet.
    fn check_delayed(&mut self, store: &S, write: &Self::Write, pre: &Self::Pre, violations: &mut Vec<Self::Violation>);
    /// Judges a settled write, commits or aborts it in the oracle, and
    /// checks what is visible now, or leaves those checks in `deferred`.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &mut self,
        store: &S,
        op_id: PendingWriteId,
        write: &Self::Write,
        result: WaitResult<Self::Handle>,
        stage: Stage<'_, Self::Pre>,
        deferred: &mut Vec<Self::Settled>,
        violations: &mut Vec<Self::Violation>,
    ) -> Settlement<Self::Commit, Self::Outcome>;
    /// The checks `settle` deferred, once their release has settled. A
    /// plug-in that checks at once defers nothing.
    fn check_settled(&mut self, store: &S, settled: &[Self::Settled], violations: &mut Vec<Self::Violation>) {
        let _ = (store, settled, violations);
    }
    /// The store still holds `op_id` after releasing everything: the
    /// oracle writes it off.
    fn abort(&mut self, op_id: PendingWriteId);

    /// The end-of-run checks: the store converged on the oracle.
    fn final_checks(&mut self, store: &S) -> Vec<Self::Violation>;
    /// The oracle's durable rows, for the log's last line.
    fn rows(&self) -> impl fmt::Display;
    /// Adds the store's own coverage figures (keys, merges, conflicts,
    /// orphans) to `coverage`.
    fn coverage(&self, coverage: &mut Coverage);
    /// The kinds `event` adds to the histogram besides its own, with how
    /// many of each (0 adds nothing).
    fn extra_kinds(
        event: &SimEvent<Self::Commit, Self::Outcome>,
    ) -> impl Iterator<Item = (SimEventKind<<Self::Outcome as StoreOutcome>::Kind>, usize)>;
}

/// The event a plug-in's steps observe.
pub type PluginEvent<P, S> = SimEvent<<P as StorePlugin<S>>::Commit, <P as StorePlugin<S>>::Outcome>;
/// An event kind of a plug-in's histogram.
pub type PluginKind<P, S> = SimEventKind<<<P as StorePlugin<S>>::Outcome as StoreOutcome>::Kind>;
/// The event log of a plug-in's runs.
pub type PluginLog<P, S> =
    EventLog<SimOp<<P as StorePlugin<S>>::Op>, PluginEvent<P, S>, <P as StorePlugin<S>>::Violation>;
/// The report of a plug-in's runs.
pub type Report<P, S> =
    SimReport<PluginKind<P, S>, <P as StorePlugin<S>>::Violation, SimOp<<P as StorePlugin<S>>::Op>, PluginEvent<P, S>>;

/// A write the store delayed, with its commit handle.
struct Held<W, H> {
    write: W,
    handle: H,
}

/// A simulation of store `S` through plug-in `P`.
pub struct Sim<P: StorePlugin<S>, S: StoreControl> {
    context: SimContext,
    options: SimOptions,
    faults: FaultConfig,
    tally: RunTally,
    store: S,
    plugin: P,
    pending: PendingWrites<Held<P::Write, P::Handle>>,
    ops_executed: usize,
    /// Violations found outside a step (a failed fault-injection call in the
    /// generator), reported with the next step.
    carried: Vec<P::Violation>,
    log: PluginLog<P, S>,
}

impl<P: StorePlugin<S>, S: StoreControl> Sim<P, S> {
    /// A simulation of `store`, which must be fresh (empty, auto-complete
    /// on), under the default (bounded) fault model with the options `seed`
    /// draws for `level`.
    pub fn new(seed: u64, level: FaultLevel, store: S) -> Self {
        Self::with_model(seed, level, FaultModel::Bounded, store)
    }

    /// A simulation of `store` under `model` with the options `seed` draws.
    pub fn with_model(seed: u64, level: FaultLevel, model: FaultModel, store: S) -> Self {
        Self::with_options(seed, SimOptions::for_seed(seed, level, model), store)
    }

    /// A simulation of `store` with explicit `options` (a printed options
    /// line read back): with the same seed it replays the run exactly.
    pub fn with_options(seed: u64, options: SimOptions, store: S) -> Self {
        let mut context = SimContext::new(seed);
        // The plug-in's cast is drawn first: it is the first thing every run consumes.
        let plugin = P::new(context.rng(), &options);
        let mut log = EventLog::default();
        log.push(LogEntry::Note(format!("options {options}")));
        Self {
            context,
            options,
            faults: options.faults(),
            tally: RunTally::default(),
            store,
            plugin,
            pending: PendingWrites::default(),
            ops_executed: 0,
            carried: Vec::new(),
            log,
        }
    }

    /// The run's options: its fault model, rates and swarm choices.
    pub const fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Armed faults no write has used up yet.
    pub const fn fault_debt(&self) -> FaultDebt {
        self.tally.debt
    }

    /// The coverage figures so far (the store's own are added at the end).
    pub const fn coverage(&self) -> &Coverage {
        &self.tally.coverage
    }

    /// The store under test.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store's plug-in: its oracle, checks and cast.
    pub fn plugin(&self) -> &P {
        &self.plugin
    }

    pub(crate) fn plugin_mut(&mut self) -> &mut P {
        &mut self.plugin
    }

    /// The plug-in and the run's PRNG, to draw store data outside the mixes.
    pub(crate) fn plugin_and_rng(&mut self) -> (&mut P, &mut ChaCha8Rng) {
        (&mut self.plugin, self.context.rng())
    }

    /// Every step so far.
    pub fn log(&self) -> &PluginLog<P, S> {
        &self.log
    }

    /// Steps taken, drained writes included.
    pub const fn ops_executed(&self) -> usize {
        self.ops_executed
    }

    /// The seed the run replays from.
    pub const fn seed(&self) -> u64 {
        self.context.seed()
    }

    /// The run's fault level.
    pub const fn level(&self) -> FaultLevel {
        self.options.level
    }

    /// Writes the store delayed and no release has settled yet.
    pub fn pending_batch_count(&self) -> usize {
        self.pending.len()
    }

    /// The end-of-run checks now; every write must be settled first.
    pub fn check_convergence(&mut self) -> Vec<P::Violation> {
        assert!(self.pending.is_empty(), "check_convergence with pending batches");
        self.plugin.final_checks(&self.store)
    }

    // ---- run schedules ----

    /// `safety_ops` random ops (faults after the warm-up; every write held
    /// when the options say so), then auto-complete on, drain,
    /// `liveness_ops` fault-free ops, drain, the liveness checks and the
    /// end-of-run checks.
    pub fn run(mut self, safety_ops: usize, liveness_ops: usize) -> Report<P, S> {
        let mut counts = Counts::new();
        let mut violations = Vec::new();
        if self.options.completion == Completion::Held && safety_ops > 0 {
            self.set_auto_complete(false, &mut violations);
        }
        for i in 0..safety_ops {
            let op = self.generate_random_op(i < WARMUP_OPS);
            self.run_step(op, &mut counts, &mut violations);
        }
        self.set_auto_complete(true, &mut violations);
        self.drain_all_pending(&mut counts, &mut violations);
        // Faults armed in the safety phase may still fail this many writes;
        // once they are used up, every fault-free write must commit.
        let owed = self.tally.debt.failures();
        let failed_before = self.tally.coverage.upserts_failed();
        for _ in 0..liveness_ops {
            let op = self.generate_liveness_op();
            self.run_step(op, &mut counts, &mut violations);
        }
        if !self.pending.is_empty() {
            self.drain_all_pending(&mut counts, &mut violations);
        }
        let failed = self.tally.coverage.upserts_failed() - failed_before;
        if liveness_ops > 0 {
            self.check_liveness(owed, failed, &mut violations);
        }
        self.report(counts, violations)
    }

    /// After the fault-free phase: no write is still pending, and no more
    /// writes failed than faults were left armed.
    fn check_liveness(&mut self, owed: usize, failed: usize, violations: &mut Vec<P::Violation>) {
        let mut found = Vec::new();
        match self.store.pending_ids() {
            Ok(ids) if !ids.is_empty() => found.push(P::Violation::backend(
                "liveness",
                &format!("{} writes still pending after the final release-all", ids.len()),
            )),
            Ok(_) => {}
            Err(e) => found.push(P::Violation::backend("pending_ids", &e)),
        }
        if failed > owed {
            found.push(P::Violation::backend(
                "liveness",
                &format!("{failed} writes failed in the fault-free phase with only {owed} faults left armed"),
            ));
        }
        for v in &found {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        violations.extend(found);
    }

    /// FoundationDB's swizzle-clog: delay every write, then release them in a
    /// shuffled order with a random subset of the commits failing.
    pub fn run_swizzle_clog(mut self, batch_count: usize) -> Report<P, S> {
        let mut counts = Counts::new();
        let mut violations = Vec::new();
        self.set_auto_complete(false, &mut violations);
        for idx in 0..batch_count {
            if !self.faults.is_fault_free() {
                self.arm_faults();
            }
            let op = SimOp::Store(self.plugin.swizzle_clog_op(idx));
            self.run_step(op, &mut counts, &mut violations);
        }
        for (op_id, fail) in self.swizzle_plan(&mut violations) {
            if fail {
                self.run_step(SimOp::InjectCommitFailure { count: 1 }, &mut counts, &mut violations);
            }
            self.run_step(SimOp::ReleaseSpecific { op_id }, &mut counts, &mut violations);
        }
        if !self.pending.is_empty() {
            self.drain_all_pending(&mut counts, &mut violations);
        }
        self.report(counts, violations)
    }

    /// The held writes in a shuffled release order, each marked whether its
    /// commit is made to fail.
    fn swizzle_plan(&mut self, violations: &mut Vec<P::Violation>) -> Vec<(PendingWriteId, bool)> {
        let seed = self.context.seed();
        self.pending.swizzle_plan(&self.store, P::HOLDER, seed, self.context.rng(), violations)
    }

    fn set_auto_complete(&mut self, on: bool, violations: &mut Vec<P::Violation>) {
        if let Err(e) = self.store.set_auto_complete(on) {
            violations.push(P::Violation::backend("set_auto_complete", &e));
        }
    }

    /// One step, counted in the histogram.
    fn run_step(
        &mut self,
        op: SimOp<P::Op>,
        counts: &mut Counts<PluginKind<P, S>>,
        violations: &mut Vec<P::Violation>,
    ) {
        let (event, mut v) = self.step(op);
        Self::record(&event, counts);
        violations.append(&mut v);
    }

    fn record(event: &PluginEvent<P, S>, counts: &mut Counts<PluginKind<P, S>>) {
        *counts.entry(event.kind()).or_default() += 1;
        for (kind, n) in P::extra_kinds(event) {
            if n > 0 {
                *counts.entry(kind).or_default() += n;
            }
        }
    }

    /// Releases every pending write oldest-first, one logged step per write.
    fn drain_all_pending(&mut self, counts: &mut Counts<PluginKind<P, S>>, violations: &mut Vec<P::Violation>) {
        let mut step_violations = Vec::new();
        let batches = self.release_all(CompletionOrder::OldestFirst, &mut step_violations).batches;
        for v in &step_violations {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        violations.append(&mut step_violations);
        let mut deferred = Vec::new();
        for (op_id, held) in batches {
            let mut v = Vec::new();
            let event = self.settle_released(op_id, held, &mut deferred, &mut v);
            self.finish_step(None, op_id, &event, &v);
            Self::record(&event, counts);
            violations.append(&mut v);
        }
        let mut v = Vec::new();
        self.plugin.check_settled(&self.store, &deferred, &mut v);
        for violation in &v {
            self.log.push(LogEntry::Violation(violation.clone()));
        }
        violations.append(&mut v);
    }

    /// The end-of-run checks and the report.
    fn report(mut self, counts: Counts<PluginKind<P, S>>, mut violations: Vec<P::Violation>) -> Report<P, S> {
        violations.append(&mut self.carried);
        let end = self.plugin.final_checks(&self.store);
        for v in &end {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        let converged = end.is_empty();
        let note = format!("end ops={} converged={converged} rows={}", self.ops_executed, self.plugin.rows());
        self.log.push(LogEntry::Note(note));
        violations.extend(end);
        let mut coverage = self.tally.coverage;
        self.plugin.coverage(&mut coverage);
        SimReport {
            seed: self.context.seed(),
            level: self.options.level,
            options: self.options,
            coverage,
            ops_executed: self.ops_executed,
            violations,
            event_counts: counts,
            converged,
            log: self.log,
        }
    }

    // ---- op generation ----

    /// A weighted random op from the plug-in's mix; faults (inject ops and
    /// the per-write PPM draws) only when the level has them and the warm-up
    /// does not suppress them. The reference model draws the per-write
    /// faults after every other op, the bounded one only after a write.
    pub fn generate_random_op(&mut self, suppress_faults: bool) -> SimOp<P::Op> {
        let faults_enabled = !suppress_faults && !self.faults.is_fault_free();
        let mix = if faults_enabled { P::FAULTY_MIX } else { P::CALM_MIX };
        for _ in 0..MAX_OP_RETRIES {
            let roll = self.context.rng().random_range(0u32..100);
            if let Some(op) = self.draw(mix.pick(roll)) {
                let arms = match self.options.model {
                    FaultModel::Reference => !op.is_fault_injection(),
                    FaultModel::Bounded => matches!(&op, SimOp::Store(o) if matches!(P::split(o), StoreOp::Write(_))),
                };
                if faults_enabled && arms {
                    self.arm_faults();
                }
                return op;
            }
        }
        self.draw(mix.first()).expect("the first store op of a mix is always possible")
    }

    /// Fault-free traffic for the liveness phase.
    pub fn generate_liveness_op(&mut self) -> SimOp<P::Op> {
        let roll = self.context.rng().random_range(0u32..100);
        self.draw(P::LIVENESS_MIX.pick(roll)).expect("liveness ops are always possible")
    }

    /// The op `draw` asks for, or `None` when it is not possible now: a
    /// release the seed's options leave out, or a fault with no room under
    /// the cap (an inject op arms at most the room left).
    fn draw(&mut self, draw: Draw<P::Draw>) -> Option<SimOp<P::Op>> {
        let releases = self.options.releases;
        let debt = self.tally.debt;
        let room = |outstanding: usize, max: usize| Some(max.min(self.options.room(outstanding))).filter(|n| *n > 0);
        let rng = self.context.rng();
        Some(match draw {
            Draw::Store(what) => SimOp::Store(self.plugin.draw(what, rng)?),
            Draw::ReleaseOldest => (releases.oldest && !self.pending.is_empty()).then_some(SimOp::ReleaseOldest)?,
            Draw::ReleaseNewest => releases.newest.then_some(SimOp::ReleaseNewest)?,
            Draw::ReleaseSpecific => {
                releases.by_id.then_some(())?;
                SimOp::ReleaseSpecific { op_id: self.pending.draw_release_target(rng) }
            }
            Draw::ReleaseAll => {
                releases.all.then_some(())?;
                SimOp::ReleaseAll { order: pending::random_order(rng) }
            }
            Draw::InjectSubmitFailure { max } => {
                SimOp::InjectSubmitFailure { count: rng.random_range(1..=room(debt.submit, max)?) }
            }
            Draw::InjectCommitFailure { max } => {
                SimOp::InjectCommitFailure { count: rng.random_range(1..=room(debt.commit, max)?) }
            }
            Draw::InjectDelay { max } => SimOp::InjectDelay { count: rng.random_range(1..=room(debt.delay, max)?) },
        })
    }

    /// Three independent PPM draws, in this order: submit, commit, delay.
    /// Each draw is made whatever the debt, so the cap changes which faults
    /// are armed but never the PRNG stream.
    fn arm_faults(&mut self) {
        let FaultConfig { submit_fail_ppm, commit_fail_ppm, delay_ppm } = self.faults;
        if should_inject(self.context.rng(), submit_fail_ppm) && self.options.room(self.tally.debt.submit) > 0 {
            self.tally.debt.submit += 1;
            self.control("fail_next_submissions", |s| s.fail_next_submissions(1));
        }
        if should_inject(self.context.rng(), commit_fail_ppm) && self.options.room(self.tally.debt.commit) > 0 {
            self.tally.debt.commit += 1;
            self.control("fail_next_commits", |s| s.fail_next_commits(1));
        }
        if should_inject(self.context.rng(), delay_ppm) && self.options.room(self.tally.debt.delay) > 0 {
            self.tally.debt.delay += 1;
            self.control("delay_next_writes", |s| s.delay_next_writes(1));
        }
    }

    /// A control call outside a step; a failure is reported with the next step.
    fn control(&mut self, during: &'static str, call: impl FnOnce(&S) -> Result<(), S::ControlError>) {
        if let Err(e) = call(&self.store) {
            self.carried.push(P::Violation::backend(during, &e));
        }
    }

    // ---- step execution ----

    /// Submits a write: a delayed one is held until a release, any other is
    /// waited on and settled at once.
    fn exec_write(&mut self, write: &P::Write, violations: &mut Vec<P::Violation>) -> PluginEvent<P, S> {
        self.tally.submitted();
        let event = self.submit_write(write, violations);
        self.tally.settled(&event);
        event
    }

    fn submit_write(&mut self, write: &P::Write, violations: &mut Vec<P::Violation>) -> PluginEvent<P, S> {
        let pre = self.plugin.before_submit(&self.store, write, violations);
        let handle = match P::submit(&self.store, write) {
            Ok(handle) => handle,
            Err(e) => return self.plugin.submit_refused(&self.store, write, pre, e, violations),
        };
        let op_id = handle.operation_id();
        self.plugin.accepted(op_id, write, &pre, violations);
        if pending::is_delayed(&self.store, op_id, violations) {
            self.pending.hold(op_id, Held { write: write.clone(), handle }, P::SUBMIT_CALL, violations);
            self.plugin.check_delayed(&self.store, write, &pre, violations);
            return SimEvent::UpsertPending { op_id };
        }
        let result = handle.wait();
        let mut deferred = Vec::new();
        let settlement =
            self.plugin.settle(&self.store, op_id, write, result, Stage::AtSubmit(&pre), &mut deferred, violations);
        self.plugin.check_settled(&self.store, &deferred, violations);
        settlement.into_event(op_id, false)
    }

    /// Waits on a write a release finished, and settles it.
    fn settle_released(
        &mut self,
        op_id: PendingWriteId,
        held: Held<P::Write, P::Handle>,
        deferred: &mut Vec<P::Settled>,
        violations: &mut Vec<P::Violation>,
    ) -> PluginEvent<P, S> {
        let result = held.handle.wait();
        let event = self
            .plugin
            .settle(&self.store, op_id, &held.write, result, Stage::Released, deferred, violations)
            .into_event(op_id, true);
        self.tally.released(&event);
        event
    }

    fn finish_released_one(
        &mut self,
        released: ReleasedOne<Held<P::Write, P::Handle>>,
        violations: &mut Vec<P::Violation>,
    ) -> PluginEvent<P, S> {
        match released {
            ReleasedOne::Batch(op_id, held) => {
                let mut deferred = Vec::new();
                let event = self.settle_released(op_id, held, &mut deferred, violations);
                self.plugin.check_settled(&self.store, &deferred, violations);
                event
            }
            ReleasedOne::Noop => SimEvent::ReleaseNoop,
        }
    }

    /// Releases every pending write; the ones the store still holds are
    /// written off in the oracle.
    fn release_all(
        &mut self,
        order: CompletionOrder,
        violations: &mut Vec<P::Violation>,
    ) -> ReleasedAll<Held<P::Write, P::Handle>> {
        let all = self.pending.release_all(&self.store, order, violations);
        for op_id in &all.held {
            self.plugin.abort(*op_id);
        }
        all
    }

    fn exec_release_all(&mut self, order: CompletionOrder, violations: &mut Vec<P::Violation>) -> PluginEvent<P, S> {
        let all = self.release_all(order, violations);
        let (mut committed, mut failed) = (0, 0);
        let mut deferred = Vec::new();
        for (op_id, held) in all.batches {
            match self.settle_released(op_id, held, &mut deferred, violations) {
                SimEvent::Released { .. } => committed += 1,
                _ => failed += 1,
            }
        }
        self.plugin.check_settled(&self.store, &deferred, violations);
        SimEvent::ReleasedAll { count: all.released, committed, failed }
    }

    fn exec_inject(
        &mut self,
        during: &'static str,
        call: fn(&S, usize) -> Result<(), S::ControlError>,
        count: usize,
        violations: &mut Vec<P::Violation>,
    ) -> PluginEvent<P, S> {
        if let Err(e) = call(&self.store, count) {
            violations.push(P::Violation::backend(during, &e));
        }
        let debt = &mut self.tally.debt;
        let outstanding = match during {
            "fail_next_submissions" => &mut debt.submit,
            "fail_next_commits" => &mut debt.commit,
            _ => &mut debt.delay,
        };
        *outstanding = outstanding.saturating_add(count);
        SimEvent::FaultConfigured
    }

    /// Logs a finished step (a drained write when `op` is `None`) with its
    /// violations, and advances the step counter.
    fn finish_step(
        &mut self,
        op: Option<SimOp<P::Op>>,
        drained: PendingWriteId,
        event: &PluginEvent<P, S>,
        violations: &[P::Violation],
    ) {
        let step = self.context.step_counter();
        self.log.push(match op {
            Some(op) => LogEntry::Step { step, op, event: event.clone() },
            None => LogEntry::Drain { step, op_id: drained.as_raw(), event: event.clone() },
        });
        for v in violations {
            self.log.push(LogEntry::Violation(v.clone()));
        }
        self.context.tick();
        self.ops_executed += 1;
    }
}

impl<P: StorePlugin<S>, S: StoreControl> PersistenceSim for Sim<P, S> {
    type Op = SimOp<P::Op>;
    type Event = PluginEvent<P, S>;
    type Violation = P::Violation;

    /// Executes one op. Never draws from the PRNG: faults come only from
    /// the generators or from explicit inject ops.
    fn step(&mut self, op: SimOp<P::Op>) -> (PluginEvent<P, S>, Vec<P::Violation>) {
        let mut violations = std::mem::take(&mut self.carried);
        let event = match &op {
            SimOp::Store(store_op) => match P::split(store_op) {
                StoreOp::Write(write) => self.exec_write(write, &mut violations),
                StoreOp::Read(read) => SimEvent::Store(self.plugin.read(&self.store, read, &mut violations)),
            },
            SimOp::ReleaseOldest => {
                let released = self.pending.release_next(&self.store, CompletionOrder::OldestFirst, &mut violations);
                self.finish_released_one(released, &mut violations)
            }
            SimOp::ReleaseNewest => {
                let released = self.pending.release_next(&self.store, CompletionOrder::NewestFirst, &mut violations);
                self.finish_released_one(released, &mut violations)
            }
            SimOp::ReleaseSpecific { op_id } => {
                let released = self.pending.release_specific(&self.store, *op_id, &mut violations);
                self.finish_released_one(released, &mut violations)
            }
            SimOp::ReleaseAll { order } => self.exec_release_all(*order, &mut violations),
            SimOp::InjectSubmitFailure { count } => {
                self.exec_inject("fail_next_submissions", S::fail_next_submissions, *count, &mut violations)
            }
            SimOp::InjectCommitFailure { count } => {
                self.exec_inject("fail_next_commits", S::fail_next_commits, *count, &mut violations)
            }
            SimOp::InjectDelay { count } => {
                self.exec_inject("delay_next_writes", S::delay_next_writes, *count, &mut violations)
            }
        };
        self.finish_step(Some(op), PendingWriteId::from_raw(0), &event, &violations);
        (event, violations)
    }
}
