//! Native errors → WIT error variants, field for field.

use super::convert::{digest_out, key_out};
use super::wit::types::{
    BatchSize, BoundaryError, CapacityShortfall, FieldError, FindingRef, FindingsCountMismatch, IdMismatch, InputError,
    InvalidByte, KeyMismatch, MissingFinding, MissingOccurrence, ObservationRef, OccurrenceRef, OperationRef,
    OrphanedReference, RecordLayer, SizeLimit, StoreError, StoreKind, TimeRange,
};
use crate::done_ledger::DoneLedgerStatus;
use crate::input_error::PersistenceInputError;
use crate::location::ConnectorInputError;
use crate::store::{StoreError as NativeError, StoreKind as NativeKind};

const fn kind(store: NativeKind) -> StoreKind {
    match store {
        NativeKind::DoneLedger => StoreKind::DoneLedger,
        NativeKind::Findings => StoreKind::Findings,
    }
}

/// The inverse of `kind`, for the `testing` calls that name a store kind.
#[cfg(feature = "testing")]
pub const fn kind_in(store: StoreKind) -> NativeKind {
    match store {
        StoreKind::DoneLedger => NativeKind::DoneLedger,
        StoreKind::Findings => NativeKind::Findings,
    }
}

/// Native errors name statuses by variant name; the WIT carries the rank.
/// Every name the stores produce comes from `DoneLedgerStatus::name`, so the
/// fallback (rank 0, which names no status) is unreachable in practice and
/// would surface on the host as an undecodable error, not a wrong one.
fn status_rank(name: &str) -> u8 {
    DoneLedgerStatus::ALL.iter().find(|s| s.name() == name).map_or(0, |s| s.rank())
}

/// Record type names as they appear in `OrphanedReference`.
fn layer(type_name: &str) -> RecordLayer {
    match type_name {
        "FindingRecord" => RecordLayer::Finding,
        "OccurrenceRecord" => RecordLayer::Occurrence,
        _ => RecordLayer::Observation,
    }
}

fn size_limit(field: &str, size: usize, max: usize) -> SizeLimit {
    SizeLimit { field: field.to_owned(), size: size as u64, max: max as u64 }
}

fn invalid_byte(field: &str, index: usize, byte: u8) -> InvalidByte {
    InvalidByte { field: field.to_owned(), index: index as u64, byte }
}

pub fn input_error(error: PersistenceInputError) -> InputError {
    use PersistenceInputError as E;
    match error {
        E::Empty { field } => InputError::Empty(field.to_owned()),
        E::TooLarge { field, size, max } => InputError::TooLarge(size_limit(field, size, max)),
        E::InvalidByte { field, index, byte } => InputError::InvalidByte(invalid_byte(field, index, byte)),
        E::ZeroSpanLength => InputError::ZeroSpanLength,
        E::ObservationIdMismatch { expected, actual } => InputError::ObservationIdMismatch(IdMismatch {
            expected: digest_out(expected.as_bytes()),
            actual: digest_out(actual.as_bytes()),
        }),
        E::InconsistentFindingsCount { status, findings_count } => {
            InputError::InconsistentFindingsCount(FindingsCountMismatch { status: status_rank(status), findings_count })
        }
        E::MissingErrorCode { status } => InputError::MissingErrorCode(status_rank(status)),
        E::UnexpectedErrorCode { status } => InputError::UnexpectedErrorCode(status_rank(status)),
        E::OrphanedReference { child_type, parent_type } => InputError::OrphanedReference(OrphanedReference {
            child_type: layer(child_type),
            parent_type: layer(parent_type),
        }),
        E::InconsistentTenant => InputError::InconsistentTenant,
        E::ProvenanceOrdering { started_at, finished_at } => {
            InputError::ProvenanceOrdering(TimeRange { started_at, finished_at })
        }
        E::KeyMismatch { existing, incoming } => {
            InputError::KeyMismatch(KeyMismatch { existing: key_out(&existing), incoming: key_out(&incoming) })
        }
        E::BatchTooLarge { size, max } => InputError::BatchTooLarge(BatchSize { size: size as u64, max: max as u64 }),
    }
}

pub fn store_error(error: NativeError) -> StoreError {
    use NativeError as E;
    match error {
        E::InjectedSubmissionFailure { store } => StoreError::InjectedSubmissionFailure(kind(store)),
        E::InjectedCommitFailure { store } => StoreError::InjectedCommitFailure(kind(store)),
        E::Poisoned { store } => StoreError::Poisoned(kind(store)),
        E::UnknownOperation { store, op_id } => {
            StoreError::UnknownOperation(OperationRef { store: kind(store), op_id: op_id.as_raw() })
        }
        E::MissingFinding { tenant_id, finding_id, occurrence_id } => StoreError::MissingFinding(MissingFinding {
            tenant_id: digest_out(tenant_id.as_bytes()),
            finding_id: digest_out(finding_id.as_bytes()),
            occurrence_id: digest_out(occurrence_id.as_bytes()),
        }),
        E::MissingOccurrence { tenant_id, occurrence_id, observation_id } => {
            StoreError::MissingOccurrence(MissingOccurrence {
                tenant_id: digest_out(tenant_id.as_bytes()),
                occurrence_id: digest_out(occurrence_id.as_bytes()),
                observation_id: digest_out(observation_id.as_bytes()),
            })
        }
        E::FindingConflict { tenant_id, finding_id } => StoreError::FindingConflict(FindingRef {
            tenant_id: digest_out(tenant_id.as_bytes()),
            finding_id: digest_out(finding_id.as_bytes()),
        }),
        E::OccurrenceConflict { tenant_id, occurrence_id } => StoreError::OccurrenceConflict(OccurrenceRef {
            tenant_id: digest_out(tenant_id.as_bytes()),
            occurrence_id: digest_out(occurrence_id.as_bytes()),
        }),
        E::ObservationConflict { tenant_id, observation_id } => StoreError::ObservationConflict(ObservationRef {
            tenant_id: digest_out(tenant_id.as_bytes()),
            observation_id: digest_out(observation_id.as_bytes()),
        }),
        E::BatchValidation(input) => StoreError::BatchValidation(input_error(input)),
        E::CapacityExceeded { store, needed, available } => {
            StoreError::CapacityExceeded(CapacityShortfall { store: kind(store), needed, available })
        }
        E::StateLost { store } => StoreError::StateLost(kind(store)),
    }
}

pub fn invalid_input(error: PersistenceInputError) -> StoreError {
    StoreError::BatchValidation(input_error(error))
}

/// Why a WIT value was refused on the way in; small, unlike `StoreError`.
pub enum Rejected {
    /// A status rank that names no status.
    StatusRank(u8),
    /// What the native constructors report for the same value.
    Input(PersistenceInputError),
    /// A location breaking its size rules.
    Location(ConnectorInputError),
}

impl From<PersistenceInputError> for Rejected {
    fn from(error: PersistenceInputError) -> Self {
        Self::Input(error)
    }
}

impl From<Rejected> for StoreError {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::StatusRank(rank) => Self::Boundary(BoundaryError::UnknownStatusRank(rank)),
            Rejected::Input(error) => invalid_input(error),
            Rejected::Location(error) => invalid_location(error),
        }
    }
}

fn invalid_location(error: ConnectorInputError) -> StoreError {
    let field = match error {
        ConnectorInputError::Empty { field } => FieldError::Empty(field.to_owned()),
        ConnectorInputError::TooLarge { field, size, max } => FieldError::TooLarge(size_limit(field, size, max)),
        ConnectorInputError::InvalidByte { field, index, byte } => {
            FieldError::InvalidByte(invalid_byte(field, index, byte))
        }
    };
    StoreError::Boundary(BoundaryError::InvalidLocation(field))
}
