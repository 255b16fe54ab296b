//! Byte-exact derivations of the content-addressed ids.

use core::fmt;

use super::domain;
use super::hashing::{CanonicalBytes, domain_hasher, finalize_32};
use super::ids::{
    ConnectorInstanceIdHash, FindingId, NormHash, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, SecretHash, StableItemId, TenantId, TenantSecretKey,
};
use crate::location::ConnectorInputError;

fn derive(context: &str, write: impl FnOnce(&mut blake3::Hasher)) -> [u8; 32] {
    let mut hasher = domain_hasher(context);
    write(&mut hasher);
    finalize_32(&hasher)
}

fn non_empty(field: &'static str, bytes: &[u8]) -> Result<(), ConnectorInputError> {
    if bytes.is_empty() { Err(ConnectorInputError::Empty { field }) } else { Ok(()) }
}

/// An 8-byte connector name: printable ASCII, zero-padded on the right.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectorTag([u8; 8]);

impl ConnectorTag {
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    pub fn try_from_ascii(name: &str) -> Result<Self, ConnectorInputError> {
        const FIELD: &str = "ConnectorTag";
        let bytes = name.as_bytes();
        non_empty(FIELD, bytes)?;
        if bytes.len() > 8 {
            return Err(ConnectorInputError::TooLarge { field: FIELD, size: bytes.len(), max: 8 });
        }
        if let Some((index, &byte)) = bytes.iter().enumerate().find(|(_, b)| !(0x21..=0x7e).contains(*b)) {
            return Err(ConnectorInputError::InvalidByte { field: FIELD, index, byte });
        }
        let mut tag = [0u8; 8];
        tag[..bytes.len()].copy_from_slice(bytes);
        Ok(Self(tag))
    }

    pub const fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Debug for ConnectorTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.0.iter().position(|&b| b == 0).unwrap_or(8);
        let (name, pad) = self.0.split_at(end);
        let clean = !name.is_empty() && name.iter().all(|b| (0x21..=0x7e).contains(b)) && pad.iter().all(|&b| b == 0);
        match core::str::from_utf8(name) {
            Ok(text) if clean => write!(f, "ConnectorTag({text:?})"),
            _ => {
                f.write_str("ConnectorTag(")?;
                for b in &self.0 {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl CanonicalBytes for ConnectorTag {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&self.0);
    }
}

impl ConnectorInstanceIdHash {
    pub fn from_instance_id_bytes(instance_id: &[u8]) -> Result<Self, ConnectorInputError> {
        non_empty("ConnectorInstanceId", instance_id)?;
        Ok(Self::from_bytes(derive(domain::CONNECTOR_INSTANCE_ID, |h| instance_id.write_canonical(h))))
    }
}

impl ObjectVersionId {
    pub fn from_version_bytes(version: &[u8]) -> Result<Self, ConnectorInputError> {
        non_empty("ObjectVersion", version)?;
        Ok(Self::from_bytes(derive(domain::OBJECT_VERSION, |h| version.write_canonical(h))))
    }
}

/// Where an item lives: connector, connector instance and locator bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemIdentityKey {
    pub connector: ConnectorTag,
    pub connector_instance: ConnectorInstanceIdHash,
    pub locator: Vec<u8>,
}

impl ItemIdentityKey {
    pub fn stable_id(&self) -> Result<StableItemId, ConnectorInputError> {
        non_empty("ItemIdentityKey.locator", &self.locator)?;
        Ok(StableItemId::from_bytes(derive(domain::ITEM_ID, |h| {
            self.connector.write_canonical(h);
            self.connector_instance.write_canonical(h);
            self.locator.as_slice().write_canonical(h);
        })))
    }
}

/// A connector's version of an object; strong versions are content-exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionId {
    Strong(ObjectVersionId),
    Weak(ObjectVersionId),
}

impl VersionId {
    pub const fn object_version_id(self) -> ObjectVersionId {
        match self {
            Self::Strong(v) | Self::Weak(v) => v,
        }
    }

    pub const fn is_strong(self) -> bool {
        matches!(self, Self::Strong(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OvidHashInputs {
    pub stable_item_id: StableItemId,
    pub version: VersionId,
}

/// The done-ledger key component for one object version (65 input bytes).
pub fn derive_ovid_hash(inputs: &OvidHashInputs) -> OvidHash {
    OvidHash::from_bytes(derive(domain::OVID_HASH, |h| {
        inputs.stable_item_id.write_canonical(h);
        u8::from(!inputs.version.is_strong()).write_canonical(h);
        inputs.version.object_version_id().write_canonical(h);
    }))
}

/// Keyed BLAKE3 of a normalized secret; the domain tag is fed as data.
pub fn key_secret_hash(key: &TenantSecretKey, norm: &NormHash) -> SecretHash {
    let mut hasher = blake3::Hasher::new_keyed(key.as_bytes());
    hasher.update(domain::SECRET_HASH.as_bytes());
    hasher.update(norm.as_bytes());
    SecretHash::from_bytes_internal(finalize_32(&hasher))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingIdInputs {
    pub tenant: TenantId,
    pub item: StableItemId,
    pub rule: RuleFingerprint,
    pub secret: SecretHash,
}

pub fn derive_finding_id(inputs: &FindingIdInputs) -> FindingId {
    FindingId::from_bytes(derive(domain::FINDING_ID, |h| {
        inputs.tenant.write_canonical(h);
        inputs.item.write_canonical(h);
        inputs.rule.write_canonical(h);
        inputs.secret.write_canonical(h);
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OccurrenceIdInputs {
    pub finding: FindingId,
    pub version: ObjectVersionId,
    pub byte_offset: u64,
    pub byte_length: u64,
}

pub fn derive_occurrence_id(inputs: &OccurrenceIdInputs) -> OccurrenceId {
    OccurrenceId::from_bytes(derive(domain::OCCURRENCE_ID, |h| {
        inputs.finding.write_canonical(h);
        inputs.version.write_canonical(h);
        inputs.byte_offset.write_canonical(h);
        inputs.byte_length.write_canonical(h);
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObservationIdInputs {
    pub tenant: TenantId,
    pub policy: PolicyHash,
    pub occurrence: OccurrenceId,
}

pub fn derive_observation_id(inputs: &ObservationIdInputs) -> ObservationId {
    ObservationId::from_bytes(derive(domain::OBSERVATION_ID, |h| {
        inputs.tenant.write_canonical(h);
        inputs.policy.write_canonical(h);
        inputs.occurrence.write_canonical(h);
    }))
}

/// How secret hashes were computed under a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum IdHashMode {
    Unkeyed = 0,
    KeyedV1 = 1,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyHashInputs {
    pub policy_hash_version: u32,
    pub id_hash_mode: IdHashMode,
    pub evidence_hash_version: u32,
    pub rules_digest: [u8; 32],
}

impl PolicyHash {
    pub const CURRENT_VERSION: u32 = 1;
    pub const CURRENT_EVIDENCE_VERSION: u32 = 1;

    /// Derives the policy hash (41 input bytes).
    pub fn derive(inputs: &PolicyHashInputs) -> Self {
        Self::from_bytes(derive(domain::POLICY_HASH, |h| {
            inputs.policy_hash_version.write_canonical(h);
            (inputs.id_hash_mode as u8).write_canonical(h);
            inputs.evidence_hash_version.write_canonical(h);
            inputs.rules_digest.write_canonical(h);
        }))
    }
}
