//! Batches and lock helpers for the tests that break things in the middle
//! of a write (`bad_conditions.rs`, `crash.rs`).

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_postgres::postgres::Client;

use super::TestDb;

pub const TENANT: TenantId = TenantId::from_bytes([0x21; 32]);
pub const POLICY: PolicyHash = PolicyHash::from_bytes([0x22; 32]);

pub fn ledger_batch(first: u8, count: u8, status: DoneLedgerStatus, finished: u64) -> Vec<DoneLedgerRecord> {
    (first..first + count)
        .map(|o| {
            let key = DoneLedgerKey::new(TENANT, POLICY, OvidHash::from_bytes([o; 32]));
            let who = DoneLedgerProvenance::new(
                RunId::from_raw(u64::from(o)),
                ShardId::from_raw(0),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(1),
                LogicalTime::from_raw(finished),
            );
            let count = u32::from(status == DoneLedgerStatus::ScannedWithFindings);
            DoneLedgerRecord::try_new(key, status, u64::from(o) * 100, count, who, None).expect("valid")
        })
        .collect()
}

pub struct Findings {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
}

impl Findings {
    pub fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

/// `count` full chains from `first`, every observation seen at `seen`.
pub fn findings_batch(first: u8, count: u8, seen: u64) -> Findings {
    let mut out = Findings { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
    for i in first..first + count {
        let finding = FindingRecord::new(
            TENANT,
            StableItemId::from_bytes([i; 32]),
            RuleFingerprint::from_bytes([7; 32]),
            SecretHash::from_persisted_bytes([0x33; 32]),
        );
        let occurrence = OccurrenceRecord::new(
            TENANT,
            finding.finding_id(),
            ObjectVersionId::from_bytes([i; 32]),
            u64::from(i),
            NonZeroU64::new(16).unwrap(),
        );
        let observation = ObservationRecord::new(
            TENANT,
            occurrence.occurrence_id(),
            POLICY,
            OvidHash::from_bytes([i; 32]),
            RunId::from_raw(seen),
            ShardId::from_raw(u64::MAX),
            FenceEpoch::from_raw(1),
            LogicalTime::from_raw(seen),
        );
        out.findings.push(finding);
        out.occurrences.push(occurrence);
        out.observations.push(observation);
    }
    out
}

/// Blocks writers of `table` (in `schema`) until the returned client rolls
/// back: EXCLUSIVE mode lets reads through but no insert or update.
pub fn lock_table(db: &TestDb, schema: &str, table: &str) -> Client {
    let mut blocker = db.client();
    blocker.batch_execute(&format!("BEGIN; LOCK TABLE \"{schema}\".{table} IN EXCLUSIVE MODE")).unwrap();
    blocker
}

/// The server pid of the store connection now waiting for a lock.
pub fn lock_waiter(db: &TestDb) -> i32 {
    lock_waiters(db, 1)[0]
}

/// The server pids of the `n` store connections now waiting for locks, once
/// that many wait.
pub fn lock_waiters(db: &TestDb, n: usize) -> Vec<i32> {
    let mut watcher = db.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = watcher
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                &[&db.name],
            )
            .unwrap();
        if rows.len() >= n {
            return rows.iter().map(|row| row.get(0)).collect();
        }
        assert!(Instant::now() < deadline, "{} of {n} store connections ever waited for a lock", rows.len());
        std::thread::sleep(Duration::from_millis(10));
    }
}
