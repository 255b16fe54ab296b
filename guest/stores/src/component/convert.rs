//! WIT values ↔ domain types: digests, records, locations, counts and
//! receipts. Inbound conversions validate everything and return typed
//! errors, never panicking; ids are carried exactly as given, so the store's
//! own validation rejects bad ones exactly as it does natively.

use std::num::NonZeroU64;
use std::sync::Arc;

use super::wit::types as wit;
use crate::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord,
    DoneLedgerStatus,
};
use crate::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, ObservationRecord, OccurrenceRecord,
};
use crate::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use crate::input_error::PersistenceInputError;
use crate::location::{ConnectorInputError, Location};

/// Bytes 0..8 are the first word, little-endian (see `types.digest`).
pub fn digest_in(digest: wit::Digest) -> [u8; 32] {
    let (a, b, c, d) = digest;
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

/// The inverse of [`digest_in`].
pub fn digest_out(bytes: &[u8; 32]) -> wit::Digest {
    let word = |i: usize| u64::from_le_bytes(core::array::from_fn(|j| bytes[i * 8 + j]));
    (word(0), word(1), word(2), word(3))
}

/// Any three digests form a key.
pub fn key_in(key: &wit::DoneKey) -> DoneLedgerKey {
    DoneLedgerKey::new(
        TenantId::from_bytes(digest_in(key.tenant_id)),
        PolicyHash::from_bytes(digest_in(key.policy_hash)),
        OvidHash::from_bytes(digest_in(key.ovid_hash)),
    )
}

/// The inverse of [`key_in`].
pub fn key_out(key: &DoneLedgerKey) -> wit::DoneKey {
    wit::DoneKey {
        tenant_id: digest_out(key.tenant_id().as_bytes()),
        policy_hash: digest_out(key.policy_hash().as_bytes()),
        ovid_hash: digest_out(key.ovid_hash().as_bytes()),
    }
}

/// Takes the record by value so an error code's string moves into the row.
pub fn done_record_in(record: wit::DoneRecord) -> Result<DoneLedgerRecord, Rejected> {
    let key = key_in(&record.key);
    let status = DoneLedgerStatus::from_rank(record.status).ok_or(Rejected::StatusRank(record.status))?;
    let error_code = match record.error_code {
        Some(code) => Some(DoneLedgerErrorCode::try_new(code)?),
        None => None,
    };
    let p = record.provenance;
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(p.run_id),
        ShardId::from_raw(p.shard_id),
        FenceEpoch::from_raw(p.fence_epoch),
        LogicalTime::from_raw(p.started_at),
        LogicalTime::from_raw(p.finished_at),
    );
    Ok(DoneLedgerRecord::try_new(key, status, record.bytes_scanned, record.findings_count, provenance, error_code)?)
}

/// The inverse of [`done_record_in`]: the status as its rank.
pub fn done_record_out(record: &DoneLedgerRecord) -> wit::DoneRecord {
    let p = record.provenance();
    wit::DoneRecord {
        key: key_out(record.key()),
        status: record.status().rank(),
        bytes_scanned: record.bytes_scanned(),
        findings_count: record.findings_count(),
        provenance: wit::Provenance {
            run_id: p.run_id().as_raw(),
            shard_id: p.shard_id().as_raw(),
            fence_epoch: p.fence_epoch().as_raw(),
            started_at: p.started_at().as_raw(),
            finished_at: p.finished_at().as_raw(),
        },
        error_code: record.error_code().map(|c| c.as_str().to_owned()),
    }
}

/// Takes the id as given; a store never recomputes a finding id.
pub fn finding_in(f: &wit::Finding) -> FindingRecord {
    FindingRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_in(f.tenant_id)),
        FindingId::from_bytes(digest_in(f.finding_id)),
        StableItemId::from_bytes(digest_in(f.stable_item_id)),
        RuleFingerprint::from_bytes(digest_in(f.rule_fingerprint)),
        SecretHash::from_persisted_bytes(digest_in(f.secret_hash)),
    )
}

/// The inverse of [`finding_in`].
pub fn finding_out(f: &FindingRecord) -> wit::Finding {
    wit::Finding {
        tenant_id: digest_out(f.tenant_id().as_bytes()),
        finding_id: digest_out(f.finding_id().as_bytes()),
        stable_item_id: digest_out(f.stable_item_id().as_bytes()),
        rule_fingerprint: digest_out(f.rule_fingerprint().as_bytes()),
        secret_hash: digest_out(f.secret_hash().as_bytes()),
    }
}

/// Takes the id as given; a zero `byte_length` is `ZeroSpanLength`.
pub fn occurrence_in(o: &wit::Occurrence) -> Result<OccurrenceRecord, Rejected> {
    let tenant_id = TenantId::from_bytes(digest_in(o.tenant_id));
    let occurrence_id = OccurrenceId::from_bytes(digest_in(o.occurrence_id));
    let finding_id = FindingId::from_bytes(digest_in(o.finding_id));
    let version = ObjectVersionId::from_bytes(digest_in(o.object_version_id));
    let length = NonZeroU64::new(o.byte_length).ok_or(Rejected::Input(PersistenceInputError::ZeroSpanLength))?;
    Ok(OccurrenceRecord::from_persisted_unchecked(tenant_id, occurrence_id, finding_id, version, o.byte_offset, length))
}

/// The inverse of [`occurrence_in`].
pub fn occurrence_out(o: &OccurrenceRecord) -> wit::Occurrence {
    wit::Occurrence {
        tenant_id: digest_out(o.tenant_id().as_bytes()),
        occurrence_id: digest_out(o.occurrence_id().as_bytes()),
        finding_id: digest_out(o.finding_id().as_bytes()),
        object_version_id: digest_out(o.object_version_id().as_bytes()),
        byte_offset: o.byte_offset(),
        byte_length: o.byte_length().get(),
    }
}

/// Takes the id as given, for the store to check; a bad location is
/// [`Rejected::Location`]. Takes the row by value so its strings move into
/// the location instead of being copied (a fresh allocation each).
pub fn observation_in(o: wit::Observation) -> Result<ObservationRecord, Rejected> {
    let location = match o.location {
        Some(loc) => Some(Arc::new(Location::try_new(loc.display, loc.url).map_err(Rejected::Location)?)),
        None => None,
    };
    Ok(ObservationRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_in(o.tenant_id)),
        ObservationId::from_bytes(digest_in(o.observation_id)),
        OccurrenceId::from_bytes(digest_in(o.occurrence_id)),
        PolicyHash::from_bytes(digest_in(o.policy_hash)),
        OvidHash::from_bytes(digest_in(o.ovid_hash)),
        RunId::from_raw(o.run_id),
        ShardId::from_raw(o.shard_id),
        FenceEpoch::from_raw(o.fence_epoch),
        LogicalTime::from_raw(o.seen_at),
        location,
    ))
}

/// The inverse of [`observation_in`].
pub fn observation_out(o: &ObservationRecord) -> wit::Observation {
    wit::Observation {
        tenant_id: digest_out(o.tenant_id().as_bytes()),
        observation_id: digest_out(o.observation_id().as_bytes()),
        occurrence_id: digest_out(o.occurrence_id().as_bytes()),
        policy_hash: digest_out(o.policy_hash().as_bytes()),
        ovid_hash: digest_out(o.ovid_hash().as_bytes()),
        run_id: o.run_id().as_raw(),
        shard_id: o.shard_id().as_raw(),
        fence_epoch: o.fence_epoch().as_raw(),
        seen_at: o.seen_at().as_raw(),
        location: o.location().map(location_out),
    }
}

/// A location as the WIT carries it; a missing url stays none.
pub fn location_out(location: &Location) -> wit::Location {
    wit::Location { display: location.display().to_owned(), url: location.url().map(str::to_owned) }
}

/// Durable counts as the WIT carries them.
pub const fn counts_out(c: DurableFindingsCounts) -> wit::DurableCounts {
    wit::DurableCounts { findings: c.findings, occurrences: c.occurrences, observations: c.observations }
}

/// A done-ledger receipt as the WIT carries it.
pub const fn done_receipt_out(r: DoneLedgerCommitReceipt) -> wit::DoneReceipt {
    wit::DoneReceipt {
        record_count: r.record_count(),
        scanned_count: r.scanned_count(),
        findings_count: r.findings_count(),
    }
}

/// A findings receipt as the WIT carries it.
pub const fn findings_receipt_out(r: FindingsCommitReceipt) -> wit::FindingsReceipt {
    wit::FindingsReceipt {
        finding_count: r.finding_count(),
        occurrence_count: r.occurrence_count(),
        observation_count: r.observation_count(),
    }
}

/// Why a WIT value was refused on the way in; small, unlike `StoreError`.
#[derive(Debug)]
pub enum Rejected {
    /// A status rank that names no status.
    StatusRank(u8),
    /// What the native constructors report for the same value.
    Input(PersistenceInputError),
    /// A location breaking its size rules.
    Location(ConnectorInputError),
}

impl From<PersistenceInputError> for Rejected {
    fn from(error: PersistenceInputError) -> Self {
        Self::Input(error)
    }
}
