//! The conformance suite against the native stores (everything must pass),
//! and against deliberately broken backends that wrap the native stores with
//! exactly one bug each (the matching checks must fail).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    AsStoreError, CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe,
    FindingsInspect, FindingsSink, InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle,
    InMemoryFindingsSink, MAX_PAGE_SIZE, PendingWriteId, StoreControl, StoreError, TrackedHandle,
};
use gossip_suite::conformance::{
    CheckFailure, CheckStatus, ConformanceReport, NEEDS_BOUNDED, NEEDS_TESTING, REFERENCE_GROUPS, check_list,
    find_leak, run_conformance, run_selected,
};
use gossip_suite::sim::sweep::{SimMode, SimRunSpec, SimStore};
use gossip_suite::sim::{FaultLevel, TestingUnsupported, require_testing};
use gossip_suite::{Backend, NativeBackend};

type Error = StoreError;

#[test]
fn native_backend_passes_every_check() {
    let report = run_conformance(&NativeBackend);
    assert!(report.all_passed(), "native backend failed conformance:\n{report}");
    assert_eq!(report.outcomes.len(), check_list().len());
    assert!(report.outcomes.iter().all(|o| o.backend == "native"));
    println!("{report}");
}

/// The size of the suite; a new check changes it on purpose.
const CHECK_COUNT: usize = 56;

#[test]
fn the_suite_has_the_expected_checks_and_testing_needs() {
    let checks = check_list();
    assert_eq!(checks.len(), CHECK_COUNT);
    let testing: BTreeSet<String> =
        checks.iter().filter(|c| c.needs_testing).map(|c| format!("{}/{}", c.group, c.name)).collect();
    let mut expected: BTreeSet<String> = checks
        .iter()
        .filter(|c| c.group == "completion" || c.group == "faults")
        .map(|c| format!("{}/{}", c.group, c.name))
        .collect();
    expected.extend(
        [
            "atomicity/done-ledger-submit-failure",
            "atomicity/done-ledger-commit-failure",
            "replay/done-ledger-delayed-receipts",
        ]
        .map(String::from),
    );
    assert_eq!(testing, expected);
    // The reference checks, the limits, the paging and capacity hold every backend.
    for group in ["done-ledger", "findings", "redaction", "limits", "isolation", "paging", "merge", "capacity"] {
        assert!(checks.iter().filter(|c| c.group == group).all(|c| !c.needs_testing), "{group}");
    }
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
        [
            "done-ledger",
            "findings",
            "redaction",
            "atomicity",
            "limits",
            "isolation",
            "completion",
            "faults",
            "replay",
            "paging",
            "merge",
            "capacity"
        ]
    );
    // Everything ran and passed but the capacity check: native stores
    // cannot be bounded, so it is skipped with its reason.
    assert!(counts.iter().all(|g| g.passed + g.skipped == g.total && g.failed == 0), "{counts:?}");
    let capacity = report.outcome("capacity", "done-ledger-fill").expect("listed");
    assert_eq!(capacity.skip_reason(), Some(NEEDS_BOUNDED));
    assert_eq!(report.skipped_count(), 1);
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
        assert!(redaction.passed(), "{}:\n{report}", redaction.id());
    }
}

#[test]
fn keeping_the_winning_row_fails_the_per_field_max_checks() {
    let report = run_conformance(&BrokenBackend(Bug::KeepsWinningRow));
    let expected: BTreeSet<String> = [
        "done-ledger/fail-then-scan",
        "done-ledger/scan-then-fail",
        "replay/done-ledger-receipts",
        "merge/provenance-winner",
        "merge/findings-count",
    ]
    .map(String::from)
    .into();
    assert_eq!(failed(&report), expected, "\n{report}");
}

#[test]
fn listing_without_the_tenant_fails_the_listing_checks() {
    let report = run_conformance(&BrokenBackend(Bug::ListIgnoresTenant));
    // The paging check sees the same ovid listed for two tenants as a
    // duplicate in the (sorted) listing it pages through.
    let expected: BTreeSet<String> =
        ["done-ledger/list-done-hashes", "isolation/list-and-count-by-scope", "paging/done-ledger-hashes"]
            .map(String::from)
            .into();
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
        assert!(report.outcomes.iter().filter(|o| o.group == group).all(|o| o.passed()), "{group}:\n{report}");
    }
}

#[test]
fn paging_from_the_cursor_fails_every_paging_check() {
    let report = run_conformance(&BrokenBackend(Bug::PagesFromTheCursor));
    let paging: BTreeSet<String> = report.outcomes.iter().filter(|o| o.group == "paging").map(|o| o.id()).collect();
    assert_eq!(paging.len(), 5);
    assert_eq!(failed(&report), paging, "\n{report}");
}

#[test]
fn unbounded_reads_fail_the_read_limit_checks() {
    let report = run_conformance(&BrokenBackend(Bug::UnboundedReads));
    let mut expected: BTreeSet<String> =
        report.outcomes.iter().filter(|o| o.group == "paging").map(|o| o.id()).collect();
    expected.insert("limits/done-ledger-batch-get-size".to_owned());
    assert_eq!(failed(&report), expected, "\n{report}");
    let detail = &report.outcome("limits", "done-ledger-batch-get-size").expect("check ran").detail;
    assert!(detail.contains("over-limit: expected the read to be refused"), "{detail}");
}

#[test]
fn a_panicking_probe_is_reported_and_hides_no_other_check() {
    let report = run_conformance(&BrokenBackend(Bug::PanicsInProbe));
    let findings_ref = report.outcome("findings", "idempotent").expect("check ran");
    assert!(
        !findings_ref.passed() && findings_ref.detail.starts_with("findings/idempotent: panicked: probe exploded"),
        "{}",
        findings_ref.detail
    );
    assert_fails(&report, &["findings/idempotent", "findings/missing-finding", "atomicity/findings-missing-finding"]);
    // Every check was still run, and those that never probe still pass.
    assert_eq!(report.outcomes.len(), check_list().len());
    for group in ["done-ledger", "redaction"] {
        assert!(report.outcomes.iter().filter(|o| o.group == group).all(|o| o.passed()), "{group}:\n{report}");
    }
}

#[test]
fn a_backend_without_testing_skips_the_testing_checks_and_passes_the_rest() {
    let backend = NoTestingBackend::default();
    let report = run_conformance(&backend);
    assert_eq!(report.failed_count(), 0, "\n{report}");
    assert!(report.all_passed(), "\n{report}");
    assert_eq!(report.outcomes.len(), CHECK_COUNT);
    assert_eq!(backend.control_calls.load(Ordering::Relaxed), 0, "a contract check called StoreControl");

    for (check, outcome) in check_list().iter().zip(&report.outcomes) {
        assert_eq!((check.group, check.name), (outcome.group, outcome.name));
        if check.needs_testing {
            assert_eq!(outcome.status, CheckStatus::Skipped { reason: NEEDS_TESTING.to_owned() }, "{}", outcome.id());
            assert_eq!(outcome.skip_reason(), Some(NEEDS_TESTING));
            assert!(outcome.skipped() && !outcome.passed() && !outcome.failed());
        } else if check.needs_bounded {
            // Native stores cannot be bounded: the capacity check is skipped.
            assert_eq!(outcome.skip_reason(), Some(NEEDS_BOUNDED), "{}", outcome.id());
        } else {
            assert!(outcome.passed(), "{} did not pass: {}", outcome.id(), outcome.detail);
        }
    }
    let testing = check_list().iter().filter(|c| c.needs_testing).count();
    let bounded = check_list().iter().filter(|c| c.needs_bounded).count();
    assert_eq!(bounded, 1);
    assert_eq!(report.skipped_count(), testing + bounded);
    assert_eq!(report.passed_count(), CHECK_COUNT - testing - bounded);
    assert_eq!(report.ran_count(), CHECK_COUNT - testing - bounded);
    for (group, count) in REFERENCE_GROUPS {
        assert_eq!(report.count_in(group), count, "group {group}");
    }
    let counts = report.group_counts();
    let completion = counts.iter().find(|g| g.group == "completion").expect("the group is reported");
    assert_eq!((completion.passed, completion.failed, completion.skipped), (0, 0, completion.total));
    assert!(counts.iter().all(|g| g.total == g.passed + g.failed + g.skipped && g.failed == 0), "{counts:?}");

    let table = report.to_string();
    assert!(table.contains("skip"), "{table}");
    assert!(table.contains(&format!("skipped {testing} on no-testing: {NEEDS_TESTING}")), "{table}");
    assert!(
        table.contains(&format!(
            "{} of {CHECK_COUNT} checks passed, 0 failed, {} skipped",
            CHECK_COUNT - testing - bounded,
            testing + bounded
        )),
        "{table}"
    );
    assert!(!table.contains("FAIL"), "{table}");

    // A run of nothing but testing checks certifies nothing.
    let only_testing = run_selected(&backend, |group, _| group == "completion");
    assert_eq!(only_testing.skipped_count(), only_testing.outcomes.len());
    assert!(!only_testing.all_passed());
}

#[test]
fn the_simulation_refuses_a_backend_without_testing() {
    let backend = NoTestingBackend::default();
    assert_eq!(require_testing(&backend), Err(TestingUnsupported { backend: "no-testing".to_owned() }));
    assert_eq!(require_testing(&NativeBackend), Ok(()));
    for store in [SimStore::DoneLedger, SimStore::Findings] {
        let spec = SimRunSpec::new(store, FaultLevel::Stormy, SimMode::Run { safety_ops: 10, liveness_ops: 0 });
        let error = spec.run_seed(&backend, 1, false).expect_err("the simulation must refuse");
        assert!(error.downcast_ref::<TestingUnsupported>().is_some(), "{error:#}");
        assert!(spec.run_seed(&NativeBackend, 1, false).is_ok());
    }
    assert_eq!(backend.control_calls.load(Ordering::Relaxed), 0);
}

// ---------------------------------------------------------------------------
// A backend without the test machinery: the native stores behind the
// worker-facing traits, with every control call failing (and counted), as a
// component exporting only `world store` behaves.

#[derive(Debug, thiserror::Error)]
enum NoTestingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the testing interface is not exported")]
    TestingNotExported,
}

impl AsStoreError for NoTestingError {
    fn as_store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(error) => Some(error),
            Self::TestingNotExported => None,
        }
    }
}

#[derive(Default)]
struct NoTestingBackend {
    control_calls: Arc<AtomicUsize>,
}

impl Backend for NoTestingBackend {
    type Ledger = NoTesting<InMemoryDoneLedger>;
    type Sink = NoTesting<InMemoryFindingsSink>;

    fn name(&self) -> &str {
        "no-testing"
    }

    fn new_ledger(&self) -> anyhow::Result<Self::Ledger> {
        Ok(NoTesting { inner: InMemoryDoneLedger::new(), control_calls: Arc::clone(&self.control_calls) })
    }

    fn new_sink(&self) -> anyhow::Result<Self::Sink> {
        Ok(NoTesting { inner: InMemoryFindingsSink::new(), control_calls: Arc::clone(&self.control_calls) })
    }

    fn supports_testing(&self) -> bool {
        false
    }
}

#[derive(Clone)]
struct NoTesting<S> {
    inner: S,
    control_calls: Arc<AtomicUsize>,
}

impl<S> NoTesting<S> {
    fn refuse<T>(&self) -> Result<T, NoTestingError> {
        self.control_calls.fetch_add(1, Ordering::Relaxed);
        Err(NoTestingError::TestingNotExported)
    }
}

struct NoTestingHandle<H>(H);

impl<H: TrackedHandle> TrackedHandle for NoTestingHandle<H> {
    fn operation_id(&self) -> PendingWriteId {
        self.0.operation_id()
    }
}

impl<H: CommitHandle<Error = StoreError>> CommitHandle for NoTestingHandle<H> {
    type Receipt = H::Receipt;
    type Error = NoTestingError;

    fn wait(self) -> Result<H::Receipt, NoTestingError> {
        Ok(self.0.wait()?)
    }
}

impl DoneLedger for NoTesting<InMemoryDoneLedger> {
    type Error = NoTestingError;
    type CommitHandle = NoTestingHandle<InMemoryDoneLedgerHandle>;

    fn batch_get(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        ovids: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, NoTestingError> {
        Ok(self.inner.batch_get(tenant, policy, ovids)?)
    }

    fn list_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Result<Vec<OvidHash>, NoTestingError> {
        Ok(self.inner.list_done_hashes(tenant, policy)?)
    }

    fn list_done_hashes_page(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Result<Vec<OvidHash>, NoTestingError> {
        Ok(self.inner.list_done_hashes_page(tenant, policy, after, limit)?)
    }

    fn count_done_hashes(&self, tenant: TenantId, policy: PolicyHash) -> Result<Option<usize>, NoTestingError> {
        Ok(self.inner.count_done_hashes(tenant, policy)?)
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<Self::CommitHandle, NoTestingError> {
        Ok(NoTestingHandle(self.inner.batch_upsert(records)?))
    }
}

impl DoneLedgerInspect for NoTesting<InMemoryDoneLedger> {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, NoTestingError> {
        Ok(self.inner.get_record(key)?)
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, NoTestingError> {
        Ok(self.inner.snapshot()?)
    }

    fn snapshot_page(
        &self,
        after: Option<&DoneLedgerKey>,
        limit: usize,
    ) -> Result<Vec<DoneLedgerRecord>, NoTestingError> {
        Ok(self.inner.snapshot_page(after, limit)?)
    }
}

impl FindingsSink for NoTesting<InMemoryFindingsSink> {
    type Error = NoTestingError;
    type CommitHandle = NoTestingHandle<InMemoryFindingsHandle>;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<Self::CommitHandle, NoTestingError> {
        Ok(NoTestingHandle(self.inner.upsert_batch(batch)?))
    }
}

impl FindingsConformanceProbe for NoTesting<InMemoryFindingsSink> {
    type Error = NoTestingError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, NoTestingError> {
        Ok(self.inner.durable_counts()?)
    }
}

impl FindingsInspect for NoTesting<InMemoryFindingsSink> {
    fn get_finding(&self, tenant: TenantId, id: FindingId) -> Result<Option<FindingRecord>, NoTestingError> {
        Ok(self.inner.get_finding(tenant, id)?)
    }

    fn get_occurrence(&self, tenant: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, NoTestingError> {
        Ok(self.inner.get_occurrence(tenant, id)?)
    }

    fn get_observation(
        &self,
        tenant: TenantId,
        id: ObservationId,
    ) -> Result<Option<ObservationRecord>, NoTestingError> {
        Ok(self.inner.get_observation(tenant, id)?)
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, NoTestingError> {
        Ok(self.inner.findings_snapshot()?)
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, NoTestingError> {
        Ok(self.inner.occurrences_snapshot()?)
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, NoTestingError> {
        Ok(self.inner.observations_snapshot()?)
    }

    fn findings_page(
        &self,
        after: Option<(TenantId, FindingId)>,
        limit: usize,
    ) -> Result<Vec<FindingRecord>, NoTestingError> {
        Ok(self.inner.findings_page(after, limit)?)
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, NoTestingError> {
        Ok(self.inner.occurrences_page(after, limit)?)
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, NoTestingError> {
        Ok(self.inner.observations_page(after, limit)?)
    }
}

impl<S: Send + Sync> StoreControl for NoTesting<S> {
    type ControlError = NoTestingError;

    fn set_auto_complete(&self, _: bool) -> Result<(), NoTestingError> {
        self.refuse()
    }

    fn delay_next_writes(&self, _: usize) -> Result<(), NoTestingError> {
        self.refuse()
    }

    fn fail_next_submissions(&self, _: usize) -> Result<(), NoTestingError> {
        self.refuse()
    }

    fn fail_next_commits(&self, _: usize) -> Result<(), NoTestingError> {
        self.refuse()
    }

    fn release_next(&self, _: CompletionOrder) -> Result<Option<PendingWriteId>, NoTestingError> {
        self.refuse()
    }

    fn release_specific(&self, _: PendingWriteId) -> Result<bool, NoTestingError> {
        self.refuse()
    }

    fn release_all(&self, _: CompletionOrder) -> Result<usize, NoTestingError> {
        self.refuse()
    }

    fn pending_ids(&self) -> Result<Vec<PendingWriteId>, NoTestingError> {
        self.refuse()
    }

    fn pending_count(&self) -> Result<usize, NoTestingError> {
        self.refuse()
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
    /// Every paged read starts at its cursor's row instead of after it.
    PagesFromTheCursor,
    /// `batch_get` and the paged reads take any number of keys or rows.
    UnboundedReads,
}

/// A page of `rows` (sorted by `key`) as the buggy backends cut it; `None`
/// for the correct backends, which use the native paging.
fn broken_page<T, K: Ord>(
    bug: Bug,
    rows: impl FnOnce() -> Result<Vec<T>, Error>,
    after: Option<&K>,
    limit: usize,
    key: impl Fn(&T) -> K,
) -> Option<Result<Vec<T>, Error>> {
    let start = |rows: &[T]| match (bug, after) {
        (_, None) => 0,
        (Bug::PagesFromTheCursor, Some(after)) => rows.partition_point(|r| key(r) < *after),
        (_, Some(after)) => rows.partition_point(|r| key(r) <= *after),
    };
    match bug {
        Bug::PagesFromTheCursor => {}
        Bug::UnboundedReads if limit > MAX_PAGE_SIZE => {}
        _ => return None,
    }
    Some(rows().map(|rows| {
        let skip = start(&rows);
        rows.into_iter().skip(skip).take(limit).collect()
    }))
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
        let mut rows = Vec::new();
        if self.bug == Bug::UnboundedReads {
            for chunk in ovids.chunks(MAX_PAGE_SIZE) {
                rows.extend(self.inner.batch_get(tenant, policy, chunk)?);
            }
        } else {
            rows = self.inner.batch_get(tenant, policy, ovids)?;
        }
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

    fn list_done_hashes_page(
        &self,
        tenant: TenantId,
        policy: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Result<Vec<OvidHash>, Error> {
        let sorted = || {
            let mut all = self.list_done_hashes(tenant, policy)?;
            all.sort_unstable();
            Ok(all)
        };
        broken_page(self.bug, sorted, after.as_ref(), limit, |h| *h).unwrap_or_else(|| {
            if self.bug == Bug::ListIgnoresTenant {
                // The default paging, over the broken listing.
                let all = sorted()?;
                let start = after.map_or(0, |a| all.partition_point(|h| *h <= a));
                Ok(all.into_iter().skip(start).take(limit).collect())
            } else {
                self.inner.list_done_hashes_page(tenant, policy, after, limit)
            }
        })
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

    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, limit: usize) -> Result<Vec<DoneLedgerRecord>, Error> {
        broken_page(self.bug, || self.snapshot(), after, limit, |r| *r.key())
            .unwrap_or_else(|| Ok(self.inner.snapshot_page(after, limit)?.into_iter().map(|r| self.shown(r)).collect()))
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

    fn findings_page(&self, after: Option<(TenantId, FindingId)>, limit: usize) -> Result<Vec<FindingRecord>, Error> {
        broken_page(self.bug, || self.findings_snapshot(), after.as_ref(), limit, |r| (r.tenant_id(), r.finding_id()))
            .unwrap_or_else(|| self.inner.findings_page(after, limit))
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, Error> {
        let key = |r: &OccurrenceRecord| (r.tenant_id(), r.occurrence_id());
        broken_page(self.bug, || self.occurrences_snapshot(), after.as_ref(), limit, key)
            .unwrap_or_else(|| self.inner.occurrences_page(after, limit))
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, Error> {
        let key = |r: &ObservationRecord| (r.tenant_id(), r.observation_id());
        broken_page(self.bug, || self.observations_snapshot(), after.as_ref(), limit, key)
            .unwrap_or_else(|| self.inner.observations_page(after, limit))
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
