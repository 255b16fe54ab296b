//! The same seeded operation sequence on the native stores and the component
//! must give identical results, receipts, errors, pending ids and snapshots.

use core::fmt::Debug;

use gossip_host::{ComponentDoneLedger, ComponentFindingsSink};
use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, ObservationId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash,
    ShardId, StableItemId, TenantId,
};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle, InMemoryFindingsSink, Location,
    PendingWriteId, StoreControl, StoreError, TrackedHandle,
};
use gossip_suite::AsStoreError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::runtime;

/// Both results, with the component's error read as the native error;
/// an error with no native reading (a trap) fails the test outright.
fn same<T: PartialEq + Debug, E: AsStoreError + Debug>(
    step: usize,
    what: &str,
    native: Result<T, StoreError>,
    component: Result<T, E>,
) -> Result<T, StoreError> {
    let component = component.map_err(|e| match e.as_store_error() {
        Some(native_error) => native_error.clone(),
        None => panic!("step {step} {what}: the component failed outside the contract: {e:?}"),
    });
    assert_eq!(native, component, "step {step}: {what} diverged");
    native
}

fn sorted<E>(hashes: Result<Vec<OvidHash>, E>) -> Result<Vec<OvidHash>, E> {
    hashes.map(|mut v| {
        v.sort();
        v
    })
}

struct World {
    rng: ChaCha8Rng,
    tenants: [TenantId; 2],
    policies: [PolicyHash; 2],
    ovids: Vec<OvidHash>,
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
}

fn digest(tag: u8, n: u8) -> [u8; 32] {
    let mut bytes = [tag; 32];
    bytes[0] = n;
    bytes
}

impl World {
    fn new(seed: u64) -> Self {
        let tenants = [TenantId::from_bytes(digest(1, 0)), TenantId::from_bytes(digest(1, 1))];
        let policies = [PolicyHash::from_bytes(digest(2, 0)), PolicyHash::from_bytes(digest(2, 1))];
        let ovids = (0..6).map(|n| OvidHash::from_bytes(digest(3, n))).collect();
        let mut findings = Vec::new();
        let mut occurrences = Vec::new();
        for tenant in tenants {
            for n in 0..3 {
                let f = FindingRecord::new(
                    tenant,
                    StableItemId::from_bytes(digest(4, n)),
                    RuleFingerprint::from_bytes(digest(5, n % 2)),
                    SecretHash::from_persisted_bytes(digest(6, n)),
                );
                for span in 1..=2u64 {
                    occurrences.push(
                        OccurrenceRecord::try_new(
                            tenant,
                            f.finding_id(),
                            ObjectVersionId::from_bytes(digest(7, n)),
                            span * 10,
                            span,
                        )
                        .expect("non-zero span"),
                    );
                }
                findings.push(f);
            }
        }
        Self { rng: ChaCha8Rng::seed_from_u64(seed), tenants, policies, ovids, findings, occurrences }
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())].clone()
    }

    fn done_record(&mut self) -> DoneLedgerRecord {
        let key = DoneLedgerKey::new(
            self.pick(&self.tenants.clone()),
            self.pick(&self.policies.clone()),
            self.pick(&self.ovids.clone()),
        );
        let status = self.pick(&DoneLedgerStatus::ALL);
        let findings_count = match status {
            DoneLedgerStatus::ScannedWithFindings => self.rng.random_range(1..4),
            DoneLedgerStatus::ScannedClean => 0,
            _ => self.rng.random_range(0..3),
        };
        let started = self.rng.random_range(0..50u64);
        let finished = if self.chance(4) {
            started.saturating_sub(1 + self.rng.random_range(0..5))
        } else {
            started + self.rng.random_range(0..20)
        };
        let wants_code = !status.is_scanned();
        let has_code = if self.chance(4) { !wants_code } else { wants_code };
        let error_code = has_code.then(|| {
            let code = self.pick(&["timeout", "io: eof", "denied/remote", "Z"]);
            DoneLedgerErrorCode::try_new(code).expect("valid code")
        });
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(self.rng.random_range(0..3)),
            ShardId::from_raw(if self.chance(10) {
                u64::MAX - self.rng.random_range(0..2)
            } else {
                self.rng.random_range(0..3)
            }),
            FenceEpoch::from_raw(self.rng.random_range(0..3)),
            LogicalTime::from_raw(started),
            LogicalTime::from_raw(finished),
        );
        DoneLedgerRecord::try_new(key, status, self.rng.random_range(0..1000), findings_count, provenance, error_code)
            .expect("the findings shape matches the status")
    }

    fn observation(&mut self, tenant: TenantId) -> ObservationRecord {
        let occurrence = loop {
            let o = self.pick(&self.occurrences.clone());
            if o.tenant_id() == tenant || self.chance(3) {
                break o;
            }
        };
        let policy = self.pick(&self.policies.clone());
        let ovid = self.ovids[self.rng.random_range(0..2)];
        let obs = ObservationRecord::new(
            occurrence.tenant_id(),
            occurrence.occurrence_id(),
            policy,
            ovid,
            RunId::from_raw(self.rng.random_range(0..3)),
            ShardId::from_raw(self.rng.random_range(0..3)),
            FenceEpoch::from_raw(self.rng.random_range(0..3)),
            LogicalTime::from_raw(self.rng.random_range(0..10)),
        );
        let obs = match self.rng.random_range(0..4) {
            0 => obs.with_location(std::sync::Arc::new(Location::try_new("src/a.rs", None::<String>).expect("valid"))),
            1 => obs.with_location(std::sync::Arc::new(
                Location::try_new("src/b.rs", Some("https://example.invalid/b")).expect("valid"),
            )),
            _ => obs,
        };
        if self.chance(4) {
            // Not the canonical id: rejected at submit on both backends.
            return ObservationRecord::from_persisted_unchecked(
                obs.tenant_id(),
                ObservationId::from_bytes(digest(9, 9)),
                obs.occurrence_id(),
                obs.policy_hash(),
                obs.ovid_hash(),
                obs.run_id(),
                obs.shard_id(),
                obs.fence_epoch(),
                obs.seen_at(),
                obs.location_arc(),
            );
        }
        obs
    }

    fn findings_batch(&mut self) -> (Vec<FindingRecord>, Vec<OccurrenceRecord>, Vec<ObservationRecord>) {
        let tenant = self.pick(&self.tenants.clone());
        let mut findings: Vec<FindingRecord> = Vec::new();
        for _ in 0..self.rng.random_range(0..3) {
            let f = self.pick(&self.findings.clone());
            if f.tenant_id() == tenant || self.chance(5) {
                findings.push(if self.chance(5) {
                    // Same id, different content: a conflict once the original is known.
                    FindingRecord::from_persisted_unchecked(
                        f.tenant_id(),
                        f.finding_id(),
                        f.stable_item_id(),
                        f.rule_fingerprint(),
                        SecretHash::from_persisted_bytes(digest(8, 8)),
                    )
                } else {
                    f
                });
            }
        }
        let mut occurrences = Vec::new();
        for _ in 0..self.rng.random_range(0..3) {
            let o = self.pick(&self.occurrences.clone());
            if o.tenant_id() == tenant {
                occurrences.push(o);
            }
        }
        let observations = (0..self.rng.random_range(0..3)).map(|_| self.observation(tenant)).collect();
        (findings, occurrences, observations)
    }
}

struct Pair<N, C> {
    native: N,
    component: C,
}

struct Run {
    world: World,
    ledger: Pair<InMemoryDoneLedger, ComponentDoneLedger>,
    sink: Pair<InMemoryFindingsSink, ComponentFindingsSink>,
    ledger_writes: Vec<Pair<InMemoryDoneLedgerHandle, gossip_host::ComponentDoneLedgerHandle>>,
    sink_writes: Vec<Pair<InMemoryFindingsHandle, gossip_host::ComponentFindingsHandle>>,
    step: usize,
}

impl Run {
    fn new(seed: u64) -> Self {
        Self {
            world: World::new(seed),
            ledger: Pair { native: InMemoryDoneLedger::new(), component: runtime().new_ledger().expect("instance") },
            sink: Pair { native: InMemoryFindingsSink::new(), component: runtime().new_sink().expect("instance") },
            ledger_writes: Vec::new(),
            sink_writes: Vec::new(),
            step: 0,
        }
    }

    fn order(&mut self) -> CompletionOrder {
        if self.world.chance(50) { CompletionOrder::OldestFirst } else { CompletionOrder::NewestFirst }
    }

    fn upsert_records(&mut self, records: &[DoneLedgerRecord]) {
        let n = self.ledger.native.batch_upsert(records);
        let c = self.ledger.component.batch_upsert(records);
        let ids = (n.as_ref().map(|h| h.operation_id()), c.as_ref().map(|h| h.operation_id()));
        same(self.step, "batch_upsert", ids.0.map_err(Clone::clone), ids.1.map_err(Clone::clone)).ok();
        if let (Ok(native), Ok(component)) = (n, c) {
            self.ledger_writes.push(Pair { native, component });
        }
    }

    fn upsert_findings(&mut self) {
        let (f, o, obs) = self.world.findings_batch();
        let batch = FindingsUpsertBatch::new(&f, &o, &obs);
        let n = self.sink.native.upsert_batch(batch);
        let c = self.sink.component.upsert_batch(batch);
        let ids = (n.as_ref().map(|h| h.operation_id()), c.as_ref().map(|h| h.operation_id()));
        same(self.step, "upsert_batch", ids.0.map_err(Clone::clone), ids.1.map_err(Clone::clone)).ok();
        if let (Ok(native), Ok(component)) = (n, c) {
            self.sink_writes.push(Pair { native, component });
        }
    }

    /// Waits only on writes that have finished, so the run never blocks.
    fn wait_one(&mut self, ledger_side: bool) {
        let step = self.step;
        if ledger_side {
            let pending: Vec<PendingWriteId> = self.ledger.native.pending_ids().expect("native");
            let Some(i) = self.ledger_writes.iter().position(|w| !pending.contains(&w.native.operation_id())) else {
                return;
            };
            let w = self.ledger_writes.swap_remove(i);
            same(step, "ledger wait", w.native.wait(), w.component.wait()).ok();
        } else {
            let pending: Vec<PendingWriteId> = self.sink.native.pending_ids().expect("native");
            let Some(i) = self.sink_writes.iter().position(|w| !pending.contains(&w.native.operation_id())) else {
                return;
            };
            let w = self.sink_writes.swap_remove(i);
            same(step, "sink wait", w.native.wait(), w.component.wait()).ok();
        }
    }

    fn control<N: StoreControl<ControlError = StoreError>, C: StoreControl>(
        step: usize,
        choice: u32,
        order: CompletionOrder,
        count: usize,
        some_id: PendingWriteId,
        native: &N,
        component: &C,
    ) where
        C::ControlError: AsStoreError,
    {
        match choice {
            0 => {
                same(
                    step,
                    "set_auto_complete",
                    native.set_auto_complete(count.is_multiple_of(2)),
                    component.set_auto_complete(count.is_multiple_of(2)),
                )
                .ok();
            }
            1 => {
                same(step, "delay_next_writes", native.delay_next_writes(count), component.delay_next_writes(count))
                    .ok();
            }
            2 => {
                same(
                    step,
                    "fail_next_submissions",
                    native.fail_next_submissions(count),
                    component.fail_next_submissions(count),
                )
                .ok();
            }
            3 => {
                same(step, "fail_next_commits", native.fail_next_commits(count), component.fail_next_commits(count))
                    .ok();
            }
            4 => {
                same(step, "release_next", native.release_next(order), component.release_next(order)).ok();
            }
            5 => {
                same(step, "release_specific", native.release_specific(some_id), component.release_specific(some_id))
                    .ok();
            }
            6 => {
                same(step, "release_all", native.release_all(order), component.release_all(order)).ok();
            }
            _ => {
                same(step, "pending_ids", native.pending_ids(), component.pending_ids()).ok();
                same(step, "pending_count", native.pending_count(), component.pending_count()).ok();
            }
        }
    }

    fn some_id(&mut self, pending: &[PendingWriteId]) -> PendingWriteId {
        if !pending.is_empty() && self.world.chance(70) {
            self.world.pick(pending)
        } else {
            PendingWriteId::from_raw(self.world.rng.random_range(0..200))
        }
    }

    fn reads(&mut self) {
        let step = self.step;
        let tenant = self.world.pick(&self.world.tenants.clone());
        let policy = self.world.pick(&self.world.policies.clone());
        let ovids: Vec<OvidHash> =
            (0..self.world.rng.random_range(0..5)).map(|_| self.world.pick(&self.world.ovids.clone())).collect();
        same(
            step,
            "batch_get",
            self.ledger.native.batch_get(tenant, policy, &ovids),
            self.ledger.component.batch_get(tenant, policy, &ovids),
        )
        .ok();
        same(
            step,
            "list_done_hashes (order unspecified)",
            sorted(self.ledger.native.list_done_hashes(tenant, policy)),
            sorted(self.ledger.component.list_done_hashes(tenant, policy)),
        )
        .ok();
        same(
            step,
            "count_done_hashes",
            self.ledger.native.count_done_hashes(tenant, policy),
            self.ledger.component.count_done_hashes(tenant, policy),
        )
        .ok();
        let key = DoneLedgerKey::new(tenant, policy, self.world.pick(&self.world.ovids.clone()));
        same(step, "get_record", self.ledger.native.get_record(&key), self.ledger.component.get_record(&key)).ok();
        let f = self.world.pick(&self.world.findings.clone());
        same(
            step,
            "get_finding",
            self.sink.native.get_finding(tenant, f.finding_id()),
            self.sink.component.get_finding(tenant, f.finding_id()),
        )
        .ok();
        let o = self.world.pick(&self.world.occurrences.clone());
        same(
            step,
            "get_occurrence",
            self.sink.native.get_occurrence(tenant, o.occurrence_id()),
            self.sink.component.get_occurrence(tenant, o.occurrence_id()),
        )
        .ok();
        let obs = self.world.observation(tenant);
        same(
            step,
            "get_observation",
            self.sink.native.get_observation(obs.tenant_id(), obs.observation_id()),
            self.sink.component.get_observation(obs.tenant_id(), obs.observation_id()),
        )
        .ok();
    }

    fn snapshots(&self) {
        let step = self.step;
        same(step, "snapshot", self.ledger.native.snapshot(), self.ledger.component.snapshot()).ok();
        same(step, "findings_snapshot", self.sink.native.findings_snapshot(), self.sink.component.findings_snapshot())
            .ok();
        same(
            step,
            "occurrences_snapshot",
            self.sink.native.occurrences_snapshot(),
            self.sink.component.occurrences_snapshot(),
        )
        .ok();
        same(
            step,
            "observations_snapshot",
            self.sink.native.observations_snapshot(),
            self.sink.component.observations_snapshot(),
        )
        .ok();
        same(step, "durable_counts", self.sink.native.durable_counts(), self.sink.component.durable_counts()).ok();
    }

    fn step(&mut self) {
        self.step += 1;
        match self.world.rng.random_range(0..100) {
            0..25 => {
                let n = self.world.rng.random_range(0..6);
                let records: Vec<DoneLedgerRecord> = (0..n).map(|_| self.world.done_record()).collect();
                self.upsert_records(&records);
            }
            25..45 => self.upsert_findings(),
            45..55 => self.reads(),
            55..63 => self.wait_one(true),
            63..70 => self.wait_one(false),
            70..73 => {
                // Dropping unwaited: the write still applies when released.
                if !self.ledger_writes.is_empty() {
                    let i = self.world.rng.random_range(0..self.ledger_writes.len());
                    drop(self.ledger_writes.swap_remove(i));
                }
            }
            73..86 => {
                let (choice, order, count) =
                    (self.world.rng.random_range(0..8), self.order(), self.world.rng.random_range(0..3));
                let pending = self.ledger.native.pending_ids().expect("native");
                let id = self.some_id(&pending);
                Self::control(self.step, choice, order, count, id, &self.ledger.native, &self.ledger.component);
            }
            86..98 => {
                let (choice, order, count) =
                    (self.world.rng.random_range(0..8), self.order(), self.world.rng.random_range(0..3));
                let pending = self.sink.native.pending_ids().expect("native");
                let id = self.some_id(&pending);
                Self::control(self.step, choice, order, count, id, &self.sink.native, &self.sink.component);
            }
            _ => self.snapshots(),
        }
    }

    /// Releases everything, waits on every handle, and compares final state.
    fn finish(mut self) {
        self.step += 1;
        let step = self.step;
        same(
            step,
            "final ledger release_all",
            self.ledger.native.release_all(CompletionOrder::OldestFirst),
            self.ledger.component.release_all(CompletionOrder::OldestFirst),
        )
        .ok();
        same(
            step,
            "final sink release_all",
            self.sink.native.release_all(CompletionOrder::NewestFirst),
            self.sink.component.release_all(CompletionOrder::NewestFirst),
        )
        .ok();
        for w in self.ledger_writes.drain(..) {
            same(step, "final ledger wait", w.native.wait(), w.component.wait()).ok();
        }
        for w in self.sink_writes.drain(..) {
            same(step, "final sink wait", w.native.wait(), w.component.wait()).ok();
        }
        self.snapshots();
    }
}

fn run_seed(seed: u64, steps: usize) -> usize {
    let mut run = Run::new(seed);
    for _ in 0..steps {
        run.step();
    }
    let rows = run.ledger.native.len().expect("native");
    run.finish();
    rows
}

#[test]
fn native_and_component_agree_on_seeded_sequences() {
    let mut rows = 0;
    for seed in 0..12 {
        rows += run_seed(seed, 400);
    }
    assert!(rows > 0, "the sequences must actually write something");
}

#[test]
fn native_and_component_agree_on_an_oversized_batch() {
    let mut run = Run::new(99);
    let records: Vec<DoneLedgerRecord> = (0..10_001).map(|_| run.world.done_record()).collect();
    run.upsert_records(&records);
    assert!(run.ledger_writes.is_empty(), "both rejected it");
    let valid: Vec<DoneLedgerRecord> =
        records.into_iter().filter(|r| r.validate_for_write().is_ok()).take(500).collect();
    run.upsert_records(&valid);
    run.finish();
}

#[test]
fn the_generator_makes_every_kind_of_outcome() {
    // Guards the differential test against a generator that drifted into
    // producing only successes (or only one error class).
    let mut run = Run::new(7);
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let records: Vec<DoneLedgerRecord> = (0..3).map(|_| run.world.done_record()).collect();
        let outcome = run.ledger.native.batch_upsert(&records).and_then(CommitHandle::wait);
        kinds.insert(format!("ledger {:?}", outcome.map(|_| ()).map_err(|e| std::mem::discriminant(&e))));
        let (f, o, obs) = run.world.findings_batch();
        let outcome = run.sink.native.upsert_batch(FindingsUpsertBatch::new(&f, &o, &obs)).and_then(CommitHandle::wait);
        let label = match outcome {
            Ok(_) => "ok".to_owned(),
            Err(StoreError::BatchValidation(e)) => format!("input {:?}", std::mem::discriminant(&e)),
            Err(e) => format!("store {:?}", std::mem::discriminant(&e)),
        };
        kinds.insert(format!("sink {label}"));
    }
    assert!(kinds.len() >= 8, "too few outcome kinds: {kinds:?}");
}
