//! Errors raised by the in-memory stores.

use core::fmt;

use thiserror::Error;

use crate::control::PendingWriteId;
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::PersistenceInputError;

/// Which store raised an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreKind {
    DoneLedger,
    Findings,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DoneLedger => "done-ledger",
            Self::Findings => "findings",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StoreError {
    #[error("{store} submission failed via fault injection")]
    InjectedSubmissionFailure { store: StoreKind },
    #[error("{store} commit failed via fault injection")]
    InjectedCommitFailure { store: StoreKind },
    #[error("{store} state lock poisoned")]
    Poisoned { store: StoreKind },
    #[error("unknown {store} operation {op_id}")]
    UnknownOperation { store: StoreKind, op_id: PendingWriteId },
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
    /// The store reserved what the operation needed before changing anything
    /// and was refused: nothing changed. `available` is 0 when unknown.
    #[error(
        "{store} cannot hold this operation: it needs {needed} bytes, {available} are available (nothing was changed)"
    )]
    CapacityExceeded { store: StoreKind, needed: u64, available: u64 },
    /// The store lost state it had acknowledged and refuses to answer as if
    /// it were empty until it is reset explicitly.
    #[error("{store} lost its acknowledged state; reset it before using it again")]
    StateLost { store: StoreKind },
}
