//! The conformance suite against the native stores (everything must pass),
//! and against deliberately broken backends that wrap the native stores with
//! exactly one bug each (the matching checks must fail).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle, InMemoryFindingsSink,
    InMemoryPersistenceError, PendingWriteId, StoreControl, TrackedHandle,
};
use gossip_suite::conformance::{
    CheckFailure, ConformanceReport, REFERENCE_GROUPS, check_list, find_leak, run_conformance, run_selected,
};
use gossip_suite::{Backend, NativeBackend};

type Error = InMemoryPersistenceError;

#[test]
fn native_backend_passes_every_check() {
    let report = run_conformance(&NativeBackend);
    assert!(report.all_passed(), "native backend failed conformance:\n{report}");
    assert_eq!(report.outcomes.len(), check_list().len());
    assert!(report.outcomes.iter().all(|o| o.backend == "native"));
    println!("{report}");
}

#[test]
fn reference_groups_have_the_reference_check_counts() {
    let report = run_conformance(&NativeBackend);
    for (group, count) in REFERENCE_GROUPS {
        assert_eq!(report.count_in(group), count, "group {group}");
    }
    let counts = report.group_counts();
    let groups: Vec<&str> = counts.iter().map(|g| g.group).collect();
    assert_eq!(
        groups,
        ["done-ledger", "findings", "redaction", "atomicity", "limits", "isolation", "completion", "faults", "replay"]
    );
    assert!(counts.iter().all(|g| g.passed == g.total), "{counts:?}");
}

#[test]
fn check_names_are_unique_kebab_case() {
    let checks = check_list();
    let ids: BTreeSet<(&str, &str)> = checks.iter().map(|c| (c.group, c.name)).collect();
    assert_eq!(ids.len(), checks.len(), "duplicate check names");
    let kebab = |s: &str| {
        !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    for c in &checks {
        assert!(kebab(c.group) && kebab(c.name), "{}/{} is not kebab-case", c.group, c.name);
        assert!(!c.about.is_empty());
    }
}

#[test]
fn selection_runs_only_the_selected_checks() {
    let report = run_selected(&NativeBackend, |group, _| group == "redaction");
    assert_eq!(report.outcomes.len(), 3);
    assert!(report.all_passed(), "{report}");
    assert!(!run_selected(&NativeBackend, |_, _| false).all_passed(), "an empty run must not count as passing");
}

#[test]
fn report_table_shows_every_check_and_the_failure_details() {
    let report = run_conformance(&BrokenBackend(Bug::ListIgnoresTenant));
    let table = report.to_string();
    for outcome in &report.outcomes {
        assert!(table.contains(&outcome.id()), "table lacks {}", outcome.id());
    }
    assert!(table.contains("FAIL"));
    assert!(table.contains("-> "), "failure details are missing:\n{table}");
    assert!(table.contains(&format!("{} of {} checks passed", report.passed_count(), report.outcomes.len())));
}

#[test]
fn a_redaction_leak_is_caught_and_never_echoed_in_full() {
    let secret = [0xE7u8; 32];
    let leaky = format!("NormHash({})", secret.iter().map(|b| format!("{b:02X}")).collect::<String>());
    let fragment = find_leak(&leaky, &secret).expect("the full uppercase hex must be found");
    let failure =
        CheckFailure::RedactionLeak { case: "redaction/test", debug_output: leaky.clone(), leaked_fragment: fragment };
    let message = failure.to_string();
    assert!(message.contains("e7e7e7e7..."), "{message}");
    assert!(!message.contains(&leaky) && !message.to_lowercase().contains(&"e7".repeat(8)), "{message}");
    assert_eq!(find_leak("NormHash([redacted])", &secret), None);
}

/// The ids of the checks that failed.
fn failed(report: &ConformanceReport) -> BTreeSet<String> {
    report.failures().map(|o| o.id()).collect()
}

fn assert_fails(report: &ConformanceReport, must_fail: &[&str]) {
    let failed = failed(report);
    for id in must_fail {
        assert!(failed.contains(*id), "{id} should have failed:\n{report}");
    }
    // Checks that do not touch a store can never be affected by a store bug.
    for redaction in report.outcomes.iter().filter(|o| o.group == "redaction") {
        assert!(redaction.passed, "{}:\n{report}", redaction.id());
    }
}

#[test]
fn keeping_the_winning_row_fails_the_per_field_max_checks() {
    let report = run_conformance(&BrokenBackend(Bug::KeepsWinningRow));
    let expected: BTreeSet<String> =
        ["done-ledger/fail-then-scan", "done-ledger/scan-then-fail", "replay/done-ledger-receipts"]
            .map(String::from)
            .into();
    assert_eq!(failed(&report), expected, "\n{report}");
}

#[test]
fn listing_without_the_tenant_fails_the_listing_checks() {
    let report = run_conformance(&BrokenBackend(Bug::ListIgnoresTenant));
    let expected: BTreeSet<String> =
        ["done-ledger/list-done-hashes", "isolation/list-and-count-by-scope"].map(String::from).into();
    assert_eq!(failed(&report), expected, "\n{report}");
}

#[test]
fn leaking_rejected_batches_fails_every_atomicity_and_limit_check() {
    let report = run_conformance(&BrokenBackend(Bug::LeaksRejectedBatches));
    let atomicity: Vec<String> = report.outcomes.iter().filter(|o| o.group == "atomicity").map(|o| o.id()).collect();
    assert_eq!(atomicity.len(), 11);
    let mut must_fail: Vec<&str> = atomicity.iter().map(String::as_str).collect();
    must_fail.extend(["limits/done-ledger-batch-size", "limits/findings-batch-size"]);
    assert_fails(&report, &must_fail);
}

#[test]
fn ignoring_delays_fails_the_completion_checks() {
    let report = run_conformance(&BrokenBackend(Bug::IgnoresDelay));
    let completion: Vec<String> = report.outcomes.iter().filter(|o| o.group == "completion").map(|o| o.id()).collect();
    let mut must_fail: Vec<&str> = completion.iter().map(String::as_str).collect();
    must_fail.extend(["faults/commit-failure-hits-next-applied", "faults/failed-commit-still-released"]);
    assert_fails(&report, &must_fail);
    for group in ["done-ledger", "findings", "atomicity", "isolation", "limits"] {
        assert!(report.outcomes.iter().filter(|o| o.group == group).all(|o| o.passed), "{group}:\n{report}");
    }
}

#[test]
fn a_panicking_probe_is_reported_and_hides_no_other_check() {
    let report = run_conformance(&BrokenBackend(Bug::PanicsInProbe));
    let findings_ref = report.outcome("findings", "idempotent").expect("check ran");
    assert!(
        !findings_ref.passed && findings_ref.detail.starts_with("findings/idempotent: panicked: probe exploded"),
        "{}",
        findings_ref.detail
    );
    assert_fails(&report, &["findings/idempotent", "findings/missing-finding", "atomicity/findings-missing-finding"]);
    // Every check was still run, and those that never probe still pass.
    assert_eq!(report.outcomes.len(), check_list().len());
    for group in ["done-ledger", "redaction"] {
        assert!(report.outcomes.iter().filter(|o| o.group == group).all(|o| o.passed), "{group}:\n{report}");
    }
}

// ---------------------------------------------------------------------------
// The broken backend: the native stores plus exactly one bug.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bug {
    /// On a status upgrade, keeps the incoming row whole instead of the
    /// per-field maxima (reads show the last winning row).
    KeepsWinningRow,
    /// Applies every record on its own before submitting the batch, so the
    /// valid records of a rejected batch become durable.
    LeaksRejectedBatches,
    /// Lists every terminal hash of the policy, whatever the tenant.
    ListIgnoresTenant,
    /// Treats `set_auto_complete(false)` and `delay_next_writes` as no-ops.
    IgnoresDelay,
    /// The durable-count probe panics.
    PanicsInProbe,
}

struct BrokenBackend(Bug);

impl Backend for BrokenBackend {
    type Ledger = BrokenLedger;
    type Sink = BrokenSink;

    fn name(&self) -> &str {
        "broken"
    }

    fn new_ledger(&self) -> anyhow::Result<BrokenLedger> {
        Ok(BrokenLedger { inner: InMemoryDoneLedger::new(), bug: self.0, winners: Arc::default() })
    }

    fn new_sink(&self) -> anyhow::Result<BrokenSink> {
        Ok(BrokenSink { inner: InMemoryFindingsSink::new(), bug: self.0 })
    }
}

type Winners = Arc<Mutex<HashMap<DoneLedgerKey, DoneLedgerRecord>>>;

#[derive(Clone)]
struct BrokenLedger {
    inner: InMemoryDoneLedger,
    bug: Bug,
    winners: Winners,
}

impl BrokenLedger {
    fn winners(&self) -> std::sync::MutexGuard<'_, HashMap<DoneLedgerKey, DoneLedgerRecord>> {
        self.winners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shown(&self, row: DoneLedgerRecord) -> DoneLedgerRecord {
        self.winners().get(row.key()).cloned().unwrap_or(row)
    }
}

struct BrokenLedgerHandle {
    inner: InMemoryDoneLedgerHandle,
    /// Rows that replace the merged ones once the write is durable.
    winners: Option<(Winners, Vec<DoneLedgerRecord>)>,
}

impl TrackedHandle for BrokenLedgerHandle {
    fn operation_id(&self) -> PendingWriteId {
        self.inner.operation_id()
    }
}

impl CommitHandle for BrokenLedgerHandle {
    type Receipt = DoneLedgerCommitReceipt;
    type Error = Error;

    fn wait(self) -> Result<DoneLedgerCommitReceipt, Error> {
        let receipt = self.inner.wait()?;
        if let Some((winners, rows)) = self.winners {
            let mut map = winners.lock().unwrap_or_else(PoisonError::into_inner);
            map.extend(rows.into_iter().map(|r| (*r.key(), r)));
        }
        Ok(receipt)
    }
}

impl DoneLedger for BrokenLedger {
    type Error = Error;
    type CommitHandle = BrokenLedgerHandle;

    fn batch_get(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        ovids: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Error> {
        let rows = self.inner.batch_get(tenant, policy, ovids)?;
        Ok(rows.into_iter().map(|r| r.map(|r| self.shown(r))).collect())
    }

    fn list_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Result<Vec<OvidHash>, Error> {
        if self.bug != Bug::ListIgnoresTenant {
            return self.inner.list_done_hashes(tenant, policy);
        }
        Ok(self
            .inner
            .snapshot()?
            .into_iter()
            .filter(|r| r.key().policy_hash() == policy && r.status().is_terminal())
            .map(|r| r.key().ovid_hash())
            .collect())
    }

    fn count_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Result<Option<usize>, Error> {
        self.inner.count_done_hashes(tenant, policy)
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<BrokenLedgerHandle, Error> {
        if self.bug == Bug::LeaksRejectedBatches {
            for record in records {
                drop(self.inner.batch_upsert(core::slice::from_ref(record)));
            }
        }
        let winners = (self.bug == Bug::KeepsWinningRow).then(|| {
            let mut latest: HashMap<DoneLedgerKey, DoneLedgerRecord> = HashMap::new();
            for record in records.iter().filter(|r| r.validate().is_ok()) {
                let current = latest
                    .get(record.key())
                    .cloned()
                    .or_else(|| self.inner.get_record(record.key()).ok().flatten().map(|r| self.shown(r)));
                if current.is_none_or(|c| record.status().rank() > c.status().rank()) {
                    latest.insert(*record.key(), record.clone());
                }
            }
            (Arc::clone(&self.winners), latest.into_values().collect())
        });
        Ok(BrokenLedgerHandle { inner: self.inner.batch_upsert(records)?, winners })
    }
}

impl DoneLedgerInspect for BrokenLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Error> {
        Ok(self.inner.get_record(key)?.map(|r| self.shown(r)))
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Error> {
        Ok(self.inner.snapshot()?.into_iter().map(|r| self.shown(r)).collect())
    }
}

#[derive(Clone)]
struct BrokenSink {
    inner: InMemoryFindingsSink,
    bug: Bug,
}

impl FindingsSink for BrokenSink {
    type Error = Error;
    type CommitHandle = InMemoryFindingsHandle;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<InMemoryFindingsHandle, Error> {
        if self.bug == Bug::LeaksRejectedBatches {
            let one = |f: &[FindingRecord], o: &[OccurrenceRecord], obs: &[ObservationRecord]| {
                drop(self.inner.upsert_batch(FindingsUpsertBatch::new(f, o, obs)));
            };
            batch.findings().iter().for_each(|f| one(core::slice::from_ref(f), &[], &[]));
            batch.occurrences().iter().for_each(|o| one(&[], core::slice::from_ref(o), &[]));
            batch.observations().iter().for_each(|obs| one(&[], &[], core::slice::from_ref(obs)));
        }
        self.inner.upsert_batch(batch)
    }
}

impl FindingsConformanceProbe for BrokenSink {
    type Error = Error;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, Error> {
        assert!(self.bug != Bug::PanicsInProbe, "probe exploded");
        self.inner.durable_counts()
    }
}

impl FindingsInspect for BrokenSink {
    fn get_finding(&self, tenant: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Error> {
        self.inner.get_finding(tenant, id)
    }

    fn get_occurrence(&self, tenant: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Error> {
        self.inner.get_occurrence(tenant, id)
    }

    fn get_observation(&self, tenant: TenantId, id: ObservationId) -> Result<Option<ObservationRecord>, Error> {
        self.inner.get_observation(tenant, id)
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Error> {
        self.inner.findings_snapshot()
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Error> {
        self.inner.occurrences_snapshot()
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Error> {
        self.inner.observations_snapshot()
    }
}

macro_rules! delegate_control {
    ($($store:ty),+) => {$(
        impl StoreControl for $store {
            type ControlError = Error;

            fn set_auto_complete(&self, on: bool) -> Result<(), Error> {
                if self.bug == Bug::IgnoresDelay { Ok(()) } else { self.inner.set_auto_complete(on) }
            }

            fn delay_next_writes(&self, count: usize) -> Result<(), Error> {
                if self.bug == Bug::IgnoresDelay { Ok(()) } else { self.inner.delay_next_writes(count) }
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
    )+};
}

delegate_control!(BrokenLedger, BrokenSink);
