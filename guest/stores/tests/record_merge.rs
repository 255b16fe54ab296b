//! `DoneLedgerRecord` construction, validation and merge (docs/contract.md §3.4–§3.5, §4).

mod common;

use common::{code, done_record, key, provenance};
use gossip_persistence::PersistenceInputError;
use gossip_persistence::WriteContext;
use gossip_persistence::done_ledger::DoneLedgerStatus::{self, *};
use gossip_persistence::done_ledger::{DoneLedgerProvenance, DoneLedgerRecord, dedupe_batch, receipt_for};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, RunId, ShardId};

fn rec(
    status: DoneLedgerStatus,
    bytes: u64,
    count: u32,
    prov: DoneLedgerProvenance,
    err: Option<&str>,
) -> DoneLedgerRecord {
    done_record(1, 2, 3, status, bytes, count, prov, err)
}

fn raw(status: DoneLedgerStatus, count: u32, err: Option<&str>) -> Result<DoneLedgerRecord, PersistenceInputError> {
    DoneLedgerRecord::try_new(key(1, 2, 3), status, 0, count, provenance(1, 1, 1, 1, 1), err.map(code))
}

#[test]
fn try_new_checks_only_the_findings_shape() {
    // (status, findings_count, error code, expected)
    let table: [(DoneLedgerStatus, u32, Option<&str>, Option<PersistenceInputError>); 12] = [
        (
            ScannedWithFindings,
            0,
            None,
            Some(PersistenceInputError::InconsistentFindingsCount { status: "ScannedWithFindings", findings_count: 0 }),
        ),
        (ScannedWithFindings, 1, None, None),
        (
            ScannedClean,
            4,
            None,
            Some(PersistenceInputError::InconsistentFindingsCount { status: "ScannedClean", findings_count: 4 }),
        ),
        (ScannedClean, 0, None, None),
        // The error code is not checked here, so rows can be rebuilt from storage.
        (ScannedClean, 0, Some("X"), None),
        (ScannedWithFindings, 2, Some("X"), None),
        (FailedRetryable, 0, None, None),
        (FailedRetryable, 7, Some("T"), None),
        (FailedPermanent, 9, None, None),
        (FailedPermanent, 0, Some("T"), None),
        (Skipped, 3, None, None),
        (Skipped, 0, Some("T"), None),
    ];
    for (status, count, err, expected) in table {
        assert_eq!(raw(status, count, err).err(), expected, "{status:?} count {count} code {err:?}");
    }
}

#[test]
fn validate_enforces_the_full_invariant_table() {
    use PersistenceInputError as E;
    let table: [(DoneLedgerStatus, u32, Option<&str>, Option<E>); 12] = [
        (ScannedClean, 0, None, None),
        (ScannedClean, 0, Some("X"), Some(E::UnexpectedErrorCode { status: "ScannedClean" })),
        (ScannedWithFindings, 3, None, None),
        (ScannedWithFindings, 3, Some("X"), Some(E::UnexpectedErrorCode { status: "ScannedWithFindings" })),
        (FailedRetryable, 5, Some("T"), None),
        (FailedRetryable, 5, None, Some(E::MissingErrorCode { status: "FailedRetryable" })),
        (FailedPermanent, 0, Some("T"), None),
        (FailedPermanent, 0, None, Some(E::MissingErrorCode { status: "FailedPermanent" })),
        (Skipped, 0, Some("T"), None),
        (Skipped, 2, None, Some(E::MissingErrorCode { status: "Skipped" })),
        (FailedRetryable, 0, Some("T"), None),
        (Skipped, u32::MAX, Some("T"), None),
    ];
    for (status, count, err, expected) in table {
        let record = raw(status, count, err).expect("findings shape is fine");
        assert_eq!(record.validate().err(), expected, "{status:?} count {count} code {err:?}");
    }
}

#[test]
fn accessors_and_write_context() {
    let prov = provenance(10, 11, 12, 20, 30);
    let r = rec(FailedRetryable, 100, 4, prov, Some("TIMEOUT"));
    assert_eq!(*r.key(), key(1, 2, 3));
    assert_eq!(r.status(), FailedRetryable);
    assert_eq!(r.bytes_scanned(), 100);
    assert_eq!(r.findings_count(), 4);
    assert_eq!(*r.provenance(), prov);
    assert_eq!(r.error_code().map(|c| c.as_str()), Some("TIMEOUT"));
    let wc = r.write_context();
    assert_eq!(
        wc,
        WriteContext::new(
            common::tenant(1),
            common::policy(2),
            RunId::from_raw(10),
            ShardId::from_raw(11),
            FenceEpoch::from_raw(12)
        )
    );
    let rebuilt = DoneLedgerProvenance::from_write_context(&wc, LogicalTime::from_raw(20), LogicalTime::from_raw(30));
    assert_eq!(rebuilt, prov);
    assert_eq!(prov.run_id().as_raw(), 10);
    assert_eq!(prov.shard_id().as_raw(), 11);
    assert_eq!(prov.fence_epoch().as_raw(), 12);
    assert_eq!(prov.started_at().as_raw(), 20);
    assert_eq!(prov.finished_at().as_raw(), 30);
    assert!(prov.is_ordered());
}

#[test]
fn provenance_accepts_reversed_times_without_panicking() {
    // The upstream debug-asserts here; this crate defers the check to the
    // write path (ProvenanceOrdering), so construction must not panic.
    let p = provenance(1, 1, 1, 50, 40);
    assert!(!p.is_ordered());
    assert!(provenance(1, 1, 1, 40, 40).is_ordered());
}

#[test]
fn merge_example_failure_then_scan_keeps_max_bytes_and_scanned_provenance() {
    let failed = rec(FailedRetryable, 9000, 7, provenance(1, 1, 1, 10, 20), Some("TIMEOUT"));
    let scanned = rec(ScannedWithFindings, 1000, 1, provenance(2, 2, 2, 30, 40), None);
    for merged in [failed.merge(&scanned).expect("valid"), scanned.merge(&failed).expect("valid")] {
        assert_eq!(merged.status(), ScannedWithFindings);
        assert_eq!(merged.bytes_scanned(), 9000);
        assert_eq!(merged.findings_count(), 1);
        assert_eq!(*merged.provenance(), *scanned.provenance());
        assert_eq!(merged.error_code(), None);
        merged.validate().expect("merged record validates");
    }
}

#[test]
fn merge_examples_for_findings_counts() {
    let p = provenance(1, 1, 1, 1, 2);
    let q = provenance(2, 2, 2, 3, 4);
    let cases = [
        (rec(FailedRetryable, 0, 5, p, Some("T")), rec(ScannedClean, 0, 0, q, None), ScannedClean, 0),
        (rec(ScannedWithFindings, 0, 3, p, None), rec(ScannedWithFindings, 0, 7, q, None), ScannedWithFindings, 7),
        (rec(ScannedWithFindings, 0, 7, p, None), rec(ScannedWithFindings, 0, 3, q, None), ScannedWithFindings, 7),
        // A failure's count never leaks into a scanned-with-findings result.
        (rec(FailedPermanent, 0, 9, p, Some("T")), rec(ScannedWithFindings, 0, 3, q, None), ScannedWithFindings, 3),
        (rec(Skipped, 0, 9, p, Some("T")), rec(ScannedWithFindings, 0, 1, q, None), ScannedWithFindings, 1),
        // Failure/skip results take the max of both counts.
        (rec(FailedRetryable, 0, 4, p, Some("T")), rec(FailedPermanent, 0, 2, q, Some("U")), FailedPermanent, 4),
        (rec(FailedPermanent, 0, 1, p, Some("T")), rec(Skipped, 0, 6, q, Some("U")), Skipped, 6),
        (rec(ScannedWithFindings, 0, 5, p, None), rec(ScannedClean, 0, 0, q, None), ScannedWithFindings, 5),
    ];
    for (a, b, status, count) in cases {
        for merged in [a.merge(&b).expect("valid"), b.merge(&a).expect("valid")] {
            assert_eq!((merged.status(), merged.findings_count()), (status, count), "{a:?} ⊔ {b:?}");
        }
    }
}

#[test]
fn equal_rank_later_finish_wins_then_later_start() {
    let first = rec(FailedPermanent, 10, 0, provenance(1, 1, 1, 100, 200), Some("FIRST"));
    let second = rec(FailedPermanent, 5, 0, provenance(2, 2, 2, 80, 300), Some("SECOND"));
    for merged in [first.merge(&second).expect("valid"), second.merge(&first).expect("valid")] {
        assert_eq!(*merged.provenance(), *second.provenance());
        assert_eq!(merged.error_code().map(|c| c.as_str()), Some("SECOND"));
        assert_eq!(merged.bytes_scanned(), 10);
    }
    let early = rec(Skipped, 0, 0, provenance(1, 1, 1, 100, 300), Some("EARLY"));
    let late = rec(Skipped, 0, 0, provenance(2, 2, 2, 150, 300), Some("LATE"));
    assert_eq!(early.merge(&late).expect("valid").error_code().map(|c| c.as_str()), Some("LATE"));
    assert_eq!(late.merge(&early).expect("valid").error_code().map(|c| c.as_str()), Some("LATE"));
}

#[test]
fn exact_tie_case_fence_decides() {
    let left = rec(FailedPermanent, 1, 0, provenance(u64::MAX, 10, 50, 400, 400), Some("TIMEOUT"));
    let right = rec(FailedPermanent, 2, 0, provenance(2, u64::MAX, 51, 400, 400), Some("HTTP_403"));
    let lr = left.merge(&right).expect("valid");
    let rl = right.merge(&left).expect("valid");
    assert_eq!(lr, rl);
    assert_eq!(*lr.provenance(), *right.provenance());
    assert_eq!(lr.error_code().map(|c| c.as_str()), Some("HTTP_403"));
    assert_eq!(lr.bytes_scanned(), 2);
}

/// Each level of the winner tuple (rank, finished, started, fence, run,
/// shard, code) decides when every earlier level ties, even though every
/// later level points the other way.
#[test]
fn each_tie_break_level_outranks_the_later_ones() {
    // (higher, lower): `higher` must win although all later fields favour `lower`.
    let cases = [
        ("finished", provenance(1, 1, 1, 1, 9), "A", provenance(9, 9, 9, 5, 8), "Z"),
        ("started", provenance(1, 1, 1, 6, 9), "A", provenance(9, 9, 9, 5, 9), "Z"),
        ("fence", provenance(1, 1, 9, 5, 9), "A", provenance(9, 9, 8, 5, 9), "Z"),
        ("run", provenance(9, 1, 9, 5, 9), "A", provenance(8, 9, 9, 5, 9), "Z"),
        ("shard", provenance(9, 9, 9, 5, 9), "A", provenance(9, 8, 9, 5, 9), "Z"),
    ];
    for (level, high_prov, high_code, low_prov, low_code) in cases {
        let high = rec(FailedPermanent, 0, 0, high_prov, Some(high_code));
        let low = rec(FailedPermanent, 0, 0, low_prov, Some(low_code));
        for merged in [high.merge(&low).expect("valid"), low.merge(&high).expect("valid")] {
            assert_eq!(*merged.provenance(), high_prov, "{level} should decide");
            assert_eq!(merged.error_code().map(|c| c.as_str()), Some(high_code), "{level}");
        }
    }
    // Rank outranks everything, including a later finish.
    let skipped = rec(Skipped, 0, 0, provenance(1, 1, 1, 1, 1), Some("S"));
    let permanent = rec(FailedPermanent, 0, 0, provenance(9, 9, 9, 9, 9), Some("Z"));
    assert_eq!(*permanent.merge(&skipped).expect("valid").provenance(), *skipped.provenance());
}

#[test]
fn run_and_shard_ids_compare_as_signed_bigints() {
    // u64::MAX is -1 as a BIGINT, so run 1 is "later" than run u64::MAX.
    let minus_one = rec(Skipped, 0, 0, provenance(u64::MAX, 5, 5, 1, 1), Some("A"));
    let one = rec(Skipped, 0, 0, provenance(1, 5, 5, 1, 1), Some("B"));
    assert_eq!(minus_one.merge(&one).expect("valid").provenance().run_id().as_raw(), 1);
    assert_eq!(one.merge(&minus_one).expect("valid").provenance().run_id().as_raw(), 1);
    // i64::MAX is the largest; i64::MAX + 1 is the smallest.
    let top = rec(Skipped, 0, 0, provenance(i64::MAX as u64, 5, 5, 1, 1), Some("A"));
    let bottom = rec(Skipped, 0, 0, provenance(i64::MAX as u64 + 1, 5, 5, 1, 1), Some("A"));
    let zero = rec(Skipped, 0, 0, provenance(0, 5, 5, 1, 1), Some("A"));
    assert_eq!(bottom.merge(&zero).expect("valid").provenance().run_id().as_raw(), 0);
    assert_eq!(zero.merge(&top).expect("valid").provenance().run_id().as_raw(), i64::MAX as u64);
    // Same run: the shard decides, also signed.
    let shard_neg = rec(Skipped, 0, 0, provenance(7, u64::MAX, 5, 1, 1), Some("A"));
    let shard_pos = rec(Skipped, 0, 0, provenance(7, 3, 5, 1, 1), Some("A"));
    assert_eq!(shard_neg.merge(&shard_pos).expect("valid").provenance().shard_id().as_raw(), 3);
    assert_eq!(shard_pos.merge(&shard_neg).expect("valid").provenance().shard_id().as_raw(), 3);
}

#[test]
fn error_code_bytes_break_the_last_tie() {
    let p = provenance(1, 1, 1, 1, 1);
    let a = rec(FailedRetryable, 0, 0, p, Some("A"));
    let ab = rec(FailedRetryable, 0, 0, p, Some("AB"));
    let b = rec(FailedRetryable, 0, 0, p, Some("B"));
    let code_of = |x: &DoneLedgerRecord, y: &DoneLedgerRecord| x.merge(y).expect("valid").error_code().cloned();
    assert_eq!(code_of(&a, &ab), Some(code("AB")), "a shorter prefix sorts first");
    assert_eq!(code_of(&ab, &a), Some(code("AB")));
    assert_eq!(code_of(&ab, &b), Some(code("B")));
    assert_eq!(code_of(&b, &ab), Some(code("B")));
}

#[test]
fn merge_takes_max_bytes_not_the_winners() {
    let big_loser = rec(FailedRetryable, u64::MAX, 0, provenance(1, 1, 1, 1, 2), Some("T"));
    let winner = rec(ScannedClean, 3, 0, provenance(1, 1, 1, 1, 1), None);
    assert_eq!(big_loser.merge(&winner).expect("valid").bytes_scanned(), u64::MAX);
}

#[test]
fn key_mismatch_in_both_directions() {
    let a = done_record(1, 2, 3, ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    let b = done_record(1, 2, 4, ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    assert_eq!(
        a.merge(&b),
        Err(PersistenceInputError::KeyMismatch { existing: Box::new(key(1, 2, 3)), incoming: Box::new(key(1, 2, 4)) })
    );
    assert_eq!(
        b.merge(&a),
        Err(PersistenceInputError::KeyMismatch { existing: Box::new(key(1, 2, 4)), incoming: Box::new(key(1, 2, 3)) })
    );
    // Tenant and policy are part of the key too.
    let other_tenant = done_record(9, 2, 3, ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    let other_policy = done_record(1, 9, 3, ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    assert!(matches!(a.merge(&other_tenant), Err(PersistenceInputError::KeyMismatch { .. })));
    assert!(matches!(a.merge(&other_policy), Err(PersistenceInputError::KeyMismatch { .. })));
}

#[test]
fn merge_rejects_an_unvalidated_operand_in_both_orders() {
    let unvalidated = rec(FailedRetryable, 0, 0, provenance(1, 1, 1, 1, 1), None);
    let valid = rec(ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    let expected = Err(PersistenceInputError::MissingErrorCode { status: "FailedRetryable" });
    assert_eq!(unvalidated.merge(&valid), expected);
    assert_eq!(valid.merge(&unvalidated), expected);
    // Validation runs before the key comparison.
    let elsewhere = done_record(5, 5, 5, ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), None);
    assert_eq!(unvalidated.merge(&elsewhere), expected);
    let with_code = rec(ScannedClean, 0, 0, provenance(1, 1, 1, 1, 1), Some("X"));
    assert_eq!(valid.merge(&with_code), Err(PersistenceInputError::UnexpectedErrorCode { status: "ScannedClean" }));
}

#[test]
fn merge_with_itself_is_the_identity() {
    let r = rec(Skipped, 77, 3, provenance(4, 5, 6, 7, 8), Some("SIZE_CAP"));
    assert_eq!(r.merge(&r).expect("valid"), r);
}

#[test]
fn dedupe_merges_in_slice_order_and_keeps_first_seen_key_order() {
    let a1 = done_record(1, 2, 9, FailedRetryable, 100, 3, provenance(1, 1, 1, 10, 20), Some("TIMEOUT"));
    let b = done_record(1, 2, 1, ScannedClean, 5, 0, provenance(1, 1, 1, 10, 20), None);
    let a2 = done_record(1, 2, 9, ScannedClean, 200, 0, provenance(1, 1, 1, 30, 40), None);
    let deduped = dedupe_batch(&[a1.clone(), b.clone(), a2.clone()]).expect("valid");
    assert_eq!(deduped, vec![a1.merge(&a2).expect("valid"), b]);
    let receipt = receipt_for(&deduped);
    assert_eq!((receipt.record_count(), receipt.scanned_count(), receipt.findings_count()), (2, 2, 0));
    assert!(dedupe_batch(&[]).expect("empty").is_empty());
}

#[test]
fn receipt_sums_findings_counts_as_u64() {
    let rows: Vec<DoneLedgerRecord> = (0..3u8)
        .map(|i| done_record(1, 2, i, ScannedWithFindings, 0, u32::MAX, provenance(1, 1, 1, 1, 1), None))
        .chain([done_record(1, 2, 9, Skipped, 0, 4, provenance(1, 1, 1, 1, 1), Some("S"))])
        .collect();
    let receipt = receipt_for(&rows);
    assert_eq!(receipt.record_count(), 4);
    assert_eq!(receipt.scanned_count(), 3);
    assert_eq!(receipt.findings_count(), 3 * u64::from(u32::MAX) + 4);
}
