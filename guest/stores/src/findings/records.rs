//! The three findings layers: finding → occurrence → observation.

use std::num::NonZeroU64;
use std::sync::Arc;

use crate::identity::{
    FenceEpoch, FindingId, FindingIdInputs, LogicalTime, ObjectVersionId, ObservationId, ObservationIdInputs,
    OccurrenceId, OccurrenceIdInputs, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId, StableItemId,
    TenantId, derive_finding_id, derive_observation_id, derive_occurrence_id,
};
use crate::input_error::PersistenceInputError;
use crate::location::Location;
use crate::write_context::WriteContext;

/// A distinct secret in an item under a rule. Immutable once durable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FindingRecord {
    tenant_id: TenantId,
    finding_id: FindingId,
    stable_item_id: StableItemId,
    rule_fingerprint: RuleFingerprint,
    secret_hash: SecretHash,
}

impl FindingRecord {
    /// Derives the finding id; callers cannot choose it.
    pub fn new(
        tenant_id: TenantId,
        stable_item_id: StableItemId,
        rule_fingerprint: RuleFingerprint,
        secret_hash: SecretHash,
    ) -> Self {
        let finding_id = derive_finding_id(&FindingIdInputs {
            tenant: tenant_id,
            item: stable_item_id,
            rule: rule_fingerprint,
            secret: secret_hash,
        });
        Self { tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash }
    }

    /// A finding whose id is taken as given, for rows read back from storage
    /// or a wire format; [`verify_id`](Self::verify_id) tells whether it is canonical.
    pub const fn from_persisted_unchecked(
        tenant_id: TenantId,
        finding_id: FindingId,
        stable_item_id: StableItemId,
        rule_fingerprint: RuleFingerprint,
        secret_hash: SecretHash,
    ) -> Self {
        Self { tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash }
    }

    /// Whether the stored id is the one derived from the other fields; stores never
    /// check it (`docs/contract.md §2.3`).
    pub fn verify_id(&self) -> bool {
        Self::new(self.tenant_id, self.stable_item_id, self.rule_fingerprint, self.secret_hash).finding_id
            == self.finding_id
    }

    /// The tenant the finding belongs to; part of its key.
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// Derived from (tenant, item, rule, secret hash) unless rebuilt unchecked.
    pub const fn finding_id(&self) -> FindingId {
        self.finding_id
    }

    /// The item the secret was found in.
    pub const fn stable_item_id(&self) -> StableItemId {
        self.stable_item_id
    }

    /// The rule that matched.
    pub const fn rule_fingerprint(&self) -> RuleFingerprint {
        self.rule_fingerprint
    }

    /// The tenant-keyed hash of the secret; restricted, never printed (`docs/contract.md §1.4`).
    pub const fn secret_hash(&self) -> SecretHash {
        self.secret_hash
    }
}

/// Where a finding occurs in one object version: the span [offset, offset+length).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OccurrenceRecord {
    tenant_id: TenantId,
    occurrence_id: OccurrenceId,
    finding_id: FindingId,
    object_version_id: ObjectVersionId,
    byte_offset: u64,
    byte_length: NonZeroU64,
}

impl OccurrenceRecord {
    /// Derives the occurrence id; callers cannot choose it.
    pub fn new(
        tenant_id: TenantId,
        finding_id: FindingId,
        object_version_id: ObjectVersionId,
        byte_offset: u64,
        byte_length: NonZeroU64,
    ) -> Self {
        let occurrence_id = derive_occurrence_id(&OccurrenceIdInputs {
            finding: finding_id,
            version: object_version_id,
            byte_offset,
            byte_length: byte_length.get(),
        });
        Self { tenant_id, occurrence_id, finding_id, object_version_id, byte_offset, byte_length }
    }

    /// Like `new`, for a length that may be 0: `ZeroSpanLength` then.
    pub fn try_new(
        tenant_id: TenantId,
        finding_id: FindingId,
        object_version_id: ObjectVersionId,
        byte_offset: u64,
        byte_length: u64,
    ) -> Result<Self, PersistenceInputError> {
        let length = NonZeroU64::new(byte_length).ok_or(PersistenceInputError::ZeroSpanLength)?;
        Ok(Self::new(tenant_id, finding_id, object_version_id, byte_offset, length))
    }

    /// An occurrence whose id is taken as given (see `FindingRecord::from_persisted_unchecked`).
    pub const fn from_persisted_unchecked(
        tenant_id: TenantId,
        occurrence_id: OccurrenceId,
        finding_id: FindingId,
        object_version_id: ObjectVersionId,
        byte_offset: u64,
        byte_length: NonZeroU64,
    ) -> Self {
        Self { tenant_id, occurrence_id, finding_id, object_version_id, byte_offset, byte_length }
    }

    /// Whether the stored id is the one derived from the other fields; stores never
    /// check it (`docs/contract.md §2.3`).
    pub fn verify_id(&self) -> bool {
        Self::new(self.tenant_id, self.finding_id, self.object_version_id, self.byte_offset, self.byte_length)
            .occurrence_id
            == self.occurrence_id
    }

    /// The tenant the occurrence belongs to; part of its key.
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// Derived from (finding, object version, offset, length); not from the tenant.
    pub const fn occurrence_id(&self) -> OccurrenceId {
        self.occurrence_id
    }

    /// The parent finding, of the same tenant.
    pub const fn finding_id(&self) -> FindingId {
        self.finding_id
    }

    /// The object version the span lies in.
    pub const fn object_version_id(&self) -> ObjectVersionId {
        self.object_version_id
    }

    /// Where the span starts, in bytes from the start of the object version.
    pub const fn byte_offset(&self) -> u64 {
        self.byte_offset
    }

    /// The span's length in bytes; never 0.
    pub const fn byte_length(&self) -> NonZeroU64 {
        self.byte_length
    }
}

/// One sighting of an occurrence under a policy. Identity fields are fixed;
/// provenance (run, shard, fence, seen_at, location) is upserted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObservationRecord {
    tenant_id: TenantId,
    observation_id: ObservationId,
    occurrence_id: OccurrenceId,
    policy_hash: PolicyHash,
    ovid_hash: OvidHash,
    run_id: RunId,
    shard_id: ShardId,
    fence_epoch: FenceEpoch,
    seen_at: LogicalTime,
    location: Option<Arc<Location>>,
}

impl ObservationRecord {
    /// Derives the observation id, with no location.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        tenant_id: TenantId,
        occurrence_id: OccurrenceId,
        policy_hash: PolicyHash,
        ovid_hash: OvidHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        seen_at: LogicalTime,
    ) -> Self {
        let observation_id = derive_observation_id(&ObservationIdInputs {
            tenant: tenant_id,
            policy: policy_hash,
            occurrence: occurrence_id,
        });
        Self {
            tenant_id,
            observation_id,
            occurrence_id,
            policy_hash,
            ovid_hash,
            run_id,
            shard_id,
            fence_epoch,
            seen_at,
            location: None,
        }
    }

    /// An observation by the run, shard and fence of `wc`, under its tenant and policy.
    pub fn from_write_context(
        wc: &WriteContext,
        occurrence_id: OccurrenceId,
        ovid_hash: OvidHash,
        seen_at: LogicalTime,
    ) -> Self {
        Self::new(
            wc.tenant_id(),
            occurrence_id,
            wc.policy_hash(),
            ovid_hash,
            wc.run_id(),
            wc.shard_id(),
            wc.fence_epoch(),
            seen_at,
        )
    }

    /// Rebuilds a stored row, rejecting a stored id that is not the canonical one.
    #[allow(clippy::too_many_arguments)]
    pub fn from_persisted(
        tenant_id: TenantId,
        stored_observation_id: ObservationId,
        occurrence_id: OccurrenceId,
        policy_hash: PolicyHash,
        ovid_hash: OvidHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        seen_at: LogicalTime,
        location: Option<Location>,
    ) -> Result<Self, PersistenceInputError> {
        let record = Self::from_persisted_unchecked(
            tenant_id,
            stored_observation_id,
            occurrence_id,
            policy_hash,
            ovid_hash,
            run_id,
            shard_id,
            fence_epoch,
            seen_at,
            location.map(Arc::new),
        );
        record.validate_identity()?;
        Ok(record)
    }

    /// Keeps any stored id, for wire decoding and tests; batch validation
    /// still rejects a non-canonical id before it reaches durable state.
    #[allow(clippy::too_many_arguments)]
    pub fn from_persisted_unchecked(
        tenant_id: TenantId,
        stored_observation_id: ObservationId,
        occurrence_id: OccurrenceId,
        policy_hash: PolicyHash,
        ovid_hash: OvidHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        seen_at: LogicalTime,
        location: Option<Arc<Location>>,
    ) -> Self {
        Self {
            tenant_id,
            observation_id: stored_observation_id,
            occurrence_id,
            policy_hash,
            ovid_hash,
            run_id,
            shard_id,
            fence_epoch,
            seen_at,
            location,
        }
    }

    /// Sets where the occurrence was seen, replacing any location.
    #[must_use]
    pub fn with_location(mut self, location: Arc<Location>) -> Self {
        self.location = Some(location);
        self
    }

    /// The canonical id: derived from (tenant, policy, occurrence), not the ovid.
    pub fn derived_observation_id(&self) -> ObservationId {
        derive_observation_id(&ObservationIdInputs {
            tenant: self.tenant_id,
            policy: self.policy_hash,
            occurrence: self.occurrence_id,
        })
    }

    /// Whether `other` has the same id and the same inputs to its derivation,
    /// so that one's id is canonical exactly when the other's is. Kept next to
    /// the derivation: it must compare every field the derivation reads.
    pub(crate) fn same_id_derivation(&self, other: &Self) -> bool {
        self.observation_id == other.observation_id
            && self.tenant_id == other.tenant_id
            && self.policy_hash == other.policy_hash
            && self.occurrence_id == other.occurrence_id
    }

    /// `ObservationIdMismatch` unless the stored id is the canonical one.
    pub fn validate_identity(&self) -> Result<(), PersistenceInputError> {
        let expected = self.derived_observation_id();
        if expected == self.observation_id {
            Ok(())
        } else {
            Err(PersistenceInputError::ObservationIdMismatch { expected, actual: self.observation_id })
        }
    }

    /// Whether the stored id is the canonical one.
    pub fn verify_id(&self) -> bool {
        self.validate_identity().is_ok()
    }

    /// The context the observation was written under, rebuilt from its fields.
    pub fn write_context(&self) -> WriteContext {
        WriteContext::new(self.tenant_id, self.policy_hash, self.run_id, self.shard_id, self.fence_epoch)
    }

    /// Whether the immutable identity fields agree (provenance may differ).
    pub fn same_identity(&self, other: &Self) -> bool {
        self.tenant_id == other.tenant_id
            && self.observation_id == other.observation_id
            && self.occurrence_id == other.occurrence_id
            && self.policy_hash == other.policy_hash
            && self.ovid_hash == other.ovid_hash
    }

    /// Identity: the tenant the observation belongs to, part of its key.
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// Identity: must be [`derived_observation_id`](Self::derived_observation_id) to be written.
    pub const fn observation_id(&self) -> ObservationId {
        self.observation_id
    }

    /// Identity: the parent occurrence, of the same tenant.
    pub const fn occurrence_id(&self) -> OccurrenceId {
        self.occurrence_id
    }

    /// Identity: the policy the occurrence was seen under.
    pub const fn policy_hash(&self) -> PolicyHash {
        self.policy_hash
    }

    /// Identity: the object version it was seen in, though not part of the id.
    pub const fn ovid_hash(&self) -> OvidHash {
        self.ovid_hash
    }

    /// The run that saw it; provenance, taken from the merge's winner.
    pub const fn run_id(&self) -> RunId {
        self.run_id
    }

    /// The shard that saw it; provenance, taken from the merge's winner.
    pub const fn shard_id(&self) -> ShardId {
        self.shard_id
    }

    /// The writer's fence epoch; provenance, taken from the merge's winner.
    pub const fn fence_epoch(&self) -> FenceEpoch {
        self.fence_epoch
    }

    /// When it was seen, in logical time; the later sighting wins the merge.
    pub const fn seen_at(&self) -> LogicalTime {
        self.seen_at
    }

    /// Where it was seen, if known; a sighting without one never erases it.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_deref()
    }

    /// The location, shared rather than copied.
    pub fn location_arc(&self) -> Option<Arc<Location>> {
        self.location.clone()
    }
}
