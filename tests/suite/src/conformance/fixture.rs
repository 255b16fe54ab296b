//! The reference fixture `sample_fixture(seed)` (docs/contract.md §13.1) and the
//! small record builders the other checks share.

use std::sync::Arc;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, OvidHashInputs, PolicyHash, RuleFingerprint, RunId,
    SecretHash, ShardId, StableItemId, TenantId, TenantSecretKey, VersionId, derive_ovid_hash, key_secret_hash,
};
use gossip_persistence::{ConnectorInputError, Location, PersistenceInputError};
use thiserror::Error;

/// The largest seed: the fixture derives bytes up to `seed + 5` (and the
/// list check up to `seed + 33`, which wraps like the reference does).
pub const MAX_FIXTURE_SEED: u8 = 0xF9;

/// Why the fixture or a record builder refused its input.
#[derive(Debug, Error)]
pub enum FixtureError {
    /// A seed above [`MAX_FIXTURE_SEED`].
    #[error("fixture seed {0:#04x} is above the maximum {MAX_FIXTURE_SEED:#04x}")]
    SeedOutOfRange(u8),
    /// A location, version or tag the connector boundary refuses.
    #[error(transparent)]
    Connector(#[from] ConnectorInputError),
    /// A record the contract refuses to build.
    #[error(transparent)]
    Input(#[from] PersistenceInputError),
}

/// 32 bytes of value `byte`: every fixture id is one.
pub const fn fill32(byte: u8) -> [u8; 32] {
    [byte; 32]
}

/// One finding → occurrence → observation chain plus the two done-ledger rows
/// for its object version, all derived from one seed.
#[derive(Clone, Debug)]
pub struct SampleFixture {
    /// The seed everything below is derived from.
    pub seed: u8,
    /// `fill32(seed)` under [`sample_fixture`].
    pub tenant_id: TenantId,
    /// `fill32(seed + 1)` under [`sample_fixture`].
    pub policy_hash: PolicyHash,
    /// `fill32(seed + 2)`.
    pub stable_item_id: StableItemId,
    /// `fill32(seed + 3)`.
    pub rule_fingerprint: RuleFingerprint,
    /// Keyed with `fill32(seed + 4)` over the norm hash `fill32(seed + 5)`.
    pub secret_hash: SecretHash,
    /// Derived from `conformance-version-{seed}`.
    pub object_version_id: ObjectVersionId,
    /// The strong version of the item.
    pub ovid_hash: OvidHash,
    /// (tenant, policy, ovid): the key of both done-ledger rows.
    pub key: DoneLedgerKey,
    /// The finding, with its derived id.
    pub finding: FindingRecord,
    /// Of the finding in the object version, at offset `100 + seed`, 32 bytes long.
    pub occurrence: OccurrenceRecord,
    /// Of the occurrence, with run, shard, fence and seen-at `10000`, `20000`,
    /// `30000` and `40000` plus the seed, and a location.
    pub observation: ObservationRecord,
    /// FailedRetryable with the larger byte count, so a backend that keeps
    /// the winning row instead of the per-field max is caught.
    pub failed_record: DoneLedgerRecord,
    /// ScannedWithFindings, count 1, with the later provenance.
    pub scanned_record: DoneLedgerRecord,
}

/// The reference fixture: tenant `fill32(seed)`, policy `fill32(seed + 1)`.
pub fn sample_fixture(seed: u8) -> Result<SampleFixture, FixtureError> {
    SampleFixture::in_scope(
        seed,
        TenantId::from_bytes(fill32(seed)),
        PolicyHash::from_bytes(fill32(seed.wrapping_add(1))),
    )
}

impl SampleFixture {
    /// The reference fixture for `seed`, but under the given tenant and
    /// policy, so several chains can share one scope (or one seed can be
    /// repeated in two scopes).
    pub fn in_scope(seed: u8, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Self, FixtureError> {
        if seed > MAX_FIXTURE_SEED {
            return Err(FixtureError::SeedOutOfRange(seed));
        }
        let s = u64::from(seed);
        let at = |k: u8| fill32(seed.wrapping_add(k));
        let stable_item_id = StableItemId::from_bytes(at(2));
        let rule_fingerprint = RuleFingerprint::from_bytes(at(3));
        let tenant_key = TenantSecretKey::from_bytes(at(4));
        let norm = NormHash::from_digest(at(5));
        let secret_hash = key_secret_hash(&tenant_key, &norm);
        let finding = FindingRecord::new(tenant_id, stable_item_id, rule_fingerprint, secret_hash);
        let object_version_id = ObjectVersionId::from_version_bytes(format!("conformance-version-{seed}").as_bytes())?;
        let occurrence = OccurrenceRecord::try_new(tenant_id, finding.finding_id(), object_version_id, 100 + s, 32)?;
        let ovid_hash =
            derive_ovid_hash(&OvidHashInputs { stable_item_id, version: VersionId::Strong(object_version_id) });
        let location = Location::try_new(
            format!("safe/path/conformance-{seed}.txt"),
            Some(format!("https://example.invalid/conformance/{seed}")),
        )?;
        let observation = ObservationRecord::new(
            tenant_id,
            occurrence.occurrence_id(),
            policy_hash,
            ovid_hash,
            RunId::from_raw(10_000 + s),
            ShardId::from_raw(20_000 + s),
            FenceEpoch::from_raw(30_000 + s),
            LogicalTime::from_raw(40_000 + s),
        )
        .with_location(Arc::new(location));
        let key = DoneLedgerKey::new(tenant_id, policy_hash, ovid_hash);
        let failed_record = done_record(
            key,
            DoneLedgerStatus::FailedRetryable,
            4096,
            1,
            provenance(50_000 + s, 60_000 + s, 70_000 + s, 80_000 + s, 80_010 + s),
            Some("TIMEOUT"),
        )?;
        let scanned_record = done_record(
            key,
            DoneLedgerStatus::ScannedWithFindings,
            2048,
            1,
            provenance(50_100 + s, 60_100 + s, 70_100 + s, 80_100 + s, 80_110 + s),
            None,
        )?;
        Ok(Self {
            seed,
            tenant_id,
            policy_hash,
            stable_item_id,
            rule_fingerprint,
            secret_hash,
            object_version_id,
            ovid_hash,
            key,
            finding,
            occurrence,
            observation,
            failed_record,
            scanned_record,
        })
    }

    /// The finding, its occurrence and its observation as one batch.
    pub fn full_batch(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(
            core::slice::from_ref(&self.finding),
            core::slice::from_ref(&self.occurrence),
            core::slice::from_ref(&self.observation),
        )
    }
}

/// Provenance from raw run, shard, fence, started and finished values.
pub const fn provenance(run: u64, shard: u64, fence: u64, started: u64, finished: u64) -> DoneLedgerProvenance {
    DoneLedgerProvenance::new(
        RunId::from_raw(run),
        ShardId::from_raw(shard),
        FenceEpoch::from_raw(fence),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    )
}

/// Builds a row through `try_new`, which checks only the findings shape, so
/// rows that `validate()` rejects can still be built to test write paths.
pub fn done_record(
    key: DoneLedgerKey,
    status: DoneLedgerStatus,
    bytes_scanned: u64,
    findings_count: u32,
    provenance: DoneLedgerProvenance,
    error_code: Option<&str>,
) -> Result<DoneLedgerRecord, FixtureError> {
    let code = error_code.map(DoneLedgerErrorCode::try_new).transpose()?;
    Ok(DoneLedgerRecord::try_new(key, status, bytes_scanned, findings_count, provenance, code)?)
}

/// The ovid of a strong version of the item `fill32(stable_byte)`.
pub fn strong_ovid(stable_byte: u8, version: &str) -> Result<OvidHash, FixtureError> {
    let version = ObjectVersionId::from_version_bytes(version.as_bytes())?;
    Ok(derive_ovid_hash(&OvidHashInputs {
        stable_item_id: StableItemId::from_bytes(fill32(stable_byte)),
        version: VersionId::Strong(version),
    }))
}

/// An ovid built straight from an index, for bulk rows that only need to be distinct.
pub fn indexed_ovid(index: u32) -> OvidHash {
    let mut bytes = [0xA5; 32];
    bytes[..4].copy_from_slice(&index.to_le_bytes());
    OvidHash::from_bytes(bytes)
}

/// `n` ScannedClean rows with distinct keys in one scope, numbered from `first`.
pub fn clean_rows(
    tenant: TenantId,
    policy: PolicyHash,
    first: u32,
    n: usize,
) -> Result<Vec<DoneLedgerRecord>, FixtureError> {
    (first..)
        .take(n)
        .map(|i| {
            done_record(
                DoneLedgerKey::new(tenant, policy, indexed_ovid(i)),
                DoneLedgerStatus::ScannedClean,
                u64::from(i),
                0,
                provenance(1, 2, 3, 4, 5),
                None,
            )
        })
        .collect()
}
