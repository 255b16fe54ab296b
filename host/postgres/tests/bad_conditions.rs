//! Bad conditions: an unreachable server, a connection killed in the middle
//! of a batch, a statement timeout, and a serialization failure. Each gives
//! a typed error (or, for the last, a transparent retry), leaves nothing of
//! the failed batch behind, and a resubmission converges to the state the
//! in-memory oracle reaches with the same batches.

mod common;

use std::time::{Duration, Instant};

use common::TestDb;
use common::faults::{Findings, findings_batch, ledger_batch, lock_table, lock_waiter};
use gossip_persistence::done_ledger::DoneLedgerStatus;
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink,
};
use gossip_postgres::{PgDatabase, PgError, PgOptions};

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
