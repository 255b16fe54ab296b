//! What a run actually exercised, beyond its event histogram: how many
//! writes committed under faults, how many merges changed a row, how many
//! conflicts and orphans the store refused. A run with zero violations
//! proves little if nothing committed; sweeps assert minimums on these
//! figures so a degenerate run fails instead of passing vacuously.

use core::fmt;
use core::ops::AddAssign;

/// The coverage figures of one run, or of a sweep (summed over seeds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Writes submitted (whatever became of them).
    pub upserts_submitted: usize,
    /// Writes that became durable, at submit or by a release.
    pub upserts_committed: usize,
    /// Writes refused at submit by an injected fault.
    pub upserts_submit_failed: usize,
    /// Writes whose commit failed by an injected fault, at submit or by a release.
    pub upserts_commit_failed: usize,
    /// Delayed writes a release made durable.
    pub releases_applied: usize,
    /// Delayed writes whose release failed (a fault or a refusal).
    pub releases_failed: usize,
    /// Distinct keys some committed write touched (summed over a sweep's seeds).
    pub keys_touched: usize,
    /// Committed rows merged into an existing row and changing it.
    pub merges_changed: usize,
    /// Committed rows that met an existing row and tied with it: the merge
    /// was decided by a tie-break or left the row as it was.
    pub merges_tied: usize,
    /// Writes refused for conflicting with durable rows.
    pub conflicts: usize,
    /// Writes refused for a missing parent.
    pub orphans: usize,
}

impl Coverage {
    /// Writes that failed by an injected fault.
    pub const fn upserts_failed(&self) -> usize {
        self.upserts_submit_failed + self.upserts_commit_failed
    }

    /// Whether at least `1/divisor` of the submitted writes committed.
    pub const fn commits_at_least(&self, divisor: usize) -> bool {
        self.upserts_committed * divisor >= self.upserts_submitted
    }
}

impl AddAssign for Coverage {
    fn add_assign(&mut self, o: Self) {
        self.upserts_submitted += o.upserts_submitted;
        self.upserts_committed += o.upserts_committed;
        self.upserts_submit_failed += o.upserts_submit_failed;
        self.upserts_commit_failed += o.upserts_commit_failed;
        self.releases_applied += o.releases_applied;
        self.releases_failed += o.releases_failed;
        self.keys_touched += o.keys_touched;
        self.merges_changed += o.merges_changed;
        self.merges_tied += o.merges_tied;
        self.conflicts += o.conflicts;
        self.orphans += o.orphans;
    }
}

impl fmt::Display for Coverage {
    /// One line, `name=value`, for reports and the docs' tables.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "upserts committed/submitted/failed={}/{}/{} (submit {}, commit {}) releases applied/failed={}/{} \
             keys={} merges changed={} tied={} conflicts={} orphans={}",
            self.upserts_committed,
            self.upserts_submitted,
            self.upserts_failed(),
            self.upserts_submit_failed,
            self.upserts_commit_failed,
            self.releases_applied,
            self.releases_failed,
            self.keys_touched,
            self.merges_changed,
            self.merges_tied,
            self.conflicts,
            self.orphans
        )
    }
}

/// The minimums a faulty sweep must reach (issue 16): at least a quarter of
/// the submitted writes commit, and every event kind occurs somewhere in the
/// sweep. Returns what falls short, empty when the sweep passes.
pub fn shortfalls(coverage: &Coverage, missing_kinds: &[&str]) -> Vec<String> {
    let mut short = Vec::new();
    if coverage.upserts_submitted == 0 || !coverage.commits_at_least(4) {
        short.push(format!(
            "only {} of {} submitted upserts committed (at least a quarter must)",
            coverage.upserts_committed, coverage.upserts_submitted
        ));
    }
    if !missing_kinds.is_empty() {
        short.push(format!("event kinds never seen: {}", missing_kinds.join(", ")));
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortfalls_name_a_degenerate_sweep() {
        let healthy = Coverage { upserts_submitted: 100, upserts_committed: 25, ..Coverage::default() };
        assert!(shortfalls(&healthy, &[]).is_empty());
        let starved = Coverage { upserts_submitted: 100, upserts_committed: 24, ..Coverage::default() };
        assert_eq!(shortfalls(&starved, &["Released"]).len(), 2);
        assert_eq!(shortfalls(&Coverage::default(), &[]).len(), 1, "nothing submitted is no coverage");
    }
}
