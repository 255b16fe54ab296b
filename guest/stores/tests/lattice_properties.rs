//! Record-lattice laws of `DoneLedgerRecord::merge` (docs/contract.md §4.3),
//! with the reference generator and 1,024 cases per law.

use gossip_persistence::done_ledger::DoneLedgerStatus::{self, *};
use gossip_persistence::done_ledger::{DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use proptest::prelude::*;

const CODES: [&str; 6] = ["TIMEOUT", "HTTP_403", "IO:RETRY", "SKIPPED_RULE", "SCAN-FAILED", "UNSUPPORTED_FORMAT"];

fn fixed_key() -> DoneLedgerKey {
    DoneLedgerKey::new(
        TenantId::from_bytes([0x41; 32]),
        PolicyHash::from_bytes([0x52; 32]),
        OvidHash::from_bytes([0x63; 32]),
    )
}

/// Run and shard ids weighted towards the values where signed and unsigned
/// order disagree.
fn id64() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => any::<u64>(),
        1 => Just(0u64),
        1 => Just(u64::MAX),
        1 => Just(i64::MAX as u64),
        1 => Just(i64::MAX as u64 + 1),
    ]
}

#[allow(clippy::too_many_arguments)]
fn build(
    status: DoneLedgerStatus,
    bytes: u64,
    raw_count: u32,
    run: u64,
    shard: u64,
    fence: u64,
    times: (u64, u64),
    code_index: usize,
) -> DoneLedgerRecord {
    let findings_count = match status {
        ScannedClean => 0,
        ScannedWithFindings => raw_count.max(1),
        _ => raw_count,
    };
    let (started, finished) = if times.0 <= times.1 { times } else { (times.1, times.0) };
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(run),
        ShardId::from_raw(shard),
        FenceEpoch::from_raw(fence),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    );
    let error_code =
        (!status.is_scanned()).then(|| DoneLedgerErrorCode::try_new(CODES[code_index]).expect("fixture code is valid"));
    let record = DoneLedgerRecord::try_new(fixed_key(), status, bytes, findings_count, provenance, error_code)
        .expect("normalised count");
    record.validate().expect("generated records are valid");
    record
}

fn record() -> impl Strategy<Value = DoneLedgerRecord> {
    (
        prop::sample::select(DoneLedgerStatus::ALL.to_vec()),
        any::<u64>(),
        any::<u32>(),
        id64(),
        id64(),
        any::<u64>(),
        (any::<u64>(), any::<u64>()),
        0..CODES.len(),
    )
        .prop_map(|(s, b, c, r, sh, f, t, i)| build(s, b, c, r, sh, f, t, i))
}

fn join(a: &DoneLedgerRecord, b: &DoneLedgerRecord) -> DoneLedgerRecord {
    a.merge(b).expect("valid records with one key always merge")
}

/// The provenance-winner tuple as the contract specifies it, written out
/// independently of the implementation's comparator.
fn winner_tuple(r: &DoneLedgerRecord) -> (u8, u64, u64, u64, i64, i64, Vec<u8>) {
    let p = r.provenance();
    (
        r.status().rank(),
        p.finished_at().as_raw(),
        p.started_at().as_raw(),
        p.fence_epoch().as_raw(),
        i64::from_ne_bytes(p.run_id().as_raw().to_ne_bytes()),
        i64::from_ne_bytes(p.shard_id().as_raw().to_ne_bytes()),
        r.error_code().map_or_else(Vec::new, |c| c.as_str().as_bytes().to_vec()),
    )
}

fn fold(records: &[DoneLedgerRecord]) -> DoneLedgerRecord {
    let (first, rest) = records.split_first().expect("at least one record");
    rest.iter().fold(first.clone(), |acc, r| join(&acc, r))
}

/// Calls `visit` with every permutation of `items` (Heap's algorithm).
fn for_each_permutation<T: Clone>(items: &[T], mut visit: impl FnMut(&[T])) {
    let mut a = items.to_vec();
    let n = a.len();
    let mut c = vec![0usize; n];
    visit(&a);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                a.swap(0, i);
            } else {
                a.swap(c[i], i);
            }
            visit(&a);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn commutativity(a in record(), b in record()) {
        let ab = join(&a, &b);
        prop_assert_eq!(&ab, &join(&b, &a));
        prop_assert!(ab.validate().is_ok());
    }

    #[test]
    fn associativity(a in record(), b in record(), c in record()) {
        let left = join(&join(&a, &b), &c);
        let right = join(&a, &join(&b, &c));
        prop_assert_eq!(&left, &right);
        prop_assert!(left.validate().is_ok());
    }

    #[test]
    fn idempotence(a in record()) {
        let aa = join(&a, &a);
        prop_assert_eq!(&aa, &a);
        prop_assert!(aa.validate().is_ok());
    }

    #[test]
    fn monotonicity(a in record(), b in record()) {
        let m = join(&a, &b);
        prop_assert!(m.status().rank() >= a.status().rank());
        prop_assert!(m.status().rank() >= b.status().rank());
        prop_assert!(m.bytes_scanned() >= a.bytes_scanned());
        prop_assert!(m.bytes_scanned() >= b.bytes_scanned());
        if a.status() == ScannedWithFindings && b.status() == ScannedWithFindings {
            prop_assert!(m.findings_count() >= a.findings_count());
            prop_assert!(m.findings_count() >= b.findings_count());
        }
        if m.status() == ScannedClean {
            prop_assert_eq!(m.findings_count(), 0);
        }
    }

    #[test]
    fn no_downgrade(a in record(), b in record()) {
        let m = join(&a, &b);
        if a.status().is_scanned() || b.status().is_scanned() {
            prop_assert!(m.status().is_scanned());
        }
    }

    #[test]
    fn winner_coherence(records in prop::collection::vec(record(), 1..=8)) {
        let merged = fold(&records);
        let winner = records.iter().max_by(|x, y| winner_tuple(x).cmp(&winner_tuple(y))).expect("non-empty");
        prop_assert_eq!(merged.provenance(), winner.provenance());
        prop_assert_eq!(merged.status(), winner.status());
        if merged.status().is_scanned() {
            prop_assert_eq!(merged.error_code(), None);
        } else {
            prop_assert_eq!(merged.error_code(), winner.error_code());
        }
        prop_assert_eq!(merged.bytes_scanned(), records.iter().map(DoneLedgerRecord::bytes_scanned).max().unwrap_or(0));
        let expected_count = match merged.status() {
            ScannedClean => 0,
            ScannedWithFindings => records
                .iter()
                .filter(|r| r.status() == ScannedWithFindings)
                .map(DoneLedgerRecord::findings_count)
                .max()
                .unwrap_or(0)
                .max(1),
            _ => records.iter().map(DoneLedgerRecord::findings_count).max().unwrap_or(0),
        };
        prop_assert_eq!(merged.findings_count(), expected_count);
        prop_assert!(merged.validate().is_ok());
    }

    #[test]
    fn permutation_convergence(records in prop::collection::vec(record(), 2..=7)) {
        let expected = fold(&records);
        let mut orders = 0usize;
        let mut diverged = None;
        for_each_permutation(&records, |order| {
            orders += 1;
            if diverged.is_none() && fold(order) != expected {
                diverged = Some(order.to_vec());
            }
        });
        prop_assert_eq!(orders, (1..=records.len()).product::<usize>());
        prop_assert_eq!(diverged, None);
    }
}

#[test]
fn heap_permutations_are_distinct_and_complete() {
    let mut seen = std::collections::HashSet::new();
    for_each_permutation(&[1, 2, 3, 4, 5], |p| {
        assert!(seen.insert(p.to_vec()), "repeated {p:?}");
    });
    assert_eq!(seen.len(), 120);
}

/// Eight records covering every status and each tie-break level; every one
/// of the 40,320 merge orders must give the same row.
#[test]
fn fixed_eight_records_converge_over_all_40320_orders() {
    let records = vec![
        build(FailedRetryable, 4096, 9, 1, 2, 3, (10, 20), 0),
        build(FailedPermanent, 100, 2, u64::MAX, 5, 7, (400, 400), 1),
        build(FailedPermanent, 200, 3, 2, u64::MAX, 8, (400, 400), 2),
        build(Skipped, 50, 0, i64::MAX as u64, 0, 1, (30, 500), 3),
        build(Skipped, 60, 1, i64::MAX as u64 + 1, 0, 1, (30, 500), 4),
        build(ScannedClean, 2048, 0, 0, 0, 0, (5, 6), 0),
        build(ScannedWithFindings, 1000, 4, 10, 11, 12, (50, 60), 0),
        build(ScannedWithFindings, 10, 7, 10, 11, 12, (50, 60), 0),
    ];
    let expected = fold(&records);
    assert_eq!(expected.status(), ScannedWithFindings);
    assert_eq!(expected.bytes_scanned(), 4096);
    assert_eq!(expected.findings_count(), 7);
    assert_eq!(expected.error_code(), None);
    let mut orders = 0usize;
    for_each_permutation(&records, |order| {
        orders += 1;
        assert_eq!(fold(order), expected, "order {orders} diverged");
    });
    assert_eq!(orders, 40_320);
}
