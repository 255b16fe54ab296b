//! A trapping guest is an error, never a host crash, and never a store that
//! silently answers as if empty: after a trap it reports `StateLost` until
//! it is reset.

use gossip_host::{ComponentRuntime, ComponentStoreError, RuntimeConfig};
use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::identity::{PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsSink, StoreControl, StoreError,
    StoreKind, TrackedHandle,
};

use crate::support::{broken_runtime, clean, id, key};

fn assert_trap<T: std::fmt::Debug>(result: Result<T, ComponentStoreError>, operation: &str) -> String {
    match result {
        Err(error @ ComponentStoreError::Trap { .. }) => {
            let ComponentStoreError::Trap { operation: op, ref message, .. } = error else { unreachable!() };
            assert_eq!(op, operation);
            assert!(message.contains("unreachable"), "{message}");
            error.to_string()
        }
        other => panic!("expected a trap in {operation}, got {other:?}"),
    }
}

fn assert_lost<T: std::fmt::Debug>(result: Result<T, ComponentStoreError>, store: StoreKind) {
    match result {
        Err(ComponentStoreError::Store(StoreError::StateLost { store: s })) => assert_eq!(s, store),
        other => panic!("expected StateLost, got {other:?}"),
    }
}

#[test]
fn a_trapping_ledger_write_loses_the_state_loudly_until_reset() {
    let ledger = broken_runtime().new_ledger().expect("the fixture instantiates");
    let scope = (TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)));
    assert_eq!(ledger.count_done_hashes(scope.0, scope.1).expect("reads work"), Some(0));

    let text = assert_trap(ledger.batch_upsert(&[clean(key(1, 2, 3))]), "batch-upsert");
    assert!(text.contains("discarded"), "the error says the instance is gone: {text}");

    // No read may answer "empty" for a store whose state is gone.
    assert!(ledger.is_state_lost());
    assert_lost(ledger.count_done_hashes(scope.0, scope.1), StoreKind::DoneLedger);
    assert_lost(ledger.snapshot(), StoreKind::DoneLedger);
    assert_lost(ledger.batch_get(scope.0, scope.1, &[]), StoreKind::DoneLedger);
    assert_lost(ledger.batch_upsert(&[clean(key(1, 2, 3))]), StoreKind::DoneLedger);
    assert_lost(ledger.pending_count(), StoreKind::DoneLedger);
    // A clone shares the instance, and so its loss.
    assert_lost(ledger.clone().snapshot(), StoreKind::DoneLedger);

    // Only an explicit reset accepts the empty store.
    ledger.reset().expect("fresh instance");
    assert!(!ledger.is_state_lost());
    assert_eq!(ledger.snapshot().expect("served again"), Vec::<DoneLedgerRecord>::new());
    assert_trap(ledger.batch_upsert(&[clean(key(1, 2, 3))]), "batch-upsert");
}

#[test]
fn a_trapping_findings_write_loses_the_state_loudly_until_reset() {
    let sink = broken_runtime().new_sink().expect("the fixture instantiates");
    assert_trap(sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &[])), "upsert-batch");
    assert_lost(sink.durable_counts(), StoreKind::Findings);
    sink.reset().expect("fresh instance");
    assert_eq!(sink.durable_counts().expect("served again"), Default::default());
}

fn small_memory_runtime() -> ComponentRuntime {
    let config = RuntimeConfig { memory_limit: 3 << 20, ..RuntimeConfig::default() };
    ComponentRuntime::from_bytes("small", gossip_artifacts::STORE, config).expect("loads")
}

/// 10,000 rows with 128-byte error codes need more guest memory than 3 MiB.
fn big_batch() -> Vec<DoneLedgerRecord> {
    let code = "c".repeat(128);
    (0..10_000u32)
        .map(|n| {
            let mut ovid = [0u8; 32];
            ovid[..4].copy_from_slice(&n.to_le_bytes());
            crate::support::failed(
                gossip_persistence::done_ledger::DoneLedgerKey::new(
                    TenantId::from_bytes(id(1)),
                    PolicyHash::from_bytes(id(2)),
                    gossip_persistence::identity::OvidHash::from_bytes(ovid),
                ),
                &code,
            )
        })
        .collect()
}

#[test]
fn the_memory_limit_refuses_a_batch_with_a_typed_error_and_keeps_everything() {
    let ledger = small_memory_runtime().new_ledger().expect("3 MiB is enough to start");
    let durable = ledger.batch_upsert(&[clean(key(1, 2, 2))]).expect("accepted").wait().expect("durable");
    assert_eq!(durable.record_count(), 1);
    ledger.set_auto_complete(false).expect("control");
    let pending = ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("accepted, delayed");
    assert_eq!(pending.operation_id().as_raw(), 2);

    let error = ledger.batch_upsert(&big_batch()).expect_err("over the memory limit");
    assert!(
        matches!(error, ComponentStoreError::Store(StoreError::CapacityExceeded { store: StoreKind::DoneLedger, needed, available }) if needed > available),
        "{error:?}"
    );

    // Nothing was lost: the durable row, the delayed write, the settings.
    assert!(!ledger.is_state_lost());
    assert_eq!(ledger.snapshot().expect("served"), vec![clean(key(1, 2, 2))]);
    assert_eq!(ledger.release_all(gossip_persistence::CompletionOrder::OldestFirst).expect("release"), 1);
    assert_eq!(pending.wait().expect("the delayed write applies").record_count(), 1);
    ledger.set_auto_complete(true).expect("control");
    let receipt = ledger.batch_upsert(&[clean(key(1, 2, 4))]).expect("accepted").wait().expect("auto-completes");
    assert_eq!(receipt.record_count(), 1);
    assert_eq!(ledger.snapshot().expect("served").len(), 3);

    // The default limit takes the same batch without trouble.
    let roomy = crate::support::runtime().new_ledger().expect("instance");
    assert_eq!(roomy.batch_upsert(&big_batch()).expect("fits").wait().expect("durable").record_count(), 10_000);
}

#[test]
fn a_limit_below_the_components_minimum_memory_fails_instantiation() {
    let config = RuntimeConfig { memory_limit: 64 << 10, ..RuntimeConfig::default() };
    let runtime = ComponentRuntime::from_bytes("tiny", gossip_artifacts::STORE, config).expect("compiles");
    let error = runtime.new_ledger().expect_err("cannot instantiate");
    assert!(matches!(error, ComponentStoreError::Instantiate { .. }), "{error:?}");
}
