//! WIT values ↔ the store crate's types. Inputs from the scheduler become
//! plan inputs (validated by the planner); planned rows become the store
//! interface's records; native errors become their WIT variants; read rows
//! give the cursors of the next page.

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId, StableItemId,
    TenantId, VersionId,
};
use gossip_persistence::{ConnectorInputError, PersistenceInputError};

use super::exports::gossip::scanning_worker::scanner as api;
use super::gossip::persistence::types as wit;
use crate::plan::{ObjectInput, PlanError, RawLocation, ScanContext, SecretInput};

/// Bytes 0..8 are the first word, little-endian (see `types.digest`).
pub fn digest_in(digest: wit::Digest) -> [u8; 32] {
    let (a, b, c, d) = digest;
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

pub fn digest_out(bytes: &[u8; 32]) -> wit::Digest {
    let word = |i: usize| u64::from_le_bytes(core::array::from_fn(|j| bytes[i * 8 + j]));
    (word(0), word(1), word(2), word(3))
}

/// An index into a request list; a wasm32 list never has more than
/// `u32::MAX` elements, so the fallback is unreachable.
pub fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

pub fn context(c: &api::ScanContext) -> ScanContext {
    ScanContext {
        tenant: TenantId::from_bytes(digest_in(c.tenant_id)),
        policy: PolicyHash::from_bytes(digest_in(c.policy_hash)),
        run: RunId::from_raw(c.run_id),
        shard: ShardId::from_raw(c.shard_id),
        fence: FenceEpoch::from_raw(c.fence_epoch),
        started_at: LogicalTime::from_raw(c.started_at),
        finished_at: LogicalTime::from_raw(c.finished_at),
    }
}

pub fn object(o: api::ObjectScan) -> ObjectInput {
    let version = ObjectVersionId::from_bytes(digest_in(o.object_version_id));
    ObjectInput {
        stable_item_id: StableItemId::from_bytes(digest_in(o.stable_item_id)),
        version: if o.strong_version { VersionId::Strong(version) } else { VersionId::Weak(version) },
        bytes_scanned: o.bytes_scanned,
        secrets: o
            .secrets
            .into_iter()
            .map(|s| SecretInput {
                rule: RuleFingerprint::from_bytes(digest_in(s.rule_fingerprint)),
                secret_hash: SecretHash::from_persisted_bytes(digest_in(s.secret_hash)),
                byte_offset: s.byte_offset,
                byte_length: s.byte_length,
                location: s.location.map(|l| RawLocation { display: l.display, url: l.url }),
            })
            .collect(),
    }
}

fn key(key: &DoneLedgerKey) -> wit::DoneKey {
    wit::DoneKey {
        tenant_id: digest_out(key.tenant_id().as_bytes()),
        policy_hash: digest_out(key.policy_hash().as_bytes()),
        ovid_hash: digest_out(key.ovid_hash().as_bytes()),
    }
}

pub fn done_record(record: &DoneLedgerRecord) -> wit::DoneRecord {
    let p = record.provenance();
    wit::DoneRecord {
        key: key(record.key()),
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

pub fn finding(f: &FindingRecord) -> wit::Finding {
    wit::Finding {
        tenant_id: digest_out(f.tenant_id().as_bytes()),
        finding_id: digest_out(f.finding_id().as_bytes()),
        stable_item_id: digest_out(f.stable_item_id().as_bytes()),
        rule_fingerprint: digest_out(f.rule_fingerprint().as_bytes()),
        secret_hash: digest_out(f.secret_hash().as_bytes()),
    }
}

pub fn occurrence(o: &OccurrenceRecord) -> wit::Occurrence {
    wit::Occurrence {
        tenant_id: digest_out(o.tenant_id().as_bytes()),
        occurrence_id: digest_out(o.occurrence_id().as_bytes()),
        finding_id: digest_out(o.finding_id().as_bytes()),
        object_version_id: digest_out(o.object_version_id().as_bytes()),
        byte_offset: o.byte_offset(),
        byte_length: o.byte_length().get(),
    }
}

pub fn observation(o: &ObservationRecord) -> wit::Observation {
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
        location: o
            .location()
            .map(|l| wit::Location { display: l.display().to_owned(), url: l.url().map(str::to_owned) }),
    }
}

/// Where the next page of findings starts: strictly after this one.
pub fn finding_ref(f: &wit::Finding) -> wit::FindingRef {
    wit::FindingRef { tenant_id: f.tenant_id, finding_id: f.finding_id }
}

/// Where the next page of occurrences starts.
pub fn occurrence_ref(o: &wit::Occurrence) -> wit::OccurrenceRef {
    wit::OccurrenceRef { tenant_id: o.tenant_id, occurrence_id: o.occurrence_id }
}

/// Where the next page of observations starts.
pub fn observation_ref(o: &wit::Observation) -> wit::ObservationRef {
    wit::ObservationRef { tenant_id: o.tenant_id, observation_id: o.observation_id }
}

/// Native errors name statuses by variant name; the WIT carries the rank
/// (0, which names no status, only for a name no status has).
fn status_rank(name: &str) -> u8 {
    DoneLedgerStatus::ALL.iter().find(|s| s.name() == name).map_or(0, |s| s.rank())
}

fn layer(type_name: &str) -> wit::RecordLayer {
    match type_name {
        "FindingRecord" => wit::RecordLayer::Finding,
        "OccurrenceRecord" => wit::RecordLayer::Occurrence,
        _ => wit::RecordLayer::Observation,
    }
}

fn input_error(error: PersistenceInputError) -> wit::InputError {
    use PersistenceInputError as E;
    use wit::InputError as W;
    let size = |field: &str, size: usize, max: usize| wit::SizeLimit {
        field: field.to_owned(),
        size: size as u64,
        max: max as u64,
    };
    match error {
        E::Empty { field } => W::Empty(field.to_owned()),
        E::TooLarge { field, size: n, max } => W::TooLarge(size(field, n, max)),
        E::InvalidByte { field, index, byte } => {
            W::InvalidByte(wit::InvalidByte { field: field.to_owned(), index: index as u64, byte })
        }
        E::ZeroSpanLength => W::ZeroSpanLength,
        E::ObservationIdMismatch { expected, actual } => W::ObservationIdMismatch(wit::IdMismatch {
            expected: digest_out(expected.as_bytes()),
            actual: digest_out(actual.as_bytes()),
        }),
        E::InconsistentFindingsCount { status, findings_count } => {
            W::InconsistentFindingsCount(wit::FindingsCountMismatch { status: status_rank(status), findings_count })
        }
        E::MissingErrorCode { status } => W::MissingErrorCode(status_rank(status)),
        E::UnexpectedErrorCode { status } => W::UnexpectedErrorCode(status_rank(status)),
        E::OrphanedReference { child_type, parent_type } => W::OrphanedReference(wit::OrphanedReference {
            child_type: layer(child_type),
            parent_type: layer(parent_type),
        }),
        E::InconsistentTenant => W::InconsistentTenant,
        E::ProvenanceOrdering { started_at, finished_at } => {
            W::ProvenanceOrdering(wit::TimeRange { started_at, finished_at })
        }
        E::KeyMismatch { existing, incoming } => {
            W::KeyMismatch(wit::KeyMismatch { existing: key(&existing), incoming: key(&incoming) })
        }
        E::BatchTooLarge { size, max } => W::BatchTooLarge(wit::BatchSize { size: size as u64, max: max as u64 }),
    }
}

fn field_error(error: ConnectorInputError) -> wit::FieldError {
    use ConnectorInputError as E;
    match error {
        E::Empty { field } => wit::FieldError::Empty(field.to_owned()),
        E::TooLarge { field, size, max } => {
            wit::FieldError::TooLarge(wit::SizeLimit { field: field.to_owned(), size: size as u64, max: max as u64 })
        }
        E::InvalidByte { field, index, byte } => {
            wit::FieldError::InvalidByte(wit::InvalidByte { field: field.to_owned(), index: index as u64, byte })
        }
    }
}

pub fn plan_error(error: PlanError) -> api::WorkerError {
    match error {
        PlanError::Context(error) => {
            api::WorkerError::InvalidInput(api::InvalidInput { object_index: None, error: input_error(error) })
        }
        PlanError::Object { object, error } => api::WorkerError::InvalidInput(api::InvalidInput {
            object_index: Some(index(object)),
            error: input_error(error),
        }),
        PlanError::Location { object, error } => api::WorkerError::InvalidLocation(api::InvalidLocation {
            object_index: index(object),
            error: field_error(error),
        }),
    }
}
