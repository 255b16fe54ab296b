//! Native answers → the WIT values a served import returns: errors field
//! for field (so the worker, and through it the host's decoder, sees exactly
//! the native error), receipts and counts. Records go out through the
//! crate's `convert`.

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerStatus};
use gossip_persistence::findings::{DurableFindingsCounts, FindingsCommitReceipt};
use gossip_persistence::{FieldError, PendingWriteId, PersistenceInputError, StoreError, StoreKind};

use super::bindings::types as wit;
use crate::convert::{key, wit_digest};

pub(crate) const fn kind(store: StoreKind) -> wit::StoreKind {
    match store {
        StoreKind::DoneLedger => wit::StoreKind::DoneLedger,
        StoreKind::Findings => wit::StoreKind::Findings,
    }
}

/// Native errors name statuses by variant name, the WIT by rank. Every name
/// a store produces is a status's `name()`; anything else becomes rank 0,
/// which the decoder refuses as undecodable rather than misreading.
fn status_rank(name: &str) -> u8 {
    DoneLedgerStatus::ALL.iter().find(|s| s.name() == name).map_or(0, |s| s.rank())
}

fn layer(type_name: &str) -> wit::RecordLayer {
    match type_name {
        "FindingRecord" => wit::RecordLayer::Finding,
        "OccurrenceRecord" => wit::RecordLayer::Occurrence,
        _ => wit::RecordLayer::Observation,
    }
}

pub(crate) fn field_error<F: AsRef<str>>(error: &FieldError<F>) -> wit::FieldError {
    match error {
        FieldError::Empty { field } => wit::FieldError::Empty(field.as_ref().to_owned()),
        FieldError::TooLarge { field, size, max } => wit::FieldError::TooLarge(wit::SizeLimit {
            field: field.as_ref().to_owned(),
            size: *size as u64,
            max: *max as u64,
        }),
        FieldError::InvalidByte { field, index, byte } => wit::FieldError::InvalidByte(wit::InvalidByte {
            field: field.as_ref().to_owned(),
            index: *index as u64,
            byte: *byte,
        }),
    }
}

pub(crate) fn input_error(error: &PersistenceInputError) -> wit::InputError {
    use PersistenceInputError as E;
    use wit::InputError as W;
    match error {
        // `input-error` spells a field error out as `field-error` does.
        E::Field(error) => match field_error(error) {
            wit::FieldError::Empty(field) => W::Empty(field),
            wit::FieldError::TooLarge(limit) => W::TooLarge(limit),
            wit::FieldError::InvalidByte(invalid) => W::InvalidByte(invalid),
        },
        E::ZeroSpanLength => W::ZeroSpanLength,
        E::ObservationIdMismatch { expected, actual } => W::ObservationIdMismatch(wit::IdMismatch {
            expected: wit_digest(expected.as_bytes()),
            actual: wit_digest(actual.as_bytes()),
        }),
        E::InconsistentFindingsCount { status, findings_count } => {
            W::InconsistentFindingsCount(wit::FindingsCountMismatch {
                status: status_rank(status),
                findings_count: *findings_count,
            })
        }
        E::MissingErrorCode { status } => W::MissingErrorCode(status_rank(status)),
        E::UnexpectedErrorCode { status } => W::UnexpectedErrorCode(status_rank(status)),
        E::OrphanedReference { child_type, parent_type } => W::OrphanedReference(wit::OrphanedReference {
            child_type: layer(child_type),
            parent_type: layer(parent_type),
        }),
        E::InconsistentTenant => W::InconsistentTenant,
        E::ProvenanceOrdering { started_at, finished_at } => {
            W::ProvenanceOrdering(wit::TimeRange { started_at: *started_at, finished_at: *finished_at })
        }
        E::KeyMismatch { existing, incoming } => {
            W::KeyMismatch(wit::KeyMismatch { existing: key(existing), incoming: key(incoming) })
        }
        E::BatchTooLarge { size, max } => W::BatchTooLarge(wit::BatchSize { size: *size as u64, max: *max as u64 }),
    }
}

fn op(store: StoreKind, op_id: PendingWriteId) -> wit::OperationRef {
    wit::OperationRef { store: kind(store), op_id: op_id.as_raw() }
}

/// The WIT `store-error` carrying the same information as the native one.
pub(crate) fn store_error(error: &StoreError) -> wit::StoreError {
    use StoreError as E;
    use wit::StoreError as W;
    match error {
        E::InjectedSubmissionFailure { store } => W::InjectedSubmissionFailure(kind(*store)),
        E::InjectedCommitFailure { store } => W::InjectedCommitFailure(kind(*store)),
        E::Poisoned { store } => W::Poisoned(kind(*store)),
        E::UnknownOperation { store, op_id } => W::UnknownOperation(op(*store, *op_id)),
        E::MissingFinding { tenant_id, finding_id, occurrence_id } => W::MissingFinding(wit::MissingFinding {
            tenant_id: wit_digest(tenant_id.as_bytes()),
            finding_id: wit_digest(finding_id.as_bytes()),
            occurrence_id: wit_digest(occurrence_id.as_bytes()),
        }),
        E::MissingOccurrence { tenant_id, occurrence_id, observation_id } => {
            W::MissingOccurrence(wit::MissingOccurrence {
                tenant_id: wit_digest(tenant_id.as_bytes()),
                occurrence_id: wit_digest(occurrence_id.as_bytes()),
                observation_id: wit_digest(observation_id.as_bytes()),
            })
        }
        E::FindingConflict { tenant_id, finding_id } => W::FindingConflict(wit::FindingRef {
            tenant_id: wit_digest(tenant_id.as_bytes()),
            finding_id: wit_digest(finding_id.as_bytes()),
        }),
        E::OccurrenceConflict { tenant_id, occurrence_id } => W::OccurrenceConflict(wit::OccurrenceRef {
            tenant_id: wit_digest(tenant_id.as_bytes()),
            occurrence_id: wit_digest(occurrence_id.as_bytes()),
        }),
        E::ObservationConflict { tenant_id, observation_id } => W::ObservationConflict(wit::ObservationRef {
            tenant_id: wit_digest(tenant_id.as_bytes()),
            observation_id: wit_digest(observation_id.as_bytes()),
        }),
        E::BatchValidation(input) => W::BatchValidation(input_error(input)),
        E::CapacityExceeded { store, needed, available } => {
            W::CapacityExceeded(wit::CapacityShortfall { store: kind(*store), needed: *needed, available: *available })
        }
        E::StateLost { store } => W::StateLost(kind(*store)),
        E::WriteAbandoned { store, op_id } => W::WriteAbandoned(op(*store, *op_id)),
    }
}

pub(crate) const fn done_receipt(r: &DoneLedgerCommitReceipt) -> wit::DoneReceipt {
    wit::DoneReceipt {
        record_count: r.record_count(),
        scanned_count: r.scanned_count(),
        findings_count: r.findings_count(),
    }
}

pub(crate) const fn findings_receipt(r: &FindingsCommitReceipt) -> wit::FindingsReceipt {
    wit::FindingsReceipt {
        finding_count: r.finding_count(),
        occurrence_count: r.occurrence_count(),
        observation_count: r.observation_count(),
    }
}

pub(crate) const fn counts(c: &DurableFindingsCounts) -> wit::DurableCounts {
    wit::DurableCounts { findings: c.findings, occurrences: c.occurrences, observations: c.observations }
}
