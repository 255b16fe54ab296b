//! The in-memory findings sink beyond the reference scenarios: durable
//! parents, tenant isolation, receipts, observation upserts and the probe.

mod common;

use std::sync::Arc;

use common::{
    chain, finding_record, location, observation_record, occurrence_record, sink_state, tenant, upsert_findings,
};
use gossip_persistence::findings::{DurableFindingsCounts, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::LogicalTime;
use gossip_persistence::{
    CommitHandle, FindingsConformanceProbe, FindingsInspect, FindingsSink, InMemoryFindingsSink,
    RECOMMENDED_MAX_BATCH_SIZE, StoreError,
};

#[test]
fn full_batch_then_replay_changes_counts_once() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(0x44, 0x44);
    let before = sink.durable_counts().expect("probe");
    let receipt = sink.upsert_batch(c.batch()).expect("accepted").wait().expect("durable");
    assert_eq!((receipt.finding_count(), receipt.occurrence_count(), receipt.observation_count()), (1, 1, 1));
    let after = sink.durable_counts().expect("probe");
    assert_eq!(after.saturating_sub(before), DurableFindingsCounts::new(1, 1, 1));
    let replay = sink.upsert_batch(c.batch()).expect("accepted").wait().expect("durable");
    assert_eq!(replay, receipt, "a replay acknowledges the same distinct rows");
    assert_eq!(sink.durable_counts().expect("probe"), after);
}

#[test]
fn parents_may_already_be_durable() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    upsert_findings(&sink, FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &[], &[]));
    upsert_findings(&sink, FindingsUpsertBatch::new(&[], core::slice::from_ref(&c.occurrence), &[]));
    upsert_findings(&sink, FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&c.observation)));
    let state = sink_state(&sink);
    assert_eq!(state.counts, DurableFindingsCounts::new(1, 1, 1));
    assert_eq!(state.observations, vec![c.observation]);
}

#[test]
fn a_parent_in_another_tenant_does_not_count() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    upsert_findings(&sink, c.batch());
    let before = sink_state(&sink);
    // Same finding id, but the occurrence belongs to tenant 2.
    let foreign = occurrence_record(2, &c.finding, 50, 0);
    let result = sink
        .upsert_batch(FindingsUpsertBatch::new(&[], core::slice::from_ref(&foreign), &[]))
        .expect("accepted")
        .wait();
    assert_eq!(
        result,
        Err(StoreError::MissingFinding {
            tenant_id: tenant(2),
            finding_id: c.finding.finding_id(),
            occurrence_id: foreign.occurrence_id(),
        })
    );
    assert_eq!(sink_state(&sink), before);
    assert_eq!(sink.get_finding(tenant(2), c.finding.finding_id()).expect("read"), None);
    assert_eq!(sink.get_occurrence(tenant(2), c.occurrence.occurrence_id()).expect("read"), None);
}

#[test]
fn tenants_are_stored_separately() {
    let sink = InMemoryFindingsSink::new();
    let a = chain(1, 10);
    let b = chain(2, 10);
    upsert_findings(&sink, a.batch());
    upsert_findings(&sink, b.batch());
    assert_eq!(sink.durable_counts().expect("probe"), DurableFindingsCounts::new(2, 2, 2));
    assert_eq!(sink.findings_snapshot().expect("snapshot"), vec![a.finding.clone(), b.finding.clone()]);
    assert_eq!(sink.get_finding(tenant(1), a.finding.finding_id()).expect("read"), Some(a.finding));
    assert_eq!(sink.get_finding(tenant(2), b.finding.finding_id()).expect("read"), Some(b.finding));
}

#[test]
fn receipt_counts_distinct_keys_including_rows_already_durable() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    upsert_findings(&sink, FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &[], &[]));
    let occurrences = [c.occurrence.clone(), c.occurrence.clone(), occurrence_record(1, &c.finding, 77, 5)];
    let receipt = sink
        .upsert_batch(FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &occurrences, &[]))
        .expect("accepted")
        .wait()
        .expect("durable");
    assert_eq!((receipt.finding_count(), receipt.occurrence_count(), receipt.observation_count()), (1, 2, 0));
}

#[test]
fn in_batch_observation_duplicates_merge_in_order_and_with_durable() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    let durable = observation_record(1, &c.occurrence, 30, 40, 1, 1, 1, 80);
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&c.finding),
            core::slice::from_ref(&c.occurrence),
            core::slice::from_ref(&durable),
        ),
    );
    let batch = [
        observation_record(1, &c.occurrence, 30, 40, 2, 2, 2, 100),
        observation_record(1, &c.occurrence, 30, 40, 3, 3, 3, 50).with_location(location("late/path")),
        observation_record(1, &c.occurrence, 30, 40, 4, 4, 4, 100).with_location(location("tie/path")),
    ];
    let receipt =
        sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &batch)).expect("accepted").wait().expect("durable");
    assert_eq!(receipt.observation_count(), 1);
    let stored = sink.observations_snapshot().expect("snapshot");
    assert_eq!(stored.len(), 1);
    // 80 → 100 (run 2) → 50 keeps run 2 but adopts the location → a tie at
    // 100 with a location on both sides keeps the existing one.
    assert_eq!(stored[0].seen_at(), LogicalTime::from_raw(100));
    assert_eq!(stored[0].run_id().as_raw(), 2);
    assert_eq!(stored[0].location().map(|l| l.display()), Some("late/path"));
}

#[test]
fn a_later_sighting_without_location_keeps_the_known_location() {
    let sink = InMemoryFindingsSink::new();
    let c = chain(0x11, 0x88);
    let loc = location("safe/path/conformance-136.txt");
    let first = c.observation.clone().with_location(Arc::clone(&loc));
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&c.finding),
            core::slice::from_ref(&c.occurrence),
            core::slice::from_ref(&first),
        ),
    );
    let counts = sink.durable_counts().expect("probe");
    let o = &c.observation;
    let later = ObservationRecord::new(
        o.tenant_id(),
        o.occurrence_id(),
        o.policy_hash(),
        o.ovid_hash(),
        o.run_id(),
        o.shard_id(),
        o.fence_epoch(),
        LogicalTime::from_raw(o.seen_at().as_raw() + 1000),
    );
    upsert_findings(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&c.finding),
            core::slice::from_ref(&c.occurrence),
            core::slice::from_ref(&later),
        ),
    );
    assert_eq!(sink.durable_counts().expect("probe"), counts);
    let stored = sink.get_observation(o.tenant_id(), o.observation_id()).expect("read").expect("row");
    assert_eq!(stored.seen_at(), later.seen_at());
    assert!(
        Arc::ptr_eq(&stored.location_arc().expect("location kept"), &loc),
        "the location Arc is shared, not copied"
    );
}

#[test]
fn a_batch_of_exactly_the_recommended_maximum_is_accepted() {
    let sink = InMemoryFindingsSink::new();
    let finding = finding_record(1, 10);
    let occurrences: Vec<OccurrenceRecord> =
        (0..RECOMMENDED_MAX_BATCH_SIZE as u64 - 1).map(|offset| occurrence_record(1, &finding, 7, offset)).collect();
    let batch = FindingsUpsertBatch::new(core::slice::from_ref(&finding), &occurrences, &[]);
    assert_eq!(batch.total_records(), RECOMMENDED_MAX_BATCH_SIZE);
    let receipt = sink.upsert_batch(batch).expect("accepted").wait().expect("durable");
    assert_eq!(receipt.occurrence_count(), RECOMMENDED_MAX_BATCH_SIZE as u64 - 1);
    assert_eq!(sink.durable_counts().expect("probe"), DurableFindingsCounts::new(1, 9_999, 0));
}

#[test]
fn snapshots_sort_by_tenant_then_id() {
    let sink = InMemoryFindingsSink::new();
    for (t, s) in [(2, 1), (1, 2), (1, 1), (2, 2)] {
        upsert_findings(&sink, chain(t, s).batch());
    }
    let findings = sink.findings_snapshot().expect("snapshot");
    let keys: Vec<_> = findings.iter().map(|f| (f.tenant_id(), f.finding_id())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let occ: Vec<_> =
        sink.occurrences_snapshot().expect("snapshot").iter().map(|o| (o.tenant_id(), o.occurrence_id())).collect();
    assert!(occ.windows(2).all(|w| w[0] < w[1]));
    let obs: Vec<_> =
        sink.observations_snapshot().expect("snapshot").iter().map(|o| (o.tenant_id(), o.observation_id())).collect();
    assert!(obs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(findings.len(), 4);
}
