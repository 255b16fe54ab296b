//! What a durable done-ledger write acknowledges.

/// Counts over the distinct keys of one batch (in-batch duplicates merged
/// first), so a page that commits N units gets `record_count == N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DoneLedgerCommitReceipt {
    record_count: u64,
    scanned_count: u64,
    findings_count: u64,
}

impl DoneLedgerCommitReceipt {
    /// A receipt with these counts, as computed in `docs/contract.md §5.5`.
    pub const fn new(record_count: u64, scanned_count: u64, findings_count: u64) -> Self {
        Self { record_count, scanned_count, findings_count }
    }

    /// Distinct keys in the batch.
    pub const fn record_count(&self) -> u64 {
        self.record_count
    }

    /// How many of the batch-merged rows have a scanned status.
    pub const fn scanned_count(&self) -> u64 {
        self.scanned_count
    }

    /// Sum of the batch-merged rows' findings counts, failed and skipped rows
    /// included; saturates at `u64::MAX`.
    pub const fn findings_count(&self) -> u64 {
        self.findings_count
    }
}
