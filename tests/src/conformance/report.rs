//! What a conformance run found: one outcome per check and backend, and a
//! table rendering for people and CI logs.

use core::fmt;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    pub group: &'static str,
    pub name: &'static str,
    pub backend: String,
    pub passed: bool,
    /// The failure message, or a one-line note on what was verified.
    pub detail: String,
    pub elapsed: Duration,
}

impl CheckOutcome {
    /// `group/name`, unique within one backend's run.
    pub fn id(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }
}

/// Passed and total checks of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCount {
    pub group: &'static str,
    pub total: usize,
    pub passed: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    pub outcomes: Vec<CheckOutcome>,
}

impl ConformanceReport {
    /// False for an empty report: running no check certifies nothing.
    pub fn all_passed(&self) -> bool {
        !self.outcomes.is_empty() && self.outcomes.iter().all(|o| o.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &CheckOutcome> {
        self.outcomes.iter().filter(|o| !o.passed)
    }

    pub fn passed_count(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed).count()
    }

    pub fn failed_count(&self) -> usize {
        self.outcomes.len() - self.passed_count()
    }

    /// Counts per group, in the order groups first appear.
    pub fn group_counts(&self) -> Vec<GroupCount> {
        let mut counts: Vec<GroupCount> = Vec::new();
        for outcome in &self.outcomes {
            let slot = match counts.iter().position(|c| c.group == outcome.group) {
                Some(i) => i,
                None => {
                    counts.push(GroupCount { group: outcome.group, total: 0, passed: 0 });
                    counts.len() - 1
                }
            };
            counts[slot].total += 1;
            counts[slot].passed += usize::from(outcome.passed);
        }
        counts
    }

    /// Number of checks run in `group` (over every backend in the report).
    pub fn count_in(&self, group: &str) -> usize {
        self.outcomes.iter().filter(|o| o.group == group).count()
    }

    pub fn outcome(&self, group: &str, name: &str) -> Option<&CheckOutcome> {
        self.outcomes.iter().find(|o| o.group == group && o.name == name)
    }

    pub fn total_elapsed(&self) -> Duration {
        self.outcomes.iter().map(|o| o.elapsed).sum()
    }

    /// Appends another run (typically another backend's) to this report.
    pub fn extend(&mut self, other: Self) {
        self.outcomes.extend(other.outcomes);
    }
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
                let result = if o.passed { "pass" } else { "FAIL" };
                [o.id(), o.backend.clone(), result.to_owned(), millis(o.elapsed)]
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
            if !outcome.passed {
                writeln!(f, "    -> {}", outcome.detail)?;
            }
        }
        let groups: Vec<String> =
            self.group_counts().iter().map(|g| format!("{} {}/{}", g.group, g.passed, g.total)).collect();
        writeln!(f, "{rule}")?;
        writeln!(f, "groups: {}", groups.join(", "))?;
        write!(
            f,
            "{} of {} checks passed, {} failed ({})",
            self.passed_count(),
            self.outcomes.len(),
            self.failed_count(),
            millis(self.total_elapsed())
        )
    }
}
