//! Bad input at the boundary: typed errors, never a trap, and the store
//! keeps its state. The raw exports take what the Rust types cannot express.

use gossip_host::bindings::exports::gossip::persistence::types as wit;
use gossip_host::{
    BoundaryError, ComponentDoneLedger, ComponentFindingsSink, ComponentStoreError, FieldError, to_wit_done_record,
};
use gossip_persistence::done_ledger::{DoneLedgerErrorCode, DoneLedgerRecord};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsInspect, FindingsSink, PersistenceInputError,
    RECOMMENDED_MAX_BATCH_SIZE, StoreError, StoreKind,
};

use crate::support::{clean, failed, id, key, runtime};

/// The documented digest encoding: four little-endian words, bytes 0..8 first.
fn words(bytes: &[u8; 32]) -> wit::Digest {
    let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    (word(0), word(1), word(2), word(3))
}

/// Submits raw records and returns the decoded error (a success is a bug).
fn raw_upsert(ledger: &ComponentDoneLedger, records: &[wit::DoneRecord]) -> ComponentStoreError {
    let records = records.to_vec();
    let reply = ledger
        .with_raw(move |store, api, this| {
            api.gossip_persistence_done_ledger().done_ledger().call_batch_upsert(store, this, &records)
        })
        .expect("bad input must not trap");
    match reply {
        Ok(_) => panic!("the component accepted invalid input"),
        Err(e) => ComponentStoreError::from_wit(StoreKind::DoneLedger, "batch-upsert", e),
    }
}

/// A ledger holding one known row, to prove later that no reset lost it.
fn seeded_ledger() -> ComponentDoneLedger {
    let ledger = runtime().new_ledger().expect("instance");
    ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("submit").wait().expect("durable");
    ledger
}

fn assert_still_serving(ledger: &ComponentDoneLedger) {
    assert_eq!(ledger.get_record(&key(1, 2, 3)).expect("read"), Some(clean(key(1, 2, 3))), "state survived");
    let receipt = ledger.batch_upsert(&[clean(key(1, 2, 4))]).expect("submit").wait().expect("durable");
    assert_eq!(receipt.record_count(), 1);
}

fn boundary(error: ComponentStoreError) -> BoundaryError {
    match error {
        ComponentStoreError::Boundary { store: StoreKind::DoneLedger | StoreKind::Findings, error } => error,
        other => panic!("expected a boundary error, got {other:?}"),
    }
}

#[test]
fn digests_cross_as_little_endian_words() {
    // A third-party host must be able to build digests from the WIT doc alone.
    let ledger = seeded_ledger();
    let mut ovid = [0u8; 32];
    for (i, b) in ovid.iter_mut().enumerate() {
        *b = i as u8;
    }
    let row = clean(gossip_persistence::done_ledger::DoneLedgerKey::new(
        TenantId::from_bytes(id(1)),
        PolicyHash::from_bytes(id(2)),
        OvidHash::from_bytes(ovid),
    ));
    ledger.batch_upsert(std::slice::from_ref(&row)).expect("submit").wait().expect("durable");
    let hand_made = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908, 0x1716_1514_1312_1110, 0x1f1e_1d1c_1b1a_1918);
    let reply = ledger
        .with_raw(move |store, api, this| {
            api.gossip_persistence_done_ledger().done_ledger().call_batch_get(
                store,
                this,
                words(&id(1)),
                words(&id(2)),
                &[hand_made, (0, 0, 0, 0)],
            )
        })
        .expect("no trap")
        .expect("no error");
    assert_eq!(reply.len(), 2);
    assert_eq!(reply[0].as_ref().map(|r| r.key.ovid_hash), Some(hand_made));
    assert!(reply[1].is_none());
    assert_still_serving(&ledger);
}

#[test]
fn unknown_status_ranks_are_typed_errors() {
    let ledger = seeded_ledger();
    for rank in [0u8, 4, 9, 12, 255] {
        let mut row = to_wit_done_record(&clean(key(1, 2, 5)));
        row.status = rank;
        assert_eq!(boundary(raw_upsert(&ledger, &[row])), BoundaryError::UnknownStatusRank(rank));
    }
    assert_still_serving(&ledger);
}

#[test]
fn invalid_error_codes_decode_to_the_native_errors() {
    let ledger = seeded_ledger();
    let long = "x".repeat(129);
    for code in ["", "   ", "bad\ncode", "ünïcode", long.as_str()] {
        let mut row = to_wit_done_record(&failed(key(1, 2, 5), "io"));
        row.error_code = Some(code.to_owned());
        let native = DoneLedgerErrorCode::try_new(code).expect_err("invalid natively too");
        let error = raw_upsert(&ledger, &[row]);
        assert_eq!(error, ComponentStoreError::Store(StoreError::BatchValidation(native)));
    }
    // A findings count the status forbids cannot be built natively either.
    let mut row = to_wit_done_record(&clean(key(1, 2, 5)));
    row.findings_count = 3;
    assert_eq!(
        raw_upsert(&ledger, &[row]),
        ComponentStoreError::Store(StoreError::BatchValidation(PersistenceInputError::InconsistentFindingsCount {
            status: "ScannedClean",
            findings_count: 3
        }))
    );
    assert_still_serving(&ledger);
}

#[test]
fn oversized_done_ledger_batches_are_typed_errors() {
    let ledger = seeded_ledger();
    let rows: Vec<DoneLedgerRecord> = (0..=RECOMMENDED_MAX_BATCH_SIZE as u32).map(numbered).collect();
    assert_eq!(rows.len(), 10_001);
    let error = ledger.batch_upsert(&rows).expect_err("over the limit");
    assert_eq!(
        error,
        ComponentStoreError::Store(StoreError::BatchValidation(PersistenceInputError::BatchTooLarge {
            size: 10_001,
            max: 10_000
        }))
    );
    let receipt = ledger.batch_upsert(&rows[..10_000]).expect("at the limit").wait().expect("durable");
    assert_eq!(receipt.record_count(), 10_000);
    assert_still_serving(&ledger);
}

/// A clean row for ovid number `n` in scope (1, 2).
fn numbered(n: u32) -> DoneLedgerRecord {
    let mut ovid = [0u8; 32];
    ovid[..4].copy_from_slice(&n.to_le_bytes());
    clean(gossip_persistence::done_ledger::DoneLedgerKey::new(
        TenantId::from_bytes(id(1)),
        PolicyHash::from_bytes(id(2)),
        OvidHash::from_bytes(ovid),
    ))
}

struct Layers {
    finding: FindingRecord,
    occurrence: OccurrenceRecord,
    observation: ObservationRecord,
}

fn layers() -> Layers {
    let tenant = TenantId::from_bytes(id(1));
    let finding = FindingRecord::new(
        tenant,
        StableItemId::from_bytes(id(2)),
        RuleFingerprint::from_bytes(id(3)),
        SecretHash::from_persisted_bytes(id(4)),
    );
    let occurrence = OccurrenceRecord::try_new(tenant, finding.finding_id(), ObjectVersionId::from_bytes(id(5)), 10, 4)
        .expect("non-zero span");
    let observation = ObservationRecord::new(
        tenant,
        occurrence.occurrence_id(),
        PolicyHash::from_bytes(id(6)),
        OvidHash::from_bytes(id(7)),
        RunId::from_raw(1),
        ShardId::from_raw(2),
        FenceEpoch::from_raw(3),
        LogicalTime::from_raw(4),
    );
    Layers { finding, occurrence, observation }
}

fn wit_layers(l: &Layers) -> (wit::Finding, wit::Occurrence, wit::Observation) {
    let d = words;
    let f = &l.finding;
    let o = &l.occurrence;
    let obs = &l.observation;
    (
        wit::Finding {
            tenant_id: d(f.tenant_id().as_bytes()),
            finding_id: d(f.finding_id().as_bytes()),
            stable_item_id: d(f.stable_item_id().as_bytes()),
            rule_fingerprint: d(f.rule_fingerprint().as_bytes()),
            secret_hash: d(f.secret_hash().as_bytes()),
        },
        wit::Occurrence {
            tenant_id: d(o.tenant_id().as_bytes()),
            occurrence_id: d(o.occurrence_id().as_bytes()),
            finding_id: d(o.finding_id().as_bytes()),
            object_version_id: d(o.object_version_id().as_bytes()),
            byte_offset: o.byte_offset(),
            byte_length: o.byte_length().get(),
        },
        wit::Observation {
            tenant_id: d(obs.tenant_id().as_bytes()),
            observation_id: d(obs.observation_id().as_bytes()),
            occurrence_id: d(obs.occurrence_id().as_bytes()),
            policy_hash: d(obs.policy_hash().as_bytes()),
            ovid_hash: d(obs.ovid_hash().as_bytes()),
            run_id: obs.run_id().as_raw(),
            shard_id: obs.shard_id().as_raw(),
            fence_epoch: obs.fence_epoch().as_raw(),
            seen_at: obs.seen_at().as_raw(),
            location: None,
        },
    )
}

fn raw_findings(
    sink: &ComponentFindingsSink,
    f: &[wit::Finding],
    o: &[wit::Occurrence],
    obs: &[wit::Observation],
) -> ComponentStoreError {
    let (f, o, obs) = (f.to_vec(), o.to_vec(), obs.to_vec());
    let reply = sink
        .with_raw(move |store, api, this| {
            api.gossip_persistence_findings().findings_sink().call_upsert_batch(store, this, &f, &o, &obs)
        })
        .expect("bad input must not trap");
    match reply {
        Ok(_) => panic!("the component accepted invalid input"),
        Err(e) => ComponentStoreError::from_wit(StoreKind::Findings, "upsert-batch", e),
    }
}

fn seeded_sink() -> (ComponentFindingsSink, Layers) {
    let sink = runtime().new_sink().expect("instance");
    let l = layers();
    let batch = FindingsUpsertBatch::new(
        std::slice::from_ref(&l.finding),
        std::slice::from_ref(&l.occurrence),
        std::slice::from_ref(&l.observation),
    );
    sink.upsert_batch(batch).expect("submit").wait().expect("durable");
    (sink, l)
}

fn assert_sink_serving(sink: &ComponentFindingsSink, l: &Layers) {
    assert_eq!(sink.get_finding(l.finding.tenant_id(), l.finding.finding_id()).expect("read"), Some(l.finding.clone()));
    let batch = FindingsUpsertBatch::new(std::slice::from_ref(&l.finding), &[], &[]);
    let receipt = sink.upsert_batch(batch).expect("submit").wait().expect("durable");
    assert_eq!(receipt.finding_count(), 1);
}

#[test]
fn zero_span_lengths_are_typed_errors() {
    let (sink, l) = seeded_sink();
    let (f, mut o, _) = wit_layers(&l);
    o.byte_length = 0;
    assert_eq!(
        raw_findings(&sink, &[f], &[o], &[]),
        ComponentStoreError::Store(StoreError::BatchValidation(PersistenceInputError::ZeroSpanLength))
    );
    assert_sink_serving(&sink, &l);
}

#[test]
fn non_canonical_ids_get_the_native_error() {
    let (sink, l) = seeded_sink();
    // Ids are taken as given: a non-canonical observation id is rejected by
    // the guest's own validation, with the native error.
    let (f, o, mut obs) = wit_layers(&l);
    obs.observation_id = words(&id(9));
    let expected = PersistenceInputError::ObservationIdMismatch {
        expected: l.observation.observation_id(),
        actual: gossip_persistence::identity::ObservationId::from_bytes(id(9)),
    };
    assert_eq!(
        raw_findings(&sink, &[f], &[o], &[obs]),
        ComponentStoreError::Store(StoreError::BatchValidation(expected))
    );
    assert_sink_serving(&sink, &l);
}

#[test]
fn oversized_locations_are_typed_errors() {
    let (sink, l) = seeded_sink();
    let (f, o, obs) = wit_layers(&l);
    let cases = [
        ("x".repeat(4097), None, FieldError::TooLarge { field: "Location.display".into(), size: 4097, max: 4096 }),
        (
            "ok".to_owned(),
            Some("u".repeat(5000)),
            FieldError::TooLarge { field: "Location.url".into(), size: 5000, max: 4096 },
        ),
        (String::new(), None, FieldError::Empty { field: "Location.display".into() }),
        (
            "y".repeat(1 << 20),
            None,
            FieldError::TooLarge { field: "Location.display".into(), size: 1 << 20, max: 4096 },
        ),
    ];
    for (display, url, expected) in cases {
        let mut bad = obs.clone();
        bad.location = Some(wit::Location { display, url });
        let error = raw_findings(&sink, &[f], &[o], &[bad]);
        assert_eq!(boundary(error), BoundaryError::InvalidLocation(expected));
    }
    assert_sink_serving(&sink, &l);
}

#[test]
fn oversized_findings_batches_are_typed_errors() {
    let (sink, l) = seeded_sink();
    let findings = vec![l.finding.clone(); 5_000];
    let occurrences = vec![l.occurrence.clone(); 5_001];
    let error = sink.upsert_batch(FindingsUpsertBatch::new(&findings, &occurrences, &[])).expect_err("over the limit");
    assert_eq!(
        error,
        ComponentStoreError::Store(StoreError::BatchValidation(PersistenceInputError::BatchTooLarge {
            size: 10_001,
            max: 10_000
        }))
    );
    assert_sink_serving(&sink, &l);
}

#[test]
fn the_native_store_rejects_the_same_oversized_batch() {
    let native = gossip_persistence::InMemoryDoneLedger::new();
    let rows: Vec<DoneLedgerRecord> = (0..=10_000u32).map(numbered).collect();
    let error = native.batch_upsert(&rows).expect_err("over the limit");
    assert_eq!(error, StoreError::BatchValidation(PersistenceInputError::BatchTooLarge { size: 10_001, max: 10_000 }));
}
