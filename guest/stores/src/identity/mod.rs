//! Identity types: 32-byte ids, coordination ids and their derivations.

mod coord;
mod derive;
pub mod domain;
pub mod hashing;
mod ids;

pub use coord::{FenceEpoch, JobId, LogicalTime, OpId, RunId, ShardId, WorkerId};
pub use derive::{
    ConnectorTag, FindingIdInputs, IdHashMode, ItemIdentityKey, MAX_DERIVATION_INPUT, ObservationIdInputs,
    OccurrenceIdInputs, OvidHashInputs, PolicyHashInputs, VersionId, derive_finding_id, derive_observation_id,
    derive_occurrence_id, derive_ovid_hash, key_secret_hash,
};
pub use ids::{
    ConnectorInstanceIdHash, FindingId, NormHash, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, SecretHash, StableItemId, TenantId, TenantSecretKey,
};
