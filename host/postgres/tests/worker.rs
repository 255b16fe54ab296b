//! The example scanning worker (`gossip_artifacts::WORKER_PATH`, unchanged)
//! with its store imports served by the host from PostgreSQL
//! (`gossip_host::served`), against the same worker with the in-memory
//! component plugged in (`gossip_artifacts::PLUGGED_WORKER`): the same scans
//! give the same reports and the same durable rows; and the rows survive
//! the host: after every pool, store and runtime is dropped and a new
//! database connection and worker are made, a rescan skips every object
//! already done.

mod common;

use gossip_host::served::{ServedError, ServedWorkerRuntime};
use gossip_host::worker::{FindingsRows, ScanningWorker, WorkerRuntime, digest_bytes, wit, wit_digest};
use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::{DoneLedgerInspect, FindingsInspect};
use gossip_postgres::{PgDatabase, PgDoneLedger, PgFindingsSink};

use common::test_db;

fn plugged() -> ScanningWorker {
    WorkerRuntime::from_bytes("plugged worker", gossip_artifacts::PLUGGED_WORKER)
        .expect("the plugged worker loads")
        .spawn()
        .expect("a plugged worker starts")
}

fn served_runtime() -> ServedWorkerRuntime {
    ServedWorkerRuntime::from_file(gossip_artifacts::WORKER_PATH).expect("the worker loads")
}

fn id(byte: u8) -> [u8; 32] {
    [byte; 32]
}

fn context(run: u64) -> wit::ScanContext {
    wit::ScanContext {
        tenant_id: wit_digest(&id(1)),
        policy_hash: wit_digest(&id(2)),
        run_id: run,
        shard_id: 3,
        fence_epoch: 1,
        started_at: run * 100,
        finished_at: run * 100 + 50,
    }
}

/// Object `n`, with one secret per rule in `rules` (a location on the first).
fn object(n: u8, rules: &[u8]) -> wit::ObjectScan {
    wit::ObjectScan {
        stable_item_id: wit_digest(&id(0x40 + n)),
        object_version_id: wit_digest(&id(0x80 + n)),
        strong_version: !n.is_multiple_of(3),
        bytes_scanned: 4_096 + u64::from(n),
        secrets: rules
            .iter()
            .enumerate()
            .map(|(i, rule)| wit::Secret {
                rule_fingerprint: wit_digest(&id(*rule)),
                secret_hash: wit_digest(&id(rule.wrapping_mul(3))),
                byte_offset: 16 * i as u64,
                byte_length: 9,
                location: (i == 0).then(|| wit::Location { display: format!("repo/file-{n}.env"), url: None }),
            })
            .collect(),
    }
}

/// Ten objects: clean ones and ones with one to three secrets.
fn batch(first: u8) -> Vec<wit::ObjectScan> {
    (first..first + 10).map(|n| object(n, &[10, 11, 12][..usize::from(n % 4).min(3)])).collect()
}

/// A report in plain values: (ovid, findings, occurrences, observations)
/// per scanned object, and the skipped ovids.
type Outcome = (Vec<([u8; 32], u32, u64, u64)>, Vec<[u8; 32]>);

fn plain(report: &wit::ScanReport) -> Outcome {
    let scanned =
        report.scanned.iter().map(|s| (digest_bytes(s.ovid_hash), s.findings, s.occurrences, s.observations)).collect();
    (scanned, report.skipped.iter().copied().map(digest_bytes).collect())
}

/// Every durable row of the PostgreSQL stores, read natively.
fn durable(ledger: &PgDoneLedger, sink: &PgFindingsSink) -> (Vec<DoneLedgerRecord>, FindingsRows) {
    let findings = FindingsRows {
        findings: sink.findings_snapshot().expect("findings"),
        occurrences: sink.occurrences_snapshot().expect("occurrences"),
        observations: sink.observations_snapshot().expect("observations"),
    };
    (ledger.snapshot().expect("done rows"), findings)
}

#[test]
fn the_same_scan_gives_the_same_reports_and_rows_plugged_and_served_from_postgres() {
    let Some(db) = test_db("worker_same_scan") else { return };
    let database = db.fresh();
    let (ledger, sink) = (database.done_ledger(), database.findings_sink());
    let runtime = served_runtime();
    let mut served = runtime.spawn(ledger.clone(), sink.clone()).expect("a served worker starts");
    let mut reference = plugged();

    for (run, objects) in [(7, batch(0)), (8, batch(5)), (9, batch(0))] {
        let expected = plain(&reference.scan(context(run), &objects).expect("the plugged worker scans"));
        let got = plain(&served.scan(context(run), &objects).expect("the served worker scans"));
        assert_eq!(got, expected, "run {run}");
    }
    let rows =
        (reference.done_rows().expect("plugged done rows"), reference.findings_rows().expect("plugged findings"));
    assert_eq!(rows.0.len(), 15, "fifteen distinct objects were done");
    assert!(!rows.1.observations.is_empty(), "the batches have findings");
    assert_eq!(durable(&ledger, &sink), rows, "the durable PostgreSQL rows");
    assert_eq!((served.done_rows().expect("served rows"), served.findings_rows().expect("served findings")), rows);
    assert_eq!(served.durable_counts().expect("served counts"), reference.durable_counts().expect("plugged counts"));
}

#[test]
fn after_a_host_restart_a_rescan_skips_every_object_already_done() {
    let Some(db) = test_db("worker_restart") else { return };
    let options = db.options("restart");
    let mut reference = plugged();
    let first = batch(0);

    // The first host process: scan, then drop every pool, store and runtime.
    let before = {
        let database = PgDatabase::connect(db.url, &options).expect("connects");
        let runtime = served_runtime();
        let mut worker = runtime.spawn(database.done_ledger(), database.findings_sink()).expect("a worker starts");
        let report = plain(&worker.scan(context(7), &first).expect("the first scan"));
        assert_eq!(report, plain(&reference.scan(context(7), &first).expect("the plugged scan")));
        assert_eq!((report.0.len(), report.1.len()), (10, 0), "every object was new");
        report
    };

    // A new process: a new connection to the same schema, a fresh worker.
    let database = PgDatabase::connect(db.url, &options).expect("reconnects");
    let (ledger, sink) = (database.done_ledger(), database.findings_sink());
    let mut worker = served_runtime().spawn(ledger.clone(), sink.clone()).expect("a fresh worker starts");
    let rescan = plain(&worker.scan(context(8), &first).expect("the rescan"));
    assert!(rescan.0.is_empty(), "an object done before the restart was scanned again: {rescan:?}");
    let done_before: Vec<[u8; 32]> = before.0.iter().map(|s| s.0).collect();
    assert_eq!(rescan.1, done_before, "every object done before the restart is skipped");

    // New objects beside old ones: only the new are scanned, as the plugged
    // worker (which never restarted) scans them.
    let mixed = batch(5);
    let got = plain(&worker.scan(context(9), &mixed).expect("the mixed scan"));
    assert_eq!(got, plain(&reference.scan(context(9), &mixed).expect("the plugged mixed scan")));
    assert_eq!((got.0.len(), got.1.len()), (5, 5));
    let rows = (reference.done_rows().expect("plugged rows"), reference.findings_rows().expect("plugged findings"));
    assert_eq!(durable(&ledger, &sink), rows, "the rows before and after the restart are the plugged worker's");
}

#[test]
fn a_database_gone_under_the_worker_is_a_backend_error_not_a_panic() {
    let Some(db) = test_db("worker_lost_schema") else { return };
    let database = db.fresh();
    let mut worker = served_runtime().spawn(database.done_ledger(), database.findings_sink()).expect("a worker starts");
    worker.scan(context(7), &batch(0)).expect("the first scan");
    database.drop_schema().expect("the schema is dropped");
    let error = worker.scan(context(8), &batch(20)).expect_err("the tables are gone");
    assert!(matches!(error, ServedError::Backend { .. }), "{error:?}");
}
