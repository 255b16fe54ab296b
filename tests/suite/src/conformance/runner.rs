//! The check registry and the runner: every check on fresh stores, timed,
//! with panics caught so one broken check never hides the others. A check
//! that needs the test machinery is skipped, not run, on a backend without it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::error::CheckFailure;
use super::harness::PendingGuard;
use super::report::{CheckOutcome, CheckStatus, ConformanceReport};
use super::{
    atomicity, capacity, completion, done_ledger, faults, findings, isolation, limits, merge, observation_merge,
    paging, redaction, replay,
};
use crate::backend::{Backend, NativeBackend};

/// The reason reported for a check skipped because the backend does not
/// support testing ([`Backend::supports_testing`]).
pub const NEEDS_TESTING: &str =
    "needs the testing interface (delays, releases, fault injection), which this backend does not export";

/// The reason reported for a check skipped because the backend cannot make
/// a bounded store ([`Backend::new_bounded_ledger`]).
pub const NEEDS_BOUNDED: &str = "needs a store small enough to fill, which this backend cannot make";

/// One named check. `about` is the outcome's detail when it passes.
pub(crate) struct Check<B: Backend> {
    /// `group/name`, the case reported for a panic.
    pub id: &'static str,
    pub group: &'static str,
    pub name: &'static str,
    pub about: &'static str,
    /// Whether the check calls [`StoreControl`](gossip_persistence::StoreControl)
    /// beyond the pending-write guard of waits: delays, releases, faults,
    /// auto-complete off, pending ids.
    pub needs_testing: bool,
    /// Whether the check fills a bounded store (`Backend::new_bounded_ledger`).
    pub needs_bounded: bool,
    pub run: fn(&B) -> Result<(), CheckFailure>,
}

/// A check's name, what it verifies, and whether it needs the test machinery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    /// The check's group, such as `done-ledger`.
    pub group: &'static str,
    /// The check's name, unique within its group.
    pub name: &'static str,
    /// What a pass verified, in one line.
    pub about: &'static str,
    /// True when the check drives the test machinery (delays, releases,
    /// fault injection, auto-complete off, pending ids), so it is skipped on
    /// a backend whose [`supports_testing`](Backend::supports_testing) is
    /// false. False for the contract checks every backend is held to.
    pub needs_testing: bool,
    /// True when the check fills a bounded store, so it is skipped on a
    /// backend without [`new_bounded_ledger`](Backend::new_bounded_ledger).
    pub needs_bounded: bool,
}

macro_rules! needs_testing {
    (testing) => {
        true
    };
    (contract) => {
        false
    };
    (bounded) => {
        false
    };
}

macro_rules! needs_bounded {
    (bounded) => {
        true
    };
    ($other:ident) => {
        false
    };
}

macro_rules! registry {
    ($($group:literal / $name:literal => $needs:ident $module:ident :: $func:ident, $about:literal;)+) => {
        pub(crate) fn checks<B: Backend>() -> Vec<Check<B>> {
            vec![$(Check {
                id: concat!($group, "/", $name),
                group: $group,
                name: $name,
                about: $about,
                needs_testing: needs_testing!($needs),
                needs_bounded: needs_bounded!($needs),
                run: $module::$func::<B>,
            }),+]
        }
    };
}

registry! {
    "done-ledger" / "idempotent" => contract done_ledger::idempotent,
        "receipt (1,1,1); a replay leaves the row equal to the record written";
    "done-ledger" / "fail-then-scan" => contract done_ledger::fail_then_scan,
        "a later scan dominates a failure with per-field maxima";
    "done-ledger" / "scan-then-fail" => contract done_ledger::scan_then_fail,
        "a later failure never downgrades a scan";
    "done-ledger" / "batch-get-positional" => contract done_ledger::batch_get_positional,
        "batch_get answers position by position, None for absent keys";
    "done-ledger" / "list-done-hashes" => contract done_ledger::list_done_hashes,
        "exactly the 4 terminal hashes, unaffected by other tenants and policies";
    "findings" / "idempotent" => contract findings::idempotent,
        "receipt (1,1,1), probe delta (1,1,1), a replay adds nothing";
    "findings" / "missing-finding" => contract findings::missing_finding,
        "an occurrence without its finding is rejected with no partial rows";
    "findings" / "missing-occurrence" => contract findings::missing_occurrence,
        "an observation without its occurrence is rejected with no partial rows";
    "findings" / "observation-merge" => contract findings::observation_merge,
        "a same-identity observation upserts instead of adding a row";
    "redaction" / "norm-hash" => contract redaction::norm_hash,
        "NormHash Debug shows none of its bytes";
    "redaction" / "secret-hash" => contract redaction::secret_hash,
        "SecretHash Debug shows none of its bytes";
    "redaction" / "finding-record" => contract redaction::finding_record,
        "FindingRecord Debug shows none of the secret hash bytes";
    "atomicity" / "done-ledger-invalid-record" => contract atomicity::done_ledger_invalid_record,
        "missing or unexpected error codes, or a findings count the status contradicts, reject the whole batch";
    "atomicity" / "done-ledger-provenance-ordering" => contract atomicity::done_ledger_provenance_ordering,
        "started_at > finished_at rejects the whole batch";
    "atomicity" / "done-ledger-submit-failure" => testing atomicity::done_ledger_submit_failure,
        "an injected submission failure changes nothing";
    "atomicity" / "done-ledger-commit-failure" => testing atomicity::done_ledger_commit_failure,
        "an injected commit failure changes nothing";
    "atomicity" / "findings-missing-finding" => contract atomicity::findings_missing_finding,
        "MissingFinding rejects every layer of the batch";
    "atomicity" / "findings-missing-occurrence" => contract atomicity::findings_missing_occurrence,
        "MissingOccurrence rejects every layer of the batch";
    "atomicity" / "findings-finding-conflict" => contract atomicity::findings_finding_conflict,
        "FindingConflict rejects every layer of the batch";
    "atomicity" / "findings-occurrence-conflict" => contract atomicity::findings_occurrence_conflict,
        "OccurrenceConflict rejects every layer of the batch";
    "atomicity" / "findings-observation-conflict" => contract atomicity::findings_observation_conflict,
        "ObservationConflict rejects every layer of the batch";
    "atomicity" / "findings-inconsistent-tenant" => contract atomicity::findings_inconsistent_tenant,
        "InconsistentTenant rejects every layer of the batch";
    "atomicity" / "findings-observation-id-mismatch" => contract atomicity::findings_observation_id_mismatch,
        "ObservationIdMismatch rejects every layer of the batch";
    "limits" / "done-ledger-batch-size" => contract limits::done_ledger_batch_size,
        "10,001 records -> BatchTooLarge with no change; 10,000 accepted";
    "limits" / "findings-batch-size" => contract limits::findings_batch_size,
        "10,001 records over three layers -> BatchTooLarge; 10,000 accepted";
    "limits" / "done-ledger-batch-get-size" => contract limits::done_ledger_batch_get_size,
        "batch_get of 10,001 keys -> BatchTooLarge with no change; 10,000 answered position by position";
    "isolation" / "list-and-count-by-scope" => contract isolation::list_and_count_by_scope,
        "list/count see exactly their (tenant, policy) scope";
    "isolation" / "batch-get-by-scope" => contract isolation::batch_get_by_scope,
        "batch_get sees exactly its (tenant, policy) scope";
    "isolation" / "findings-by-tenant" => contract isolation::findings_by_tenant,
        "lookups and parent checks never cross tenants";
    "completion" / "done-ledger-delayed-until-release" => testing completion::done_ledger_delayed_until_release,
        "a delayed done-ledger write is invisible until released";
    "completion" / "findings-delayed-until-release" => testing completion::findings_delayed_until_release,
        "a delayed findings write is invisible until released by id";
    "completion" / "release-next-both-orders" => testing completion::release_next_both_orders,
        "release_next takes the newest or oldest pending write";
    "completion" / "release-specific-and-unknown" => testing completion::release_specific_and_unknown,
        "release by id; unknown or finished ids -> false";
    "completion" / "release-all-both-orders" => testing completion::release_all_both_orders,
        "release_all applies in FIFO or LIFO order";
    "completion" / "delay-next-writes-exact" => testing completion::delay_next_writes_exact,
        "delay_next_writes delays exactly the armed count";
    "completion" / "auto-complete-toggle" => testing completion::auto_complete_toggle,
        "auto-complete changes affect only later writes";
    "completion" / "wait-blocks-until-release" => testing completion::wait_blocks_until_release,
        "wait blocks until another thread releases the write";
    "faults" / "done-ledger-submit-failure" => testing faults::done_ledger_submit_failure,
        "armed submission faults reject exactly that many submissions";
    "faults" / "findings-submit-failure" => testing faults::findings_submit_failure,
        "armed submission faults reject exactly that many submissions";
    "faults" / "done-ledger-commit-failure" => testing faults::done_ledger_commit_failure,
        "an armed commit fault fails one write, then writes succeed";
    "faults" / "findings-commit-failure" => testing faults::findings_commit_failure,
        "an armed commit fault fails one write, then writes succeed";
    "faults" / "commit-failure-hits-next-applied" => testing faults::commit_failure_hits_next_applied,
        "the commit fault hits the next applied write, not the next submitted";
    "faults" / "failed-commit-still-released" => testing faults::failed_commit_still_released,
        "a release counts a write whose commit failed";
    "replay" / "done-ledger-receipts" => contract replay::done_ledger_receipts,
        "a replay returns the same receipt and changes nothing";
    "replay" / "findings-receipts" => contract replay::findings_receipts,
        "a replay returns the same receipt and changes nothing";
    "replay" / "done-ledger-delayed-receipts" => testing replay::done_ledger_delayed_receipts,
        "a replay through a delayed write returns the same receipt and changes nothing";
    "paging" / "done-ledger-hashes" => contract paging::done_ledger_hashes,
        "list_done_hashes_page pages of 1, 7 and 10,000 concatenate to the sorted listing";
    "paging" / "done-ledger-snapshot" => contract paging::done_ledger_snapshot,
        "snapshot_page pages of 1, 7 and 10,000 concatenate to the snapshot";
    "paging" / "findings" => contract paging::findings,
        "findings_page pages of 1, 7 and 10,000 concatenate to the snapshot";
    "paging" / "occurrences" => contract paging::occurrences,
        "occurrences_page pages of 1, 7 and 10,000 concatenate to the snapshot";
    "paging" / "observations" => contract paging::observations,
        "observations_page pages of 1, 7 and 10,000 concatenate to the snapshot";
    "merge" / "provenance-winner" => contract merge::provenance_winner,
        "every level of the winner tuple, in every order: provenance and code from the winner, bytes and counts joined";
    "merge" / "findings-count" => contract merge::findings_count,
        "the merged findings count follows the merged status (0 clean, the scanned count, else the maximum)";
    "merge" / "receipt-counts" => contract merge::receipt_counts,
        "receipts count distinct batch-merged keys, scanned keys and every row's findings count";
    "merge" / "observation-ties" => contract observation_merge::ties_and_locations,
        "observation upserts: later seen_at wins, ties keep the existing row unless it brings a location, locations fall back";
    "capacity" / "done-ledger-fill" => bounded capacity::done_ledger_fill_to_cap,
        "a bounded ledger filled to its cap refuses with CapacityExceeded and keeps every acknowledged row";
}

/// Every check, in run order.
pub fn check_list() -> Vec<CheckInfo> {
    checks::<NativeBackend>()
        .into_iter()
        .map(|c| CheckInfo {
            group: c.group,
            name: c.name,
            about: c.about,
            needs_testing: c.needs_testing,
            needs_bounded: c.needs_bounded,
        })
        .collect()
}

/// Runs every check against `backend` (see [`run_selected`]).
pub fn run_conformance<B: Backend>(backend: &B) -> ConformanceReport {
    run_selected(backend, |_, _| true)
}

/// Runs the checks for which `select(group, name)` is true. On a backend
/// whose [`supports_testing`](Backend::supports_testing) is false, the
/// selected checks that need the test machinery are not run: each is
/// reported as [`CheckStatus::Skipped`] with the reason [`NEEDS_TESTING`].
pub fn run_selected<B: Backend>(backend: &B, select: impl Fn(&str, &str) -> bool) -> ConformanceReport {
    let testing = backend.supports_testing();
    let outcomes = checks::<B>()
        .iter()
        .filter(|check| select(check.group, check.name))
        .map(|check| {
            if check.needs_testing && !testing {
                skip(backend, check, NEEDS_TESTING)
            } else if check.needs_bounded && backend.new_bounded_ledger().is_none() {
                skip(backend, check, NEEDS_BOUNDED)
            } else if let Some(reason) = backend.unresponsive() {
                CheckOutcome::not_run(check.group, check.name, backend.name(), &reason)
            } else {
                run_one(backend, check)
            }
        })
        .collect();
    ConformanceReport { outcomes }
}

fn skip<B: Backend>(backend: &B, check: &Check<B>, reason: &str) -> CheckOutcome {
    CheckOutcome {
        group: check.group,
        name: check.name,
        backend: backend.name().to_owned(),
        status: CheckStatus::Skipped { reason: reason.to_owned() },
        detail: reason.to_owned(),
        elapsed: Duration::ZERO,
    }
}

fn run_one<B: Backend>(backend: &B, check: &Check<B>) -> CheckOutcome {
    // Without the test machinery, waits cannot ask whether a write is still
    // pending; the checks run here then never call `StoreControl` at all.
    let _guard = PendingGuard::set(backend.supports_testing());
    let start = Instant::now();
    // The check owns every store it touches, so nothing observes a store
    // left half-updated by the panic: asserting unwind safety is sound.
    let result = catch_unwind(AssertUnwindSafe(|| (check.run)(backend)));
    let elapsed = start.elapsed();
    let (status, detail) = match result {
        Ok(Ok(())) => (CheckStatus::Passed, check.about.to_owned()),
        Ok(Err(failure)) => (CheckStatus::Failed, failure.to_string()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            (CheckStatus::Failed, CheckFailure::Panicked { case: check.id, message }.to_string())
        }
    };
    CheckOutcome { group: check.group, name: check.name, backend: backend.name().to_owned(), status, detail, elapsed }
}
