//! Errors raised by the in-memory stores.

use core::fmt;

use thiserror::Error;

use crate::control::PendingWriteId;
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::PersistenceInputError;

/// Which store raised an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InMemoryStoreKind {
    DoneLedger,
    Findings,
}

impl fmt::Display for InMemoryStoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DoneLedger => "done-ledger",
            Self::Findings => "findings",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InMemoryPersistenceError {
    #[error("in-memory {store} submission failed via fault injection")]
    InjectedSubmissionFailure { store: InMemoryStoreKind },
    #[error("in-memory {store} commit failed via fault injection")]
    InjectedCommitFailure { store: InMemoryStoreKind },
    #[error("in-memory {store} state lock poisoned")]
    Poisoned { store: InMemoryStoreKind },
    #[error("unknown in-memory {store} operation {op_id}")]
    UnknownOperation { store: InMemoryStoreKind, op_id: PendingWriteId },
    #[error("occurrence {occurrence_id:?} for tenant {tenant_id:?} references missing finding {finding_id:?}")]
    MissingFinding { tenant_id: TenantId, finding_id: FindingId, occurrence_id: OccurrenceId },
    #[error("observation {observation_id:?} for tenant {tenant_id:?} references missing occurrence {occurrence_id:?}")]
    MissingOccurrence { tenant_id: TenantId, occurrence_id: OccurrenceId, observation_id: ObservationId },
    #[error("finding conflict for tenant {tenant_id:?}, finding {finding_id:?}")]
    FindingConflict { tenant_id: TenantId, finding_id: FindingId },
    #[error("occurrence conflict for tenant {tenant_id:?}, occurrence {occurrence_id:?}")]
    OccurrenceConflict { tenant_id: TenantId, occurrence_id: OccurrenceId },
    #[error("observation conflict for tenant {tenant_id:?}, observation {observation_id:?}")]
    ObservationConflict { tenant_id: TenantId, observation_id: ObservationId },
    #[error("{0}")]
    BatchValidation(#[from] PersistenceInputError),
}
