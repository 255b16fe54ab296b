//! A server crash in the middle of a batch: every write acknowledged before
//! the crash is there after the server recovers, nothing of the batches in
//! flight is, and resubmitting them converges to the in-memory oracle.
//!
//! The throwaway cluster runs with `synchronous_commit = off` server-wide
//! (`scripts/postgres.sh`), so an acknowledged commit survives the crash
//! only because the stores raise that setting for their own sessions
//! (`docs/postgres.md`, "Durability"). Crashing a server cuts every session
//! on it, so this test has a binary of its own: cargo runs test binaries one
//! at a time, and no other test is connected when it crashes the server.

mod common;

use common::faults::{findings_batch, ledger_batch, lock_table, lock_waiters};
use gossip_persistence::done_ledger::DoneLedgerStatus;
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink,
};
use gossip_postgres::{PgDatabase, PgDoneLedger, PgError, PgFindingsSink};

#[test]
fn a_server_crash_mid_batch_keeps_every_acknowledged_write_and_nothing_in_flight() {
    let Some(db) = common::test_db("crash") else { return };
    let Some(cluster) = common::cluster_dir() else {
        assert!(
            std::env::var("GOSSIP_POSTGRES_REQUIRED").is_err(),
            "GOSSIP_POSTGRES_URL is set without GOSSIP_POSTGRES_DIR: the crash test needs a cluster it may crash"
        );
        println!("skipping: the server is not a cluster of scripts/postgres.sh (set GOSSIP_POSTGRES_DIR)");
        return;
    };
    let database = db.fresh();
    let (ledger, sink) = (database.done_ledger(), database.findings_sink());
    let (ledger_oracle, sink_oracle) = (InMemoryDoneLedger::new(), InMemoryFindingsSink::new());

    // Acknowledged just before the crash: the server has had no time to
    // write them out by itself (its WAL writer runs every 200 ms).
    let acked_rows = ledger_batch(0, 50, DoneLedgerStatus::ScannedClean, 10);
    let acked_findings = findings_batch(0, 10, 5);
    ledger.batch_upsert(&acked_rows).unwrap().wait().unwrap();
    sink.upsert_batch(acked_findings.view()).unwrap().wait().unwrap();
    ledger_oracle.batch_upsert(&acked_rows).unwrap().wait().unwrap();
    sink_oracle.upsert_batch(acked_findings.view()).unwrap().wait().unwrap();

    // In flight when the server dies: one write of each store, each held
    // back by a lock after it started.
    let late_rows = ledger_batch(25, 50, DoneLedgerStatus::ScannedWithFindings, 20);
    let late_findings = findings_batch(5, 10, 9);
    let mut blocker = lock_table(&db, database.schema(), "done_ledger");
    blocker.batch_execute(&format!("LOCK TABLE \"{}\".observations IN EXCLUSIVE MODE", database.schema())).unwrap();
    let (ledger_error, sink_error) = std::thread::scope(|scope| {
        let ledger_write = scope.spawn(|| ledger.batch_upsert(&late_rows).and_then(|h| h.wait()));
        let sink_write = scope.spawn(|| sink.upsert_batch(late_findings.view()).and_then(|h| h.wait()));
        lock_waiters(&db, 2);
        common::crash_and_restart(cluster);
        let ledger_error = ledger_write.join().unwrap().expect_err("the ledger write in flight fails");
        let sink_error = sink_write.join().unwrap().expect_err("the findings write in flight fails");
        (ledger_error, sink_error)
    });
    drop(blocker);
    for error in [&ledger_error, &sink_error] {
        assert!(matches!(error, PgError::ConnectionLost(_)), "{error:?}");
        assert!(error.is_transient(), "{error:?}");
    }

    // A host starting over (a new pool on the same schema) finds exactly
    // what was acknowledged.
    let reopened = PgDatabase::connect(db.url, &db.options(database.schema())).expect("the recovered server");
    let (ledger_after, sink_after) = (reopened.done_ledger(), reopened.findings_sink());
    same_rows(&ledger_after, &sink_after, &ledger_oracle, &sink_oracle);

    // The stores that saw the crash may still hold idle pooled connections
    // to the dead server; each is dropped when a write finds it dead, with
    // a transient error. Resubmitting the lost batches converges.
    let receipt = resubmitted(|| ledger.batch_upsert(&late_rows).and_then(|h| h.wait()));
    assert_eq!(receipt, ledger_oracle.batch_upsert(&late_rows).unwrap().wait().unwrap());
    let receipt = resubmitted(|| sink.upsert_batch(late_findings.view()).and_then(|h| h.wait()));
    assert_eq!(receipt, sink_oracle.upsert_batch(late_findings.view()).unwrap().wait().unwrap());
    same_rows(&ledger_after, &sink_after, &ledger_oracle, &sink_oracle);
}

/// Every durable row of the PostgreSQL stores equals the oracle's.
fn same_rows(
    ledger: &PgDoneLedger,
    sink: &PgFindingsSink,
    ledger_oracle: &InMemoryDoneLedger,
    sink_oracle: &InMemoryFindingsSink,
) {
    assert_eq!(ledger.snapshot().unwrap(), ledger_oracle.snapshot().unwrap());
    assert_eq!(sink.durable_counts().unwrap(), sink_oracle.durable_counts().unwrap());
    assert_eq!(sink.findings_snapshot().unwrap(), sink_oracle.findings_snapshot().unwrap());
    assert_eq!(sink.occurrences_snapshot().unwrap(), sink_oracle.occurrences_snapshot().unwrap());
    assert_eq!(sink.observations_snapshot().unwrap(), sink_oracle.observations_snapshot().unwrap());
}

/// The outcome of `write`, resubmitted after transient errors: at most once
/// per connection the pool can hold (`PgOptions::pool_size`, 4) and once more.
fn resubmitted<T>(mut write: impl FnMut() -> Result<T, PgError>) -> T {
    for _ in 0..4 {
        match write() {
            Ok(done) => return done,
            Err(error) => assert!(error.is_transient(), "{error:?}"),
        }
    }
    write().expect("a fifth attempt gets a live connection")
}
