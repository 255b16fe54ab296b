//! A pending write whose store is dropped can never be released: its
//! `wait` reports `WriteAbandoned` instead of blocking forever, and only
//! once the last clone of the store is gone.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
    StoreError, StoreKind,
};

/// Long enough for a wake-up to arrive on a loaded machine; a hang fails
/// the test instead of the suite.
const PATIENCE: Duration = Duration::from_secs(20);

#[test]
fn waiting_on_a_write_of_a_dropped_ledger_is_an_error_not_a_hang() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let handle = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    let op_id = handle.operation_id();
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || tx.send(handle.wait()).expect("the test listens"));
    // The waiter may already be parked; dropping the store must wake it.
    thread::sleep(Duration::from_millis(20));
    drop(ledger);
    let outcome = rx.recv_timeout(PATIENCE).expect("wait returned instead of blocking forever");
    assert_eq!(outcome, Err(StoreError::WriteAbandoned { store: StoreKind::DoneLedger, op_id }));
    waiter.join().expect("the waiter ends");
}

#[test]
fn a_write_stays_pending_while_any_clone_of_its_store_lives() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let keeper = ledger.clone();
    let handle = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || tx.send(handle.wait()).expect("the test listens"));
    drop(ledger);
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err(), "a live clone can still release the write");
    assert_eq!(keeper.release_all(CompletionOrder::OldestFirst).expect("release"), 1);
    let receipt = rx.recv_timeout(PATIENCE).expect("released").expect("applied");
    assert_eq!(receipt.record_count(), 1);
    waiter.join().expect("the waiter ends");
}

#[test]
fn a_findings_write_of_a_dropped_sink_is_abandoned_too() {
    let sink = InMemoryFindingsSink::with_auto_complete(false);
    let handle = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &[])).expect("accepted");
    let op_id = handle.operation_id();
    drop(sink);
    assert_eq!(handle.wait(), Err(StoreError::WriteAbandoned { store: StoreKind::Findings, op_id }));
}
