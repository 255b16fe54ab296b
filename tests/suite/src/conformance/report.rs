//! What a conformance run found: one outcome per check and backend (passed,
//! failed, or skipped with a reason), and a table rendering for people and
//! CI logs.

use core::fmt;
use std::time::Duration;

/// How one check ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    /// Every expectation held.
    Passed,
    /// An expectation broke, or the check panicked; the detail says which.
    Failed,
    /// Not run, and neither a pass nor a failure: the backend lacks what
    /// the check needs (see [`NEEDS_TESTING`](super::NEEDS_TESTING)).
    Skipped {
        /// What the backend lacks, such as the testing interface.
        reason: String,
    },
}

impl CheckStatus {
    /// `passed`, `failed` or `skipped`, e.g. for JSON.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped { .. } => "skipped",
        }
    }

    /// The table's RESULT column.
    const fn label(&self) -> &'static str {
        match self {
            Self::Passed => "pass",
            Self::Failed => "FAIL",
            Self::Skipped { .. } => "skip",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one check ended on one backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The check's group, such as `done-ledger`.
    pub group: &'static str,
    /// The check's name, unique within its group.
    pub name: &'static str,
    /// The backend's [`name`](crate::Backend::name); the report may hold several.
    pub backend: String,
    /// Passed, failed or skipped.
    pub status: CheckStatus,
    /// The failure message, the skip reason, or a one-line note on what was
    /// verified.
    pub detail: String,
    /// Zero for a skipped check.
    pub elapsed: Duration,
}

impl CheckOutcome {
    /// A check not run because the backend stopped answering (see
    /// [`Backend::unresponsive`](crate::Backend::unresponsive)): a failure,
    /// since the backend is not certified, with the reason.
    pub fn not_run(group: &'static str, name: &'static str, backend: &str, reason: &str) -> Self {
        Self {
            group,
            name,
            backend: backend.to_owned(),
            status: CheckStatus::Failed,
            detail: format!("not run: {reason}"),
            elapsed: Duration::ZERO,
        }
    }

    /// `group/name`, unique within one backend's run.
    pub fn id(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }

    /// Whether the check passed.
    pub const fn passed(&self) -> bool {
        matches!(self.status, CheckStatus::Passed)
    }

    /// Whether the check failed.
    pub const fn failed(&self) -> bool {
        matches!(self.status, CheckStatus::Failed)
    }

    /// Whether the check was skipped.
    pub const fn skipped(&self) -> bool {
        matches!(self.status, CheckStatus::Skipped { .. })
    }

    /// Why the check was skipped, if it was.
    pub fn skip_reason(&self) -> Option<&str> {
        match &self.status {
            CheckStatus::Skipped { reason } => Some(reason),
            CheckStatus::Passed | CheckStatus::Failed => None,
        }
    }
}

/// Passed, failed, skipped and total checks of one group
/// (`total == passed + failed + skipped`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCount {
    /// The group counted.
    pub group: &'static str,
    /// Checks reported in the group, skipped ones included.
    pub total: usize,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Checks that were skipped.
    pub skipped: usize,
}

/// Every outcome of one or more conformance runs, in the order they ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    /// One per check and backend.
    pub outcomes: Vec<CheckOutcome>,
}

impl ConformanceReport {
    /// No check failed and at least one passed. Skipped checks count
    /// neither way, but a report where nothing ran (empty, or every check
    /// skipped) is false: running no check certifies nothing.
    pub fn all_passed(&self) -> bool {
        self.passed_count() > 0 && self.failed_count() == 0
    }

    /// The failed outcomes, in run order.
    pub fn failures(&self) -> impl Iterator<Item = &CheckOutcome> {
        self.outcomes.iter().filter(|o| o.failed())
    }

    /// The skipped outcomes, in run order.
    pub fn skips(&self) -> impl Iterator<Item = &CheckOutcome> {
        self.outcomes.iter().filter(|o| o.skipped())
    }

    /// Checks that passed.
    pub fn passed_count(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed()).count()
    }

    /// Checks that failed.
    pub fn failed_count(&self) -> usize {
        self.failures().count()
    }

    /// Checks that were skipped.
    pub fn skipped_count(&self) -> usize {
        self.skips().count()
    }

    /// Checks that actually ran: passed plus failed.
    pub fn ran_count(&self) -> usize {
        self.outcomes.len() - self.skipped_count()
    }

    /// Counts per group, in the order groups first appear.
    pub fn group_counts(&self) -> Vec<GroupCount> {
        let mut counts: Vec<GroupCount> = Vec::new();
        for outcome in &self.outcomes {
            let slot = match counts.iter().position(|c| c.group == outcome.group) {
                Some(i) => i,
                None => {
                    counts.push(GroupCount { group: outcome.group, total: 0, passed: 0, failed: 0, skipped: 0 });
                    counts.len() - 1
                }
            };
            let count = &mut counts[slot];
            count.total += 1;
            match outcome.status {
                CheckStatus::Passed => count.passed += 1,
                CheckStatus::Failed => count.failed += 1,
                CheckStatus::Skipped { .. } => count.skipped += 1,
            }
        }
        counts
    }

    /// Number of checks reported in `group`, skipped ones included (over
    /// every backend in the report).
    pub fn count_in(&self, group: &str) -> usize {
        self.outcomes.iter().filter(|o| o.group == group).count()
    }

    /// The first outcome of `group/name`, whichever backend it is from.
    pub fn outcome(&self, group: &str, name: &str) -> Option<&CheckOutcome> {
        self.outcomes.iter().find(|o| o.group == group && o.name == name)
    }

    /// Time spent in all checks, skipped ones counting zero.
    pub fn total_elapsed(&self) -> Duration {
        self.outcomes.iter().map(|o| o.elapsed).sum()
    }

    /// Appends another run (typically another backend's) to this report.
    pub fn extend(&mut self, other: Self) {
        self.outcomes.extend(other.outcomes);
    }

    /// Each distinct skip reason with how many checks it skipped, per
    /// backend, in the order first seen.
    fn skip_reasons(&self) -> Vec<(&str, &str, usize)> {
        let mut reasons: Vec<(&str, &str, usize)> = Vec::new();
        for outcome in self.skips() {
            let reason = outcome.skip_reason().unwrap_or_default();
            match reasons.iter_mut().find(|(b, r, _)| *b == outcome.backend && *r == reason) {
                Some(entry) => entry.2 += 1,
                None => reasons.push((&outcome.backend, reason, 1)),
            }
        }
        reasons
    }
}

/// `text` safe to print on a terminal: control characters (escape
/// sequences, carriage returns, newlines) are shown escaped. A component's
/// error messages and file name reach the report verbatim, and must not be
/// able to rewrite the screen (e.g. print a fake "all passed").
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().collect::<String>() } else { c.to_string() }).collect()
}

fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .outcomes
            .iter()
            .map(|o| {
                let time = if o.skipped() { "-".to_owned() } else { millis(o.elapsed) };
                [printable(&o.id()), printable(&o.backend), o.status.label().to_owned(), time]
            })
            .collect();
        let header = ["CHECK", "BACKEND", "RESULT", "TIME"];
        let width = |col: usize| rows.iter().map(|r| r[col].len()).max().unwrap_or(0).max(header[col].len());
        let [w0, w1, w2, w3] = [width(0), width(1), width(2), width(3)];
        let rule = "-".repeat(w0 + w1 + w2 + w3 + 6);
        writeln!(f, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", header[0], header[1], header[2], header[3])?;
        writeln!(f, "{rule}")?;
        for (row, outcome) in rows.iter().zip(&self.outcomes) {
            writeln!(f, "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}", row[0], row[1], row[2], row[3])?;
            if outcome.failed() {
                writeln!(f, "    -> {}", printable(&outcome.detail))?;
            }
        }
        let groups: Vec<String> = self
            .group_counts()
            .iter()
            .map(|g| {
                let skipped = if g.skipped > 0 { format!(" ({} skipped)", g.skipped) } else { String::new() };
                format!("{} {}/{}{skipped}", g.group, g.passed, g.total)
            })
            .collect();
        writeln!(f, "{rule}")?;
        writeln!(f, "groups: {}", groups.join(", "))?;
        for (backend, reason, n) in self.skip_reasons() {
            writeln!(f, "skipped {n} on {}: {}", printable(backend), printable(reason))?;
        }
        write!(
            f,
            "{} of {} checks passed, {} failed, {} skipped ({})",
            self.passed_count(),
            self.outcomes.len(),
            self.failed_count(),
            self.skipped_count(),
            millis(self.total_elapsed())
        )
    }
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("ok \u{1b}[2J\rfake\n44 of 44 passed ✓"), "ok \\u{1b}[2J\\rfake\\n44 of 44 passed ✓");
    }
}
