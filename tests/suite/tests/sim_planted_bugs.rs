//! The checkers can fail: test-only backends that delegate every call to the
//! native stores except for one planted bug each, and the simulation must
//! report the invariant that bug breaks. The same wrappers without a bug
//! must pass, so the reports come from the bugs and not from the wrappers.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle, InMemoryFindingsSink,
    PendingWriteId, StoreControl, StoreError, TrackedHandle,
};
use gossip_suite::sim::done_ledger::{DoneLedgerSim, DoneLedgerSimReport};
use gossip_suite::sim::findings::{FindingsSim, FindingsSimReport};
use gossip_suite::sim::{EventKind, FaultLevel, FaultModel, SimReport};

type Error = StoreError;

macro_rules! delegate_control {
    ($ty:ty) => {
        impl StoreControl for $ty {
            type ControlError = Error;
            fn set_auto_complete(&self, on: bool) -> Result<(), Error> {
                self.inner.set_auto_complete(on)
            }
            fn delay_next_writes(&self, count: usize) -> Result<(), Error> {
                self.inner.delay_next_writes(count)
            }
            fn fail_next_submissions(&self, count: usize) -> Result<(), Error> {
                self.inner.fail_next_submissions(count)
            }
            fn fail_next_commits(&self, count: usize) -> Result<(), Error> {
                self.inner.fail_next_commits(count)
            }
            fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, Error> {
                self.inner.release_next(order)
            }
            fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, Error> {
                self.inner.release_specific(op_id)
            }
            fn release_all(&self, order: CompletionOrder) -> Result<usize, Error> {
                self.inner.release_all(order)
            }
            fn pending_ids(&self) -> Result<Vec<PendingWriteId>, Error> {
                self.inner.pending_ids()
            }
        }
    };
}

/// A native commit handle whose outcome a planted bug may change.
struct BuggyHandle<H, W> {
    inner: H,
    write: W,
}

/// A bug acting on a write once its commit settles.
trait Planted<R> {
    fn after_wait(self, result: Result<R, Error>) -> Result<R, Error>;
}

impl<H: TrackedHandle, W> TrackedHandle for BuggyHandle<H, W> {
    fn operation_id(&self) -> PendingWriteId {
        self.inner.operation_id()
    }
}

impl<H, W> CommitHandle for BuggyHandle<H, W>
where
    H: CommitHandle<Error = Error>,
    W: Planted<H::Receipt> + Send + 'static,
{
    type Receipt = H::Receipt;
    type Error = Error;

    fn wait(self) -> Result<H::Receipt, Error> {
        self.write.after_wait(self.inner.wait())
    }
}

fn assert_clean<K: EventKind, V: fmt::Display, O, E>(report: &SimReport<K, V, O, E>) {
    assert!(report.is_clean(), "{}", report.failure().unwrap_or_default());
}

/// Each of `expected` (`id name`, as a violation's display starts) is among
/// the report's violations.
fn assert_caught<K: EventKind, V: fmt::Display, O, E>(report: &SimReport<K, V, O, E>, expected: &[&str]) {
    let ids: Vec<String> = report
        .violations
        .iter()
        .map(|v| v.to_string().split_once(':').map_or_else(String::new, |(id, _)| id.to_owned()))
        .collect();
    for expected in expected {
        assert!(ids.iter().any(|id| id == expected), "{expected} not reported; got {ids:?}");
    }
}

// ---------------------------------------------------------- both wrappers

/// The run every planted bug is judged on: 300 safety and 50 liveness ops.
fn ledger_run(seed: u64, level: FaultLevel, bug: Option<LedgerBug>) -> DoneLedgerSimReport {
    DoneLedgerSim::new(seed, level, BuggyLedger::new(bug)).run(300, 50)
}

fn sink_run(seed: u64, level: FaultLevel, bug: Option<SinkBug>) -> FindingsSimReport {
    FindingsSim::new(seed, level, BuggySink::new(bug)).run(300, 50)
}

/// Without a bug, both wrappers pass, sunny and stormy: what the bug tests
/// report comes from the bugs.
#[test]
fn faithful_wrappers_pass() {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        assert_clean(&ledger_run(3, level, None));
        assert_clean(&sink_run(3, level, None));
    }
}

// ---------------------------------------------------------------- done-ledger

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LedgerBug {
    /// After a committed write, reads show the incoming record's bytes_scanned
    /// instead of the maximum (a wrong merge, kept in a shadow map).
    BytesFromIncoming,
    /// A delayed write is visible to reads before its release.
    LeakyDelayedWrite,
    /// A rollback bug that only shows once the store has failed many
    /// commits: a committed write to a key whose previous commit failed
    /// overwrites the durable row with the incoming record instead of
    /// merging. Catching it takes many successful commits under faults.
    LostMergeAfterFailedCommits,
    /// After some commits the store fails every commit as if a fault were
    /// injected; only the liveness phase, which arms none, can tell.
    StopsCommitting,
}

/// Failed commits before `LostMergeAfterFailedCommits` shows.
const FAILED_COMMITS_BEFORE_LOST_MERGE: usize = 64;
/// Commits before `StopsCommitting` stops.
const COMMITS_BEFORE_STOPPING: usize = 100;

/// What the bugs that depend on a write's history count.
#[derive(Default)]
struct History {
    commits: usize,
    failed_commits: usize,
    /// Keys whose last commit attempt failed.
    failed_keys: HashSet<DoneLedgerKey>,
}

/// The native ledger behind a corrupting read view.
#[derive(Clone)]
struct BuggyLedger {
    inner: InMemoryDoneLedger,
    bug: Option<LedgerBug>,
    /// Per key: the bytes a wrong merge would have stored, or a leaked row.
    shadow: Arc<Mutex<HashMap<DoneLedgerKey, DoneLedgerRecord>>>,
    history: Arc<Mutex<History>>,
}

impl BuggyLedger {
    fn new(bug: Option<LedgerBug>) -> Self {
        Self { inner: InMemoryDoneLedger::new(), bug, shadow: Arc::default(), history: Arc::default() }
    }

    fn view(&self, key: &DoneLedgerKey, durable: Option<DoneLedgerRecord>) -> Option<DoneLedgerRecord> {
        let shadow = self.shadow.lock().unwrap();
        match (self.bug, shadow.get(key), durable) {
            (Some(LedgerBug::BytesFromIncoming), Some(incoming), Some(row)) => Some(
                DoneLedgerRecord::try_new(
                    *row.key(),
                    row.status(),
                    incoming.bytes_scanned(),
                    row.findings_count(),
                    *row.provenance(),
                    row.error_code().cloned(),
                )
                .unwrap(),
            ),
            (Some(LedgerBug::LeakyDelayedWrite), Some(leaked), None) => Some(leaked.clone()),
            (Some(LedgerBug::LostMergeAfterFailedCommits), Some(overwritten), Some(_)) => Some(overwritten.clone()),
            (_, _, durable) => durable,
        }
    }
}

/// What a committed ledger write leaves for the bug to act on.
struct LedgerWrite {
    records: Vec<DoneLedgerRecord>,
    ledger: BuggyLedger,
}

impl Planted<DoneLedgerCommitReceipt> for LedgerWrite {
    fn after_wait(self, result: Result<DoneLedgerCommitReceipt, Error>) -> Result<DoneLedgerCommitReceipt, Error> {
        let mut history = self.ledger.history.lock().unwrap();
        let receipt = match result {
            Ok(receipt) => receipt,
            Err(e) => {
                history.failed_commits += 1;
                history.failed_keys.extend(self.records.iter().map(|r| *r.key()));
                return Err(e);
            }
        };
        history.commits += 1;
        if self.ledger.bug == Some(LedgerBug::LostMergeAfterFailedCommits) {
            let lost = history.failed_commits >= FAILED_COMMITS_BEFORE_LOST_MERGE;
            let mut shadow = self.ledger.shadow.lock().unwrap();
            for r in &self.records {
                if history.failed_keys.remove(r.key()) && lost {
                    shadow.insert(*r.key(), r.clone());
                } else {
                    shadow.remove(r.key());
                }
            }
        }
        drop(history);
        if self.ledger.bug == Some(LedgerBug::BytesFromIncoming) {
            let mut shadow = self.ledger.shadow.lock().unwrap();
            for r in self.records {
                shadow.insert(*r.key(), r);
            }
        }
        Ok(receipt)
    }
}

impl DoneLedger for BuggyLedger {
    type Error = Error;
    type CommitHandle = BuggyHandle<InMemoryDoneLedgerHandle, LedgerWrite>;

    fn batch_get(
        &self,
        t: TenantId,
        p: PolicyHash,
        ovids: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Error> {
        let rows = self.inner.batch_get(t, p, ovids)?;
        Ok(ovids.iter().zip(rows).map(|(o, row)| self.view(&DoneLedgerKey::new(t, p, *o), row)).collect())
    }

    fn list_done_hashes(&self, t: TenantId, p: PolicyHash) -> Result<Vec<OvidHash>, Error> {
        self.inner.list_done_hashes(t, p)
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<Self::CommitHandle, Error> {
        if self.bug == Some(LedgerBug::StopsCommitting)
            && self.history.lock().unwrap().commits >= COMMITS_BEFORE_STOPPING
        {
            // The store fails the write for real, as an injected fault would.
            self.inner.fail_next_commits(1)?;
        }
        let inner = self.inner.batch_upsert(records)?;
        if self.bug == Some(LedgerBug::LeakyDelayedWrite)
            && self.inner.pending_ids()?.contains(&TrackedHandle::operation_id(&inner))
        {
            let mut shadow = self.shadow.lock().unwrap();
            for r in records {
                shadow.insert(*r.key(), r.clone());
            }
        }
        Ok(BuggyHandle { inner, write: LedgerWrite { records: records.to_vec(), ledger: self.clone() } })
    }
}

impl DoneLedgerInspect for BuggyLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Error> {
        Ok(self.view(key, self.inner.get_record(key)?))
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Error> {
        let mut rows: HashMap<DoneLedgerKey, DoneLedgerRecord> =
            self.inner.snapshot()?.into_iter().map(|r| (*r.key(), r)).collect();
        let keys: Vec<DoneLedgerKey> =
            self.shadow.lock().unwrap().keys().copied().chain(rows.keys().copied()).collect();
        let mut out: Vec<DoneLedgerRecord> = keys.iter().filter_map(|k| self.view(k, rows.remove(k))).collect();
        out.sort_by(|a, b| a.key().cmp(b.key()));
        out.dedup_by(|a, b| a.key() == b.key());
        Ok(out)
    }
}

delegate_control!(BuggyLedger);

#[test]
fn wrong_merge_of_bytes_is_caught_as_i2_i6_i7() {
    let report = ledger_run(3, FaultLevel::SunnyDay, Some(LedgerBug::BytesFromIncoming));
    assert_caught(&report, &["I2 BytesScanMonotonicity", "I6 LatticeConvergence", "I7 ReadConsistency"]);
    assert!(!report.converged);
    // The first violation names the seed's step in the log, so the run can be replayed.
    assert!(report.log.lines().iter().any(|l| l.contains("! I2 BytesScanMonotonicity")));
}

#[test]
fn leaky_delayed_write_is_caught_as_i4_and_i7() {
    assert_caught(
        &ledger_run(3, FaultLevel::Stormy, Some(LedgerBug::LeakyDelayedWrite)),
        &["I4 SubmitRollback", "I7 ReadConsistency"],
    );
}

/// Only a run that keeps committing under faults catches this one: the
/// bounded model commits thousands of writes after the store's 64th failed
/// commit, the reference model almost none, and it passes the same seed.
#[test]
fn lost_merge_after_failed_commits_needs_commits_under_faults() {
    let run = |model| {
        DoneLedgerSim::with_model(
            5,
            FaultLevel::Stormy,
            model,
            BuggyLedger::new(Some(LedgerBug::LostMergeAfterFailedCommits)),
        )
        .run(5_000, 200)
    };
    let bounded = run(FaultModel::Bounded);
    assert_caught(&bounded, &["I6 LatticeConvergence", "I7 ReadConsistency"]);
    assert_clean(&run(FaultModel::Reference));
    // The same wrapper without the bug passes the bounded run.
    assert_clean(&DoneLedgerSim::new(5, FaultLevel::Stormy, BuggyLedger::new(None)).run(5_000, 200));
}

/// A store that stops committing while reporting injected faults passes
/// every per-step check; the liveness phase, which arms no fault, fails it.
#[test]
fn a_store_that_stops_committing_is_caught_by_the_liveness_phase() {
    let run = |liveness| {
        DoneLedgerSim::new(3, FaultLevel::Stormy, BuggyLedger::new(Some(LedgerBug::StopsCommitting)))
            .run(1_000, liveness)
    };
    assert_clean(&run(0));
    let report = run(200);
    assert!(report.violations.iter().any(|v| v.to_string().contains("fault-free phase")), "{:?}", report.failure());
}

// ------------------------------------------------------------------ findings

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SinkBug {
    /// An occurrence refused for its missing finding is stored anyway.
    KeepsOrphans,
    /// A conflicting finding overwrites the durable one (last write wins).
    OverwritesFindings,
}

#[derive(Default)]
struct Overlay {
    findings: HashMap<(TenantId, FindingId), FindingRecord>,
    occurrences: HashMap<(TenantId, OccurrenceId), OccurrenceRecord>,
}

#[derive(Clone)]
struct BuggySink {
    inner: InMemoryFindingsSink,
    bug: Option<SinkBug>,
    overlay: Arc<Mutex<Overlay>>,
}

impl BuggySink {
    fn new(bug: Option<SinkBug>) -> Self {
        Self { inner: InMemoryFindingsSink::new(), bug, overlay: Arc::default() }
    }
}

/// What a settled findings write leaves for the bug to act on.
struct SinkWrite {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    sink: BuggySink,
}

impl Planted<FindingsCommitReceipt> for SinkWrite {
    fn after_wait(self, result: Result<FindingsCommitReceipt, Error>) -> Result<FindingsCommitReceipt, Error> {
        let mut overlay = self.sink.overlay.lock().unwrap();
        match (&result, self.sink.bug) {
            (Err(Error::MissingFinding { .. }), Some(SinkBug::KeepsOrphans)) if self.findings.is_empty() => {
                for o in &self.occurrences {
                    overlay.occurrences.insert((o.tenant_id(), o.occurrence_id()), o.clone());
                }
                Ok(FindingsCommitReceipt::new(0, self.occurrences.len() as u64, 0))
            }
            (Err(Error::FindingConflict { .. }), Some(SinkBug::OverwritesFindings)) if self.occurrences.is_empty() => {
                for f in &self.findings {
                    overlay.findings.insert((f.tenant_id(), f.finding_id()), f.clone());
                }
                Ok(FindingsCommitReceipt::new(self.findings.len() as u64, 0, 0))
            }
            _ => result,
        }
    }
}

impl FindingsSink for BuggySink {
    type Error = Error;
    type CommitHandle = BuggyHandle<InMemoryFindingsHandle, SinkWrite>;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<Self::CommitHandle, Error> {
        let write = SinkWrite {
            findings: batch.findings().to_vec(),
            occurrences: batch.occurrences().to_vec(),
            sink: self.clone(),
        };
        Ok(BuggyHandle { inner: self.inner.upsert_batch(batch)?, write })
    }
}

impl FindingsInspect for BuggySink {
    fn get_finding(&self, t: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Error> {
        let overlaid = self.overlay.lock().unwrap().findings.get(&(t, id)).cloned();
        Ok(overlaid.or(self.inner.get_finding(t, id)?))
    }

    fn get_occurrence(&self, t: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Error> {
        let inner = self.inner.get_occurrence(t, id)?;
        Ok(inner.or_else(|| self.overlay.lock().unwrap().occurrences.get(&(t, id)).cloned()))
    }

    fn get_observation(&self, t: TenantId, id: ObservationId) -> Result<Option<ObservationRecord>, Error> {
        self.inner.get_observation(t, id)
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Error> {
        let overlay = self.overlay.lock().unwrap();
        let mut rows: Vec<FindingRecord> = self
            .inner
            .findings_snapshot()?
            .into_iter()
            .map(|f| overlay.findings.get(&(f.tenant_id(), f.finding_id())).cloned().unwrap_or(f))
            .collect();
        rows.sort_by_key(|f| (f.tenant_id(), f.finding_id()));
        Ok(rows)
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Error> {
        let mut rows = self.inner.occurrences_snapshot()?;
        let overlay = self.overlay.lock().unwrap();
        rows.extend(
            overlay
                .occurrences
                .values()
                .filter(|o| !rows.iter().any(|r| r.occurrence_id() == o.occurrence_id()))
                .cloned()
                .collect::<Vec<_>>(),
        );
        rows.sort_by_key(|o| (o.tenant_id(), o.occurrence_id()));
        Ok(rows)
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Error> {
        self.inner.observations_snapshot()
    }
}

impl FindingsConformanceProbe for BuggySink {
    type Error = Error;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, Error> {
        let findings = self.findings_snapshot()?.len() as u64;
        let occurrences = self.occurrences_snapshot()?.len() as u64;
        let observations = self.observations_snapshot()?.len() as u64;
        Ok(DurableFindingsCounts::new(findings, occurrences, observations))
    }
}

delegate_control!(BuggySink);

#[test]
fn sink_keeping_an_orphan_is_caught_as_f1() {
    // Each seed draws its own key universe; a small one makes every parent
    // durable early, so no orphan is ever refused. A few seeds cover both.
    let mut reports = (3..8).map(|seed| sink_run(seed, FaultLevel::SunnyDay, Some(SinkBug::KeepsOrphans)));
    let mut report = reports.next().unwrap();
    for other in reports {
        report.violations.extend(other.violations);
    }
    assert_caught(&report, &["F1 NoOrphans", "F6 OutcomeAgreement", "F4 ReadConsistency"]);
}

#[test]
fn sink_overwriting_a_finding_is_caught_as_f2() {
    let report = sink_run(3, FaultLevel::SunnyDay, Some(SinkBug::OverwritesFindings));
    assert_caught(&report, &["F2 Immutability", "F6 OutcomeAgreement"]);
}
