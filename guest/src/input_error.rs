//! Errors for records and batches that break the persistence contract.

use thiserror::Error;

use crate::done_ledger::DoneLedgerKey;
use crate::identity::ObservationId;

/// Recommended upper bound on records per batch. This crate's stores enforce
/// it (the upstream only recommends it), so a runaway caller gets a typed
/// error instead of an unbounded allocation.
pub const RECOMMENDED_MAX_BATCH_SIZE: usize = 10_000;

/// Every backend's first check on a write: `size` records at most
/// [`RECOMMENDED_MAX_BATCH_SIZE`], before any record is looked at.
pub fn check_batch_size(size: usize) -> Result<(), PersistenceInputError> {
    if size > RECOMMENDED_MAX_BATCH_SIZE {
        Err(PersistenceInputError::BatchTooLarge { size, max: RECOMMENDED_MAX_BATCH_SIZE })
    } else {
        Ok(())
    }
}

/// Most rows or keys one read returns or takes: `batch_get` keys and every
/// page of a paged read. Reads are bounded like writes so that no single
/// call needs an unbounded buffer (in a wasm guest, a trap).
pub const MAX_PAGE_SIZE: usize = 10_000;

/// The check every backend makes on a read's size (`batch_get` keys, a
/// page's `limit`) before it looks at anything: at most [`MAX_PAGE_SIZE`].
pub fn check_read_size(size: usize) -> Result<(), PersistenceInputError> {
    if size > MAX_PAGE_SIZE { Err(PersistenceInputError::BatchTooLarge { size, max: MAX_PAGE_SIZE }) } else { Ok(()) }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PersistenceInputError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} too large ({size} bytes, max {max})")]
    TooLarge { field: &'static str, size: usize, max: usize },
    #[error("{field} contains invalid byte 0x{byte:02X} at index {index}")]
    InvalidByte { field: &'static str, index: usize, byte: u8 },
    #[error("OccurrenceRecord.byte_length must be non-zero")]
    ZeroSpanLength,
    #[error("observation_id does not match canonical derivation (expected {expected:?}, got {actual:?})")]
    ObservationIdMismatch { expected: ObservationId, actual: ObservationId },
    #[error("findings_count {findings_count} is inconsistent with status {status}")]
    InconsistentFindingsCount { status: &'static str, findings_count: u32 },
    #[error("status {status} requires an error code, but none was provided")]
    MissingErrorCode { status: &'static str },
    #[error("status {status} must not carry an error code")]
    UnexpectedErrorCode { status: &'static str },
    #[error("{child_type} references a {parent_type} not present in the batch")]
    OrphanedReference { child_type: &'static str, parent_type: &'static str },
    #[error("records in the batch belong to different tenants")]
    InconsistentTenant,
    #[error("provenance started_at ({started_at}) must not exceed finished_at ({finished_at})")]
    ProvenanceOrdering { started_at: u64, finished_at: u64 },
    #[error("merge requires records with the same key (existing: {existing:?}, incoming: {incoming:?})")]
    KeyMismatch { existing: Box<DoneLedgerKey>, incoming: Box<DoneLedgerKey> },
    #[error("batch of {size} records exceeds the maximum of {max}")]
    BatchTooLarge { size: usize, max: usize },
}
