//! A thread blocked in a component handle's `wait` holds no lock: others
//! keep using the store, and a release from another thread wakes it.

use std::thread;
use std::time::Duration;

use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::identity::{OvidHash, PolicyHash, TenantId};
use gossip_persistence::{CommitHandle, CompletionOrder, DoneLedger, FindingsSink, StoreControl, TrackedHandle};

use crate::support::{clean, id, key, runtime};

#[test]
fn a_release_from_another_thread_wakes_a_ledger_waiter() {
    let ledger = runtime().new_ledger_with_auto_complete(false).expect("instance");
    let handle = ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("accepted");
    let op_id = handle.operation_id();
    let waiter = thread::spawn(move || handle.wait());

    thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "wait returned before the write was released");
    // The waiter sleeps without the instance: this thread can still use it.
    let rows = ledger
        .batch_get(TenantId::from_bytes(id(1)), PolicyHash::from_bytes(id(2)), &[OvidHash::from_bytes(id(3))])
        .expect("the instance is free while another thread waits");
    assert_eq!(rows, vec![None]);
    assert_eq!(ledger.pending_ids().expect("control"), vec![op_id]);

    assert_eq!(ledger.release_next(CompletionOrder::OldestFirst).expect("release"), Some(op_id));
    let receipt = waiter.join().expect("no panic").expect("durable");
    assert_eq!(receipt.record_count(), 1);
}

#[test]
fn releases_wake_every_waiter_of_a_sink() {
    let sink = runtime().new_sink_with_auto_complete(false).expect("instance");
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let handle = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &[])).expect("accepted");
            thread::spawn(move || handle.wait())
        })
        .collect();
    thread::sleep(Duration::from_millis(50));
    assert!(waiters.iter().all(|w| !w.is_finished()));
    let releaser = {
        let sink = sink.clone();
        thread::spawn(move || sink.release_all(CompletionOrder::NewestFirst))
    };
    assert_eq!(releaser.join().expect("no panic").expect("release"), 3);
    for waiter in waiters {
        assert_eq!(waiter.join().expect("no panic").expect("durable").finding_count(), 0);
    }
}
