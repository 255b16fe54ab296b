//! Errors raised by the in-memory stores.

use core::fmt;

use thiserror::Error;

use crate::control::PendingWriteId;
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::PersistenceInputError;

/// Which store raised an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// The done-ledger.
    DoneLedger,
    /// The findings sink.
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

/// Every error the contract names: the WIT `store-error` less `boundary`
/// (`docs/contract.md §10.1`). A failed operation changes no row.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StoreError {
    /// An armed submission failure: no handle, no operation id.
    #[error("{store} submission failed via fault injection")]
    InjectedSubmissionFailure {
        /// The store that raised it.
        store: StoreKind,
    },
    /// An armed commit failure, as the outcome of the next write applied.
    #[error("{store} commit failed via fault injection")]
    InjectedCommitFailure {
        /// The store that raised it.
        store: StoreKind,
    },
    /// A thread panicked holding the store's lock; every later operation,
    /// reads and controls included, reports this instead of panicking.
    #[error("{store} state lock poisoned")]
    Poisoned {
        /// The store that raised it.
        store: StoreKind,
    },
    /// `wait` or `poll` for a write the store does not know, or whose
    /// outcome was already handed out.
    #[error("unknown {store} operation {op_id}")]
    UnknownOperation {
        /// The store that raised it.
        store: StoreKind,
        /// The write asked about.
        op_id: PendingWriteId,
    },
    /// An occurrence whose finding is neither in the batch nor durable.
    #[error("occurrence {occurrence_id:?} for tenant {tenant_id:?} references missing finding {finding_id:?}")]
    MissingFinding {
        /// The tenant of the occurrence.
        tenant_id: TenantId,
        /// The parent that was not found.
        finding_id: FindingId,
        /// The occurrence referring to it.
        occurrence_id: OccurrenceId,
    },
    /// An observation whose occurrence is neither in the batch nor durable.
    #[error("observation {observation_id:?} for tenant {tenant_id:?} references missing occurrence {occurrence_id:?}")]
    MissingOccurrence {
        /// The tenant of the observation.
        tenant_id: TenantId,
        /// The parent that was not found.
        occurrence_id: OccurrenceId,
        /// The observation referring to it.
        observation_id: ObservationId,
    },
    /// A finding that differs from the one already in the batch or durable.
    #[error("finding conflict for tenant {tenant_id:?}, finding {finding_id:?}")]
    FindingConflict {
        /// The tenant of the finding.
        tenant_id: TenantId,
        /// The finding written twice, differently.
        finding_id: FindingId,
    },
    /// An occurrence that differs from the one already in the batch or durable.
    #[error("occurrence conflict for tenant {tenant_id:?}, occurrence {occurrence_id:?}")]
    OccurrenceConflict {
        /// The tenant of the occurrence.
        tenant_id: TenantId,
        /// The occurrence written twice, differently.
        occurrence_id: OccurrenceId,
    },
    /// An observation whose identity fields differ from the existing row's.
    #[error("observation conflict for tenant {tenant_id:?}, observation {observation_id:?}")]
    ObservationConflict {
        /// The tenant of the observation.
        tenant_id: TenantId,
        /// The observation written twice with different identities.
        observation_id: ObservationId,
    },
    /// A record or batch that breaks the contract, or a read over its size limit.
    #[error("{0}")]
    BatchValidation(#[from] PersistenceInputError),
    /// The store reserved what the operation needed before changing anything
    /// and was refused: nothing changed. `available` is 0 when unknown.
    #[error(
        "{store} cannot hold this operation: it needs {needed} bytes, {available} are available (nothing was changed)"
    )]
    CapacityExceeded {
        /// The store that raised it.
        store: StoreKind,
        /// The bytes the operation asked for.
        needed: u64,
        /// The bytes the store believes are left, or 0 when it cannot tell.
        available: u64,
    },
    /// The store lost state it had acknowledged and refuses to answer as if
    /// it were empty until it is reset explicitly.
    #[error("{store} lost its acknowledged state; reset it before using it again")]
    StateLost {
        /// The store that raised it.
        store: StoreKind,
    },
    /// A pending write whose store was dropped (every clone of it) before
    /// the write was released: nothing can apply it any more, so its `wait`
    /// reports this instead of blocking forever. It was never acknowledged.
    #[error("{store} write {op_id} can never complete: its store was dropped while the write was pending")]
    WriteAbandoned {
        /// The store that accepted the write.
        store: StoreKind,
        /// The abandoned write.
        op_id: PendingWriteId,
    },
}
