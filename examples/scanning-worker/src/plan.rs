//! Turning what the engine found into the rows a scan writes.
//!
//! Every id comes from `gossip-persistence`'s own derivations and every row
//! passes its validation here, before the worker touches a store: a request
//! with one bad object writes nothing.

use std::collections::HashSet;
use std::sync::Arc;

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, OvidHash, OvidHashInputs, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId, VersionId, derive_ovid_hash,
};
use gossip_persistence::{ConnectorInputError, Location, PersistenceInputError, check_batch_size};

/// Who is scanning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanContext {
    pub tenant: TenantId,
    pub policy: PolicyHash,
    pub run: RunId,
    pub shard: ShardId,
    pub fence: FenceEpoch,
    pub started_at: LogicalTime,
    pub finished_at: LogicalTime,
}

/// A location as the engine reported it, not yet validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLocation {
    pub display: String,
    pub url: Option<String>,
}

/// One secret the engine reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretInput {
    pub rule: RuleFingerprint,
    pub secret_hash: SecretHash,
    pub byte_offset: u64,
    pub byte_length: u64,
    pub location: Option<RawLocation>,
}

/// One object version and what the engine found in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInput {
    pub stable_item_id: StableItemId,
    pub version: VersionId,
    pub bytes_scanned: u64,
    pub secrets: Vec<SecretInput>,
}

/// The rows one object's scan writes: its findings batch (deduplicated,
/// parents first) and its done row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPlan {
    pub ovid: OvidHash,
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
    pub done: DoneLedgerRecord,
}

/// Why a request cannot be planned; `object` is the index in the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("invalid scan context: {0}")]
    Context(PersistenceInputError),
    #[error("object {object}: {error}")]
    Object { object: usize, error: PersistenceInputError },
    #[error("object {object}: invalid location: {error}")]
    Location { object: usize, error: ConnectorInputError },
}

/// Plans every object of a request, or reports the first bad one.
pub fn plan_scan(context: &ScanContext, objects: Vec<ObjectInput>) -> Result<Vec<ObjectPlan>, PlanError> {
    let provenance =
        DoneLedgerProvenance::new(context.run, context.shard, context.fence, context.started_at, context.finished_at);
    if !provenance.is_ordered() {
        return Err(PlanError::Context(PersistenceInputError::ProvenanceOrdering {
            started_at: context.started_at.as_raw(),
            finished_at: context.finished_at.as_raw(),
        }));
    }
    objects.into_iter().enumerate().map(|(object, input)| plan_object(context, provenance, object, input)).collect()
}

fn plan_object(
    context: &ScanContext,
    provenance: DoneLedgerProvenance,
    object: usize,
    input: ObjectInput,
) -> Result<ObjectPlan, PlanError> {
    let invalid = |error| PlanError::Object { object, error };
    let ovid = derive_ovid_hash(&OvidHashInputs { stable_item_id: input.stable_item_id, version: input.version });
    let version = input.version.object_version_id();

    // The engine may report one secret at several spans (one finding, many
    // occurrences) or one span twice: keep each row once, first seen first.
    let mut findings = Vec::new();
    let mut occurrences = Vec::new();
    let mut observations = Vec::new();
    let (mut seen_findings, mut seen_occurrences) = (HashSet::new(), HashSet::new());
    for secret in input.secrets {
        let location = secret
            .location
            .map(|raw| Location::try_new(raw.display, raw.url).map(Arc::new))
            .transpose()
            .map_err(|error| PlanError::Location { object, error })?;
        let finding = FindingRecord::new(context.tenant, input.stable_item_id, secret.rule, secret.secret_hash);
        let occurrence = OccurrenceRecord::try_new(
            context.tenant,
            finding.finding_id(),
            version,
            secret.byte_offset,
            secret.byte_length,
        )
        .map_err(invalid)?;
        if !seen_occurrences.insert(occurrence.occurrence_id()) {
            continue;
        }
        let mut observation = ObservationRecord::new(
            context.tenant,
            occurrence.occurrence_id(),
            context.policy,
            ovid,
            context.run,
            context.shard,
            context.fence,
            context.finished_at,
        );
        if let Some(location) = location {
            observation = observation.with_location(location);
        }
        if seen_findings.insert(finding.finding_id()) {
            findings.push(finding);
        }
        occurrences.push(occurrence);
        observations.push(observation);
    }

    let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
    check_batch_size(batch.total_records()).map_err(invalid)?;
    batch.validate_observation_identity().and_then(|()| batch.validate_referential_integrity()).map_err(invalid)?;

    // At most a third of a bounded batch, so the count always fits.
    let findings_count = u32::try_from(findings.len()).unwrap_or(u32::MAX);
    let status =
        if findings_count == 0 { DoneLedgerStatus::ScannedClean } else { DoneLedgerStatus::ScannedWithFindings };
    let key = DoneLedgerKey::new(context.tenant, context.policy, ovid);
    let done = DoneLedgerRecord::try_new(key, status, input.bytes_scanned, findings_count, provenance, None)
        .map_err(invalid)?;
    done.validate().map_err(invalid)?;
    Ok(ObjectPlan { ovid, findings, occurrences, observations, done })
}

#[cfg(test)]
mod tests {
    use gossip_persistence::RECOMMENDED_MAX_BATCH_SIZE;
    use gossip_persistence::identity::{ObjectVersionId, ObservationIdInputs, derive_observation_id};

    use super::*;

    fn id(byte: u8) -> [u8; 32] {
        [byte; 32]
    }

    fn context() -> ScanContext {
        ScanContext {
            tenant: TenantId::from_bytes(id(1)),
            policy: PolicyHash::from_bytes(id(2)),
            run: RunId::from_raw(7),
            shard: ShardId::from_raw(3),
            fence: FenceEpoch::from_raw(1),
            started_at: LogicalTime::from_raw(100),
            finished_at: LogicalTime::from_raw(200),
        }
    }

    fn secret(rule: u8, offset: u64, length: u64) -> SecretInput {
        SecretInput {
            rule: RuleFingerprint::from_bytes(id(rule)),
            secret_hash: SecretHash::from_persisted_bytes(id(rule + 100)),
            byte_offset: offset,
            byte_length: length,
            location: None,
        }
    }

    fn object(item: u8, secrets: Vec<SecretInput>) -> ObjectInput {
        ObjectInput {
            stable_item_id: StableItemId::from_bytes(id(item)),
            version: VersionId::Strong(ObjectVersionId::from_bytes(id(item + 50))),
            bytes_scanned: 4096,
            secrets,
        }
    }

    #[test]
    fn a_clean_object_is_scanned_clean_with_no_findings_rows() {
        let plans = plan_scan(&context(), vec![object(10, vec![])]).unwrap();
        let [plan] = plans.as_slice() else { panic!("one plan per object") };
        assert!(plan.findings.is_empty() && plan.occurrences.is_empty() && plan.observations.is_empty());
        assert_eq!(plan.done.status(), DoneLedgerStatus::ScannedClean);
        assert_eq!(plan.done.findings_count(), 0);
        assert_eq!(plan.done.bytes_scanned(), 4096);
        assert_eq!(plan.done.key().ovid_hash(), plan.ovid);
    }

    #[test]
    fn one_secret_at_two_spans_is_one_finding_with_two_occurrences() {
        let repeated = secret(20, 100, 8);
        let plans =
            plan_scan(&context(), vec![object(10, vec![secret(20, 0, 8), repeated.clone(), repeated])]).unwrap();
        let plan = &plans[0];
        assert_eq!((plan.findings.len(), plan.occurrences.len(), plan.observations.len()), (1, 2, 2));
        assert_eq!(plan.done.status(), DoneLedgerStatus::ScannedWithFindings);
        assert_eq!(plan.done.findings_count(), 1);
    }

    #[test]
    fn ids_are_the_canonical_derivations() {
        let ctx = context();
        let plans = plan_scan(&ctx, vec![object(10, vec![secret(20, 0, 8)])]).unwrap();
        let plan = &plans[0];
        let expected_ovid = derive_ovid_hash(&OvidHashInputs {
            stable_item_id: StableItemId::from_bytes(id(10)),
            version: VersionId::Strong(ObjectVersionId::from_bytes(id(60))),
        });
        assert_eq!(plan.ovid, expected_ovid);
        assert!(plan.findings[0].verify_id() && plan.occurrences[0].verify_id());
        let observation = &plan.observations[0];
        let expected = derive_observation_id(&ObservationIdInputs {
            tenant: ctx.tenant,
            policy: ctx.policy,
            occurrence: plan.occurrences[0].occurrence_id(),
        });
        assert_eq!(observation.observation_id(), expected);
        assert_eq!((observation.ovid_hash(), observation.seen_at()), (expected_ovid, ctx.finished_at));
    }

    #[test]
    fn a_weak_version_has_another_ovid_than_the_strong_one() {
        let strong = object(10, vec![]);
        let weak = ObjectInput { version: VersionId::Weak(strong.version.object_version_id()), ..strong.clone() };
        let plans = plan_scan(&context(), vec![strong, weak]).unwrap();
        assert_ne!(plans[0].ovid, plans[1].ovid);
    }

    #[test]
    fn a_zero_length_span_names_its_object() {
        let objects = vec![object(10, vec![secret(20, 0, 8)]), object(11, vec![secret(21, 5, 0)])];
        let error = plan_scan(&context(), objects).unwrap_err();
        assert_eq!(error, PlanError::Object { object: 1, error: PersistenceInputError::ZeroSpanLength });
    }

    #[test]
    fn a_context_that_finishes_before_it_starts_is_rejected() {
        let ctx = ScanContext { started_at: LogicalTime::from_raw(300), ..context() };
        let error = plan_scan(&ctx, vec![object(10, vec![])]).unwrap_err();
        assert_eq!(
            error,
            PlanError::Context(PersistenceInputError::ProvenanceOrdering { started_at: 300, finished_at: 200 })
        );
    }

    #[test]
    fn an_empty_location_is_rejected_and_a_valid_one_is_kept() {
        let mut bad = secret(20, 0, 8);
        bad.location = Some(RawLocation { display: String::new(), url: None });
        let error = plan_scan(&context(), vec![object(10, vec![bad])]).unwrap_err();
        assert_eq!(
            error,
            PlanError::Location { object: 0, error: ConnectorInputError::Empty { field: "Location.display" } }
        );

        let mut good = secret(20, 0, 8);
        good.location = Some(RawLocation { display: "src/main.rs".into(), url: Some(String::new()) });
        let plans = plan_scan(&context(), vec![object(10, vec![good])]).unwrap();
        let location = plans[0].observations[0].location().unwrap();
        assert_eq!((location.display(), location.url()), ("src/main.rs", None));
    }

    #[test]
    fn an_object_over_the_batch_limit_is_rejected() {
        let secrets = (0..5_000).map(|i| secret(20, i, 1)).collect();
        let error = plan_scan(&context(), vec![object(10, secrets)]).unwrap_err();
        assert_eq!(
            error,
            PlanError::Object {
                object: 0,
                error: PersistenceInputError::BatchTooLarge { size: 1 + 2 * 5_000, max: RECOMMENDED_MAX_BATCH_SIZE }
            }
        );
    }
}
