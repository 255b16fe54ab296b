//! Property tests of the SQL lattice merge against the native ledger: for
//! random rows over a small key pool (so keys collide), with values at the
//! edges of the signed/unsigned boundary the SQL encoding must get right.

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::{CommitHandle, DoneLedger, DoneLedgerInspect, InMemoryDoneLedger};
use gossip_sqlite::SqliteDoneLedger;
use gossip_suite::AsStoreError;
use proptest::prelude::*;

const TENANTS: [[u8; 32]; 2] = [[0x01; 32], [0xF0; 32]];
const POLICIES: [[u8; 32]; 2] = [[0x7F; 32], [0x80; 32]];
const OVIDS: [[u8; 32]; 4] = [[0x00; 32], [0x7F; 32], [0x80; 32], [0xFF; 32]];
const CODES: [&str; 3] = ["timeout", "timeout: remote", "Z"];

fn keys() -> impl Iterator<Item = DoneLedgerKey> {
    TENANTS.iter().flat_map(|t| {
        POLICIES.iter().flat_map(move |p| {
            OVIDS.iter().map(move |o| {
                DoneLedgerKey::new(TenantId::from_bytes(*t), PolicyHash::from_bytes(*p), OvidHash::from_bytes(*o))
            })
        })
    })
}

/// Mostly values around 0, 2^63 and 2^64 - 1, where a naive i64 column
/// would order wrongly.
fn edge_u64() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..8, (i64::MAX as u64 - 3)..=(i64::MAX as u64 + 4), (u64::MAX - 7)..=u64::MAX, any::<u64>(),]
}

/// A row, valid unless `break_it` says which invariant to violate.
#[derive(Clone, Debug)]
struct RowSpec {
    key: (usize, usize, usize),
    status: DoneLedgerStatus,
    bytes: u64,
    findings: u32,
    run: u64,
    shard: u64,
    fence: u64,
    times: (u64, u64),
    code: usize,
    break_it: Option<Break>,
}

#[derive(Clone, Copy, Debug)]
enum Break {
    /// The error code is present exactly when it must not be.
    ErrorCode,
    /// started_at after finished_at.
    Ordering,
}

impl RowSpec {
    fn build(&self) -> DoneLedgerRecord {
        let (t, p, o) = self.key;
        let key = DoneLedgerKey::new(
            TenantId::from_bytes(TENANTS[t]),
            PolicyHash::from_bytes(POLICIES[p]),
            OvidHash::from_bytes(OVIDS[o]),
        );
        let (lo, hi) = (self.times.0.min(self.times.1), self.times.0.max(self.times.1));
        let (started, finished) = match self.break_it {
            Some(Break::Ordering) if lo < hi => (hi, lo),
            _ => (lo, hi),
        };
        let findings = match self.status {
            DoneLedgerStatus::ScannedClean => 0,
            DoneLedgerStatus::ScannedWithFindings => self.findings.max(1),
            _ => self.findings,
        };
        let wants_code = !self.status.is_scanned() ^ matches!(self.break_it, Some(Break::ErrorCode));
        let code = wants_code.then(|| DoneLedgerErrorCode::try_new(CODES[self.code]).expect("valid code"));
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(self.run),
            ShardId::from_raw(self.shard),
            FenceEpoch::from_raw(self.fence),
            LogicalTime::from_raw(started),
            LogicalTime::from_raw(finished),
        );
        DoneLedgerRecord::try_new(key, self.status, self.bytes, findings, provenance, code).expect("consistent shape")
    }
}

fn row_spec(invalid_weight: u32) -> impl Strategy<Value = RowSpec> {
    let key = (0..TENANTS.len(), 0..POLICIES.len(), 0..OVIDS.len());
    let status = proptest::sample::select(DoneLedgerStatus::ALL.to_vec());
    let findings = prop_oneof![0u32..4, Just(u32::MAX)];
    let break_it = prop_oneof![
        100 => Just(None),
        invalid_weight => Just(Some(Break::ErrorCode)),
        invalid_weight => Just(Some(Break::Ordering)),
    ];
    (
        key,
        status,
        edge_u64(),
        findings,
        (edge_u64(), edge_u64(), edge_u64()),
        (edge_u64(), edge_u64()),
        0..CODES.len(),
        break_it,
    )
        .prop_map(|(key, status, bytes, findings, (run, shard, fence), times, code, break_it)| RowSpec {
            key,
            status,
            bytes,
            findings,
            run,
            shard,
            fence,
            times,
            code,
            break_it,
        })
}

/// Cuts `rows` into consecutive batches of the given sizes (cycled).
fn batches(rows: &[DoneLedgerRecord], sizes: &[usize]) -> Vec<Vec<DoneLedgerRecord>> {
    let mut out = Vec::new();
    let mut rest = rows;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        out.push(head.to_vec());
        rest = tail;
    }
    out
}

/// Everything observable about both ledgers must agree.
fn assert_same_state(native: &InMemoryDoneLedger, sqlite: &SqliteDoneLedger) -> Result<(), TestCaseError> {
    prop_assert_eq!(native.snapshot().unwrap(), sqlite.snapshot().unwrap());
    for t in TENANTS {
        for p in POLICIES {
            let (tenant, policy) = (TenantId::from_bytes(t), PolicyHash::from_bytes(p));
            let mut a = native.list_done_hashes(tenant, policy).unwrap();
            let mut b = sqlite.list_done_hashes(tenant, policy).unwrap();
            a.sort();
            b.sort();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(sqlite.count_done_hashes(tenant, policy).unwrap(), Some(b.len()));
            let ovids = OVIDS.map(OvidHash::from_bytes);
            prop_assert_eq!(
                native.batch_get(tenant, policy, &ovids).unwrap(),
                sqlite.batch_get(tenant, policy, &ovids).unwrap()
            );
        }
    }
    for key in keys() {
        prop_assert_eq!(native.get_record(&key).unwrap(), sqlite.get_record(&key).unwrap());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The join is order-independent: the SQLite ledger fed the rows in any
    /// order and any batching ends equal to the native ledger fed them in
    /// the original order.
    #[test]
    fn prop_sqlite_snapshot_equals_native_in_any_order(
        (specs, shuffled) in proptest::collection::vec(row_spec(0), 1..48)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        native_sizes in proptest::collection::vec(1usize..10, 1..4),
        sqlite_sizes in proptest::collection::vec(1usize..10, 1..4),
    ) {
        let rows: Vec<DoneLedgerRecord> = specs.iter().map(RowSpec::build).collect();
        let reordered: Vec<DoneLedgerRecord> = shuffled.iter().map(RowSpec::build).collect();
        let native = InMemoryDoneLedger::new();
        let sqlite = SqliteDoneLedger::open().unwrap();
        for batch in batches(&rows, &native_sizes) {
            native.batch_upsert(&batch).unwrap().wait().unwrap();
        }
        for batch in batches(&reordered, &sqlite_sizes) {
            sqlite.batch_upsert(&batch).unwrap().wait().unwrap();
        }
        assert_same_state(&native, &sqlite)?;
    }

    /// Batch by batch, with some invalid rows: the same receipt or the same
    /// error for every batch, and the same state after it.
    #[test]
    fn prop_sqlite_matches_native_batch_by_batch(
        specs in proptest::collection::vec(row_spec(3), 1..48),
        sizes in proptest::collection::vec(1usize..10, 1..4),
    ) {
        let rows: Vec<DoneLedgerRecord> = specs.iter().map(RowSpec::build).collect();
        let native = InMemoryDoneLedger::new();
        let sqlite = SqliteDoneLedger::open().unwrap();
        for batch in batches(&rows, &sizes) {
            let expected = native.batch_upsert(&batch).unwrap().wait();
            let actual = sqlite.batch_upsert(&batch).unwrap().wait();
            match (&expected, &actual) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(Some(a), b.as_store_error(), "sqlite error: {}", b),
                _ => prop_assert!(false, "native {expected:?}, sqlite {actual:?}"),
            }
            assert_same_state(&native, &sqlite)?;
        }
    }
}
