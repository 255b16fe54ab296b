//! The done-ledger contract: which object versions are done, as a lattice.

mod error_code;
pub(crate) mod key;
mod provenance;
mod receipt;
mod record;
mod status;

use std::collections::hash_map::Entry;

use crate::hash::{HashMap, HashMapExt};

pub use error_code::{DoneLedgerErrorCode, MAX_DONE_LEDGER_ERROR_CODE_SIZE};
pub use key::DoneLedgerKey;
pub use provenance::DoneLedgerProvenance;
pub use receipt::DoneLedgerCommitReceipt;
pub use record::DoneLedgerRecord;
pub use status::DoneLedgerStatus;

use crate::input_error::PersistenceInputError;

/// Merges in-batch duplicates (in slice order) into one row per key, keeping
/// the keys in first-seen order so every backend applies them identically.
pub fn dedupe_batch(records: &[DoneLedgerRecord]) -> Result<Vec<DoneLedgerRecord>, PersistenceInputError> {
    let mut index: HashMap<DoneLedgerKey, usize> = HashMap::with_capacity(records.len());
    let mut merged: Vec<DoneLedgerRecord> = Vec::with_capacity(records.len());
    dedupe_into(records, &mut index, &mut merged)?;
    Ok(merged)
}

/// `dedupe_batch` into empty buffers the caller sized for `records.len()`
/// entries, for a store that must reserve them fallibly first.
pub(crate) fn dedupe_into(
    records: &[DoneLedgerRecord],
    index: &mut HashMap<DoneLedgerKey, usize>,
    merged: &mut Vec<DoneLedgerRecord>,
) -> Result<(), PersistenceInputError> {
    // One lookup per record (an entry, not a get and then an insert): the
    // key is three ids to hash.
    for record in records {
        match index.entry(*record.key()) {
            Entry::Occupied(slot) => {
                let at = *slot.get();
                merged[at] = merged[at].merge(record)?;
            }
            Entry::Vacant(slot) => {
                slot.insert(merged.len());
                merged.push(record.clone());
            }
        }
    }
    Ok(())
}

/// The receipt for a batch, computed over its deduplicated rows.
pub fn receipt_for(deduped: &[DoneLedgerRecord]) -> DoneLedgerCommitReceipt {
    let scanned = deduped.iter().filter(|r| r.status().is_scanned()).count() as u64;
    let findings = deduped.iter().fold(0u64, |acc, r| acc.saturating_add(u64::from(r.findings_count())));
    DoneLedgerCommitReceipt::new(deduped.len() as u64, scanned, findings)
}
