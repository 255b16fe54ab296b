//! Bad conditions: an unreachable server, a connection killed in the middle
//! of a batch, a statement timeout, and a serialization failure. Each gives
//! a typed error (or, for the last, a transparent retry), leaves nothing of
//! the failed batch behind, and a resubmission converges to the state the
//! in-memory oracle reaches with the same batches.

mod common;

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use common::TestDb;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink,
};
use gossip_postgres::postgres::Client;
use gossip_postgres::{PgDatabase, PgError, PgOptions};

const TENANT: TenantId = TenantId::from_bytes([0x21; 32]);
const POLICY: PolicyHash = PolicyHash::from_bytes([0x22; 32]);

fn ledger_batch(first: u8, count: u8, status: DoneLedgerStatus, finished: u64) -> Vec<DoneLedgerRecord> {
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

struct Findings {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl Findings {
    fn view(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }
}

/// `count` full chains from `first`, every observation seen at `seen`.
fn findings_batch(first: u8, count: u8, seen: u64) -> Findings {
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
fn lock_table(db: &TestDb, schema: &str, table: &str) -> Client {
    let mut blocker = db.client();
    blocker.batch_execute(&format!("BEGIN; LOCK TABLE \"{schema}\".{table} IN EXCLUSIVE MODE")).unwrap();
    blocker
}

/// The server pid of the store connection now waiting for a lock.
fn lock_waiter(db: &TestDb) -> i32 {
    let mut watcher = db.client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = watcher
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                &[&db.name],
            )
            .unwrap();
        if let Some(row) = rows.first() {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "no store connection ever waited for the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn terminate(db: &TestDb, pid: i32) {
    let terminated: bool = db.client().query_one("SELECT pg_terminate_backend($1)", &[&pid]).unwrap().get(0);
    assert!(terminated, "backend {pid} was not terminated");
}

#[test]
fn an_unreachable_server_is_a_typed_connect_error_at_once() {
    // Nothing listens on port 1 of the loopback address, nor in a socket
    // directory that does not exist.
    for url in ["postgresql://postgres@127.0.0.1:1/postgres", "postgresql:///postgres?host=/nonexistent/gossip&user=x"]
    {
        let options = PgOptions { connect_timeout: Duration::from_secs(2), ..PgOptions::default() };
        let started = Instant::now();
        let error = PgDatabase::connect(url, &options).err().expect("nothing to connect to");
        assert!(matches!(error, PgError::Connect(_)), "{url}: {error:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{url}: refused connections must fail fast");
    }
    let error = PgDatabase::connect("not a url at all ://", &PgOptions::default()).err().expect("a bad URL");
    assert!(matches!(error, PgError::Connect(_)), "{error:?}");
    let error = PgDatabase::connect("postgresql:///x", &PgOptions::with_schema("robert'); DROP TABLE x; --"))
        .err()
        .expect("a bad schema name");
    assert!(matches!(error, PgError::InvalidOptions(_)), "{error:?}");
}

#[test]
fn a_ledger_write_whose_connection_is_killed_leaves_nothing_and_a_retry_converges() {
    let Some(db) = common::test_db("killed_ledger") else { return };
    let database = db.fresh();
    let ledger = database.done_ledger();
    let oracle = InMemoryDoneLedger::new();
    let first = ledger_batch(0, 50, DoneLedgerStatus::ScannedClean, 10);
    ledger.batch_upsert(&first).unwrap().wait().unwrap();
    oracle.batch_upsert(&first).unwrap().wait().unwrap();
    let before = ledger.snapshot().unwrap();

    // New keys and merges into existing ones, in one statement.
    let second = ledger_batch(25, 50, DoneLedgerStatus::ScannedWithFindings, 20);
    let blocker = lock_table(&db, database.schema(), "done_ledger");
    let error = std::thread::scope(|scope| {
        let write = scope.spawn(|| ledger.batch_upsert(&second).and_then(|h| h.wait()));
        terminate(&db, lock_waiter(&db));
        write.join().unwrap().expect_err("the killed write fails")
    });
    drop(blocker);
    assert!(matches!(error, PgError::ConnectionLost(_)), "{error:?}");
    assert!(error.is_transient());
    assert_eq!(ledger.snapshot().unwrap(), before, "nothing of the killed batch may stay");

    let receipt = ledger.batch_upsert(&second).unwrap().wait().unwrap();
    assert_eq!(receipt, oracle.batch_upsert(&second).unwrap().wait().unwrap());
    assert_eq!(ledger.snapshot().unwrap(), oracle.snapshot().unwrap());
}

#[test]
fn a_findings_transaction_whose_connection_is_killed_leaves_nothing_and_a_retry_converges() {
    let Some(db) = common::test_db("killed_findings") else { return };
    let database = db.fresh();
    let sink = database.findings_sink();
    let oracle = InMemoryFindingsSink::new();
    let first = findings_batch(0, 10, 5);
    sink.upsert_batch(first.view()).unwrap().wait().unwrap();
    oracle.upsert_batch(first.view()).unwrap().wait().unwrap();
    let before = sink.durable_counts().unwrap();

    // Killed after its read, while its write waits: findings and
    // occurrences of the batch are new, its observations partly updates.
    let second = findings_batch(5, 10, 9);
    let blocker = lock_table(&db, database.schema(), "observations");
    let error = std::thread::scope(|scope| {
        let write = scope.spawn(|| sink.upsert_batch(second.view()).and_then(|h| h.wait()));
        terminate(&db, lock_waiter(&db));
        write.join().unwrap().expect_err("the killed write fails")
    });
    drop(blocker);
    assert!(matches!(error, PgError::ConnectionLost(_)), "{error:?}");
    assert_eq!(sink.durable_counts().unwrap(), before, "nothing of the killed batch may stay");
    assert_eq!(sink.observations_snapshot().unwrap(), oracle.observations_snapshot().unwrap());

    let receipt = sink.upsert_batch(second.view()).unwrap().wait().unwrap();
    assert_eq!(receipt, oracle.upsert_batch(second.view()).unwrap().wait().unwrap());
    assert_eq!(sink.findings_snapshot().unwrap(), oracle.findings_snapshot().unwrap());
    assert_eq!(sink.occurrences_snapshot().unwrap(), oracle.occurrences_snapshot().unwrap());
    assert_eq!(sink.observations_snapshot().unwrap(), oracle.observations_snapshot().unwrap());
}

#[test]
fn a_statement_timeout_is_a_typed_error_and_a_retry_converges() {
    let Some(db) = common::test_db("timeout") else { return };
    let options = PgOptions { statement_timeout: Some(Duration::from_millis(300)), ..db.options("timed") };
    let database = PgDatabase::connect(db.url, &options).unwrap();
    let (ledger, sink) = (database.done_ledger(), database.findings_sink());

    let rows = ledger_batch(0, 20, DoneLedgerStatus::ScannedClean, 3);
    let blocker = lock_table(&db, "timed", "done_ledger");
    let error = ledger.batch_upsert(&rows).and_then(|h| h.wait()).expect_err("the write times out");
    drop(blocker);
    assert!(matches!(error, PgError::Timeout(_)), "{error:?}");
    assert!(ledger.is_empty().unwrap(), "nothing of the timed-out batch may stay");

    let batch = findings_batch(0, 5, 1);
    let blocker = lock_table(&db, "timed", "occurrences");
    let error = sink.upsert_batch(batch.view()).and_then(|h| h.wait()).expect_err("the write times out");
    drop(blocker);
    assert!(matches!(error, PgError::Timeout(_)), "{error:?}");
    assert_eq!(sink.durable_counts().unwrap(), gossip_persistence::findings::DurableFindingsCounts::new(0, 0, 0));

    // The connections that timed out are still usable: the retries go through.
    let oracle = InMemoryDoneLedger::new();
    assert_eq!(
        ledger.batch_upsert(&rows).unwrap().wait().unwrap(),
        oracle.batch_upsert(&rows).unwrap().wait().unwrap()
    );
    assert_eq!(ledger.snapshot().unwrap(), oracle.snapshot().unwrap());
    let oracle = InMemoryFindingsSink::new();
    let expected = oracle.upsert_batch(batch.view()).unwrap().wait().unwrap();
    assert_eq!(sink.upsert_batch(batch.view()).unwrap().wait().unwrap(), expected);
    assert_eq!(sink.observations_snapshot().unwrap(), oracle.observations_snapshot().unwrap());
}

/// A concurrent commit to a row this batch read makes PostgreSQL abort the
/// batch's transaction (SQLSTATE 40001); the store runs it again, and the
/// result is the merge of both writes.
#[test]
fn a_serialization_failure_is_retried_and_merges_with_the_concurrent_write() {
    let Some(db) = common::test_db("serialization") else { return };
    let database = db.fresh();
    let sink = database.findings_sink();
    let base = findings_batch(0, 3, 10);
    sink.upsert_batch(base.view()).unwrap().wait().unwrap();

    // Only observations, later sightings of the durable ones.
    let later = findings_batch(0, 3, 20);
    let update = Findings { findings: Vec::new(), occurrences: Vec::new(), observations: later.observations.clone() };
    let schema = database.schema().to_owned();
    let mut blocker = lock_table(&db, &schema, "observations");
    let receipt = std::thread::scope(|scope| {
        let write = scope.spawn(|| sink.upsert_batch(update.view()).and_then(|h| h.wait()));
        lock_waiter(&db);
        // After the batch read the row, another writer commits a newer
        // sighting of it (seen at 30, run 30, shard u64::MAX).
        let id = base.observations[1].observation_id();
        let (run, seen) = (30i64, 30u64 ^ (1 << 63));
        blocker
            .execute(
                &format!("UPDATE \"{schema}\".observations SET run_id = $1, seen_at = $2 WHERE observation_id = $3"),
                &[&run, &(seen as i64), &id.as_bytes().as_slice()],
            )
            .unwrap();
        blocker.batch_execute("COMMIT").unwrap();
        write.join().unwrap().expect("the retried batch commits")
    });
    assert_eq!(receipt.observation_count(), 3);
    assert!(database.retries() >= 1, "the batch must have been retried");

    let oracle = InMemoryFindingsSink::new();
    oracle.upsert_batch(base.view()).unwrap().wait().unwrap();
    let concurrent = findings_batch(1, 1, 30);
    oracle.upsert_batch(concurrent.view()).unwrap().wait().unwrap();
    oracle.upsert_batch(update.view()).unwrap().wait().unwrap();
    assert_eq!(sink.observations_snapshot().unwrap(), oracle.observations_snapshot().unwrap());
}
