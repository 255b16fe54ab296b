//! Findings-layer records, batch validations and the observation merge
//! (docs/contract.md §6, §7).

mod common;

use std::num::NonZeroU64;
use std::sync::Arc;

use common::{chain, finding_record, location, observation_record, occurrence_record, tenant};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord, merge_observations,
};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, RunId, ShardId,
};
use gossip_persistence::{Location, PersistenceInputError, WriteContext};

#[test]
fn finding_id_is_derived_and_verified() {
    let f = finding_record(1, 10);
    assert!(f.verify_id());
    assert_eq!(f.tenant_id(), tenant(1));
    // Every input is part of the identity.
    assert_ne!(f.finding_id(), finding_record(2, 10).finding_id());
    assert_ne!(f.finding_id(), finding_record(1, 11).finding_id());
    let forged = FindingRecord::from_persisted_unchecked(
        f.tenant_id(),
        FindingId::from_bytes([0; 32]),
        f.stable_item_id(),
        f.rule_fingerprint(),
        f.secret_hash(),
    );
    assert!(!forged.verify_id());
}

#[test]
fn occurrence_requires_a_non_zero_span() {
    let f = finding_record(1, 10);
    let version = ObjectVersionId::from_bytes([4; 32]);
    assert_eq!(
        OccurrenceRecord::try_new(tenant(1), f.finding_id(), version, 5, 0),
        Err(PersistenceInputError::ZeroSpanLength)
    );
    let o = OccurrenceRecord::try_new(tenant(1), f.finding_id(), version, 5, 9).expect("non-zero");
    assert_eq!(o, OccurrenceRecord::new(tenant(1), f.finding_id(), version, 5, NonZeroU64::new(9).expect("9")));
    assert!(o.verify_id());
    assert_eq!((o.byte_offset(), o.byte_length().get()), (5, 9));
    assert_eq!(o.finding_id(), f.finding_id());
    assert_eq!(o.object_version_id(), version);
    // The span is part of the identity; the tenant is not.
    assert_ne!(
        o.occurrence_id(),
        OccurrenceRecord::try_new(tenant(1), f.finding_id(), version, 6, 9).expect("ok").occurrence_id()
    );
    assert_ne!(
        o.occurrence_id(),
        OccurrenceRecord::try_new(tenant(1), f.finding_id(), version, 5, 8).expect("ok").occurrence_id()
    );
    assert_eq!(
        o.occurrence_id(),
        OccurrenceRecord::try_new(tenant(2), f.finding_id(), version, 5, 9).expect("ok").occurrence_id()
    );
    let forged = OccurrenceRecord::from_persisted_unchecked(
        tenant(1),
        OccurrenceId::from_bytes([1; 32]),
        f.finding_id(),
        version,
        5,
        NonZeroU64::new(9).expect("9"),
    );
    assert!(!forged.verify_id());
}

#[test]
fn observation_constructors_agree() {
    let c = chain(1, 10);
    let obs = &c.observation;
    assert!(obs.verify_id());
    assert_eq!(obs.location(), None);
    let wc = obs.write_context();
    assert_eq!(
        wc,
        WriteContext::new(
            tenant(1),
            common::policy(30),
            RunId::from_raw(50),
            ShardId::from_raw(60),
            FenceEpoch::from_raw(70)
        )
    );
    let rebuilt = ObservationRecord::from_write_context(&wc, obs.occurrence_id(), obs.ovid_hash(), obs.seen_at());
    assert_eq!(&rebuilt, obs);
    let loc = Location::try_new("src/a.rs", Some("https://example.invalid/a")).expect("valid");
    let persisted = ObservationRecord::from_persisted(
        obs.tenant_id(),
        obs.observation_id(),
        obs.occurrence_id(),
        obs.policy_hash(),
        obs.ovid_hash(),
        obs.run_id(),
        obs.shard_id(),
        obs.fence_epoch(),
        obs.seen_at(),
        Some(loc.clone()),
    )
    .expect("canonical id");
    assert_eq!(persisted, obs.clone().with_location(Arc::new(loc.clone())));
    assert_eq!(persisted.location(), Some(&loc));
    assert_eq!(persisted.location_arc().as_deref(), Some(&loc));
}

#[test]
fn from_persisted_rejects_a_non_canonical_id() {
    let obs = chain(1, 10).observation;
    let wrong = ObservationId::from_bytes([0xEE; 32]);
    let result = ObservationRecord::from_persisted(
        obs.tenant_id(),
        wrong,
        obs.occurrence_id(),
        obs.policy_hash(),
        obs.ovid_hash(),
        obs.run_id(),
        obs.shard_id(),
        obs.fence_epoch(),
        obs.seen_at(),
        None,
    );
    assert_eq!(
        result,
        Err(PersistenceInputError::ObservationIdMismatch { expected: obs.observation_id(), actual: wrong })
    );
    let unchecked = forged_observation(&obs, wrong);
    assert!(!unchecked.verify_id());
    assert_eq!(unchecked.derived_observation_id(), obs.observation_id());
    assert_eq!(
        unchecked.validate_identity(),
        Err(PersistenceInputError::ObservationIdMismatch { expected: obs.observation_id(), actual: wrong })
    );
}

fn forged_observation(obs: &ObservationRecord, id: ObservationId) -> ObservationRecord {
    ObservationRecord::from_persisted_unchecked(
        obs.tenant_id(),
        id,
        obs.occurrence_id(),
        obs.policy_hash(),
        obs.ovid_hash(),
        obs.run_id(),
        obs.shard_id(),
        obs.fence_epoch(),
        obs.seen_at(),
        None,
    )
}

#[test]
fn location_limits() {
    use gossip_persistence::ConnectorInputError as E;
    assert_eq!(Location::try_new("", None::<String>), Err(E::Empty { field: "Location.display" }));
    assert_eq!(
        Location::try_new("x".repeat(4097), None::<String>),
        Err(E::TooLarge { field: "Location.display", size: 4097, max: 4096 })
    );
    assert_eq!(
        Location::try_new("x", Some("u".repeat(4097))),
        Err(E::TooLarge { field: "Location.url", size: 4097, max: 4096 })
    );
    let max = Location::try_new("x".repeat(4096), Some("u".repeat(4096))).expect("limits are inclusive");
    assert_eq!(max.display().len(), 4096);
    assert_eq!(max.url().map(str::len), Some(4096));
    assert_eq!(Location::try_new("x", Some("")).expect("valid").url(), None, "empty url becomes None");
}

#[test]
fn batch_accessors_and_counts() {
    let c = chain(1, 10);
    let batch = c.batch();
    assert_eq!(batch.total_records(), 3);
    assert!(!batch.is_empty());
    assert_eq!(batch.findings(), core::slice::from_ref(&c.finding));
    assert_eq!(batch.occurrences(), core::slice::from_ref(&c.occurrence));
    assert_eq!(batch.observations(), core::slice::from_ref(&c.observation));
    let empty = FindingsUpsertBatch::default();
    assert!(empty.is_empty());
    assert_eq!(empty.total_records(), 0);
    assert_eq!(empty.validate_referential_integrity(), Ok(()));
}

#[test]
fn tenant_consistency_checks_every_layer() {
    let a = chain(1, 10);
    let b = chain(2, 20);
    assert_eq!(a.batch().validate_tenant_consistency(), Ok(()));
    let mixed_findings = [a.finding.clone(), b.finding.clone()];
    let mixed_occurrences = [a.occurrence.clone(), b.occurrence.clone()];
    let mixed_observations = [a.observation.clone(), b.observation.clone()];
    let cases = [
        FindingsUpsertBatch::new(&mixed_findings, &[], &[]),
        FindingsUpsertBatch::new(core::slice::from_ref(&a.finding), core::slice::from_ref(&b.occurrence), &[]),
        FindingsUpsertBatch::new(core::slice::from_ref(&a.finding), &[], core::slice::from_ref(&b.observation)),
        FindingsUpsertBatch::new(&[], &mixed_occurrences, &[]),
        FindingsUpsertBatch::new(&[], core::slice::from_ref(&a.occurrence), core::slice::from_ref(&b.observation)),
        FindingsUpsertBatch::new(&[], &[], &mixed_observations),
    ];
    for batch in cases {
        assert_eq!(batch.validate_tenant_consistency(), Err(PersistenceInputError::InconsistentTenant));
        assert_eq!(batch.validate_referential_integrity(), Err(PersistenceInputError::InconsistentTenant));
    }
}

#[test]
fn referential_integrity_is_an_in_batch_check() {
    let c = chain(1, 10);
    assert_eq!(c.batch().validate_referential_integrity(), Ok(()));
    let orphan_occurrence = FindingsUpsertBatch::new(&[], core::slice::from_ref(&c.occurrence), &[]);
    assert_eq!(
        orphan_occurrence.validate_referential_integrity(),
        Err(PersistenceInputError::OrphanedReference { child_type: "OccurrenceRecord", parent_type: "FindingRecord" })
    );
    let orphan_observation =
        FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &[], core::slice::from_ref(&c.observation));
    assert_eq!(
        orphan_observation.validate_referential_integrity(),
        Err(PersistenceInputError::OrphanedReference {
            child_type: "ObservationRecord",
            parent_type: "OccurrenceRecord"
        })
    );
}

#[test]
fn observation_identity_validation_reports_the_first_mismatch() {
    let c = chain(1, 10);
    let bad1 = forged_observation(&c.observation, ObservationId::from_bytes([1; 32]));
    let bad2 = forged_observation(&c.observation, ObservationId::from_bytes([2; 32]));
    let observations = [c.observation.clone(), bad1, bad2];
    let batch = FindingsUpsertBatch::new(&[], &[], &observations);
    assert_eq!(
        batch.validate_observation_identity(),
        Err(PersistenceInputError::ObservationIdMismatch {
            expected: c.observation.observation_id(),
            actual: ObservationId::from_bytes([1; 32]),
        })
    );
}

fn obs_at(seen_at: u64, run: u64, loc: Option<&str>) -> ObservationRecord {
    let c = chain(1, 10);
    let o = observation_record(1, &c.occurrence, 30, 40, run, run + 1, run + 2, seen_at);
    match loc {
        Some(path) => o.with_location(location(path)),
        None => o,
    }
}

#[test]
fn observation_merge_rules() {
    // (existing, incoming, expected seen_at, expected run, expected location)
    let cases = [
        (obs_at(100, 50, None), obs_at(200, 90, None), 200, 90, None),
        (obs_at(200, 50, None), obs_at(100, 90, Some("incoming/path")), 200, 50, Some("incoming/path")),
        (obs_at(100, 50, None), obs_at(80, 90, Some("repo/path")), 100, 50, Some("repo/path")),
        (
            obs_at(100, 50, Some("existing/path")),
            obs_at(100, 90, Some("incoming/path")),
            100,
            50,
            Some("existing/path"),
        ),
        (obs_at(100, 50, Some("existing/path")), obs_at(100, 90, None), 100, 50, Some("existing/path")),
        (obs_at(100, 50, None), obs_at(100, 90, Some("incoming/path")), 100, 90, Some("incoming/path")),
        (obs_at(100, 50, None), obs_at(100, 90, None), 100, 50, None),
        (obs_at(100, 50, Some("existing/path")), obs_at(300, 90, None), 300, 90, Some("existing/path")),
        (obs_at(100, 50, Some("existing/path")), obs_at(300, 90, Some("new/path")), 300, 90, Some("new/path")),
    ];
    for (existing, incoming, seen_at, run, loc) in cases {
        let merged = merge_observations(&existing, &incoming).expect("same identity");
        assert_eq!(merged.seen_at(), LogicalTime::from_raw(seen_at));
        assert_eq!(merged.run_id(), RunId::from_raw(run), "run from the winner");
        assert_eq!(merged.shard_id(), ShardId::from_raw(run + 1), "shard from the winner");
        assert_eq!(merged.fence_epoch(), FenceEpoch::from_raw(run + 2), "fence from the winner");
        assert_eq!(merged.location().map(Location::display), loc);
        assert!(merged.verify_id());
        assert!(merged.same_identity(&existing));
    }
}

#[test]
fn observation_merge_keeps_a_location_whole() {
    let url_loc = Arc::new(Location::try_new("a/path", Some("https://example.invalid/a")).expect("valid"));
    let existing = obs_at(100, 50, None).with_location(Arc::clone(&url_loc));
    let incoming = obs_at(200, 90, None);
    let merged = merge_observations(&existing, &incoming).expect("same identity");
    assert_eq!(merged.location(), Some(&*url_loc));
    assert!(Arc::ptr_eq(&merged.location_arc().expect("location"), &url_loc), "the Arc is shared, not copied");
}

#[test]
fn observation_merge_conflicts_on_any_identity_field() {
    let base = obs_at(100, 50, None);
    let c = chain(1, 10);
    let other_occurrence = occurrence_record(1, &c.finding, 99, 0);
    let other_ovid = observation_record(1, &c.occurrence, 30, 41, 50, 51, 52, 100);
    let other_policy = observation_record(1, &c.occurrence, 31, 40, 50, 51, 52, 100);
    let other_occ = observation_record(1, &other_occurrence, 30, 40, 50, 51, 52, 100);
    let other_tenant = observation_record(2, &c.occurrence, 30, 40, 50, 51, 52, 100);
    assert_eq!(other_ovid.observation_id(), base.observation_id(), "ovid is not part of the derived id");
    for other in [other_ovid, other_policy, other_occ, other_tenant] {
        assert!(merge_observations(&base, &other).is_none(), "{other:?}");
        assert!(merge_observations(&other, &base).is_none(), "{other:?}");
    }
}

#[test]
fn receipts_and_durable_counts() {
    let r = FindingsCommitReceipt::new(1, 2, 3);
    assert_eq!((r.finding_count(), r.occurrence_count(), r.observation_count()), (1, 2, 3));
    let a = DurableFindingsCounts::new(5, 2, 9);
    let b = DurableFindingsCounts::new(3, 4, 9);
    assert_eq!(a.saturating_sub(b), DurableFindingsCounts::new(2, 0, 0));
    assert_eq!(DurableFindingsCounts::default(), DurableFindingsCounts::new(0, 0, 0));
    assert_eq!((a.findings, a.occurrences, a.observations), (5, 2, 9));
}

#[test]
fn observation_ids_depend_on_tenant_policy_and_occurrence() {
    let c = chain(1, 10);
    let obs = |t: u8, p: u8| observation_record(t, &c.occurrence, p, 40, 1, 1, 1, 1).observation_id();
    assert_ne!(obs(1, 30), obs(2, 30));
    assert_ne!(obs(1, 30), obs(1, 31));
}
