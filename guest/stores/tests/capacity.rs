//! Capacity as a typed error: the stores reserve memory before they change
//! anything, and a refused reservation (injected here through the
//! test-support hook, as an exhausted allocator would refuse it) reports
//! `StoreError::CapacityExceeded` with every table exactly as it was. At
//! submit it rejects the batch like a validation error; when a write applies
//! it fails that write's commit like an injected commit fault; in a read it
//! fails the read. The store keeps working afterwards.

mod common;

use common::{
    chain, clean_row, finding_record, ledger_state, observation_record, occurrence_record, policy, populated_ledger,
    populated_sink, sink_state, tenant, upsert_done,
};
use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl, StoreError, StoreKind,
};

fn shortfall(store: StoreKind, needed: usize) -> StoreError {
    StoreError::CapacityExceeded { store, needed: needed as u64, available: 0 }
}

fn assert_capacity(error: &StoreError, store: StoreKind) {
    assert!(
        matches!(error, StoreError::CapacityExceeded { store: s, needed, available: 0 } if *s == store && *needed > 0),
        "expected a {store} capacity error, got {error:?}"
    );
}

/// Where the refused reservation struck a write.
enum Refusal {
    AtSubmit(StoreError),
    AtApply(StoreError),
}

/// A batch that merges into a stored row, adds rows to a stored scope, opens
/// two new scopes and repeats a key, so every table the apply grows is grown.
fn ledger_batch() -> Vec<DoneLedgerRecord> {
    vec![
        clean_row(1, 2, 3, 99),
        clean_row(1, 2, 70, 1),
        clean_row(1, 2, 71, 1),
        clean_row(3, 4, 1, 1),
        clean_row(3, 4, 2, 1),
        clean_row(5, 6, 1, 1),
        clean_row(1, 2, 70, 5),
    ]
}

#[test]
fn every_refused_reservation_of_a_ledger_write_changes_nothing() {
    let batch = ledger_batch();
    let expected = {
        let ledger = populated_ledger();
        upsert_done(&ledger, &batch);
        ledger_state(&ledger)
    };
    let mut at_apply = Vec::new();
    for skip in 0.. {
        assert!(skip < 64, "a write of seven rows makes far fewer reservations");
        let ledger = populated_ledger();
        let before = ledger_state(&ledger);
        ledger.fail_reservation_after(skip);
        let refusal = match ledger.batch_upsert(&batch) {
            Err(error) => Refusal::AtSubmit(error),
            Ok(handle) => match handle.wait() {
                Err(error) => Refusal::AtApply(error),
                Ok(_) => {
                    assert!(ledger.disarm_reservation_fault(), "a write that applied met no refusal");
                    assert_eq!(ledger_state(&ledger), expected);
                    break;
                }
            },
        };
        let (error, next_op) = match refusal {
            // Rejected before the core: no op id was used.
            Refusal::AtSubmit(error) => (error, 2),
            // Failed like a commit fault: the write (op 2) is consumed.
            Refusal::AtApply(error) => {
                at_apply.push(error.clone());
                (error, 3)
            }
        };
        assert_capacity(&error, StoreKind::DoneLedger);
        assert!(!ledger.disarm_reservation_fault(), "the armed refusal fired");
        assert_eq!(ledger_state(&ledger), before, "refusal after {skip} reservations changed state ({error})");
        assert_eq!(ledger.pending_count().expect("count"), 0);
        let retry = ledger.batch_upsert(&batch).expect("the store still accepts writes");
        assert_eq!(retry.operation_id().as_raw(), next_op);
        retry.wait().expect("and applies them");
        assert_eq!(ledger_state(&ledger), expected);
    }
    // Growth of the stored scope (two new keys) and of each new scope's table.
    let row = InMemoryDoneLedger::STORED_ENTRY_SIZE;
    for needed in [2 * row, row] {
        assert!(at_apply.contains(&shortfall(StoreKind::DoneLedger, needed)), "no refusal for {needed} bytes");
    }
    assert!(at_apply.len() >= 5, "only {} reservations at apply: {at_apply:?}", at_apply.len());
}

#[test]
fn every_refused_reservation_of_a_findings_write_changes_no_layer() {
    let c10 = chain(1, 10);
    let c20 = chain(1, 20);
    let c30 = chain(1, 30);
    let extra_finding = finding_record(1, 40);
    let extra_occurrence = occurrence_record(1, &c10.finding, 77, 5);
    let later_sighting = observation_record(1, &c10.occurrence, 30, 10, 50, 60, 70, 99);
    let extra_observation = observation_record(1, &c20.occurrence, 31, 9, 1, 1, 1, 1);
    // Two new rows per layer, next to replays of stored rows.
    let findings = [c10.finding.clone(), c30.finding.clone(), extra_finding];
    let occurrences = [c30.occurrence.clone(), extra_occurrence, c20.occurrence.clone()];
    let observations = [c30.observation.clone(), later_sighting, extra_observation];
    let batch = || FindingsUpsertBatch::new(&findings, &occurrences, &observations);
    let expected = {
        let sink = populated_sink();
        common::upsert_findings(&sink, batch());
        sink_state(&sink)
    };
    let mut at_apply = Vec::new();
    for skip in 0.. {
        assert!(skip < 64, "a write of nine rows makes far fewer reservations");
        let sink = populated_sink();
        let before = sink_state(&sink);
        sink.fail_reservation_after(skip);
        let refusal = match sink.upsert_batch(batch()) {
            Err(error) => Refusal::AtSubmit(error),
            Ok(handle) => match handle.wait() {
                Err(error) => Refusal::AtApply(error),
                Ok(_) => {
                    assert!(sink.disarm_reservation_fault(), "a write that applied met no refusal");
                    assert_eq!(sink_state(&sink), expected);
                    break;
                }
            },
        };
        let (error, next_op) = match refusal {
            Refusal::AtSubmit(error) => (error, 3),
            Refusal::AtApply(error) => {
                at_apply.push(error.clone());
                (error, 4)
            }
        };
        assert_capacity(&error, StoreKind::Findings);
        assert!(!sink.disarm_reservation_fault(), "the armed refusal fired");
        assert_eq!(sink_state(&sink), before, "refusal after {skip} reservations changed a layer ({error})");
        let retry = sink.upsert_batch(batch()).expect("the store still accepts writes");
        assert_eq!(retry.operation_id().as_raw(), next_op);
        retry.wait().expect("and applies them");
        assert_eq!(sink_state(&sink), expected);
    }
    // Each stored layer's growth by its two new rows was refused once, the
    // last one after the first two had been reserved. Layers are per tenant,
    // so their entries are keyed by id alone.
    for needed in [
        2 * size_of::<(FindingId, FindingRecord)>(),
        2 * size_of::<(OccurrenceId, OccurrenceRecord)>(),
        2 * size_of::<(ObservationId, ObservationRecord)>(),
    ] {
        assert!(at_apply.contains(&shortfall(StoreKind::Findings, needed)), "no refusal for {needed} bytes");
    }
}

#[test]
fn a_refused_staging_rejects_the_batch_before_any_fault_or_id_is_consumed() {
    let ledger = populated_ledger();
    let before = ledger_state(&ledger);
    let batch = ledger_batch();
    ledger.fail_next_submissions(1).expect("arm");
    ledger.fail_next_reservation();
    assert_eq!(
        ledger.batch_upsert(&batch).map(|_| ()),
        Err(shortfall(StoreKind::DoneLedger, batch.len() * size_of::<DoneLedgerRecord>()))
    );
    assert_eq!(
        ledger.batch_upsert(&batch).map(|_| ()),
        Err(StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger }),
        "the submission fault was still armed"
    );
    assert_eq!(ledger_state(&ledger), before);
    assert_eq!(ledger.batch_upsert(&batch).expect("accepted").operation_id().as_raw(), 2);

    let sink = InMemoryFindingsSink::new();
    sink.fail_next_reservation();
    let c = chain(1, 10);
    assert_eq!(
        sink.upsert_batch(c.batch()).map(|_| ()),
        Err(shortfall(StoreKind::Findings, size_of::<FindingRecord>()))
    );
    assert_eq!(sink.durable_counts().expect("probe").findings, 0);
    let handle = sink.upsert_batch(c.batch()).expect("accepted");
    assert_eq!(handle.operation_id().as_raw(), 1);
    handle.wait().expect("durable");
}

/// A delayed write meets the refusal when it is released: the release
/// succeeds, that write fails, the others apply, as with `fail_next_commits`.
#[test]
fn a_refusal_at_release_fails_only_the_write_being_applied() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let first = ledger.batch_upsert(&[clean_row(1, 2, 3, 1)]).expect("accepted");
    let second = ledger.batch_upsert(&[clean_row(1, 2, 4, 1)]).expect("accepted");
    ledger.fail_next_reservation();
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), 2);
    assert_capacity(&first.wait().expect_err("the first apply was refused"), StoreKind::DoneLedger);
    assert_eq!(second.wait().expect("durable").record_count(), 1);
    assert_eq!(ledger_state(&ledger), vec![clean_row(1, 2, 4, 1)]);
    assert_eq!(ledger.pending_count().expect("count"), 0);

    let sink = InMemoryFindingsSink::with_auto_complete(false);
    let c = chain(1, 10);
    let mut handle = sink.upsert_batch(c.batch()).expect("accepted");
    sink.fail_next_reservation();
    assert_eq!(sink.release_next(CompletionOrder::NewestFirst).expect("release"), Some(handle.operation_id()));
    let outcome = handle.poll().expect("poll").expect("finished");
    assert_capacity(&outcome.expect_err("refused"), StoreKind::Findings);
    assert_eq!(sink_state(&sink), sink_state(&InMemoryFindingsSink::new()));
}

/// A write that needs no new memory (a replay) makes no reservation, so it
/// cannot be refused, and an armed refusal waits for the next real one.
#[test]
fn a_replay_needs_no_reservation_for_stored_rows() {
    let sink = populated_sink();
    let c = chain(1, 10);
    // Staging and scratch space are reservations too: skip past them.
    sink.fail_reservation_after(6);
    sink.upsert_batch(c.batch()).expect("accepted").wait().expect("a replay grows no layer");
    assert!(sink.disarm_reservation_fault(), "no stored layer had to grow");
}

#[test]
fn refused_read_buffers_fail_the_read_and_nothing_else() {
    let ledger = populated_ledger();
    let before = ledger_state(&ledger);
    let (t, p) = (tenant(1), policy(2));
    let keys = [common::ovid(3), common::ovid(9), common::ovid(4)];

    ledger.fail_next_reservation();
    assert_eq!(
        ledger.batch_get(t, p, &keys),
        Err(shortfall(StoreKind::DoneLedger, keys.len() * size_of::<Option<DoneLedgerRecord>>()))
    );
    assert_eq!(ledger.batch_get(t, p, &keys).expect("read").len(), 3);

    // The selection buffer, then the rows' buffer.
    for skip in 0..2 {
        ledger.fail_reservation_after(skip);
        assert_capacity(&ledger.snapshot().expect_err("refused"), StoreKind::DoneLedger);
        ledger.fail_reservation_after(skip);
        assert_capacity(&ledger.snapshot_page(None, 2).expect_err("refused"), StoreKind::DoneLedger);
        ledger.fail_reservation_after(skip);
        assert_capacity(&ledger.list_done_hashes_page(t, p, None, 2).expect_err("refused"), StoreKind::DoneLedger);
    }
    ledger.fail_reservation_after(1);
    assert_eq!(ledger.snapshot(), Err(shortfall(StoreKind::DoneLedger, 4 * size_of::<DoneLedgerRecord>())));
    ledger.fail_next_reservation();
    assert_capacity(&ledger.list_done_hashes(t, p).expect_err("refused"), StoreKind::DoneLedger);
    assert_eq!(ledger_state(&ledger), before);
    assert_eq!(ledger.list_done_hashes_page(t, p, None, 10).expect("read").len(), 3);

    let sink = populated_sink();
    let before = sink_state(&sink);
    sink.fail_reservation_after(1);
    assert_eq!(sink.findings_snapshot(), Err(shortfall(StoreKind::Findings, 2 * size_of::<FindingRecord>())));
    sink.fail_next_reservation();
    assert_capacity(&sink.occurrences_page(None, 1).expect_err("refused"), StoreKind::Findings);
    sink.fail_reservation_after(1);
    assert_eq!(sink.observations_page(None, 1), Err(shortfall(StoreKind::Findings, size_of::<ObservationRecord>())));
    assert_eq!(sink_state(&sink), before);
    // Point reads copy one row and reserve nothing.
    sink.fail_next_reservation();
    assert!(sink.get_finding(tenant(1), before.findings[0].finding_id()).expect("read").is_some());
    assert!(sink.disarm_reservation_fault());
}

#[test]
fn capacity_and_state_lost_display_text() {
    assert_eq!(
        StoreError::CapacityExceeded { store: StoreKind::Findings, needed: 4096, available: 0 }.to_string(),
        "findings cannot hold this operation: it needs 4096 bytes, 0 are available (nothing was changed)"
    );
    assert_eq!(
        StoreError::StateLost { store: StoreKind::DoneLedger }.to_string(),
        "done-ledger lost its acknowledged state; reset it before using it again"
    );
}
