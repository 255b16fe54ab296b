//! Bugs planted in the SQLite peer's lattice upsert (docs/mutation.md), each
//! caught by a named conformance check: the check fails on the planted
//! backend and passes on the real one. Both bug classes escaped the suite
//! before the `merge` checks existed.

mod common;

use common::SqliteBackend;
use gossip_sqlite::{PlantedSqlBug, SqliteDoneLedger, SqliteFindingsSink};
use gossip_suite::Backend;
use gossip_suite::conformance::{CheckStatus, ConformanceReport, run_selected};

/// The SQLite backend with `bug` planted in every ledger it makes.
#[derive(Clone, Copy, Debug)]
struct Planted(PlantedSqlBug);

impl Backend for Planted {
    type Ledger = SqliteDoneLedger;
    type Sink = SqliteFindingsSink;

    fn name(&self) -> &str {
        "sqlite-planted"
    }

    fn new_ledger(&self) -> anyhow::Result<SqliteDoneLedger> {
        Ok(SqliteDoneLedger::open_with_planted_bug(self.0)?)
    }

    fn new_sink(&self) -> anyhow::Result<SqliteFindingsSink> {
        Ok(SqliteFindingsSink::open()?)
    }
}

fn run_check<B: Backend>(backend: &B, group: &str, name: &str) -> ConformanceReport {
    let report = run_selected(backend, |g, n| g == group && n == name);
    assert_eq!(report.outcomes.len(), 1, "no check {group}/{name}");
    report
}

/// `bug` makes `group/name` fail, and the unplanted backend passes it.
fn assert_caught(bug: PlantedSqlBug, group: &str, name: &str) {
    let clean = run_check(&SqliteBackend, group, name);
    assert!(clean.all_passed(), "{group}/{name} must pass on the real SQLite backend:\n{clean}");
    let planted = run_check(&Planted(bug), group, name);
    let outcome = &planted.outcomes[0];
    assert_eq!(outcome.status, CheckStatus::Failed, "{bug:?} escaped {group}/{name}:\n{planted}");
    println!("{bug:?} caught by {group}/{name}: {}", outcome.detail);
}

#[test]
fn flipped_provenance_winner_is_caught_by_merge_provenance_winner() {
    assert_caught(PlantedSqlBug::ProvenanceWinnerFlipped, "merge", "provenance-winner");
}

#[test]
fn findings_count_kept_on_clean_is_caught_by_merge_findings_count() {
    assert_caught(PlantedSqlBug::FindingsCountKeptOnClean, "merge", "findings-count");
}

#[test]
fn stored_findings_count_kept_is_caught_by_merge_findings_count() {
    assert_caught(PlantedSqlBug::FindingsCountStoredKept, "merge", "findings-count");
}

/// Prints which checks outside the `merge` group notice each planted bug
/// (none did when the group was added: docs/mutation.md). Reports only, so
/// a later check that also catches them does not break it.
#[test]
fn report_checks_outside_the_merge_group_on_planted_bugs() {
    for bug in [
        PlantedSqlBug::ProvenanceWinnerFlipped,
        PlantedSqlBug::FindingsCountKeptOnClean,
        PlantedSqlBug::FindingsCountStoredKept,
    ] {
        let report = run_selected(&Planted(bug), |group, _| group != "merge");
        let failed: Vec<String> =
            report.outcomes.iter().filter(|o| o.status == CheckStatus::Failed).map(|o| o.id()).collect();
        println!("{bug:?} outside the merge group fails: {failed:?}");
    }
}
