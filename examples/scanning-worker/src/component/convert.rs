//! The scanner interface's WIT values ↔ the worker's plan. Inputs from the
//! scheduler become plan inputs (validated by the planner); planning errors
//! become the scanner's; read rows give the cursors of the next page. The
//! store's records, digests and errors convert with `gossip_persistence::wit`,
//! the same conversions the store component uses.

use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId, StableItemId,
    TenantId, VersionId,
};
use gossip_persistence::wit::{digest_in, field_error, input_error, types as wit};

use super::exports::gossip::scanning_worker::scanner as api;
use crate::plan::{ObjectInput, PlanError, RawLocation, ScanContext, SecretInput};

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
