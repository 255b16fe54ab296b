//! Byte-exact derivations of the content-addressed ids.

use core::fmt;

use super::domain;
use std::sync::OnceLock;

use blake3::hazmat::{ContextKey, HasherExt, hash_derive_key_context};

use super::hashing::{CanonicalBytes, finalize_32};
use super::ids::{
    ConnectorInstanceIdHash, FindingId, NormHash, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, SecretHash, StableItemId, TenantId, TenantSecretKey,
};
use crate::location::ConnectorInputError;

/// A derivation domain with its BLAKE3 context key computed once per
/// process: `Hasher::new_derive_key` hashes the context string on every
/// call, as much work as a short id's own input (a third of the BLAKE3 time
/// of a batch of new observations).
struct Domain {
    context: &'static str,
    key: OnceLock<ContextKey>,
}

impl Domain {
    const fn new(context: &'static str) -> Self {
        Self { context, key: OnceLock::new() }
    }

    /// The same hasher as `domain_hasher(self.context)`.
    fn hasher(&self) -> blake3::Hasher {
        blake3::Hasher::new_from_context_key(self.key.get_or_init(|| hash_derive_key_context(self.context)))
    }
}

static CONNECTOR_INSTANCE_ID: Domain = Domain::new(domain::CONNECTOR_INSTANCE_ID);
static OBJECT_VERSION: Domain = Domain::new(domain::OBJECT_VERSION);
static ITEM_ID: Domain = Domain::new(domain::ITEM_ID);
static OVID_HASH: Domain = Domain::new(domain::OVID_HASH);
static FINDING_ID: Domain = Domain::new(domain::FINDING_ID);
static OCCURRENCE_ID: Domain = Domain::new(domain::OCCURRENCE_ID);
static OBSERVATION_ID: Domain = Domain::new(domain::OBSERVATION_ID);
static POLICY_HASH: Domain = Domain::new(domain::POLICY_HASH);

fn derive(domain: &Domain, write: impl FnOnce(&mut blake3::Hasher)) -> [u8; 32] {
    let mut hasher = domain.hasher();
    write(&mut hasher);
    finalize_32(&hasher)
}

/// The longest byte string an id is derived from: its canonical encoding
/// carries a `u32` length (see `CanonicalBytes for [u8]`).
pub const MAX_DERIVATION_INPUT: usize = u32::MAX as usize - 1;

/// A derivation input must be non-empty and fit its `u32` length prefix;
/// an oversize input is an error, never a panic or a truncated length.
fn derivable(field: &'static str, bytes: &[u8]) -> Result<(), ConnectorInputError> {
    if bytes.is_empty() {
        return Err(ConnectorInputError::Empty { field });
    }
    if bytes.len() > MAX_DERIVATION_INPUT {
        return Err(ConnectorInputError::TooLarge { field, size: bytes.len(), max: MAX_DERIVATION_INPUT });
    }
    Ok(())
}

/// An 8-byte connector name: printable ASCII, zero-padded on the right.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectorTag([u8; 8]);

impl ConnectorTag {
    /// Unchecked; [`try_from_ascii`](Self::try_from_ascii) validates a name.
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// A 1-to-8-byte name of printable ASCII (`0x21..=0x7E`), zero-padded; the first
    /// violation is the error, with field `ConnectorTag`.
    pub fn try_from_ascii(name: &str) -> Result<Self, ConnectorInputError> {
        const FIELD: &str = "ConnectorTag";
        let bytes = name.as_bytes();
        derivable(FIELD, bytes)?;
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

    /// The 8 bytes hashed into a [`StableItemId`], padding included.
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
    /// Derives the hash of a connector instance id (4 + n input bytes); `Empty` or
    /// `TooLarge` for an id that cannot be derived.
    pub fn from_instance_id_bytes(instance_id: &[u8]) -> Result<Self, ConnectorInputError> {
        derivable("ConnectorInstanceId", instance_id)?;
        Ok(Self::from_bytes(derive(&CONNECTOR_INSTANCE_ID, |h| instance_id.write_canonical(h))))
    }
}

impl ObjectVersionId {
    /// Derives the id of a connector's version bytes (4 + n input bytes); `Empty` or
    /// `TooLarge` for bytes that cannot be derived.
    pub fn from_version_bytes(version: &[u8]) -> Result<Self, ConnectorInputError> {
        derivable("ObjectVersion", version)?;
        Ok(Self::from_bytes(derive(&OBJECT_VERSION, |h| version.write_canonical(h))))
    }
}

/// Where an item lives: connector, connector instance and locator bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemIdentityKey {
    /// The connector kind.
    pub connector: ConnectorTag,
    /// The connector instance, hashed.
    pub connector_instance: ConnectorInstanceIdHash,
    /// Where the item lives within the instance; must not be empty.
    pub locator: Vec<u8>,
}

impl ItemIdentityKey {
    /// Derives the item's id (44 + n input bytes); `Empty` or `TooLarge` for a
    /// locator that cannot be derived.
    pub fn stable_id(&self) -> Result<StableItemId, ConnectorInputError> {
        derivable("ItemIdentityKey.locator", &self.locator)?;
        Ok(StableItemId::from_bytes(derive(&ITEM_ID, |h| {
            self.connector.write_canonical(h);
            self.connector_instance.write_canonical(h);
            self.locator.as_slice().write_canonical(h);
        })))
    }
}

/// A connector's version of an object; strong versions are content-exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionId {
    /// Identifies the content exactly.
    Strong(ObjectVersionId),
    /// Not content-exact; hashes apart from a strong version of the same id.
    Weak(ObjectVersionId),
}

impl VersionId {
    /// The version id, whichever its strength.
    pub const fn object_version_id(self) -> ObjectVersionId {
        match self {
            Self::Strong(v) | Self::Weak(v) => v,
        }
    }

    /// Whether the version is content-exact.
    pub const fn is_strong(self) -> bool {
        matches!(self, Self::Strong(_))
    }
}

/// The inputs of [`derive_ovid_hash`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OvidHashInputs {
    /// The item.
    pub stable_item_id: StableItemId,
    /// Its version; the strength is hashed too (`0` strong, `1` weak).
    pub version: VersionId,
}

/// The done-ledger key component for one object version (65 input bytes).
pub fn derive_ovid_hash(inputs: &OvidHashInputs) -> OvidHash {
    OvidHash::from_bytes(derive(&OVID_HASH, |h| {
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

/// The inputs of [`derive_finding_id`], hashed in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingIdInputs {
    /// The tenant the finding belongs to.
    pub tenant: TenantId,
    /// The item the secret is in.
    pub item: StableItemId,
    /// The rule that matched.
    pub rule: RuleFingerprint,
    /// The tenant-keyed secret hash ([`key_secret_hash`]).
    pub secret: SecretHash,
}

/// A finding's id (128 input bytes): one per tenant, item, rule and secret.
pub fn derive_finding_id(inputs: &FindingIdInputs) -> FindingId {
    FindingId::from_bytes(derive(&FINDING_ID, |h| {
        inputs.tenant.write_canonical(h);
        inputs.item.write_canonical(h);
        inputs.rule.write_canonical(h);
        inputs.secret.write_canonical(h);
    }))
}

/// The inputs of [`derive_occurrence_id`], hashed in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OccurrenceIdInputs {
    /// The finding that occurs.
    pub finding: FindingId,
    /// The object version it occurs in.
    pub version: ObjectVersionId,
    /// Where the span starts, in bytes.
    pub byte_offset: u64,
    /// The span's length in bytes.
    pub byte_length: u64,
}

/// An occurrence's id (80 input bytes); the tenant is no input, the finding id
/// already carries it.
pub fn derive_occurrence_id(inputs: &OccurrenceIdInputs) -> OccurrenceId {
    OccurrenceId::from_bytes(derive(&OCCURRENCE_ID, |h| {
        inputs.finding.write_canonical(h);
        inputs.version.write_canonical(h);
        inputs.byte_offset.write_canonical(h);
        inputs.byte_length.write_canonical(h);
    }))
}

/// The inputs of [`derive_observation_id`], hashed in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObservationIdInputs {
    /// The tenant the observation belongs to.
    pub tenant: TenantId,
    /// The policy the occurrence was seen under.
    pub policy: PolicyHash,
    /// The occurrence seen.
    pub occurrence: OccurrenceId,
}

/// An observation's id (96 input bytes); the ovid is no input. Stores recompute
/// it and reject a mismatch (`docs/contract.md §2.3`).
pub fn derive_observation_id(inputs: &ObservationIdInputs) -> ObservationId {
    ObservationId::from_bytes(derive(&OBSERVATION_ID, |h| {
        inputs.tenant.write_canonical(h);
        inputs.policy.write_canonical(h);
        inputs.occurrence.write_canonical(h);
    }))
}

/// How secret hashes were computed under a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum IdHashMode {
    /// Secret hashes not keyed per tenant.
    Unkeyed = 0,
    /// Secret hashes keyed with the tenant's secret key ([`key_secret_hash`]).
    KeyedV1 = 1,
}

/// The inputs of [`PolicyHash::derive`], hashed in field order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyHashInputs {
    /// [`PolicyHash::CURRENT_VERSION`] for new policies.
    pub policy_hash_version: u32,
    /// How the policy's secret hashes are computed.
    pub id_hash_mode: IdHashMode,
    /// [`PolicyHash::CURRENT_EVIDENCE_VERSION`] for new policies.
    pub evidence_hash_version: u32,
    /// Digest of the policy's rules.
    pub rules_digest: [u8; 32],
}

impl PolicyHash {
    /// The policy-hash version new policies derive with.
    pub const CURRENT_VERSION: u32 = 1;
    /// The evidence-hash version new policies derive with.
    pub const CURRENT_EVIDENCE_VERSION: u32 = 1;

    /// Derives the policy hash (41 input bytes).
    pub fn derive(inputs: &PolicyHashInputs) -> Self {
        Self::from_bytes(derive(&POLICY_HASH, |h| {
            inputs.policy_hash_version.write_canonical(h);
            (inputs.id_hash_mode as u8).write_canonical(h);
            inputs.evidence_hash_version.write_canonical(h);
            inputs.rules_digest.write_canonical(h);
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::hashing::domain_hasher;

    #[test]
    fn a_cached_context_key_hashes_as_the_context_string_does() {
        let domains = [
            &CONNECTOR_INSTANCE_ID,
            &OBJECT_VERSION,
            &ITEM_ID,
            &OVID_HASH,
            &FINDING_ID,
            &OCCURRENCE_ID,
            &OBSERVATION_ID,
            &POLICY_HASH,
        ];
        for domain in domains {
            // Twice: the first call fills the cache, the second reads it.
            for _ in 0..2 {
                let (mut cached, mut direct) = (domain.hasher(), domain_hasher(domain.context));
                cached.update(b"input");
                direct.update(b"input");
                assert_eq!(finalize_32(&cached), finalize_32(&direct), "{}", domain.context);
            }
        }
    }
}
