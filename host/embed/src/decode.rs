//! Reading a component's answers back into native values: every WIT error
//! variant into the exact native error it encodes, every row into the
//! native record, and anything the contract does not allow into a
//! `ComponentStoreError::Protocol` instead of a wrong native value.

use std::num::NonZeroU64;
use std::sync::Arc;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use gossip_persistence::{Location, PendingWriteId, PersistenceInputError, StoreError, StoreKind};

use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert::digest;
use crate::error::{BoundaryError, ComponentStoreError, FieldError};

impl ComponentStoreError {
    /// Decodes an error a component returned (e.g. from a raw export call)
    /// into the native error it encodes, or a protocol error.
    pub fn from_wit(store: StoreKind, operation: &'static str, error: wit::StoreError) -> Self {
        Decoder::new(store, operation).error(error)
    }
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
        use gossip_persistence::FieldError as F;
        use wit::InputError as W;
        Ok(match error {
            W::Empty(field) => E::Field(F::Empty { field: self.field(&field)? }),
            W::TooLarge(l) => {
                E::Field(F::TooLarge { field: self.field(&l.field)?, size: self.size(l.size)?, max: self.size(l.max)? })
            }
            W::InvalidByte(b) => {
                E::Field(F::InvalidByte { field: self.field(&b.field)?, index: self.size(b.index)?, byte: b.byte })
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

    /// A field error as the component reported it; a size that does not
    /// fit in `usize` is a protocol error.
    pub(crate) fn field_error(&self, error: wit::FieldError) -> Result<FieldError, ComponentStoreError> {
        Ok(match error {
            wit::FieldError::Empty(field) => FieldError::Empty { field },
            wit::FieldError::TooLarge(l) => {
                FieldError::TooLarge { field: l.field, size: self.size(l.size)?, max: self.size(l.max)? }
            }
            wit::FieldError::InvalidByte(b) => {
                FieldError::InvalidByte { field: b.field, index: self.size(b.index)?, byte: b.byte }
            }
        })
    }

    fn boundary(&self, error: wit::BoundaryError) -> Result<BoundaryError, ComponentStoreError> {
        Ok(match error {
            wit::BoundaryError::UnknownStatusRank(rank) => BoundaryError::UnknownStatusRank(rank),
            wit::BoundaryError::InvalidLocation(e) => BoundaryError::InvalidLocation(self.field_error(e)?),
        })
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
            W::WriteAbandoned(r) => {
                E::WriteAbandoned { store: Self::kind(r.store), op_id: PendingWriteId::from_raw(r.op_id) }
            }
            W::Boundary(b) => return Ok(ComponentStoreError::Boundary { store: self.store, error: self.boundary(b)? }),
        };
        Ok(ComponentStoreError::Store(native))
    }
}

impl Decoder {
    pub(crate) fn done_record(&self, r: &wit::DoneRecord) -> Result<DoneLedgerRecord, ComponentStoreError> {
        let error_code = match &r.error_code {
            Some(code) => Some(
                DoneLedgerErrorCode::try_new(code.as_str())
                    .map_err(|e| self.protocol(format!("invalid error code in a stored row: {e}")))?,
            ),
            None => None,
        };
        let p = r.provenance;
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(p.run_id),
            ShardId::from_raw(p.shard_id),
            FenceEpoch::from_raw(p.fence_epoch),
            LogicalTime::from_raw(p.started_at),
            LogicalTime::from_raw(p.finished_at),
        );
        DoneLedgerRecord::try_new(
            Self::key(&r.key),
            self.status(r.status)?,
            r.bytes_scanned,
            r.findings_count,
            provenance,
            error_code,
        )
        .map_err(|e| self.protocol(format!("invalid stored row: {e}")))
    }

    pub(crate) fn ovid(words: wit::Digest) -> OvidHash {
        OvidHash::from_bytes(digest(words))
    }

    pub(crate) fn finding(f: &wit::Finding) -> FindingRecord {
        FindingRecord::from_persisted_unchecked(
            TenantId::from_bytes(digest(f.tenant_id)),
            FindingId::from_bytes(digest(f.finding_id)),
            StableItemId::from_bytes(digest(f.stable_item_id)),
            RuleFingerprint::from_bytes(digest(f.rule_fingerprint)),
            SecretHash::from_persisted_bytes(digest(f.secret_hash)),
        )
    }

    pub(crate) fn occurrence(&self, o: &wit::Occurrence) -> Result<OccurrenceRecord, ComponentStoreError> {
        let length =
            NonZeroU64::new(o.byte_length).ok_or_else(|| self.protocol("stored occurrence has byte-length 0"))?;
        Ok(OccurrenceRecord::from_persisted_unchecked(
            TenantId::from_bytes(digest(o.tenant_id)),
            OccurrenceId::from_bytes(digest(o.occurrence_id)),
            FindingId::from_bytes(digest(o.finding_id)),
            ObjectVersionId::from_bytes(digest(o.object_version_id)),
            o.byte_offset,
            length,
        ))
    }

    pub(crate) fn observation(&self, o: &wit::Observation) -> Result<ObservationRecord, ComponentStoreError> {
        let location = match &o.location {
            Some(l) => Some(Arc::new(
                Location::try_new(l.display.as_str(), l.url.as_deref())
                    .map_err(|e| self.protocol(format!("invalid stored location: {e}")))?,
            )),
            None => None,
        };
        Ok(ObservationRecord::from_persisted_unchecked(
            TenantId::from_bytes(digest(o.tenant_id)),
            ObservationId::from_bytes(digest(o.observation_id)),
            OccurrenceId::from_bytes(digest(o.occurrence_id)),
            PolicyHash::from_bytes(digest(o.policy_hash)),
            OvidHash::from_bytes(digest(o.ovid_hash)),
            RunId::from_raw(o.run_id),
            ShardId::from_raw(o.shard_id),
            FenceEpoch::from_raw(o.fence_epoch),
            LogicalTime::from_raw(o.seen_at),
            location,
        ))
    }
}
