//! Errors for records and batches that break the persistence contract.

use thiserror::Error;

use crate::done_ledger::key::DoneLedgerKey;
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

/// A bad value of one named field: the one shape of every field-level
/// error, whether the persistence contract rejects it
/// ([`PersistenceInputError::Field`]) or the connector boundary does
/// ([`ConnectorInputError`](crate::ConnectorInputError)).
///
/// Natively the field is named by a `&'static str`; a host decoding the
/// error from a component gets the name off the wire, as a `String`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FieldError<F = &'static str> {
    /// The field is empty; an error code also when it is only spaces.
    #[error("{field} must not be empty")]
    Empty {
        /// The field's name, such as `Location.display`.
        field: F,
    },
    /// The field is longer than its limit.
    #[error("{field} too large ({size} bytes, max {max})")]
    TooLarge {
        /// The field's name.
        field: F,
        /// The field's length, in bytes.
        size: usize,
        /// Its limit, in bytes.
        max: usize,
    },
    /// The field holds a byte its alphabet forbids.
    #[error("{field} contains invalid byte 0x{byte:02X} at index {index}")]
    InvalidByte {
        /// The field's name.
        field: F,
        /// Where the first forbidden byte is.
        index: usize,
        /// That byte.
        byte: u8,
    },
}

/// Why a record or batch breaks the contract: the WIT `input-error`, carried
/// by `StoreError::BatchValidation` (`docs/contract.md §10.2`).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PersistenceInputError {
    /// A field that is empty, too large or holds an invalid byte.
    #[error(transparent)]
    Field(FieldError),
    /// An occurrence's `byte_length` is 0.
    #[error("OccurrenceRecord.byte_length must be non-zero")]
    ZeroSpanLength,
    /// An observation's id is not derived from its (tenant, policy, occurrence).
    #[error("observation_id does not match canonical derivation (expected {expected:?}, got {actual:?})")]
    ObservationIdMismatch {
        /// The canonical id.
        expected: ObservationId,
        /// The id the observation carried.
        actual: ObservationId,
    },
    /// `ScannedClean` with findings, or `ScannedWithFindings` without.
    #[error("findings_count {findings_count} is inconsistent with status {status}")]
    InconsistentFindingsCount {
        /// The row's status, by variant name.
        status: &'static str,
        /// The row's findings count.
        findings_count: u32,
    },
    /// A failed or skipped row without an error code.
    #[error("status {status} requires an error code, but none was provided")]
    MissingErrorCode {
        /// The row's status, by variant name.
        status: &'static str,
    },
    /// A scanned row with an error code.
    #[error("status {status} must not carry an error code")]
    UnexpectedErrorCode {
        /// The row's status, by variant name.
        status: &'static str,
    },
    /// A child whose parent is not in the batch. Only the in-batch diagnostic
    /// raises it, never a store: a store accepts durable parents.
    #[error("{child_type} references a {parent_type} not present in the batch")]
    OrphanedReference {
        /// The child's record type, such as `OccurrenceRecord`.
        child_type: &'static str,
        /// The missing parent's record type.
        parent_type: &'static str,
    },
    /// A findings batch mixes tenants.
    #[error("records in the batch belong to different tenants")]
    InconsistentTenant,
    /// A row's provenance starts after it finishes.
    #[error("provenance started_at ({started_at}) must not exceed finished_at ({finished_at})")]
    ProvenanceOrdering {
        /// The row's `started_at`, as a raw logical time.
        started_at: u64,
        /// The row's `finished_at`, as a raw logical time.
        finished_at: u64,
    },
    /// A merge of rows with different keys; stores merge by key, so never
    /// through a store.
    #[error("merge requires records with the same key (existing: {existing:?}, incoming: {incoming:?})")]
    KeyMismatch {
        /// The key of the row merged into.
        existing: Box<DoneLedgerKey>,
        /// The key of the row merged in.
        incoming: Box<DoneLedgerKey>,
    },
    /// A batch, a `batch_get` or a page limit over its maximum, rejected
    /// before anything is read or written.
    #[error("batch of {size} records exceeds the maximum of {max}")]
    BatchTooLarge {
        /// The records, keys or page `limit` asked for.
        size: usize,
        /// [`RECOMMENDED_MAX_BATCH_SIZE`] for writes, [`MAX_PAGE_SIZE`] for reads.
        max: usize,
    },
}
