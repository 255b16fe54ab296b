//! What the host benches share: the same 1,000-row done-ledger batches, and
//! the per-benchmark totals each run ends by turning into ratios.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::{CommitHandle, DoneLedger};

/// (total time, iterations) per benchmark id.
static TOTALS: Mutex<BTreeMap<String, (Duration, u64)>> = Mutex::new(BTreeMap::new());

pub fn record(id: &str, elapsed: Duration, iters: u64) {
    let mut totals = TOTALS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let slot = totals.entry(id.to_owned()).or_default();
    slot.0 += elapsed;
    slot.1 += iters;
}

pub fn mean(id: &str) -> Option<Duration> {
    let totals = TOTALS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (total, iters) = *totals.get(id)?;
    u32::try_from(iters).ok().filter(|n| *n > 0).map(|n| total / n)
}

pub const TENANT: TenantId = TenantId::from_bytes([1; 32]);
pub const POLICY: PolicyHash = PolicyHash::from_bytes([2; 32]);

/// 1,000 rows under one scope, starting at ovid number `first`: nine in ten
/// scanned (a third with findings), one in ten failed with an error code.
pub fn batch(first: u64) -> Vec<DoneLedgerRecord> {
    let code = DoneLedgerErrorCode::try_new("timeout: remote").expect("valid code");
    (first..first + 1_000)
        .map(|n| {
            let mut ovid = [0u8; 32];
            ovid[..8].copy_from_slice(&n.to_le_bytes());
            ovid[31] = 0xA5;
            let key = DoneLedgerKey::new(TENANT, POLICY, OvidHash::from_bytes(ovid));
            let provenance = DoneLedgerProvenance::new(
                RunId::from_raw(9),
                ShardId::from_raw(n % 16),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(n),
                LogicalTime::from_raw(n + 5),
            );
            let (status, findings, code) = match n % 10 {
                0 => (DoneLedgerStatus::FailedRetryable, 0, Some(code.clone())),
                1 | 4 | 7 => (DoneLedgerStatus::ScannedWithFindings, 2, None),
                _ => (DoneLedgerStatus::ScannedClean, 0, None),
            };
            DoneLedgerRecord::try_new(key, status, 4096 + n, findings, provenance, code).expect("valid row")
        })
        .collect()
}

pub fn upsert_and_wait<L: DoneLedger>(ledger: &L, rows: &[DoneLedgerRecord]) {
    let receipt = ledger.batch_upsert(rows).ok().and_then(|h| h.wait().ok());
    assert!(receipt.is_some(), "a valid batch must commit");
    black_box(receipt);
}

/// New keys each time: stores grow, as in a first scan. A fresh store
/// every `batches.len()` batches keeps every backend at comparable sizes;
/// only the upserts are timed.
pub fn bench_insert<L: DoneLedger>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &'static str,
    new_ledger: impl Fn() -> L,
    batches: &[Vec<DoneLedgerRecord>],
) {
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let ledger = new_ledger();
                for rows in batches.iter().take((iters - done).min(batches.len() as u64) as usize) {
                    let start = Instant::now();
                    upsert_and_wait(&ledger, rows);
                    elapsed += start.elapsed();
                    done += 1;
                }
            }
            record(id, elapsed, iters);
            elapsed
        });
    });
}
