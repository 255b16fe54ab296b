//! The done-ledger trait surface of the in-memory store: positional reads,
//! terminal listing, receipts and batch limits (docs/contract.md §5, §11).

mod common;

use std::collections::HashSet;

use common::{clean_row, done_record, key, ovid, policy, provenance, tenant, upsert_done};
use gossip_persistence::done_ledger::DoneLedgerStatus::*;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::identity::OvidHash;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, InMemoryDoneLedger, RECOMMENDED_MAX_BATCH_SIZE,
    StoreControl,
};

#[test]
fn batch_get_is_positional_repeats_duplicates_and_isolates_scopes() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(
        &ledger,
        &[clean_row(1, 2, 3, 10), clean_row(1, 2, 4, 20), clean_row(9, 2, 5, 30), clean_row(1, 9, 5, 40)],
    );
    let got = ledger.batch_get(tenant(1), policy(2), &[ovid(4), ovid(7), ovid(3), ovid(4), ovid(5)]).expect("read");
    let bytes: Vec<Option<u64>> = got.iter().map(|r| r.as_ref().map(|r| r.bytes_scanned())).collect();
    assert_eq!(bytes, vec![Some(20), None, Some(10), Some(20), None], "ovid 5 lives in other scopes only");
    assert!(ledger.batch_get(tenant(1), policy(2), &[]).expect("read").is_empty());
    assert_eq!(ledger.batch_get(tenant(3), policy(3), &[ovid(3)]).expect("read"), vec![None]);
}

#[test]
fn reads_never_see_pending_writes() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let h = ledger.batch_upsert(&[clean_row(1, 2, 3, 1)]).expect("accepted");
    assert_eq!(ledger.batch_get(tenant(1), policy(2), &[ovid(3)]).expect("read"), vec![None]);
    assert!(ledger.list_done_hashes(tenant(1), policy(2)).expect("list").is_empty());
    assert!(ledger.is_empty().expect("len"));
    ledger.release_all(CompletionOrder::OldestFirst).expect("release");
    h.wait().expect("durable");
    assert_eq!(ledger.list_done_hashes(tenant(1), policy(2)).expect("list"), vec![ovid(3)]);
    assert_eq!(ledger.len().expect("len"), 1);
}

fn done_set(ledger: &InMemoryDoneLedger, t: u8, p: u8) -> HashSet<u8> {
    let listed = ledger.list_done_hashes(tenant(t), policy(p)).expect("list");
    let set: HashSet<u8> = listed.iter().map(|o| o.as_bytes()[0]).collect();
    assert_eq!(set.len(), listed.len(), "no duplicates");
    assert_eq!(ledger.count_done_hashes(tenant(t), policy(p)).expect("count"), Some(listed.len()));
    set
}

#[test]
fn list_done_hashes_returns_exactly_the_terminal_rows_of_one_scope() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(
        &ledger,
        &[
            done_record(1, 2, 10, ScannedWithFindings, 2048, 1, provenance(1, 1, 1, 1, 2), None),
            done_record(1, 2, 11, FailedRetryable, 512, 0, provenance(33, 34, 35, 36, 37), Some("TEMP_RETRYABLE")),
            done_record(1, 2, 12, FailedPermanent, 1024, 0, provenance(40, 41, 42, 43, 44), Some("PERM_FAILURE")),
            done_record(1, 2, 13, Skipped, 512, 0, provenance(50, 51, 52, 53, 54), Some("UNSUPPORTED_FORMAT")),
            done_record(1, 2, 14, ScannedClean, 2048, 0, provenance(60, 61, 62, 63, 64), None),
        ],
    );
    let expected: HashSet<u8> = [10, 12, 13, 14].into();
    assert_eq!(done_set(&ledger, 1, 2), expected);
    upsert_done(&ledger, &[clean_row(7, 2, 20, 256)]);
    assert_eq!(done_set(&ledger, 1, 2), expected, "another tenant's row does not leak");
    upsert_done(&ledger, &[clean_row(1, 7, 21, 256)]);
    assert_eq!(done_set(&ledger, 1, 2), expected, "another policy's row does not leak");
    assert_eq!(done_set(&ledger, 7, 2), [20].into());
    assert_eq!(done_set(&ledger, 2, 1), HashSet::new());
    // A retryable row becomes listed once it is upgraded.
    upsert_done(&ledger, &[done_record(1, 2, 11, Skipped, 0, 0, provenance(1, 1, 1, 1, 1), Some("LATER"))]);
    assert_eq!(done_set(&ledger, 1, 2), [10, 11, 12, 13, 14].into());
}

#[test]
fn replaying_a_record_is_idempotent() {
    let ledger = InMemoryDoneLedger::new();
    let scanned =
        done_record(1, 2, 3, ScannedWithFindings, 2048, 1, provenance(50100, 60100, 70100, 80100, 80110), None);
    for _ in 0..2 {
        let receipt = ledger.batch_upsert(core::slice::from_ref(&scanned)).expect("accepted").wait().expect("durable");
        assert_eq!((receipt.record_count(), receipt.scanned_count(), receipt.findings_count()), (1, 1, 1));
    }
    assert_eq!(ledger.snapshot().expect("snapshot"), vec![scanned]);
}

#[test]
fn scanned_dominates_failed_in_either_write_order() {
    let failed =
        done_record(1, 2, 3, FailedRetryable, 4096, 1, provenance(50000, 60000, 70000, 80000, 80010), Some("TIMEOUT"));
    let scanned =
        done_record(1, 2, 3, ScannedWithFindings, 2048, 1, provenance(50100, 60100, 70100, 80100, 80110), None);
    for (first, second) in [(&failed, &scanned), (&scanned, &failed)] {
        let ledger = InMemoryDoneLedger::new();
        upsert_done(&ledger, core::slice::from_ref(first));
        upsert_done(&ledger, core::slice::from_ref(second));
        let row = ledger.get_record(&key(1, 2, 3)).expect("read").expect("row");
        assert_eq!(row.status(), ScannedWithFindings);
        assert_eq!(row.bytes_scanned(), 4096, "per-field max, not the winning row");
        assert_eq!(row.findings_count(), 1);
        assert_eq!(row.provenance(), scanned.provenance());
        assert_eq!(row.error_code(), None);
    }
}

#[test]
fn receipt_counts_the_batch_merged_rows_not_the_durable_ones() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[done_record(1, 2, 3, ScannedWithFindings, 1, 9, provenance(1, 1, 1, 1, 1), None)]);
    let batch = [
        done_record(1, 2, 3, FailedRetryable, 1, 5, provenance(1, 1, 1, 2, 2), Some("T")),
        done_record(1, 2, 3, ScannedWithFindings, 1, 3, provenance(1, 1, 1, 3, 3), None),
        done_record(1, 2, 4, FailedPermanent, 1, 2, provenance(1, 1, 1, 3, 3), Some("P")),
    ];
    let receipt = ledger.batch_upsert(&batch).expect("accepted").wait().expect("durable");
    assert_eq!((receipt.record_count(), receipt.scanned_count(), receipt.findings_count()), (2, 1, 5));
    assert_eq!(ledger.get_record(&key(1, 2, 3)).expect("read").expect("row").findings_count(), 9);
}

#[test]
fn a_batch_of_exactly_the_recommended_maximum_is_accepted() {
    let ledger = InMemoryDoneLedger::new();
    let rows: Vec<_> = (0..RECOMMENDED_MAX_BATCH_SIZE)
        .map(|i| {
            let mut o = [0u8; 32];
            o[..8].copy_from_slice(&(i as u64).to_le_bytes());
            DoneLedgerRecord::try_new(
                DoneLedgerKey::new(tenant(1), policy(2), OvidHash::from_bytes(o)),
                ScannedClean,
                1,
                0,
                provenance(1, 1, 1, 1, 1),
                None,
            )
            .expect("valid")
        })
        .collect();
    let receipt = ledger.batch_upsert(&rows).expect("accepted").wait().expect("durable");
    assert_eq!(receipt.record_count(), RECOMMENDED_MAX_BATCH_SIZE as u64);
    assert_eq!(ledger.len().expect("len"), RECOMMENDED_MAX_BATCH_SIZE);
    assert_eq!(ledger.count_done_hashes(tenant(1), policy(2)).expect("count"), Some(RECOMMENDED_MAX_BATCH_SIZE));
}

#[test]
fn equal_start_and_finish_is_a_valid_provenance() {
    let ledger = InMemoryDoneLedger::new();
    let row = done_record(1, 2, 3, ScannedClean, 1, 0, provenance(1, 1, 1, 7, 7), None);
    upsert_done(&ledger, core::slice::from_ref(&row));
    assert_eq!(ledger.snapshot().expect("snapshot"), vec![row]);
}

#[test]
fn snapshot_sorts_by_tenant_then_policy_then_ovid() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[clean_row(2, 1, 1, 1), clean_row(1, 2, 1, 1), clean_row(1, 1, 2, 1), clean_row(1, 1, 1, 1)]);
    let keys: Vec<_> = ledger.snapshot().expect("snapshot").iter().map(|r| *r.key()).collect();
    assert_eq!(keys, vec![key(1, 1, 1), key(1, 1, 2), key(1, 2, 1), key(2, 1, 1)]);
}
