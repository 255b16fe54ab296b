//! The component stores' error type, and the decoding of the WIT error
//! variants back into the exact native errors.

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerStatus};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{AsStoreError, PendingWriteId, PersistenceInputError, StoreError, StoreKind};
use thiserror::Error;

use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert::digest;

/// Everything a component-backed store can report.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ComponentStoreError {
    /// The store's own error, exactly as the native store reports it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The component rejected input the native types cannot represent.
    #[error("{store} component rejected input at the boundary: {error}")]
    Boundary { store: StoreKind, error: BoundaryError },
    /// The guest trapped and its instance was discarded. Unless the runtime
    /// journals acknowledged writes (`Recovery::Journal`, which rebuilds
    /// them into a fresh instance), every later call reports
    /// `StoreError::StateLost` until the store is reset.
    #[error("{store} component trapped in `{operation}`: {message} (its instance was discarded)")]
    Trap { store: StoreKind, operation: &'static str, message: String },
    /// A write accepted by an instance that has since trapped or been reset:
    /// it was never acknowledged, and is lost.
    #[error("{store} write {op_id} was lost: the component instance it was accepted by is gone")]
    InstanceReset { store: StoreKind, op_id: PendingWriteId },
    /// A control (completion mode, release, fault injection) on a component
    /// that exports only the worker-facing world.
    #[error("{store} component does not export the testing interface (needed by `{operation}`)")]
    NoTestingInterface { store: StoreKind, operation: &'static str },
    /// A store call made from inside another call on the same store (e.g.
    /// from a `with_raw` closure), which would wait for itself forever.
    #[error("{store} store called from inside one of its own calls")]
    Reentered { store: StoreKind },
    /// The component answered with something the contract does not allow
    /// (an unknown status, an invalid stored row, an unknown field name).
    #[error("{store} component broke the protocol in `{operation}`: {detail}")]
    Protocol { store: StoreKind, operation: &'static str, detail: String },
    /// No instance could be created (e.g. the memory limit is below what the
    /// component needs to start).
    #[error("cannot instantiate the {store} component: {message}")]
    Instantiate { store: StoreKind, message: String },
}

impl ComponentStoreError {
    /// Decodes an error a component returned (e.g. from a raw export call)
    /// into the native error it encodes, or a protocol error.
    pub fn from_wit(store: StoreKind, operation: &'static str, error: wit::StoreError) -> Self {
        Decoder::new(store, operation).error(error)
    }
}

impl AsStoreError for ComponentStoreError {
    fn as_store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

/// Input the native types cannot represent, as reported by a component.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BoundaryError {
    #[error("no done-ledger status has rank {0}")]
    UnknownStatusRank(u8),
    #[error("invalid location: {0}")]
    InvalidLocation(FieldError),
}

/// A field-level problem, with the field named by the component.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FieldError {
    #[error("{field} must not be empty")]
    Empty { field: String },
    #[error("{field} too large ({size} bytes, max {max})")]
    TooLarge { field: String, size: u64, max: u64 },
    #[error("{field} contains invalid byte 0x{byte:02X} at index {index}")]
    InvalidByte { field: String, index: u64, byte: u8 },
}

/// The field names native input errors use. The native error holds a
/// `&'static str`, so a name from the wire must map back onto one of these.
const INPUT_FIELDS: [&str; 1] = ["DoneLedgerErrorCode"];

/// Turns a component's answer into a native value, or a protocol error.
pub(crate) struct Decoder {
    pub(crate) store: StoreKind,
    pub(crate) operation: &'static str,
    /// Guest memory the host could still grant, reported in a
    /// `capacity-exceeded` whose guest could not tell (it sends 0).
    pub(crate) available: u64,
}

impl Decoder {
    pub(crate) const fn new(store: StoreKind, operation: &'static str) -> Self {
        Self { store, operation, available: 0 }
    }

    pub(crate) const fn with_available(mut self, available: Option<usize>) -> Self {
        if let Some(available) = available {
            self.available = available as u64;
        }
        self
    }

    pub(crate) fn protocol(&self, detail: impl Into<String>) -> ComponentStoreError {
        ComponentStoreError::Protocol { store: self.store, operation: self.operation, detail: detail.into() }
    }

    pub(crate) fn status(&self, rank: u8) -> Result<DoneLedgerStatus, ComponentStoreError> {
        DoneLedgerStatus::from_rank(rank).ok_or_else(|| self.protocol(format!("unknown status rank {rank}")))
    }

    fn status_name(&self, rank: u8) -> Result<&'static str, ComponentStoreError> {
        self.status(rank).map(DoneLedgerStatus::name)
    }

    fn field(&self, name: &str) -> Result<&'static str, ComponentStoreError> {
        INPUT_FIELDS
            .iter()
            .copied()
            .find(|known| *known == name)
            .ok_or_else(|| self.protocol(format!("unknown field name {name:?} in an input error")))
    }

    pub(crate) fn size(&self, value: u64) -> Result<usize, ComponentStoreError> {
        usize::try_from(value).map_err(|_| self.protocol(format!("size {value} does not fit in usize")))
    }

    pub(crate) fn key(key: &wit::DoneKey) -> DoneLedgerKey {
        DoneLedgerKey::new(
            TenantId::from_bytes(digest(key.tenant_id)),
            PolicyHash::from_bytes(digest(key.policy_hash)),
            OvidHash::from_bytes(digest(key.ovid_hash)),
        )
    }

    fn layer(layer: wit::RecordLayer) -> &'static str {
        match layer {
            wit::RecordLayer::Finding => "FindingRecord",
            wit::RecordLayer::Occurrence => "OccurrenceRecord",
            wit::RecordLayer::Observation => "ObservationRecord",
        }
    }

    pub(crate) fn input(&self, error: wit::InputError) -> Result<PersistenceInputError, ComponentStoreError> {
        use PersistenceInputError as E;
        use wit::InputError as W;
        Ok(match error {
            W::Empty(field) => E::Empty { field: self.field(&field)? },
            W::TooLarge(l) => {
                E::TooLarge { field: self.field(&l.field)?, size: self.size(l.size)?, max: self.size(l.max)? }
            }
            W::InvalidByte(b) => {
                E::InvalidByte { field: self.field(&b.field)?, index: self.size(b.index)?, byte: b.byte }
            }
            W::ZeroSpanLength => E::ZeroSpanLength,
            W::ObservationIdMismatch(m) => E::ObservationIdMismatch {
                expected: ObservationId::from_bytes(digest(m.expected)),
                actual: ObservationId::from_bytes(digest(m.actual)),
            },
            W::InconsistentFindingsCount(m) => {
                E::InconsistentFindingsCount { status: self.status_name(m.status)?, findings_count: m.findings_count }
            }
            W::MissingErrorCode(rank) => E::MissingErrorCode { status: self.status_name(rank)? },
            W::UnexpectedErrorCode(rank) => E::UnexpectedErrorCode { status: self.status_name(rank)? },
            W::OrphanedReference(r) => {
                E::OrphanedReference { child_type: Self::layer(r.child_type), parent_type: Self::layer(r.parent_type) }
            }
            W::InconsistentTenant => E::InconsistentTenant,
            W::ProvenanceOrdering(t) => E::ProvenanceOrdering { started_at: t.started_at, finished_at: t.finished_at },
            W::KeyMismatch(k) => E::KeyMismatch {
                existing: Box::new(Self::key(&k.existing)),
                incoming: Box::new(Self::key(&k.incoming)),
            },
            W::BatchTooLarge(b) => E::BatchTooLarge { size: self.size(b.size)?, max: self.size(b.max)? },
        })
    }

    fn kind(kind: wit::StoreKind) -> StoreKind {
        match kind {
            wit::StoreKind::DoneLedger => StoreKind::DoneLedger,
            wit::StoreKind::Findings => StoreKind::Findings,
        }
    }

    fn boundary(error: wit::BoundaryError) -> BoundaryError {
        let field = |e: wit::FieldError| match e {
            wit::FieldError::Empty(field) => FieldError::Empty { field },
            wit::FieldError::TooLarge(l) => FieldError::TooLarge { field: l.field, size: l.size, max: l.max },
            wit::FieldError::InvalidByte(b) => FieldError::InvalidByte { field: b.field, index: b.index, byte: b.byte },
        };
        match error {
            wit::BoundaryError::UnknownStatusRank(rank) => BoundaryError::UnknownStatusRank(rank),
            wit::BoundaryError::InvalidLocation(e) => BoundaryError::InvalidLocation(field(e)),
        }
    }

    /// A WIT store error as the native error it encodes; an error that does
    /// not decode becomes a protocol error instead of a wrong native one.
    pub(crate) fn error(&self, error: wit::StoreError) -> ComponentStoreError {
        self.try_error(error).unwrap_or_else(|protocol| protocol)
    }

    fn try_error(&self, error: wit::StoreError) -> Result<ComponentStoreError, ComponentStoreError> {
        use StoreError as E;
        use wit::StoreError as W;
        let native = match error {
            W::InjectedSubmissionFailure(k) => E::InjectedSubmissionFailure { store: Self::kind(k) },
            W::InjectedCommitFailure(k) => E::InjectedCommitFailure { store: Self::kind(k) },
            W::Poisoned(k) => E::Poisoned { store: Self::kind(k) },
            W::UnknownOperation(r) => {
                E::UnknownOperation { store: Self::kind(r.store), op_id: PendingWriteId::from_raw(r.op_id) }
            }
            W::MissingFinding(m) => E::MissingFinding {
                tenant_id: TenantId::from_bytes(digest(m.tenant_id)),
                finding_id: FindingId::from_bytes(digest(m.finding_id)),
                occurrence_id: OccurrenceId::from_bytes(digest(m.occurrence_id)),
            },
            W::MissingOccurrence(m) => E::MissingOccurrence {
                tenant_id: TenantId::from_bytes(digest(m.tenant_id)),
                occurrence_id: OccurrenceId::from_bytes(digest(m.occurrence_id)),
                observation_id: ObservationId::from_bytes(digest(m.observation_id)),
            },
            W::FindingConflict(r) => E::FindingConflict {
                tenant_id: TenantId::from_bytes(digest(r.tenant_id)),
                finding_id: FindingId::from_bytes(digest(r.finding_id)),
            },
            W::OccurrenceConflict(r) => E::OccurrenceConflict {
                tenant_id: TenantId::from_bytes(digest(r.tenant_id)),
                occurrence_id: OccurrenceId::from_bytes(digest(r.occurrence_id)),
            },
            W::ObservationConflict(r) => E::ObservationConflict {
                tenant_id: TenantId::from_bytes(digest(r.tenant_id)),
                observation_id: ObservationId::from_bytes(digest(r.observation_id)),
            },
            W::BatchValidation(input) => E::BatchValidation(self.input(input)?),
            W::CapacityExceeded(c) => E::CapacityExceeded {
                store: Self::kind(c.store),
                needed: c.needed,
                available: if c.available == 0 { self.available } else { c.available },
            },
            W::StateLost(k) => E::StateLost { store: Self::kind(k) },
            W::Boundary(b) => return Ok(ComponentStoreError::Boundary { store: self.store, error: Self::boundary(b) }),
        };
        Ok(ComponentStoreError::Store(native))
    }
}
