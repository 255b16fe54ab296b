//! The example worker alone (`gossip_artifacts::WORKER_PATH`, importing the
//! store interfaces) with those imports served by the host from the native
//! in-memory stores (`gossip_host::served`), against the same worker with
//! the in-memory component plugged in: the same scans must give the same
//! reports, the same rows and the same errors, and the rows the worker reads
//! back must be exactly what the native stores hold.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gossip_host::served::{ServedConfig, ServedError, ServedWorker, ServedWorkerRuntime};
use gossip_host::worker::{ScanningWorker, WorkerError, WorkerRuntime, digest_bytes, wit, wit_digest};
use gossip_host::{ComponentStoreError, LoadError};
use gossip_persistence::{
    CompletionOrder, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, InMemoryDoneLedger,
    InMemoryFindingsSink, StoreControl, StoreError, StoreKind,
};

use crate::support::id;

fn served_runtime() -> &'static ServedWorkerRuntime {
    static RUNTIME: OnceLock<ServedWorkerRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| ServedWorkerRuntime::from_file(gossip_artifacts::WORKER_PATH).expect("the worker loads"))
}

fn plugged() -> ScanningWorker {
    static RUNTIME: OnceLock<WorkerRuntime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        WorkerRuntime::from_bytes("plugged worker", gossip_artifacts::PLUGGED_WORKER).expect("the plugged worker loads")
    });
    runtime.spawn().expect("a plugged worker starts")
}

struct Served {
    worker: ServedWorker,
    ledger: InMemoryDoneLedger,
    sink: InMemoryFindingsSink,
}

fn served() -> Served {
    let (ledger, sink) = (InMemoryDoneLedger::new(), InMemoryFindingsSink::new());
    let worker = served_runtime().spawn(ledger.clone(), sink.clone()).expect("a served worker starts");
    Served { worker, ledger, sink }
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

fn secret(rule: u8, offset: u64, location: Option<&str>) -> wit::Secret {
    wit::Secret {
        rule_fingerprint: wit_digest(&id(rule)),
        secret_hash: wit_digest(&id(rule.wrapping_add(1))),
        byte_offset: offset,
        byte_length: 12,
        location: location.map(|display| wit::Location { display: display.to_owned(), url: None }),
    }
}

/// Object `n`: clean when `secrets` is empty.
fn object(n: u8, secrets: Vec<wit::Secret>) -> wit::ObjectScan {
    wit::ObjectScan {
        stable_item_id: wit_digest(&id(0x40 + n)),
        object_version_id: wit_digest(&id(0x80 + n)),
        strong_version: n.is_multiple_of(2),
        bytes_scanned: 1_000 + u64::from(n),
        secrets,
    }
}

fn objects() -> Vec<wit::ObjectScan> {
    vec![
        object(0, vec![secret(10, 0, Some("src/main.rs")), secret(10, 40, None), secret(12, 7, None)]),
        object(1, vec![]),
        object(2, vec![secret(14, 3, Some("config/prod.env"))]),
        // The same object twice in one request: the second is skipped.
        object(1, vec![]),
        object(3, vec![]),
    ]
}

/// A report in plain values: (ovid, findings, occurrences, observations)
/// per scanned object, and the skipped ovids.
type Outcome = (Vec<([u8; 32], u32, u64, u64)>, Vec<[u8; 32]>);

fn plain(report: &wit::ScanReport) -> Outcome {
    let scanned =
        report.scanned.iter().map(|s| (digest_bytes(s.ovid_hash), s.findings, s.occurrences, s.observations)).collect();
    (scanned, report.skipped.iter().copied().map(digest_bytes).collect())
}

#[test]
fn the_served_worker_records_and_skips_exactly_what_the_plugged_worker_does() {
    let mut reference = plugged();
    let mut subject = served();
    let first = plain(&reference.scan(context(7), &objects()).expect("the plugged worker scans"));
    assert_eq!(plain(&subject.worker.scan(context(7), &objects()).expect("the served worker scans")), first);
    assert_eq!((first.0.len(), first.1.len()), (4, 1), "four distinct objects, one repeated: {first:?}");

    let done = reference.done_rows().expect("plugged rows");
    assert_eq!(subject.worker.done_rows().expect("served rows"), done);
    // What the worker reads through the served imports is what the native store holds.
    assert_eq!(subject.ledger.snapshot().expect("native rows"), done);
    let rows = reference.findings_rows().expect("plugged findings");
    assert_eq!(subject.worker.findings_rows().expect("served findings"), rows);
    assert_eq!(subject.sink.findings_snapshot().expect("native findings"), rows.findings);
    assert_eq!(subject.sink.occurrences_snapshot().expect("native occurrences"), rows.occurrences);
    assert_eq!(subject.sink.observations_snapshot().expect("native observations"), rows.observations);
    let counts = reference.durable_counts().expect("plugged counts");
    assert_eq!(subject.worker.durable_counts().expect("served counts"), counts);
    assert_eq!((counts.findings, counts.occurrences, counts.observations), (3, 4, 4));

    // A later run skips everything already done, and writes nothing.
    let rescan = plain(&subject.worker.scan(context(8), &objects()).expect("the rescan"));
    assert!(rescan.0.is_empty(), "a done object was scanned again: {rescan:?}");
    assert_eq!(rescan.1.len(), objects().len());
    assert_eq!(rescan, plain(&reference.scan(context(8), &objects()).expect("the plugged rescan")));
    assert_eq!(subject.ledger.snapshot().expect("native rows"), done);
    assert_eq!(subject.sink.durable_counts().expect("native counts"), counts);
}

#[test]
fn a_native_store_error_reaches_the_caller_as_the_plugged_worker_reports_it() {
    let scan = [object(0, vec![secret(10, 0, None)]), object(1, vec![])];
    for (store, stage) in
        [(StoreKind::DoneLedger, wit::ScanStage::MarkDone), (StoreKind::Findings, wit::ScanStage::RecordFindings)]
    {
        let mut reference = plugged();
        reference.inject_faults(store, 1, 0).expect("faults armed");
        let expected = reference.scan(context(7), &scan).expect_err("the plugged worker fails");

        let mut subject = served();
        match store {
            StoreKind::DoneLedger => subject.ledger.fail_next_submissions(1),
            StoreKind::Findings => subject.sink.fail_next_submissions(1),
        }
        .expect("faults armed");
        let got = subject.worker.scan(context(7), &scan).expect_err("the served worker fails");
        assert_eq!(got, ServedError::Worker(expected.clone()));
        let ServedError::Worker(WorkerError::Store { stage: got_stage, object, error }) = got else {
            panic!("not a store failure: {got:?}");
        };
        assert_eq!((got_stage, object), (stage, Some(0)));
        assert_eq!(error, ComponentStoreError::Store(StoreError::InjectedSubmissionFailure { store }));
        // The failed object is not done; the same request completes on retry.
        let retry = subject.worker.scan(context(7), &scan).expect("the retry");
        assert_eq!(plain(&retry).0.len(), 2, "{:?}", plain(&retry));
    }
}

#[test]
fn a_write_left_pending_is_reported_without_holding_the_worker() {
    let config = ServedConfig { write_timeout: Duration::from_millis(200), ..ServedConfig::default() };
    let runtime = ServedWorkerRuntime::from_bytes(
        "worker",
        &std::fs::read(gossip_artifacts::WORKER_PATH).expect("the worker file"),
        config,
    )
    .expect("the worker loads");
    let (ledger, sink) = (InMemoryDoneLedger::new(), InMemoryFindingsSink::new());
    let mut worker = runtime.spawn(ledger.clone(), sink.clone()).expect("a served worker starts");
    ledger.delay_next_writes(1).expect("delay armed");
    let started = Instant::now();
    let error = worker.scan(context(7), &[object(1, vec![])]).expect_err("a pending write is a violation");
    assert!(started.elapsed() < Duration::from_secs(10), "the scan waited {:?}", started.elapsed());
    assert!(
        matches!(&error, ServedError::Worker(WorkerError::ContractViolation { stage: wit::ScanStage::MarkDone, .. })),
        "{error:?}"
    );
    // Released later, the write lands; the rescan then skips the object.
    assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("released"), 1);
    let rescan = worker.scan(context(8), &[object(1, vec![])]).expect("the rescan");
    assert_eq!((rescan.scanned.len(), rescan.skipped.len()), (0, 1), "{:?}", plain(&rescan));
}

#[test]
fn a_component_that_is_not_a_store_user_worker_is_refused_at_load() {
    // The store exports no scanner.
    let store = ServedWorkerRuntime::from_bytes("store", gossip_artifacts::STORE, ServedConfig::default());
    assert!(matches!(store, Err(LoadError::Link { .. })), "{:?}", store.err());
    let junk = ServedWorkerRuntime::from_bytes("junk", b"not wasm", ServedConfig::default());
    assert!(matches!(junk, Err(LoadError::Compile { .. })), "{:?}", junk.err());
}
