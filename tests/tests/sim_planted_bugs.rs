//! The checkers can fail: test-only backends that delegate every call to the
//! native stores except for one planted bug each, and the simulation must
//! report the invariant that bug breaks. The same wrappers without a bug
//! must pass, so the reports come from the bugs and not from the wrappers.

use std::collections::HashMap;
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
use gossip_suite::sim::FaultLevel;
use gossip_suite::sim::done_ledger::{DoneLedgerSim, DoneLedgerSimReport};
use gossip_suite::sim::findings::{FindingsSim, FindingsSimReport};

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

// ---------------------------------------------------------------- done-ledger

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LedgerBug {
    /// After a committed write, reads show the incoming record's bytes_scanned
    /// instead of the maximum (a wrong merge, kept in a shadow map).
    BytesFromIncoming,
    /// A delayed write is visible to reads before its release.
    LeakyDelayedWrite,
}

/// The native ledger behind a corrupting read view.
#[derive(Clone)]
struct BuggyLedger {
    inner: InMemoryDoneLedger,
    bug: Option<LedgerBug>,
    /// Per key: the bytes a wrong merge would have stored, or a leaked row.
    shadow: Arc<Mutex<HashMap<DoneLedgerKey, DoneLedgerRecord>>>,
}

impl BuggyLedger {
    fn new(bug: Option<LedgerBug>) -> Self {
        Self { inner: InMemoryDoneLedger::new(), bug, shadow: Arc::default() }
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
            (_, _, durable) => durable,
        }
    }
}

struct BuggyLedgerHandle {
    inner: InMemoryDoneLedgerHandle,
    records: Vec<DoneLedgerRecord>,
    ledger: BuggyLedger,
}

impl TrackedHandle for BuggyLedgerHandle {
    fn operation_id(&self) -> PendingWriteId {
        TrackedHandle::operation_id(&self.inner)
    }
}

impl CommitHandle for BuggyLedgerHandle {
    type Receipt = DoneLedgerCommitReceipt;
    type Error = Error;

    fn wait(self) -> Result<DoneLedgerCommitReceipt, Error> {
        let receipt = self.inner.wait()?;
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
    type CommitHandle = BuggyLedgerHandle;

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

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<BuggyLedgerHandle, Error> {
        let inner = self.inner.batch_upsert(records)?;
        if self.bug == Some(LedgerBug::LeakyDelayedWrite)
            && self.inner.pending_ids()?.contains(&TrackedHandle::operation_id(&inner))
        {
            let mut shadow = self.shadow.lock().unwrap();
            for r in records {
                shadow.insert(*r.key(), r.clone());
            }
        }
        Ok(BuggyLedgerHandle { inner, records: records.to_vec(), ledger: self.clone() })
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

fn ledger_run(seed: u64, level: FaultLevel, bug: Option<LedgerBug>) -> DoneLedgerSimReport {
    DoneLedgerSim::new(seed, level, BuggyLedger::new(bug)).run(300, 50)
}

fn ids(report: &DoneLedgerSimReport) -> Vec<String> {
    report.violations.iter().map(|v| format!("{} {}", v.id(), v.name())).collect()
}

#[test]
fn faithful_ledger_wrapper_passes() {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let report = ledger_run(3, level, None);
        assert!(report.is_clean(), "{}", report.failure().unwrap_or_default());
    }
}

#[test]
fn wrong_merge_of_bytes_is_caught_as_i2_i6_i7() {
    let report = ledger_run(3, FaultLevel::SunnyDay, Some(LedgerBug::BytesFromIncoming));
    let ids = ids(&report);
    for expected in ["I2 BytesScanMonotonicity", "I6 LatticeConvergence", "I7 ReadConsistency"] {
        assert!(ids.iter().any(|id| id == expected), "{expected} not reported; got {ids:?}");
    }
    assert!(!report.converged);
    // The first violation names the seed's step in the log, so the run can be replayed.
    assert!(report.log.lines().iter().any(|l| l.contains("! I2 BytesScanMonotonicity")));
}

#[test]
fn leaky_delayed_write_is_caught_as_i4_and_i7() {
    let report = ledger_run(3, FaultLevel::Stormy, Some(LedgerBug::LeakyDelayedWrite));
    let ids = ids(&report);
    for expected in ["I4 SubmitRollback", "I7 ReadConsistency"] {
        assert!(ids.iter().any(|id| id == expected), "{expected} not reported; got {ids:?}");
    }
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

struct BuggySinkHandle {
    inner: InMemoryFindingsHandle,
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    sink: BuggySink,
}

impl TrackedHandle for BuggySinkHandle {
    fn operation_id(&self) -> PendingWriteId {
        TrackedHandle::operation_id(&self.inner)
    }
}

impl CommitHandle for BuggySinkHandle {
    type Receipt = FindingsCommitReceipt;
    type Error = Error;

    fn wait(self) -> Result<FindingsCommitReceipt, Error> {
        let result = self.inner.wait();
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
    type CommitHandle = BuggySinkHandle;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<BuggySinkHandle, Error> {
        Ok(BuggySinkHandle {
            inner: self.inner.upsert_batch(batch)?,
            findings: batch.findings().to_vec(),
            occurrences: batch.occurrences().to_vec(),
            sink: self.clone(),
        })
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

fn sink_run(seed: u64, level: FaultLevel, bug: Option<SinkBug>) -> FindingsSimReport {
    FindingsSim::new(seed, level, BuggySink::new(bug)).run(300, 50)
}

fn sink_ids(report: &FindingsSimReport) -> Vec<String> {
    report.violations.iter().map(|v| format!("{} {}", v.id(), v.name())).collect()
}

#[test]
fn faithful_sink_wrapper_passes() {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let report = sink_run(3, level, None);
        assert!(report.is_clean(), "{}", report.failure().unwrap_or_default());
    }
}

#[test]
fn sink_keeping_an_orphan_is_caught_as_f1() {
    let report = sink_run(3, FaultLevel::SunnyDay, Some(SinkBug::KeepsOrphans));
    let ids = sink_ids(&report);
    for expected in ["F1 NoOrphans", "F6 OutcomeAgreement", "F4 ReadConsistency"] {
        assert!(ids.iter().any(|id| id == expected), "{expected} not reported; got {ids:?}");
    }
}

#[test]
fn sink_overwriting_a_finding_is_caught_as_f2() {
    let report = sink_run(3, FaultLevel::SunnyDay, Some(SinkBug::OverwritesFindings));
    let ids = sink_ids(&report);
    for expected in ["F2 Immutability", "F6 OutcomeAgreement"] {
        assert!(ids.iter().any(|id| id == expected), "{expected} not reported; got {ids:?}");
    }
}
