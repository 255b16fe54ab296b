//! The check registry and the runner: every check on fresh stores, timed,
//! with panics caught so one broken check never hides the others.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use super::error::CheckFailure;
use super::report::{CheckOutcome, ConformanceReport};
use super::{atomicity, completion, done_ledger, faults, findings, isolation, limits, redaction, replay};
use crate::backend::{Backend, NativeBackend};

/// One named check. `about` is the outcome's detail when it passes.
pub(crate) struct Check<B: Backend> {
    /// `group/name`, the case reported for a panic.
    pub id: &'static str,
    pub group: &'static str,
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&B) -> Result<(), CheckFailure>,
}

/// A check's name and what it verifies, for listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    pub group: &'static str,
    pub name: &'static str,
    pub about: &'static str,
}

macro_rules! registry {
    ($($group:literal / $name:literal => $module:ident :: $func:ident, $about:literal;)+) => {
        pub(crate) fn checks<B: Backend>() -> Vec<Check<B>> {
            vec![$(Check {
                id: concat!($group, "/", $name),
                group: $group,
                name: $name,
                about: $about,
                run: $module::$func::<B>,
            }),+]
        }
    };
}

registry! {
    "done-ledger" / "idempotent" => done_ledger::idempotent,
        "receipt (1,1,1); a replay leaves the row equal to the record written";
    "done-ledger" / "fail-then-scan" => done_ledger::fail_then_scan,
        "a later scan dominates a failure with per-field maxima";
    "done-ledger" / "scan-then-fail" => done_ledger::scan_then_fail,
        "a later failure never downgrades a scan";
    "done-ledger" / "batch-get-positional" => done_ledger::batch_get_positional,
        "batch_get answers position by position, None for absent keys";
    "done-ledger" / "list-done-hashes" => done_ledger::list_done_hashes,
        "exactly the 4 terminal hashes, unaffected by other tenants and policies";
    "findings" / "idempotent" => findings::idempotent,
        "receipt (1,1,1), probe delta (1,1,1), a replay adds nothing";
    "findings" / "missing-finding" => findings::missing_finding,
        "an occurrence without its finding is rejected with no partial rows";
    "findings" / "missing-occurrence" => findings::missing_occurrence,
        "an observation without its occurrence is rejected with no partial rows";
    "findings" / "observation-merge" => findings::observation_merge,
        "a same-identity observation upserts instead of adding a row";
    "redaction" / "norm-hash" => redaction::norm_hash,
        "NormHash Debug shows none of its bytes";
    "redaction" / "secret-hash" => redaction::secret_hash,
        "SecretHash Debug shows none of its bytes";
    "redaction" / "finding-record" => redaction::finding_record,
        "FindingRecord Debug shows none of the secret hash bytes";
    "atomicity" / "done-ledger-invalid-record" => atomicity::done_ledger_invalid_record,
        "missing or unexpected error codes reject the whole batch";
    "atomicity" / "done-ledger-provenance-ordering" => atomicity::done_ledger_provenance_ordering,
        "started_at > finished_at rejects the whole batch";
    "atomicity" / "done-ledger-submit-failure" => atomicity::done_ledger_submit_failure,
        "an injected submission failure changes nothing";
    "atomicity" / "done-ledger-commit-failure" => atomicity::done_ledger_commit_failure,
        "an injected commit failure changes nothing";
    "atomicity" / "findings-missing-finding" => atomicity::findings_missing_finding,
        "MissingFinding rejects every layer of the batch";
    "atomicity" / "findings-missing-occurrence" => atomicity::findings_missing_occurrence,
        "MissingOccurrence rejects every layer of the batch";
    "atomicity" / "findings-finding-conflict" => atomicity::findings_finding_conflict,
        "FindingConflict rejects every layer of the batch";
    "atomicity" / "findings-occurrence-conflict" => atomicity::findings_occurrence_conflict,
        "OccurrenceConflict rejects every layer of the batch";
    "atomicity" / "findings-observation-conflict" => atomicity::findings_observation_conflict,
        "ObservationConflict rejects every layer of the batch";
    "atomicity" / "findings-inconsistent-tenant" => atomicity::findings_inconsistent_tenant,
        "InconsistentTenant rejects every layer of the batch";
    "atomicity" / "findings-observation-id-mismatch" => atomicity::findings_observation_id_mismatch,
        "ObservationIdMismatch rejects every layer of the batch";
    "limits" / "done-ledger-batch-size" => limits::done_ledger_batch_size,
        "10,001 records -> BatchTooLarge with no change; 10,000 accepted";
    "limits" / "findings-batch-size" => limits::findings_batch_size,
        "10,001 records over three layers -> BatchTooLarge; 10,000 accepted";
    "isolation" / "list-and-count-by-scope" => isolation::list_and_count_by_scope,
        "list/count see exactly their (tenant, policy) scope";
    "isolation" / "batch-get-by-scope" => isolation::batch_get_by_scope,
        "batch_get sees exactly its (tenant, policy) scope";
    "isolation" / "findings-by-tenant" => isolation::findings_by_tenant,
        "lookups and parent checks never cross tenants";
    "completion" / "done-ledger-delayed-until-release" => completion::done_ledger_delayed_until_release,
        "a delayed done-ledger write is invisible until released";
    "completion" / "findings-delayed-until-release" => completion::findings_delayed_until_release,
        "a delayed findings write is invisible until released by id";
    "completion" / "release-next-both-orders" => completion::release_next_both_orders,
        "release_next takes the newest or oldest pending write";
    "completion" / "release-specific-and-unknown" => completion::release_specific_and_unknown,
        "release by id; unknown or finished ids -> false";
    "completion" / "release-all-both-orders" => completion::release_all_both_orders,
        "release_all applies in FIFO or LIFO order";
    "completion" / "delay-next-writes-exact" => completion::delay_next_writes_exact,
        "delay_next_writes delays exactly the armed count";
    "completion" / "auto-complete-toggle" => completion::auto_complete_toggle,
        "auto-complete changes affect only later writes";
    "completion" / "wait-blocks-until-release" => completion::wait_blocks_until_release,
        "wait blocks until another thread releases the write";
    "faults" / "done-ledger-submit-failure" => faults::done_ledger_submit_failure,
        "armed submission faults reject exactly that many submissions";
    "faults" / "findings-submit-failure" => faults::findings_submit_failure,
        "armed submission faults reject exactly that many submissions";
    "faults" / "done-ledger-commit-failure" => faults::done_ledger_commit_failure,
        "an armed commit fault fails one write, then writes succeed";
    "faults" / "findings-commit-failure" => faults::findings_commit_failure,
        "an armed commit fault fails one write, then writes succeed";
    "faults" / "commit-failure-hits-next-applied" => faults::commit_failure_hits_next_applied,
        "the commit fault hits the next applied write, not the next submitted";
    "faults" / "failed-commit-still-released" => faults::failed_commit_still_released,
        "a release counts a write whose commit failed";
    "replay" / "done-ledger-receipts" => replay::done_ledger_receipts,
        "replays (direct and delayed) return the same receipt and change nothing";
    "replay" / "findings-receipts" => replay::findings_receipts,
        "a replay returns the same receipt and changes nothing";
}

/// Every check, in run order.
pub fn check_list() -> Vec<CheckInfo> {
    checks::<NativeBackend>().into_iter().map(|c| CheckInfo { group: c.group, name: c.name, about: c.about }).collect()
}

/// Runs every check against `backend`.
pub fn run_conformance<B: Backend>(backend: &B) -> ConformanceReport {
    run_selected(backend, |_, _| true)
}

/// Runs the checks for which `select(group, name)` is true.
pub fn run_selected<B: Backend>(backend: &B, select: impl Fn(&str, &str) -> bool) -> ConformanceReport {
    let outcomes = checks::<B>()
        .iter()
        .filter(|check| select(check.group, check.name))
        .map(|check| run_one(backend, check))
        .collect();
    ConformanceReport { outcomes }
}

fn run_one<B: Backend>(backend: &B, check: &Check<B>) -> CheckOutcome {
    let start = Instant::now();
    // The check owns every store it touches, so nothing observes a store
    // left half-updated by the panic: asserting unwind safety is sound.
    let result = catch_unwind(AssertUnwindSafe(|| (check.run)(backend)));
    let elapsed = start.elapsed();
    let (passed, detail) = match result {
        Ok(Ok(())) => (true, check.about.to_owned()),
        Ok(Err(failure)) => (false, failure.to_string()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            (false, CheckFailure::Panicked { case: check.id, message }.to_string())
        }
    };
    CheckOutcome { group: check.group, name: check.name, backend: backend.name().to_owned(), passed, detail, elapsed }
}
