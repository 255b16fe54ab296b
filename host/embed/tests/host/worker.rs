//! The example scanning worker with the store plugged in, run in the host:
//! what it imports and exports, what it records, what it skips, how it pages
//! through its stores' listings, and how it reports bad input and store
//! failures (injected through the store's `testing` export, which the worker
//! itself never imports). Every durable row is compared with native stores
//! fed the rows a scan should write, built here straight from
//! `gossip-persistence`.

use std::collections::HashSet;
use std::sync::OnceLock;

use gossip_host::worker::{FindingsRows, ScanningWorker, WorkerError, WorkerRuntime, digest_bytes, wit, wit_digest};
use gossip_host::{ComponentStoreError, FieldError, LoadError};
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord,
};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, OvidHashInputs, PolicyHash, RuleFingerprint, RunId, SecretHash,
    ShardId, StableItemId, TenantId, VersionId, derive_ovid_hash,
};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink, Location, PersistenceInputError, StoreError, StoreKind,
};

use crate::support::id;

/// The plugged worker, compiled once for the whole test binary.
fn runtime() -> &'static WorkerRuntime {
    static RUNTIME: OnceLock<WorkerRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        WorkerRuntime::from_bytes("scanning worker", gossip_artifacts::PLUGGED_WORKER)
            .expect("the plugged worker loads")
    })
}

fn spawn() -> ScanningWorker {
    runtime().spawn().expect("a worker starts")
}

/// A scan run, as the test describes it.
#[derive(Clone, Copy)]
struct Run {
    run: u64,
    started: u64,
    finished: u64,
}

const FIRST: Run = Run { run: 7, started: 100, finished: 200 };
const SECOND: Run = Run { run: 8, started: 300, finished: 400 };
const TENANT: u8 = 1;
const POLICY: u8 = 2;
const SHARD: u64 = 3;
const FENCE: u64 = 1;

#[derive(Clone)]
struct Secret {
    rule: u8,
    secret: u8,
    offset: u64,
    length: u64,
    location: Option<&'static str>,
}

#[derive(Clone)]
struct Object {
    item: u32,
    strong: bool,
    bytes: u64,
    secrets: Vec<Secret>,
}

fn secret(rule: u8, secret: u8, offset: u64, length: u64) -> Secret {
    Secret { rule, secret, offset, length, location: None }
}

/// An id of the test's own, one per `(tag, n)`: more items than `id`'s 256.
fn wide_id(tag: u8, n: u32) -> [u8; 32] {
    let mut bytes = [tag; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes
}

fn item_id(o: &Object) -> [u8; 32] {
    wide_id(0xa1, o.item)
}

fn object(item: u32, secrets: Vec<Secret>) -> Object {
    Object { item, strong: true, bytes: 1_000 + u64::from(item), secrets }
}

/// Two secrets, one of them at two spans and with a location.
fn two_findings() -> Object {
    let mut located = secret(30, 31, 40, 16);
    located.location = Some("config/prod.env");
    object(10, vec![located.clone(), secret(32, 33, 0, 8), Secret { offset: 90, ..located }])
}

fn one_finding() -> Object {
    Object { strong: false, ..object(11, vec![secret(34, 35, 7, 20)]) }
}

fn clean() -> Object {
    object(12, vec![])
}

fn version(o: &Object) -> ObjectVersionId {
    ObjectVersionId::from_bytes(wide_id(0xb2, o.item))
}

fn ovid(o: &Object) -> [u8; 32] {
    let version = if o.strong { VersionId::Strong(version(o)) } else { VersionId::Weak(version(o)) };
    *derive_ovid_hash(&OvidHashInputs { stable_item_id: StableItemId::from_bytes(item_id(o)), version }).as_bytes()
}

fn context(run: Run) -> wit::ScanContext {
    wit::ScanContext {
        tenant_id: wit_digest(&id(TENANT)),
        policy_hash: wit_digest(&id(POLICY)),
        run_id: run.run,
        shard_id: SHARD,
        fence_epoch: FENCE,
        started_at: run.started,
        finished_at: run.finished,
    }
}

fn request(objects: &[Object]) -> Vec<wit::ObjectScan> {
    objects
        .iter()
        .map(|o| wit::ObjectScan {
            stable_item_id: wit_digest(&item_id(o)),
            object_version_id: wit_digest(version(o).as_bytes()),
            strong_version: o.strong,
            bytes_scanned: o.bytes,
            secrets: o
                .secrets
                .iter()
                .map(|s| wit::Secret {
                    rule_fingerprint: wit_digest(&id(s.rule)),
                    secret_hash: wit_digest(&id(s.secret)),
                    byte_offset: s.offset,
                    byte_length: s.length,
                    location: s.location.map(|display| wit::Location { display: display.to_owned(), url: None }),
                })
                .collect(),
        })
        .collect()
}

/// (ovid, findings, occurrences, observations) per scanned object, and the
/// skipped ovids: the report in plain values.
type Outcome = (Vec<([u8; 32], u32, u64, u64)>, Vec<[u8; 32]>);

fn outcome(report: wit::ScanReport) -> Outcome {
    let scanned =
        report.scanned.iter().map(|s| (digest_bytes(s.ovid_hash), s.findings, s.occurrences, s.observations)).collect();
    (scanned, report.skipped.into_iter().map(digest_bytes).collect())
}

fn scan(worker: &mut ScanningWorker, run: Run, objects: &[Object]) -> Result<Outcome, WorkerError> {
    worker.scan(context(run), &request(objects)).map(outcome)
}

/// Native stores fed the rows a worker should write for an object scanned
/// in a run, built with the store crate's constructors (duplicates left for
/// the stores to merge).
#[derive(Default)]
struct Expected {
    ledger: InMemoryDoneLedger,
    sink: InMemoryFindingsSink,
}

impl Expected {
    fn scanned(&self, run: Run, o: &Object) {
        let tenant = TenantId::from_bytes(id(TENANT));
        let policy = PolicyHash::from_bytes(id(POLICY));
        let item = StableItemId::from_bytes(item_id(o));
        let ovid = OvidHash::from_bytes(ovid(o));
        let (mut findings, mut occurrences, mut observations) = (Vec::new(), Vec::new(), Vec::new());
        for s in &o.secrets {
            let finding = FindingRecord::new(
                tenant,
                item,
                RuleFingerprint::from_bytes(id(s.rule)),
                SecretHash::from_persisted_bytes(id(s.secret)),
            );
            let occurrence = OccurrenceRecord::try_new(tenant, finding.finding_id(), version(o), s.offset, s.length)
                .expect("valid span");
            let mut observation = ObservationRecord::new(
                tenant,
                occurrence.occurrence_id(),
                policy,
                ovid,
                RunId::from_raw(run.run),
                ShardId::from_raw(SHARD),
                FenceEpoch::from_raw(FENCE),
                LogicalTime::from_raw(run.finished),
            );
            if let Some(display) = s.location {
                observation = observation.with_location(Location::try_new(display, None::<&str>).unwrap().into());
            }
            findings.push(finding);
            occurrences.push(occurrence);
            observations.push(observation);
        }
        if !findings.is_empty() {
            let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
            self.sink.upsert_batch(batch).unwrap().wait().unwrap();
        }
        let distinct: HashSet<_> = o.secrets.iter().map(|s| (s.rule, s.secret)).collect();
        let count = u32::try_from(distinct.len()).unwrap();
        let status = if count == 0 { DoneLedgerStatus::ScannedClean } else { DoneLedgerStatus::ScannedWithFindings };
        let provenance = DoneLedgerProvenance::new(
            RunId::from_raw(run.run),
            ShardId::from_raw(SHARD),
            FenceEpoch::from_raw(FENCE),
            LogicalTime::from_raw(run.started),
            LogicalTime::from_raw(run.finished),
        );
        let key = DoneLedgerKey::new(tenant, policy, ovid);
        let row = DoneLedgerRecord::try_new(key, status, o.bytes, count, provenance, None).unwrap();
        self.ledger.batch_upsert(&[row]).unwrap().wait().unwrap();
    }

    /// The worker's durable state equals these stores', row for row.
    fn assert_matches(&self, worker: &mut ScanningWorker) {
        assert_eq!(worker.done_rows().unwrap(), self.ledger.snapshot().unwrap(), "done-ledger rows");
        let expected = FindingsRows {
            findings: self.sink.findings_snapshot().unwrap(),
            occurrences: self.sink.occurrences_snapshot().unwrap(),
            observations: self.sink.observations_snapshot().unwrap(),
        };
        assert_eq!(worker.findings_rows().unwrap(), expected, "findings rows");
        assert_eq!(worker.durable_counts().unwrap(), self.sink.durable_counts().unwrap());
    }
}

fn counts(findings: u64, occurrences: u64, observations: u64) -> DurableFindingsCounts {
    DurableFindingsCounts::new(findings, occurrences, observations)
}

/// A component's import (or export) names, sorted.
fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names
}

#[test]
fn the_plugged_worker_imports_nothing_and_exports_the_stores_testing_interface() {
    assert_eq!(runtime().imports(), Vec::<String>::new());
    assert_eq!(
        sorted(runtime().exports().into_iter()),
        [
            "gossip:persistence/done-ledger@0.2.0",
            "gossip:persistence/findings@0.2.0",
            "gossip:persistence/hash-seed@0.2.0",
            "gossip:persistence/testing@0.2.0",
            "gossip:persistence/types@0.2.0",
            "gossip:scanning-worker/scanner@0.1.0",
        ]
    );
}

#[test]
fn the_worker_alone_imports_only_the_worker_facing_store_interfaces() {
    let bytes = std::fs::read(gossip_artifacts::WORKER_PATH).expect("the build script publishes the worker");
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, &bytes).unwrap();
    let imports = sorted(component.component_type().imports(&engine).map(|(name, _)| name.to_owned()));
    // `world store-user`: the two stores, and the records their functions
    // take (a component imports the types its imported functions name).
    assert_eq!(
        imports,
        ["gossip:persistence/done-ledger@0.2.0", "gossip:persistence/findings@0.2.0", "gossip:persistence/types@0.2.0",]
    );
    assert!(!imports.iter().any(|name| name.contains("testing")), "{imports:?}");
    let exports = sorted(component.component_type().exports(&engine).map(|(name, _)| name.to_owned()));
    assert_eq!(exports, ["gossip:scanning-worker/scanner@0.1.0"]);
}

#[test]
fn the_worker_alone_cannot_run_without_a_store() {
    let bytes = std::fs::read(gossip_artifacts::WORKER_PATH).expect("the build script publishes the worker");
    let Err(LoadError::Link { message, .. }) = WorkerRuntime::from_bytes("worker alone", &bytes) else {
        panic!("a worker without a store plugged in must not link against an empty linker");
    };
    assert!(message.contains("gossip:persistence/"), "{message}");
}

#[test]
fn the_published_copy_is_the_bundled_plugged_worker() {
    let on_disk =
        std::fs::read(gossip_artifacts::PLUGGED_WORKER_PATH).expect("the build script publishes the plugged worker");
    assert_eq!(on_disk, gossip_artifacts::PLUGGED_WORKER);
}

#[test]
fn a_scan_records_findings_then_marks_each_object_done() {
    let mut worker = spawn();
    let objects = [two_findings(), one_finding(), clean()];
    let (scanned, skipped) = scan(&mut worker, FIRST, &objects).unwrap();
    assert_eq!(scanned, [(ovid(&objects[0]), 2, 3, 3), (ovid(&objects[1]), 1, 1, 1), (ovid(&objects[2]), 0, 0, 0)]);
    assert!(skipped.is_empty());
    assert_eq!(worker.durable_counts().unwrap(), counts(3, 4, 4));

    let rows = worker.done_rows().unwrap();
    let status = |o: &Object| rows.iter().find(|r| *r.key().ovid_hash().as_bytes() == ovid(o)).map(|r| r.status());
    assert_eq!(status(&objects[0]), Some(DoneLedgerStatus::ScannedWithFindings));
    assert_eq!(status(&objects[2]), Some(DoneLedgerStatus::ScannedClean));

    let expected = Expected::default();
    objects.iter().for_each(|o| expected.scanned(FIRST, o));
    expected.assert_matches(&mut worker);
}

#[test]
fn a_rescan_skips_done_objects_and_duplicates_nothing() {
    let mut worker = spawn();
    let (a, b, c) = (two_findings(), one_finding(), clean());
    scan(&mut worker, FIRST, &[a.clone(), b.clone(), c.clone()]).unwrap();
    let before = worker.durable_counts().unwrap();

    // A new object, listed twice, among two that are done.
    let d = object(13, vec![secret(36, 37, 1, 2)]);
    let (scanned, skipped) = scan(&mut worker, SECOND, &[b.clone(), d.clone(), c.clone(), d.clone()]).unwrap();
    assert_eq!(scanned, [(ovid(&d), 1, 1, 1)]);
    assert_eq!(skipped, [ovid(&b), ovid(&c), ovid(&d)]);
    let after = worker.durable_counts().unwrap();
    assert_eq!(after, counts(before.findings + 1, before.occurrences + 1, before.observations + 1));

    // The skipped rows keep the first run's provenance: nothing rewrote them.
    let expected = Expected::default();
    [&a, &b, &c].into_iter().for_each(|o| expected.scanned(FIRST, o));
    expected.scanned(SECOND, &d);
    expected.assert_matches(&mut worker);

    let (scanned, skipped) = scan(&mut worker, SECOND, &[a.clone(), b.clone(), c.clone(), d.clone()]).unwrap();
    assert!(scanned.is_empty());
    assert_eq!(skipped, [ovid(&a), ovid(&b), ovid(&c), ovid(&d)]);
    expected.assert_matches(&mut worker);
}

#[test]
fn workers_do_not_share_stores() {
    let mut first = spawn();
    scan(&mut first, FIRST, &[two_findings()]).unwrap();
    let mut second = spawn();
    let (scanned, skipped) = scan(&mut second, FIRST, &[two_findings()]).unwrap();
    assert_eq!((scanned.len(), skipped.len()), (1, 0));
}

#[test]
fn bad_input_is_a_typed_error_that_writes_nothing() {
    let mut worker = spawn();
    let zero_span = object(14, vec![secret(38, 39, 5, 0)]);
    assert_eq!(
        scan(&mut worker, FIRST, &[two_findings(), zero_span]),
        Err(WorkerError::InvalidInput { object: Some(1), error: PersistenceInputError::ZeroSpanLength })
    );

    let backwards = Run { started: 500, ..FIRST };
    assert_eq!(
        scan(&mut worker, backwards, &[clean()]),
        Err(WorkerError::InvalidInput {
            object: None,
            error: PersistenceInputError::ProvenanceOrdering { started_at: 500, finished_at: 200 },
        })
    );

    let mut unnamed = secret(30, 31, 0, 4);
    unnamed.location = Some("");
    assert_eq!(
        scan(&mut worker, FIRST, &[clean(), object(15, vec![unnamed])]),
        Err(WorkerError::InvalidLocation { object: 1, error: FieldError::Empty { field: "Location.display".into() } })
    );

    // Nothing of those requests was written, and the worker serves on.
    Expected::default().assert_matches(&mut worker);
    let (scanned, _) = scan(&mut worker, FIRST, &[two_findings(), clean()]).unwrap();
    assert_eq!(scanned.len(), 2);
    let expected = Expected::default();
    [two_findings(), clean()].iter().for_each(|o| expected.scanned(FIRST, o));
    expected.assert_matches(&mut worker);
}

#[test]
fn store_failures_are_typed_errors_and_a_retry_finishes_the_scan() {
    let mut worker = spawn();
    let (a, b, c) = (two_findings(), one_finding(), clean());
    let injected = |error| ComponentStoreError::Store(error);

    // The clean object needs no findings write, so it is done before the
    // next object's findings write is rejected.
    worker.inject_faults(StoreKind::Findings, 1, 0).unwrap();
    assert_eq!(
        scan(&mut worker, FIRST, &[c.clone(), a.clone()]),
        Err(WorkerError::Store {
            stage: wit::ScanStage::RecordFindings,
            object: Some(1),
            error: injected(StoreError::InjectedSubmissionFailure { store: StoreKind::Findings }),
        })
    );
    let expected = Expected::default();
    expected.scanned(FIRST, &c);
    expected.assert_matches(&mut worker);

    // A done row that fails to apply leaves the object's findings durable
    // but the object not done.
    worker.inject_faults(StoreKind::DoneLedger, 0, 1).unwrap();
    assert_eq!(
        scan(&mut worker, FIRST, &[a.clone(), b.clone()]),
        Err(WorkerError::Store {
            stage: wit::ScanStage::MarkDone,
            object: Some(0),
            error: injected(StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger }),
        })
    );
    assert_eq!(worker.durable_counts().unwrap(), counts(2, 3, 3));
    assert_eq!(worker.done_rows().unwrap(), expected.ledger.snapshot().unwrap());

    // Repeating the request is safe: the done object is skipped and the
    // half-written one's findings are upserted again without duplicates.
    let (scanned, skipped) = scan(&mut worker, FIRST, &[c.clone(), a.clone(), b.clone()]).unwrap();
    assert_eq!(scanned.iter().map(|s| s.0).collect::<Vec<_>>(), [ovid(&a), ovid(&b)]);
    assert_eq!(skipped, [ovid(&c)]);
    expected.scanned(FIRST, &a);
    expected.scanned(FIRST, &b);
    expected.assert_matches(&mut worker);
}

#[test]
fn a_write_left_pending_is_a_contract_violation_and_a_retry_finishes_the_scan() {
    let mut worker = spawn();
    let (a, c) = (two_findings(), clean());
    let expected = Expected::default();

    // The worker expects its writes to complete at once (the store's
    // default); the host delays one through the store's `testing` export.
    worker.delay_next_writes(StoreKind::DoneLedger, 1).unwrap();
    let Err(WorkerError::ContractViolation { stage, object, detail }) =
        scan(&mut worker, FIRST, &[c.clone(), a.clone()])
    else {
        panic!("a done write left pending must be reported as a contract violation");
    };
    assert_eq!((stage, object), (wit::ScanStage::MarkDone, Some(0)));
    assert!(detail.contains("pending"), "{detail}");
    expected.assert_matches(&mut worker);

    worker.delay_next_writes(StoreKind::Findings, 1).unwrap();
    let Err(WorkerError::ContractViolation { stage, object, .. }) = scan(&mut worker, FIRST, &[c.clone(), a.clone()])
    else {
        panic!("a findings write left pending must be reported as a contract violation");
    };
    assert_eq!((stage, object), (wit::ScanStage::RecordFindings, Some(1)));
    expected.scanned(FIRST, &c);
    expected.assert_matches(&mut worker);

    // The delays are used up: a retry finishes the scan.
    let (scanned, skipped) = scan(&mut worker, FIRST, &[c.clone(), a.clone()]).unwrap();
    assert_eq!(scanned.iter().map(|s| s.0).collect::<Vec<_>>(), [ovid(&a)]);
    assert_eq!(skipped, [ovid(&c)]);
    expected.scanned(FIRST, &a);
    expected.assert_matches(&mut worker);
}

#[test]
fn faults_reach_only_the_workers_own_instance() {
    let mut faulty = spawn();
    let mut healthy = spawn();
    faulty.inject_faults(StoreKind::DoneLedger, 1, 0).unwrap();
    scan(&mut healthy, FIRST, &[clean()]).unwrap();
    assert!(matches!(scan(&mut faulty, FIRST, &[clean()]), Err(WorkerError::Store { .. })));
}

#[test]
fn listings_and_lookups_cross_page_and_batch_boundaries() {
    let mut worker = spawn();
    let expected = Expected::default();

    // Exactly one full page of done rows (the worker reads 1,000 per page),
    // then an empty one.
    let first: Vec<Object> = (1_000..2_000).map(|item| object(item, vec![])).collect();
    let (scanned, _) = scan(&mut worker, FIRST, &first).unwrap();
    assert_eq!(scanned.len(), 1_000);
    first.iter().for_each(|o| expected.scanned(FIRST, o));
    expected.assert_matches(&mut worker);

    // 9,001 new objects, then the first thousand again: 10,001 keys, more
    // than one `batch-get` takes (10,000), and the done objects straddle the
    // two lookups.
    let new: Vec<Object> = (2_000..11_001).map(|item| object(item, vec![])).collect();
    let request: Vec<Object> = new.iter().chain(&first).cloned().collect();
    assert_eq!(request.len(), 10_001);
    let (scanned, skipped) = scan(&mut worker, SECOND, &request).unwrap();
    assert_eq!(scanned.iter().map(|s| s.0).collect::<Vec<_>>(), new.iter().map(ovid).collect::<Vec<_>>());
    assert_eq!(skipped, first.iter().map(ovid).collect::<Vec<_>>());
    new.iter().for_each(|o| expected.scanned(SECOND, o));

    // 1,001 distinct secrets in one object: every findings layer spans two pages.
    let secrets = (0..1_001u32)
        .map(|i| secret(40 + u8::try_from(i / 256).unwrap(), u8::try_from(i % 256).unwrap(), u64::from(i), 1))
        .collect();
    let many = object(20_000, secrets);
    let (scanned, _) = scan(&mut worker, FIRST, std::slice::from_ref(&many)).unwrap();
    assert_eq!(scanned, [(ovid(&many), 1_001, 1_001, 1_001)]);
    expected.scanned(FIRST, &many);
    assert_eq!(worker.durable_counts().unwrap(), counts(1_001, 1_001, 1_001));
    assert_eq!(worker.done_rows().unwrap().len(), 10_002);
    expected.assert_matches(&mut worker);
}
