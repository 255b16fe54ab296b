//! Native errors → WIT error variants, field for field, and `Rejected`, why
//! a WIT value was refused on the way in.

use super::convert::{Rejected, digest_out, key_out};
use super::wit::types::{
    BatchSize, BoundaryError, CapacityShortfall, FieldError, FindingRef, FindingsCountMismatch, IdMismatch, InputError,
    InvalidByte, KeyMismatch, MissingFinding, MissingOccurrence, ObservationRef, OccurrenceRef, OperationRef,
    OrphanedReference, RecordLayer, SizeLimit, StoreError, StoreKind, TimeRange,
};
use crate::done_ledger::DoneLedgerStatus;
use crate::input_error::{FieldError as NativeFieldError, PersistenceInputError};
use crate::store::{StoreError as NativeError, StoreKind as NativeKind};

/// A store kind as the WIT carries it.
pub const fn kind_out(store: NativeKind) -> StoreKind {
    match store {
        NativeKind::DoneLedger => StoreKind::DoneLedger,
        NativeKind::Findings => StoreKind::Findings,
    }
}

/// The inverse of [`kind_out`], for the calls that name a store kind.
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

/// The WIT `input-error` carrying the same information; statuses as ranks,
/// record types as layers (`docs/contract.md §12.5`).
pub fn input_error(error: PersistenceInputError) -> InputError {
    use PersistenceInputError as E;
    match error {
        // The WIT spells a field error out in `input-error` as in `field-error`.
        E::Field(error) => match field_error(error) {
            FieldError::Empty(field) => InputError::Empty(field),
            FieldError::TooLarge(limit) => InputError::TooLarge(limit),
            FieldError::InvalidByte(invalid) => InputError::InvalidByte(invalid),
        },
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

/// A field that is empty, too large or holds an invalid byte (a
/// location's, as `ConnectorInputError`, or a record's).
pub fn field_error(error: NativeFieldError) -> FieldError {
    match error {
        NativeFieldError::Empty { field } => FieldError::Empty(field.to_owned()),
        NativeFieldError::TooLarge { field, size, max } => {
            FieldError::TooLarge(SizeLimit { field: field.to_owned(), size: size as u64, max: max as u64 })
        }
        NativeFieldError::InvalidByte { field, index, byte } => {
            FieldError::InvalidByte(InvalidByte { field: field.to_owned(), index: index as u64, byte })
        }
    }
}

/// The WIT `store-error` carrying the same information, so a host rebuilds the
/// exact native error.
pub fn store_error(error: NativeError) -> StoreError {
    use NativeError as E;
    match error {
        E::InjectedSubmissionFailure { store } => StoreError::InjectedSubmissionFailure(kind_out(store)),
        E::InjectedCommitFailure { store } => StoreError::InjectedCommitFailure(kind_out(store)),
        E::Poisoned { store } => StoreError::Poisoned(kind_out(store)),
        E::UnknownOperation { store, op_id } => {
            StoreError::UnknownOperation(OperationRef { store: kind_out(store), op_id: op_id.as_raw() })
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
            StoreError::CapacityExceeded(CapacityShortfall { store: kind_out(store), needed, available })
        }
        E::StateLost { store } => StoreError::StateLost(kind_out(store)),
        E::WriteAbandoned { store, op_id } => {
            StoreError::WriteAbandoned(OperationRef { store: kind_out(store), op_id: op_id.as_raw() })
        }
    }
}

/// An input error as the `batch-validation` store error.
pub fn invalid_input(error: PersistenceInputError) -> StoreError {
    StoreError::BatchValidation(input_error(error))
}

impl From<Rejected> for StoreError {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::StatusRank(rank) => Self::Boundary(BoundaryError::UnknownStatusRank(rank)),
            Rejected::Input(error) => invalid_input(error),
            Rejected::Location(error) => Self::Boundary(BoundaryError::InvalidLocation(field_error(error))),
        }
    }
}
