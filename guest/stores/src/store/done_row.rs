//! A done-ledger row as the in-memory ledger stores it: without its key.
//!
//! The ledger's tables are keyed by scope (tenant, policy) and then by ovid,
//! so a stored `DoneLedgerRecord` would hold those 96 key bytes a second
//! time. Dropping them shrinks a table entry (ovid and value) from 200 bytes
//! to 104 on 64-bit targets; reads put the key back.

use crate::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};

/// Everything of a `DoneLedgerRecord` but its key. Fields run from widest
/// alignment to narrowest, so the count and the status share the last word
/// (the compiler may reorder them, but this order is already padding-free
/// up to that word: 40 + 8 + 16 + 4 + 1 = 69 bytes, 72 with padding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DoneRow {
    provenance: DoneLedgerProvenance,
    bytes_scanned: u64,
    error_code: Option<DoneLedgerErrorCode>,
    findings_count: u32,
    status: DoneLedgerStatus,
}

impl DoneRow {
    /// The row without its key; moves the error code, so it never allocates.
    pub(crate) fn from_record(record: DoneLedgerRecord) -> Self {
        let (provenance, bytes_scanned, findings_count, status) =
            (*record.provenance(), record.bytes_scanned(), record.findings_count(), record.status());
        Self { provenance, bytes_scanned, error_code: record.into_error_code(), findings_count, status }
    }

    pub(crate) const fn status(&self) -> DoneLedgerStatus {
        self.status
    }

    /// The full record under `key` (the key the row is stored under).
    pub(crate) fn to_record(&self, key: DoneLedgerKey) -> DoneLedgerRecord {
        DoneLedgerRecord::from_stored(
            key,
            self.status,
            self.bytes_scanned,
            self.findings_count,
            self.provenance,
            self.error_code.clone(),
        )
    }

    /// Runs `f` on the full record under `key` without copying the error
    /// code: the code is lent to the record and taken back before this
    /// returns, so the row is unchanged afterwards (`f` must not panic,
    /// or the row would lose its code; the merge it runs never does).
    pub(crate) fn with_record<R>(&mut self, key: DoneLedgerKey, f: impl FnOnce(&DoneLedgerRecord) -> R) -> R {
        let record = DoneLedgerRecord::from_stored(
            key,
            self.status,
            self.bytes_scanned,
            self.findings_count,
            self.provenance,
            self.error_code.take(),
        );
        let result = f(&record);
        self.error_code = record.into_error_code();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};

    fn key() -> DoneLedgerKey {
        DoneLedgerKey::new(
            TenantId::from_bytes([1; 32]),
            PolicyHash::from_bytes([2; 32]),
            OvidHash::from_bytes([3; 32]),
        )
    }

    fn failed(code: &str, finished: u64) -> DoneLedgerRecord {
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(7),
            ShardId::from_raw(8),
            FenceEpoch::from_raw(9),
            LogicalTime::from_raw(1),
            LogicalTime::from_raw(finished),
        );
        let code = DoneLedgerErrorCode::try_new(code).expect("valid code");
        DoneLedgerRecord::try_new(key(), DoneLedgerStatus::FailedPermanent, 4096, 5, provenance, Some(code))
            .expect("valid row")
    }

    #[test]
    fn a_row_keeps_everything_but_the_key() {
        let record = failed("TIMEOUT", 2);
        let row = DoneRow::from_record(record.clone());
        assert_eq!(row.status(), DoneLedgerStatus::FailedPermanent);
        assert_eq!(row.to_record(key()), record);
    }

    #[test]
    fn a_lent_record_is_the_stored_one_and_the_row_gets_its_code_back() {
        let mut row = DoneRow::from_record(failed("TIMEOUT", 2));
        let before = row.clone();
        let merged = row.with_record(key(), |existing| {
            assert_eq!(*existing, failed("TIMEOUT", 2));
            existing.merge(&failed("DENIED", 3))
        });
        assert_eq!(merged, Ok(failed("DENIED", 3)));
        assert_eq!(row, before);
    }

    #[test]
    fn the_row_and_its_table_entry_stay_small() {
        // 64-bit targets: 72 and 104 bytes; wasm32's narrower box is smaller still.
        assert!(size_of::<DoneRow>() <= 72, "{} bytes", size_of::<DoneRow>());
        assert!(size_of::<(OvidHash, DoneRow)>() <= 104, "{} bytes", size_of::<(OvidHash, DoneRow)>());
    }
}
