//! Independent checks F0–F8 of a findings sink's observable behaviour.
//!
//! F0 a store call failed, or failed in a way no fault explains;
//! F1 durable state holds an orphan; F2 a durable finding or occurrence
//! changed; F3 a rejected, failed or still-delayed batch changed visible
//! state; F4 a read disagrees with the oracle; F5 the final state differs
//! from the oracle's; F6 the store's verdict on a batch differs from the
//! oracle's; F7 a receipt miscounts distinct keys; F8 durable counts differ.

use core::fmt;
use std::collections::{HashMap, HashSet};

use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::{FindingsConformanceProbe, FindingsInspect};

use super::oracle::FindingsOracle;
use super::rows::{Layer, Row, RowKey, show};
use super::universe::SimBatch;
use crate::backend::SuiteSink;
use crate::sim::pending::BackendViolation;

type Counts = (u64, u64, u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsInvariantViolation {
    Backend { during: &'static str, error: String },
    NoOrphans { child: RowKey, parent: RowKey },
    Immutability { key: RowKey, before: String, after: String },
    RejectedUnchanged { stage: &'static str, key: RowKey, expected: String, actual: String },
    ReadConsistency { key: RowKey, oracle: String, actual: String },
    Convergence { key: RowKey, oracle: String, actual: String },
    OutcomeAgreement { op: u64, expected: String, actual: String },
    ReceiptAccuracy { expected: Counts, actual: Counts },
    DurableCounts { expected: Counts, actual: Counts },
}

impl FindingsInvariantViolation {
    pub const fn id(&self) -> &'static str {
        match self {
            Self::Backend { .. } => "F0",
            Self::NoOrphans { .. } => "F1",
            Self::Immutability { .. } => "F2",
            Self::RejectedUnchanged { .. } => "F3",
            Self::ReadConsistency { .. } => "F4",
            Self::Convergence { .. } => "F5",
            Self::OutcomeAgreement { .. } => "F6",
            Self::ReceiptAccuracy { .. } => "F7",
            Self::DurableCounts { .. } => "F8",
        }
    }

    pub const fn name(&self) -> &'static str {
        match self {
            Self::Backend { .. } => "Backend",
            Self::NoOrphans { .. } => "NoOrphans",
            Self::Immutability { .. } => "Immutability",
            Self::RejectedUnchanged { .. } => "RejectedUnchanged",
            Self::ReadConsistency { .. } => "ReadConsistency",
            Self::Convergence { .. } => "Convergence",
            Self::OutcomeAgreement { .. } => "OutcomeAgreement",
            Self::ReceiptAccuracy { .. } => "ReceiptAccuracy",
            Self::DurableCounts { .. } => "DurableCounts",
        }
    }

    pub(crate) fn backend(during: &'static str, error: &dyn fmt::Display) -> Self {
        Self::Backend { during, error: error.to_string() }
    }
}

impl BackendViolation for FindingsInvariantViolation {
    fn backend(during: &'static str, error: &dyn fmt::Display) -> Self {
        Self::backend(during, error)
    }
}

impl fmt::Display for FindingsInvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.id(), self.name())?;
        match self {
            Self::Backend { during, error } => write!(f, "{during} failed: {error}"),
            Self::NoOrphans { child, parent } => write!(f, "durable {child} has no durable parent {parent}"),
            Self::Immutability { key, before, after } => write!(f, "{key} changed from {before} to {after}"),
            Self::RejectedUnchanged { stage, key, expected, actual } => {
                write!(f, "after {stage}: {key} expected {expected} actual {actual}")
            }
            Self::ReadConsistency { key, oracle, actual } | Self::Convergence { key, oracle, actual } => {
                write!(f, "{key} oracle {oracle} actual {actual}")
            }
            Self::OutcomeAgreement { op, expected, actual } => {
                write!(f, "op{op} expected {expected}, store said {actual}")
            }
            Self::ReceiptAccuracy { expected, actual } => write!(f, "expected {expected:?} actual {actual:?}"),
            Self::DurableCounts { expected, actual } => write!(f, "expected {expected:?} actual {actual:?}"),
        }
    }
}

pub type Snapshot = Vec<(RowKey, Option<Row>)>;

/// The parent a durable child names: an occurrence's finding, an observation's occurrence.
fn parent_of(row: &Row) -> Option<RowKey> {
    match row {
        Row::Occurrence(o) => Some(RowKey::Finding(o.tenant_id(), o.finding_id())),
        Row::Observation(o) => Some(RowKey::Occurrence(o.tenant_id(), o.occurrence_id())),
        Row::Finding(_) => None,
    }
}

/// Remembers the first durable content seen for every finding and
/// occurrence, so any later read can be checked against it (F2).
#[derive(Debug, Default, Clone)]
pub struct FindingsInvariantChecker {
    first_seen: HashMap<RowKey, Row>,
}

impl FindingsInvariantChecker {
    pub fn new() -> Self {
        Self::default()
    }

    /// F2 for one read: findings and occurrences keep their first content.
    pub fn observe(&mut self, row: &Row) -> Option<FindingsInvariantViolation> {
        let key = row.key();
        if key.layer() == Layer::Observation {
            return None;
        }
        match self.first_seen.get(&key) {
            Some(before) if before != row => Some(FindingsInvariantViolation::Immutability {
                key,
                before: before.to_string(),
                after: row.to_string(),
            }),
            Some(_) => None,
            None => {
                self.first_seen.insert(key, row.clone());
                None
            }
        }
    }

    /// Reads every key (checking F2 on the way); a failed read counts as absent.
    pub fn read<S: FindingsInspect>(
        &mut self,
        sink: &S,
        keys: &[RowKey],
        violations: &mut Vec<FindingsInvariantViolation>,
    ) -> Snapshot {
        keys.iter()
            .map(|key| {
                let row = key.read(sink).unwrap_or_else(|e| {
                    violations.push(FindingsInvariantViolation::backend("get", &e));
                    None
                });
                if let Some(v) = row.as_ref().and_then(|r| self.observe(r)) {
                    violations.push(v);
                }
                (*key, row)
            })
            .collect()
    }

    /// F3: every key must still read as it did in `pre`.
    pub fn check_unchanged<S: FindingsInspect>(
        &mut self,
        sink: &S,
        stage: &'static str,
        pre: &Snapshot,
    ) -> Vec<FindingsInvariantViolation> {
        let mut violations = Vec::new();
        let keys: Vec<RowKey> = pre.iter().map(|(k, _)| *k).collect();
        let now = self.read(sink, &keys, &mut violations);
        for ((key, before), (_, after)) in pre.iter().zip(&now) {
            if before != after {
                violations.push(FindingsInvariantViolation::RejectedUnchanged {
                    stage,
                    key: *key,
                    expected: show(before.as_ref()),
                    actual: show(after.as_ref()),
                });
            }
        }
        violations
    }

    /// Reads `keys` and compares each with the oracle; `make` names the invariant.
    pub fn check_against_oracle<S: FindingsInspect>(
        &mut self,
        sink: &S,
        keys: &[RowKey],
        oracle: &FindingsOracle,
        make: impl Fn(RowKey, String, String) -> FindingsInvariantViolation,
        violations: &mut Vec<FindingsInvariantViolation>,
    ) -> Snapshot {
        let now = self.read(sink, keys, violations);
        for (key, actual) in &now {
            let expected = oracle.expected(key);
            if expected != actual.as_ref() {
                violations.push(make(*key, show(expected), show(actual.as_ref())));
            }
        }
        now
    }

    /// F1 for the children a batch wrote: each one that is durable must
    /// name a durable parent.
    pub fn check_no_orphans<S: FindingsInspect>(
        &mut self,
        sink: &S,
        batch: &SimBatch,
    ) -> Vec<FindingsInvariantViolation> {
        let mut violations = Vec::new();
        let children: Vec<RowKey> = batch
            .occurrences
            .iter()
            .map(|o| RowKey::Occurrence(o.tenant_id(), o.occurrence_id()))
            .chain(batch.observations.iter().map(|o| RowKey::Observation(o.tenant_id(), o.observation_id())))
            .collect();
        for (child, row) in self.read(sink, &children, &mut violations) {
            let Some(parent) = row.as_ref().and_then(parent_of) else { continue };
            if self.read(sink, &[parent], &mut violations)[0].1.is_none() {
                violations.push(FindingsInvariantViolation::NoOrphans { child, parent });
            }
        }
        violations
    }

    /// F7: the receipt counts distinct keys per layer, as predicted.
    pub fn check_receipt(
        expected: &FindingsCommitReceipt,
        actual: &FindingsCommitReceipt,
    ) -> Option<FindingsInvariantViolation> {
        let c = |r: &FindingsCommitReceipt| (r.finding_count(), r.occurrence_count(), r.observation_count());
        (expected != actual)
            .then(|| FindingsInvariantViolation::ReceiptAccuracy { expected: c(expected), actual: c(actual) })
    }

    /// F8: the probe's durable counts match the oracle's.
    pub fn check_counts<S: FindingsConformanceProbe>(
        sink: &S,
        oracle: &FindingsOracle,
    ) -> Option<FindingsInvariantViolation> {
        match sink.durable_counts() {
            Ok(c) => {
                let actual = (c.findings, c.occurrences, c.observations);
                let expected = oracle.counts();
                (actual != expected).then_some(FindingsInvariantViolation::DurableCounts { expected, actual })
            }
            Err(e) => Some(FindingsInvariantViolation::backend("durable_counts", &e)),
        }
    }

    /// End of run, over full snapshots: F5 against the oracle, F1 for every
    /// durable child, F2 against every first-seen row, F8.
    pub fn check_final<S: SuiteSink>(&mut self, sink: &S, oracle: &FindingsOracle) -> Vec<FindingsInvariantViolation> {
        let mut violations = Vec::new();
        let mut actual: Vec<Row> = Vec::new();
        match sink.findings_snapshot() {
            Ok(rows) => actual.extend(rows.into_iter().map(Row::Finding)),
            Err(e) => violations.push(FindingsInvariantViolation::backend("findings_snapshot", &e)),
        }
        match sink.occurrences_snapshot() {
            Ok(rows) => actual.extend(rows.into_iter().map(Row::Occurrence)),
            Err(e) => violations.push(FindingsInvariantViolation::backend("occurrences_snapshot", &e)),
        }
        match sink.observations_snapshot() {
            Ok(rows) => actual.extend(rows.into_iter().map(Row::Observation)),
            Err(e) => violations.push(FindingsInvariantViolation::backend("observations_snapshot", &e)),
        }
        let durable: HashSet<RowKey> = actual.iter().map(Row::key).collect();
        for row in &actual {
            if let Some(parent) = parent_of(row).filter(|p| !durable.contains(p)) {
                violations.push(FindingsInvariantViolation::NoOrphans { child: row.key(), parent });
            }
            violations.extend(self.observe(row));
        }
        let mut by_key: std::collections::BTreeMap<RowKey, (Option<&Row>, Option<&Row>)> = Default::default();
        for row in oracle.rows() {
            by_key.entry(row.key()).or_default().0 = Some(row);
        }
        for row in &actual {
            by_key.entry(row.key()).or_default().1 = Some(row);
        }
        for (key, (expected, actual)) in by_key {
            if expected != actual {
                violations.push(FindingsInvariantViolation::Convergence {
                    key,
                    oracle: show(expected),
                    actual: show(actual),
                });
            }
        }
        violations.extend(Self::check_counts(sink, oracle));
        violations
    }
}
