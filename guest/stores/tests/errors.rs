//! Every `PersistenceInputError` and `StoreError` variant the
//! stores can raise, produced through the public API; every rejected batch
//! leaves the whole durable state (all layers) exactly as it was.
//!
//! `StoreError::Poisoned` is the exception: no code path runs
//! caller code while holding a store's lock, so no test can poison it
//! honestly. Only its Display text is checked here.
//! `StoreError::CapacityExceeded` has its own file (capacity.rs), and the
//! in-memory stores never raise `StoreError::StateLost`.

mod common;

use std::error::Error as _;

use common::{
    chain, clean_row, done_record, finding_record, key, ledger_state, populated_ledger, populated_sink, provenance,
    sink_state, tenant,
};
use gossip_persistence::done_ledger::DoneLedgerStatus::*;
use gossip_persistence::done_ledger::{DoneLedgerErrorCode, DoneLedgerRecord};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{ObjectVersionId, ObservationId, SecretHash};
use gossip_persistence::{
    CommitHandle, DoneLedger, FieldError, FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, PendingWriteId,
    PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE, StoreControl, StoreError, StoreKind,
};

use PersistenceInputError as InputError;

/// Submits `records` to a populated ledger and returns the error, asserting
/// that the snapshot is unchanged, whether it failed at submit or at wait.
fn rejected_done_batch(ledger: &InMemoryDoneLedger, records: &[DoneLedgerRecord]) -> StoreError {
    let before = ledger_state(ledger);
    let error = match ledger.batch_upsert(records) {
        Err(e) => e,
        Ok(handle) => handle.wait().expect_err("the batch must be rejected"),
    };
    assert_eq!(ledger_state(ledger), before, "a rejected batch changed durable state ({error})");
    error
}

fn rejected_findings_batch(sink: &InMemoryFindingsSink, batch: FindingsUpsertBatch<'_>) -> StoreError {
    let before = sink_state(sink);
    let error = match sink.upsert_batch(batch) {
        Err(e) => e,
        Ok(handle) => handle.wait().expect_err("the batch must be rejected"),
    };
    assert_eq!(sink_state(sink), before, "a rejected batch changed durable state ({error})");
    error
}

fn many_rows(n: usize) -> Vec<DoneLedgerRecord> {
    (0..n).map(|i| clean_row(1, 2, (i % 256) as u8, i as u64)).collect()
}

// ---- PersistenceInputError, one test per variant ----

#[test]
fn empty() {
    let e = DoneLedgerErrorCode::try_new("").expect_err("empty");
    assert_eq!(e, InputError::Field(FieldError::Empty { field: "DoneLedgerErrorCode" }));
    assert_eq!(e.to_string(), "DoneLedgerErrorCode must not be empty");
}

#[test]
fn too_large() {
    let e = DoneLedgerErrorCode::try_new("X".repeat(129)).expect_err("too large");
    assert_eq!(e.to_string(), "DoneLedgerErrorCode too large (129 bytes, max 128)");
}

#[test]
fn invalid_byte() {
    let e = DoneLedgerErrorCode::try_new("BAD*CODE").expect_err("invalid");
    assert_eq!(e, InputError::Field(FieldError::InvalidByte { field: "DoneLedgerErrorCode", index: 3, byte: b'*' }));
    assert_eq!(e.to_string(), "DoneLedgerErrorCode contains invalid byte 0x2A at index 3");
}

#[test]
fn zero_span_length() {
    let f = finding_record(1, 10);
    let e = OccurrenceRecord::try_new(tenant(1), f.finding_id(), ObjectVersionId::from_bytes([1; 32]), 0, 0)
        .expect_err("zero length");
    assert_eq!(e, InputError::ZeroSpanLength);
    assert_eq!(e.to_string(), "OccurrenceRecord.byte_length must be non-zero");
}

fn forged(obs: &ObservationRecord, id: ObservationId) -> ObservationRecord {
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
fn observation_id_mismatch_is_rejected_at_submit() {
    let sink = populated_sink();
    let c = chain(1, 30);
    let bad = forged(&c.observation, ObservationId::from_bytes([0xAB; 32]));
    let error = rejected_findings_batch(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&c.finding),
            core::slice::from_ref(&c.occurrence),
            core::slice::from_ref(&bad),
        ),
    );
    let expected = InputError::ObservationIdMismatch {
        expected: c.observation.observation_id(),
        actual: ObservationId::from_bytes([0xAB; 32]),
    };
    assert_eq!(error, StoreError::BatchValidation(expected.clone()));
    assert_eq!(
        expected.to_string(),
        format!(
            "observation_id does not match canonical derivation (expected {:?}, got ObservationId(abababab..))",
            c.observation.observation_id()
        )
    );
    // Nothing was submitted: the next write gets op id 3 (after the two setup writes).
    assert_eq!(sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted").operation_id().as_raw(), 3);
}

#[test]
fn inconsistent_findings_count() {
    let e = DoneLedgerRecord::try_new(key(1, 2, 3), ScannedClean, 0, 2, provenance(1, 1, 1, 1, 1), None)
        .expect_err("clean with findings");
    assert_eq!(e, InputError::InconsistentFindingsCount { status: "ScannedClean", findings_count: 2 });
    assert_eq!(e.to_string(), "findings_count 2 is inconsistent with status ScannedClean");
}

#[test]
fn missing_error_code_is_rejected_at_apply() {
    let ledger = populated_ledger();
    let batch = [clean_row(1, 2, 50, 1), done_record(1, 2, 3, Skipped, 0, 0, provenance(1, 1, 1, 1, 1), None)];
    let error = rejected_done_batch(&ledger, &batch);
    assert_eq!(error, StoreError::BatchValidation(InputError::MissingErrorCode { status: "Skipped" }));
    assert_eq!(error.to_string(), "status Skipped requires an error code, but none was provided");
}

#[test]
fn unexpected_error_code_is_rejected_at_apply() {
    let ledger = populated_ledger();
    let batch = [
        clean_row(1, 2, 51, 1),
        done_record(1, 2, 4, ScannedWithFindings, 0, 1, provenance(1, 1, 1, 1, 1), Some("NOPE")),
    ];
    let error = rejected_done_batch(&ledger, &batch);
    assert_eq!(error, StoreError::BatchValidation(InputError::UnexpectedErrorCode { status: "ScannedWithFindings" }));
    assert_eq!(error.to_string(), "status ScannedWithFindings must not carry an error code");
}

#[test]
fn orphaned_reference() {
    let c = chain(1, 10);
    let e = FindingsUpsertBatch::new(&[], core::slice::from_ref(&c.occurrence), &[])
        .validate_referential_integrity()
        .expect_err("orphan");
    assert_eq!(e.to_string(), "OccurrenceRecord references a FindingRecord not present in the batch");
    let e = FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &[], core::slice::from_ref(&c.observation))
        .validate_referential_integrity()
        .expect_err("orphan");
    assert_eq!(e.to_string(), "ObservationRecord references a OccurrenceRecord not present in the batch");
}

#[test]
fn inconsistent_tenant_is_rejected_at_submit_in_every_layer() {
    let sink = populated_sink();
    let a = chain(1, 30);
    let b = chain(2, 30);
    let cases = [
        FindingsUpsertBatch::new(core::slice::from_ref(&a.finding), core::slice::from_ref(&b.occurrence), &[]),
        FindingsUpsertBatch::new(&[], core::slice::from_ref(&a.occurrence), core::slice::from_ref(&b.observation)),
        FindingsUpsertBatch::new(core::slice::from_ref(&b.finding), &[], core::slice::from_ref(&a.observation)),
    ];
    for batch in cases {
        let error = rejected_findings_batch(&sink, batch);
        assert_eq!(error, StoreError::BatchValidation(InputError::InconsistentTenant));
        assert_eq!(error.to_string(), "records in the batch belong to different tenants");
    }
}

#[test]
fn provenance_ordering_is_rejected_at_apply() {
    let ledger = populated_ledger();
    let batch = [clean_row(1, 2, 52, 1), done_record(1, 2, 53, ScannedClean, 0, 0, provenance(1, 1, 1, 50, 40), None)];
    let error = rejected_done_batch(&ledger, &batch);
    assert_eq!(error, StoreError::BatchValidation(InputError::ProvenanceOrdering { started_at: 50, finished_at: 40 }));
    assert_eq!(error.to_string(), "provenance started_at (50) must not exceed finished_at (40)");
}

#[test]
fn key_mismatch() {
    let a = clean_row(1, 2, 3, 0);
    let b = clean_row(1, 2, 4, 0);
    let e = a.merge(&b).expect_err("different keys");
    assert_eq!(
        e.to_string(),
        "merge requires records with the same key (existing: DoneLedgerKey { tenant_id: TenantId(01010101..), \
         policy_hash: PolicyHash(02020202..), ovid_hash: OvidHash(03030303..) }, incoming: DoneLedgerKey { \
         tenant_id: TenantId(01010101..), policy_hash: PolicyHash(02020202..), ovid_hash: OvidHash(04040404..) })"
    );
}

#[test]
fn batch_too_large_for_the_done_ledger() {
    let ledger = populated_ledger();
    let error = rejected_done_batch(&ledger, &many_rows(RECOMMENDED_MAX_BATCH_SIZE + 1));
    assert_eq!(error, StoreError::BatchValidation(InputError::BatchTooLarge { size: 10_001, max: 10_000 }));
    assert_eq!(error.to_string(), "batch of 10001 records exceeds the maximum of 10000");
}

#[test]
fn batch_too_large_for_the_findings_sink_counts_all_layers() {
    let sink = populated_sink();
    let c = chain(1, 30);
    let findings = vec![c.finding.clone(); 3334];
    let occurrences = vec![c.occurrence.clone(); 3334];
    let observations = vec![c.observation.clone(); 3333];
    let error = rejected_findings_batch(&sink, FindingsUpsertBatch::new(&findings, &occurrences, &observations));
    assert_eq!(error, StoreError::BatchValidation(InputError::BatchTooLarge { size: 10_001, max: 10_000 }));
}

// ---- StoreError, one test per variant ----

#[test]
fn injected_submission_failure_for_both_stores() {
    let ledger = populated_ledger();
    ledger.fail_next_submissions(1).expect("arm");
    let error = rejected_done_batch(&ledger, &[clean_row(1, 2, 60, 1)]);
    assert_eq!(error, StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger });
    assert_eq!(error.to_string(), "done-ledger submission failed via fault injection");

    let sink = populated_sink();
    sink.fail_next_submissions(1).expect("arm");
    let error = rejected_findings_batch(&sink, chain(1, 30).batch());
    assert_eq!(error, StoreError::InjectedSubmissionFailure { store: StoreKind::Findings });
    assert_eq!(error.to_string(), "findings submission failed via fault injection");
}

#[test]
fn injected_commit_failure_for_both_stores() {
    let ledger = populated_ledger();
    ledger.fail_next_commits(1).expect("arm");
    let error = rejected_done_batch(&ledger, &[clean_row(1, 2, 61, 1)]);
    assert_eq!(error, StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger });
    assert_eq!(error.to_string(), "done-ledger commit failed via fault injection");

    let sink = populated_sink();
    sink.fail_next_commits(1).expect("arm");
    let error = rejected_findings_batch(&sink, chain(1, 30).batch());
    assert_eq!(error, StoreError::InjectedCommitFailure { store: StoreKind::Findings });
    assert_eq!(error.to_string(), "findings commit failed via fault injection");
}

#[test]
fn unknown_operation_after_the_outcome_was_taken() {
    let ledger = InMemoryDoneLedger::new();
    let mut h = ledger.batch_upsert(&[]).expect("accepted");
    assert!(h.poll().expect("poll").is_some());
    let error = h.poll().expect_err("outcome already taken");
    assert_eq!(
        error,
        StoreError::UnknownOperation { store: StoreKind::DoneLedger, op_id: PendingWriteId::from_raw(1) }
    );
    assert_eq!(error.to_string(), "unknown done-ledger operation PendingWriteId(1)");

    let sink = InMemoryFindingsSink::new();
    let _first = sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted");
    let mut h = sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted");
    assert!(h.poll().expect("poll").is_some());
    let error = h.wait().expect_err("outcome already taken");
    assert_eq!(error, StoreError::UnknownOperation { store: StoreKind::Findings, op_id: PendingWriteId::from_raw(2) });
    assert_eq!(error.to_string(), "unknown findings operation PendingWriteId(2)");
}

#[test]
fn missing_finding() {
    let sink = populated_sink();
    let c = chain(1, 30);
    // The batch also carries a valid new finding, which must not be stored.
    let other = finding_record(1, 40);
    let error = rejected_findings_batch(
        &sink,
        FindingsUpsertBatch::new(core::slice::from_ref(&other), core::slice::from_ref(&c.occurrence), &[]),
    );
    assert_eq!(
        error,
        StoreError::MissingFinding {
            tenant_id: tenant(1),
            finding_id: c.finding.finding_id(),
            occurrence_id: c.occurrence.occurrence_id()
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "occurrence {:?} for tenant TenantId(01010101..) references missing finding {:?}",
            c.occurrence.occurrence_id(),
            c.finding.finding_id()
        )
    );
}

#[test]
fn missing_occurrence() {
    let sink = populated_sink();
    let c = chain(1, 30);
    let error = rejected_findings_batch(
        &sink,
        FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), &[], core::slice::from_ref(&c.observation)),
    );
    assert_eq!(
        error,
        StoreError::MissingOccurrence {
            tenant_id: tenant(1),
            occurrence_id: c.occurrence.occurrence_id(),
            observation_id: c.observation.observation_id(),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "observation {:?} for tenant TenantId(01010101..) references missing occurrence {:?}",
            c.observation.observation_id(),
            c.occurrence.occurrence_id()
        )
    );
}

/// The same finding id with different content (only reachable through a
/// non-canonical id, e.g. from storage or the wire).
fn conflicting_finding(f: &FindingRecord) -> FindingRecord {
    FindingRecord::from_persisted_unchecked(
        f.tenant_id(),
        f.finding_id(),
        f.stable_item_id(),
        f.rule_fingerprint(),
        SecretHash::from_persisted_bytes([0xEE; 32]),
    )
}

#[test]
fn finding_conflict_against_durable_and_within_the_batch() {
    let sink = populated_sink();
    let durable = chain(1, 10).finding;
    let twin = conflicting_finding(&durable);
    let error = rejected_findings_batch(&sink, FindingsUpsertBatch::new(core::slice::from_ref(&twin), &[], &[]));
    assert_eq!(error, StoreError::FindingConflict { tenant_id: tenant(1), finding_id: durable.finding_id() });
    assert_eq!(
        error.to_string(),
        format!("finding conflict for tenant TenantId(01010101..), finding {:?}", durable.finding_id())
    );
    let fresh = chain(1, 30).finding;
    let pair = [fresh.clone(), conflicting_finding(&fresh)];
    let error = rejected_findings_batch(&sink, FindingsUpsertBatch::new(&pair, &[], &[]));
    assert_eq!(error, StoreError::FindingConflict { tenant_id: tenant(1), finding_id: fresh.finding_id() });
}

fn conflicting_occurrence(o: &OccurrenceRecord) -> OccurrenceRecord {
    OccurrenceRecord::from_persisted_unchecked(
        o.tenant_id(),
        o.occurrence_id(),
        o.finding_id(),
        o.object_version_id(),
        o.byte_offset() + 1,
        o.byte_length(),
    )
}

#[test]
fn occurrence_conflict_against_durable_and_within_the_batch() {
    let sink = populated_sink();
    let durable = chain(1, 10);
    let twin = conflicting_occurrence(&durable.occurrence);
    let error = rejected_findings_batch(&sink, FindingsUpsertBatch::new(&[], core::slice::from_ref(&twin), &[]));
    assert_eq!(
        error,
        StoreError::OccurrenceConflict { tenant_id: tenant(1), occurrence_id: durable.occurrence.occurrence_id() }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "occurrence conflict for tenant TenantId(01010101..), occurrence {:?}",
            durable.occurrence.occurrence_id()
        )
    );
    let fresh = chain(1, 30);
    let pair = [fresh.occurrence.clone(), conflicting_occurrence(&fresh.occurrence)];
    let error =
        rejected_findings_batch(&sink, FindingsUpsertBatch::new(core::slice::from_ref(&fresh.finding), &pair, &[]));
    assert!(matches!(error, StoreError::OccurrenceConflict { .. }), "{error:?}");
}

#[test]
fn observation_conflict_against_durable_and_within_the_batch() {
    let sink = populated_sink();
    let durable = chain(1, 10);
    let o = &durable.observation;
    let other_ovid = common::observation_record(1, &durable.occurrence, 30, 99, 1, 1, 1, 999);
    assert_eq!(other_ovid.observation_id(), o.observation_id());
    let error = rejected_findings_batch(&sink, FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&other_ovid)));
    assert_eq!(error, StoreError::ObservationConflict { tenant_id: tenant(1), observation_id: o.observation_id() });
    assert_eq!(
        error.to_string(),
        format!("observation conflict for tenant TenantId(01010101..), observation {:?}", o.observation_id())
    );
    let fresh = chain(1, 30);
    let pair = [fresh.observation.clone(), common::observation_record(1, &fresh.occurrence, 30, 99, 1, 1, 1, 1)];
    let error = rejected_findings_batch(
        &sink,
        FindingsUpsertBatch::new(
            core::slice::from_ref(&fresh.finding),
            core::slice::from_ref(&fresh.occurrence),
            &pair,
        ),
    );
    assert!(matches!(error, StoreError::ObservationConflict { .. }), "{error:?}");
}

#[test]
fn batch_validation_wraps_and_sources_the_input_error() {
    let ledger = populated_ledger();
    let error =
        rejected_done_batch(&ledger, &[done_record(1, 2, 3, FailedPermanent, 0, 0, provenance(1, 1, 1, 1, 1), None)]);
    let inner = InputError::MissingErrorCode { status: "FailedPermanent" };
    assert_eq!(error, StoreError::from(inner.clone()));
    assert_eq!(error.to_string(), inner.to_string());
    let source = error.source().expect("BatchValidation has a source");
    assert_eq!(source.to_string(), inner.to_string());
    assert!(StoreError::InjectedCommitFailure { store: StoreKind::Findings }.source().is_none());
}

#[test]
fn poisoned_display_text() {
    // Not producible from a test (see the module docs); the wording is still checked.
    assert_eq!(StoreError::Poisoned { store: StoreKind::DoneLedger }.to_string(), "done-ledger state lock poisoned");
    assert_eq!(StoreError::Poisoned { store: StoreKind::Findings }.to_string(), "findings state lock poisoned");
}

#[test]
fn store_kind_and_pending_id_formatting() {
    assert_eq!(StoreKind::DoneLedger.to_string(), "done-ledger");
    assert_eq!(StoreKind::Findings.to_string(), "findings");
    let id = PendingWriteId::from_raw(42);
    assert_eq!(format!("{id}"), "PendingWriteId(42)");
    assert_eq!(format!("{id:?}"), "PendingWriteId(42)");
    assert_eq!(id.as_raw(), 42);
}

#[test]
fn connector_input_errors() {
    use gossip_persistence::ConnectorInputError as E;
    use gossip_persistence::identity::{ConnectorInstanceIdHash, ConnectorTag, ItemIdentityKey};
    assert!(matches!(ObjectVersionId::from_version_bytes(b""), Err(E::Empty { .. })));
    assert!(matches!(ConnectorInstanceIdHash::from_instance_id_bytes(b""), Err(E::Empty { .. })));
    assert_eq!(ConnectorTag::try_from_ascii(""), Err(E::Empty { field: "ConnectorTag" }));
    assert_eq!(ConnectorTag::try_from_ascii("ninechars"), Err(E::TooLarge { field: "ConnectorTag", size: 9, max: 8 }));
    let e = ConnectorTag::try_from_ascii("git hub").expect_err("space");
    assert_eq!(e, E::InvalidByte { field: "ConnectorTag", index: 3, byte: b' ' });
    assert_eq!(e.to_string(), "ConnectorTag contains invalid byte 0x20 at index 3");
    let item = ItemIdentityKey {
        connector: ConnectorTag::try_from_ascii("github").expect("valid"),
        connector_instance: ConnectorInstanceIdHash::ZERO,
        locator: Vec::new(),
    };
    assert!(matches!(item.stable_id(), Err(E::Empty { .. })));
    assert_eq!(
        gossip_persistence::Location::try_new("", None::<String>).expect_err("empty").to_string(),
        "Location.display must not be empty"
    );
}

#[test]
fn a_poisoned_lock_is_reported_as_poisoned_by_every_operation() {
    use gossip_persistence::{DoneLedgerInspect, FindingsConformanceProbe, StoreControl, StoreKind};

    let ledger = InMemoryDoneLedger::new();
    ledger.poison_for_tests();
    let poisoned = StoreError::Poisoned { store: StoreKind::DoneLedger };
    assert_eq!(ledger.batch_upsert(&[]).err(), Some(poisoned.clone()));
    assert_eq!(ledger.snapshot().err(), Some(poisoned.clone()));
    assert_eq!(ledger.release_all(gossip_persistence::CompletionOrder::OldestFirst).err(), Some(poisoned.clone()));
    assert_eq!(format!("{ledger:?}"), "InMemoryDoneLedger(<poisoned>)");

    let sink = InMemoryFindingsSink::new();
    sink.poison_for_tests();
    let poisoned = StoreError::Poisoned { store: StoreKind::Findings };
    assert_eq!(sink.durable_counts().err(), Some(poisoned.clone()));
    assert_eq!(sink.upsert_batch(Default::default()).err(), Some(poisoned.clone()));
    assert_eq!(sink.pending_ids().err(), Some(poisoned));
}
