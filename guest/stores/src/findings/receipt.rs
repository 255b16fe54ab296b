//! Findings receipts and the conformance probe's durable counts.

/// Distinct rows per layer of one batch, including rows that already
/// existed, so a replay returns the same counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FindingsCommitReceipt {
    finding_count: u64,
    occurrence_count: u64,
    observation_count: u64,
}

impl FindingsCommitReceipt {
    /// A receipt with these counts, as computed in `docs/contract.md §7.4`.
    pub const fn new(finding_count: u64, occurrence_count: u64, observation_count: u64) -> Self {
        Self { finding_count, occurrence_count, observation_count }
    }

    /// Distinct finding keys in the batch.
    pub const fn finding_count(&self) -> u64 {
        self.finding_count
    }

    /// Distinct occurrence keys in the batch.
    pub const fn occurrence_count(&self) -> u64 {
        self.occurrence_count
    }

    /// Distinct observation keys in the batch.
    pub const fn observation_count(&self) -> u64 {
        self.observation_count
    }
}

/// Total durable rows per layer across all tenants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DurableFindingsCounts {
    /// Durable findings.
    pub findings: u64,
    /// Durable occurrences.
    pub occurrences: u64,
    /// Durable observations.
    pub observations: u64,
}

impl DurableFindingsCounts {
    /// Counts per layer, as a backend's probe measured them.
    pub const fn new(findings: u64, occurrences: u64, observations: u64) -> Self {
        Self { findings, occurrences, observations }
    }

    /// The rows added since `base` was taken, per layer; 0 where a layer shrank.
    #[must_use]
    pub const fn saturating_sub(self, base: Self) -> Self {
        Self {
            findings: self.findings.saturating_sub(base.findings),
            occurrences: self.occurrences.saturating_sub(base.occurrences),
            observations: self.observations.saturating_sub(base.observations),
        }
    }
}
