//! A component store never loses or silently forgets acknowledged data:
//! every size limit is checked before work, a store that cannot hold a
//! write says so with its state unchanged, and a trap is never followed by
//! an answer of "not found" for an acknowledged row.

use gossip_host::{ComponentDoneLedger, ComponentRuntime, ComponentStoreError, Recovery, RuntimeConfig};
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use std::sync::Arc;

use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, Location, MAX_PAGE_SIZE, PersistenceInputError, StoreControl, StoreError,
    StoreKind, TrackedHandle,
};

use crate::support::{clean, id, runtime};

fn runtime_with(memory_mib: usize, recovery: Recovery) -> ComponentRuntime {
    let config = RuntimeConfig { memory_limit: memory_mib << 20, recovery, ..RuntimeConfig::default() };
    ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, config).expect("loads")
}

/// `count` distinct rows of tenant 1, policy 2, numbered from `first`.
fn rows(first: u32, count: u32) -> Vec<DoneLedgerRecord> {
    (first..first + count)
        .map(|n| {
            let mut ovid = [0u8; 32];
            ovid[..4].copy_from_slice(&n.to_be_bytes());
            clean(DoneLedgerKey::new(
                TenantId::from_bytes(id(1)),
                PolicyHash::from_bytes(id(2)),
                OvidHash::from_bytes(ovid),
            ))
        })
        .collect()
}

fn too_large(error: &ComponentStoreError) -> bool {
    matches!(
        error,
        ComponentStoreError::Store(StoreError::BatchValidation(PersistenceInputError::BatchTooLarge { .. }))
    )
}

fn capacity(error: &ComponentStoreError) -> bool {
    matches!(error, ComponentStoreError::Store(StoreError::CapacityExceeded { .. }))
}

/// Every acknowledged row is readable: the paged snapshot equals the native
/// ledger fed the same acknowledged batches, and point reads agree.
fn assert_same_rows(ledger: &ComponentDoneLedger, native: &InMemoryDoneLedger) {
    let expected = native.snapshot().expect("native snapshot");
    let got = ledger.snapshot().expect("paged snapshot");
    assert_eq!(got.len(), expected.len(), "row count");
    assert!(got == expected, "the component's rows differ from the native store's");
    let sample: Vec<OvidHash> = expected.iter().step_by(997).map(|r| r.key().ovid_hash()).collect();
    let scope = (TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)));
    assert_eq!(
        ledger.batch_get(scope.0, scope.1, &sample).expect("batch get"),
        native.batch_get(scope.0, scope.1, &sample).expect("native batch get")
    );
}

#[test]
fn oversize_reads_and_writes_are_refused_before_any_work() {
    let ledger = runtime().new_ledger().expect("instance");
    ledger.batch_upsert(&rows(0, 10)).expect("accepted").wait().expect("durable");
    let scope = (TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)));

    let keys = vec![OvidHash::from_bytes(id(9)); 1_000_000];
    assert!(too_large(&ledger.batch_get(scope.0, scope.1, &keys).expect_err("a million keys")));
    let batch = vec![clean(crate::support::key(1, 2, 3)); 1_000_000];
    assert!(too_large(&ledger.batch_upsert(&batch).expect_err("a million records")));
    assert!(too_large(&ledger.snapshot_page(None, MAX_PAGE_SIZE + 1).expect_err("a page over the limit")));

    // Nothing was lost, and the limits are the native store's.
    assert!(!ledger.is_state_lost());
    assert_eq!(ledger.snapshot().expect("snapshot").len(), 10);
    let native = InMemoryDoneLedger::new();
    assert!(matches!(
        native.batch_get(scope.0, scope.1, &keys),
        Err(StoreError::BatchValidation(PersistenceInputError::BatchTooLarge { .. }))
    ));
    assert_eq!(ledger.batch_get(scope.0, scope.1, &keys[..MAX_PAGE_SIZE]).expect("at the limit").len(), MAX_PAGE_SIZE);
}

#[test]
fn a_ledger_filled_to_its_cap_refuses_more_and_keeps_every_acknowledged_row() {
    let ledger = runtime_with(24, Recovery::default()).new_ledger().expect("instance");
    let native = InMemoryDoneLedger::new();
    let mut next = 0;
    let refused = loop {
        let batch = rows(next, 10_000);
        match ledger.batch_upsert(&batch).and_then(CommitHandle::wait) {
            Ok(receipt) => {
                assert_eq!(receipt.record_count(), 10_000);
                native.batch_upsert(&batch).expect("native").wait().expect("native");
                next += 10_000;
            }
            Err(error) => break error,
        }
        assert!(next < 5_000_000, "a 24 MiB guest never refused a write");
    };
    assert!(capacity(&refused), "{refused:?}");
    assert!(next > 0, "not even one batch fit");
    assert!(!ledger.is_state_lost(), "a refused write loses nothing");
    assert_same_rows(&ledger, &native);

    // Further writes are refused the same way (or fit, if small), reads go on.
    for _ in 0..3 {
        let error = ledger.batch_upsert(&rows(next, 10_000)).and_then(CommitHandle::wait).expect_err("still full");
        assert!(capacity(&error), "{error:?}");
    }
    assert_same_rows(&ledger, &native);
}

#[test]
fn a_snapshot_of_a_large_ledger_is_paged_and_loses_nothing() {
    let ledger = runtime().new_ledger().expect("instance");
    let native = InMemoryDoneLedger::new();
    for first in (0..300_000).step_by(10_000) {
        let batch = rows(first, 10_000);
        ledger.batch_upsert(&batch).expect("accepted").wait().expect("durable");
        native.batch_upsert(&batch).expect("native").wait().expect("native");
    }
    assert_same_rows(&ledger, &native);
    // And the ledger still takes writes after being read whole.
    ledger.batch_upsert(&rows(300_000, 1)).expect("accepted").wait().expect("durable");
}

/// An observation under tenant 1 with the largest locations the contract allows.
fn findings_batch(
    tenant: u8,
    salt: u32,
    observations: usize,
) -> (Vec<FindingRecord>, Vec<OccurrenceRecord>, Vec<ObservationRecord>) {
    let tenant_id = TenantId::from_bytes(id(tenant));
    let mut item = id(7);
    item[..4].copy_from_slice(&salt.to_le_bytes());
    let finding = FindingRecord::new(
        tenant_id,
        StableItemId::from_bytes(item),
        RuleFingerprint::from_bytes(id(8)),
        SecretHash::from_persisted_bytes(id(9)),
    );
    let occurrence =
        OccurrenceRecord::try_new(tenant_id, finding.finding_id(), ObjectVersionId::from_bytes(id(10)), 0, 4)
            .expect("valid occurrence");
    let location = Arc::new(Location::try_new("d".repeat(4096), Some("u".repeat(4096))).expect("valid location"));
    let observations = (0..observations as u32)
        .map(|n| {
            let mut policy = [0u8; 32];
            policy[..4].copy_from_slice(&n.to_le_bytes());
            ObservationRecord::new(
                tenant_id,
                occurrence.occurrence_id(),
                PolicyHash::from_bytes(policy),
                OvidHash::from_bytes(id(11)),
                RunId::from_raw(1),
                ShardId::from_raw(1),
                FenceEpoch::from_raw(1),
                LogicalTime::from_raw(1),
            )
            .with_location(Arc::clone(&location))
        })
        .collect();
    (vec![finding], vec![occurrence], observations)
}

#[test]
fn findings_batches_at_the_documented_maxima_are_refused_typed_never_forgotten() {
    let sink = runtime().new_sink().expect("instance");
    let mut acknowledged = Vec::new();
    for salt in 0..3 {
        let (f, o, b) = findings_batch(1, salt, 9_998);
        match sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &b)).and_then(CommitHandle::wait) {
            Ok(receipt) => {
                assert_eq!(receipt.observation_count(), 9_998);
                acknowledged.push((f, o, b));
            }
            Err(error) => assert!(capacity(&error), "batch {salt}: {error:?}"),
        }
    }
    // 256 MiB hold two such batches (each ~80 MB of locations), not three.
    assert!(!acknowledged.is_empty() && acknowledged.len() < 3, "{} batches acknowledged", acknowledged.len());
    assert!(!sink.is_state_lost());
    let counts = sink.durable_counts().expect("counts");
    assert_eq!(counts.observations, acknowledged.len() as u64 * 9_998);
    for (f, o, b) in &acknowledged {
        let tenant = f[0].tenant_id();
        assert_eq!(sink.get_finding(tenant, f[0].finding_id()).expect("read").as_ref(), Some(&f[0]));
        assert_eq!(sink.get_occurrence(tenant, o[0].occurrence_id()).expect("read").as_ref(), Some(&o[0]));
        let last = b.last().expect("observations");
        assert_eq!(sink.get_observation(tenant, last.observation_id()).expect("read").as_ref(), Some(last));
    }
    assert_eq!(sink.observations_snapshot().expect("paged snapshot").len(), acknowledged.len() * 9_998);
}

/// The test hook for a trap: `with_raw` treats any wasmtime error as one.
fn inject_trap(ledger: &ComponentDoneLedger) {
    let error = ledger.with_raw(|_, _, _| -> wasmtime::Result<()> { Err(wasmtime::Error::msg("injected trap")) });
    assert!(matches!(error, Err(ComponentStoreError::Trap { .. })), "{error:?}");
}

#[test]
fn after_a_trap_no_acknowledged_row_reads_as_not_found() {
    let ledger = runtime().new_ledger().expect("instance");
    ledger.batch_upsert(&rows(0, 100)).expect("accepted").wait().expect("durable");
    inject_trap(&ledger);
    let scope = (TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)));
    let ovid = rows(5, 1)[0].key().ovid_hash();
    let error = ledger.batch_get(scope.0, scope.1, &[ovid]).expect_err("must not answer not-found");
    assert!(matches!(error, ComponentStoreError::Store(StoreError::StateLost { .. })), "{error:?}");
    let error = ledger.get_record(rows(5, 1)[0].key()).expect_err("must not answer not-found");
    assert!(matches!(error, ComponentStoreError::Store(StoreError::StateLost { .. })), "{error:?}");
}

#[test]
fn with_a_journal_a_trap_rebuilds_every_acknowledged_write() {
    let runtime = runtime_with(256, Recovery::Journal);
    let ledger = runtime.new_ledger().expect("instance");
    let native = InMemoryDoneLedger::new();
    for first in [0, 10_000, 5_000] {
        let batch = rows(first, 10_000);
        ledger.batch_upsert(&batch).expect("accepted").wait().expect("durable");
        native.batch_upsert(&batch).expect("native").wait().expect("native");
    }
    ledger.set_auto_complete(false).expect("control");
    let pending = ledger.batch_upsert(&rows(50_000, 5)).expect("accepted, delayed");
    inject_trap(&ledger);

    // The unacknowledged delayed write is reported lost; everything
    // acknowledged is back, and the completion mode is kept.
    assert!(matches!(pending.wait(), Err(ComponentStoreError::InstanceReset { .. })));
    assert!(!ledger.is_state_lost());
    assert_same_rows(&ledger, &native);
    let delayed = ledger.batch_upsert(&rows(60_000, 1)).expect("accepted");
    assert_eq!(ledger.pending_count().expect("control"), 1);
    ledger.release_all(CompletionOrder::OldestFirst).expect("release");
    delayed.wait().expect("applies");

    // A findings sink rebuilds its three layers the same way.
    let sink = runtime.new_sink().expect("instance");
    let (f, o, b) = findings_batch(3, 1, 50);
    sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &b)).expect("accepted").wait().expect("durable");
    let before = (
        sink.findings_snapshot().unwrap(),
        sink.occurrences_snapshot().unwrap(),
        sink.observations_snapshot().unwrap(),
    );
    let trapped = sink.with_raw(|_, _, _| -> wasmtime::Result<()> { Err(wasmtime::Error::msg("injected trap")) });
    assert!(matches!(trapped, Err(ComponentStoreError::Trap { .. })));
    let after = (
        sink.findings_snapshot().unwrap(),
        sink.occurrences_snapshot().unwrap(),
        sink.observations_snapshot().unwrap(),
    );
    assert!(before == after, "the rebuilt sink differs");
}

#[test]
fn operation_ids_are_never_reused_across_a_reset() {
    let ledger = crate::support::runtime().new_ledger_with_auto_complete(false).expect("instance");
    let old = ledger.batch_upsert(&rows(0, 1)).expect("accepted");
    let old_id = old.operation_id();
    inject_trap(&ledger);
    ledger.reset().expect("reset");
    ledger.set_auto_complete(false).expect("control");
    let new = ledger.batch_upsert(&rows(1, 1)).expect("accepted");
    assert!(new.operation_id() > old_id, "{:?} after {old_id:?}", new.operation_id());
    assert!(!ledger.release_specific(old_id).expect("control"), "an old id released a newer write");
    assert_eq!(ledger.pending_ids().expect("control"), vec![new.operation_id()]);
    assert!(ledger.release_specific(new.operation_id()).expect("control"));
    new.wait().expect("applies");
    assert!(matches!(old.wait(), Err(ComponentStoreError::InstanceReset { .. })));
}

#[test]
fn reentering_a_store_from_inside_its_own_call_is_an_error_not_a_deadlock() {
    let ledger = runtime().new_ledger().expect("instance");
    let inner = ledger.clone();
    let reply = ledger
        .with_raw(
            move |_, _, _| Ok(inner.count_done_hashes(TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)))),
        )
        .expect("the outer call works");
    assert!(matches!(reply, Err(ComponentStoreError::Reentered { store: StoreKind::DoneLedger })), "{reply:?}");
    // The store is unharmed.
    assert_eq!(ledger.count_done_hashes(TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2))).unwrap(), Some(0));
}

#[test]
fn a_component_without_the_testing_interface_serves_workers_and_refuses_controls() {
    let runtime = ComponentRuntime::from_file(gossip_artifacts::STORE_ONLY_PATH, RuntimeConfig::default())
        .expect("a worker-facing-only component loads");
    assert!(!runtime.has_testing());
    assert!(runtime.exports().iter().all(|name| !name.contains("testing")), "{:?}", runtime.exports());
    let ledger = runtime.new_ledger().expect("instance");
    ledger.batch_upsert(&rows(0, 3)).expect("accepted").wait().expect("durable");
    assert_eq!(ledger.snapshot().expect("snapshot").len(), 3);
    let error = ledger.delay_next_writes(1).expect_err("no testing interface");
    assert!(matches!(error, ComponentStoreError::NoTestingInterface { .. }), "{error:?}");
    assert!(matches!(
        runtime.new_ledger_with_auto_complete(false),
        Err(ComponentStoreError::NoTestingInterface { .. })
    ));
    let sink = runtime.new_sink().expect("instance");
    assert!(matches!(sink.pending_count(), Err(ComponentStoreError::NoTestingInterface { .. })));
}
