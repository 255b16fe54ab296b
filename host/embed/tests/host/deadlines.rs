//! Deadlines: a call that runs past `call_timeout` is interrupted and its
//! instance discarded, and a write that stays pending past `write_timeout`
//! is given up on; either way the store answers with a typed error, never
//! blocks, and keeps serving on a fresh instance.

use std::time::{Duration, Instant};

use gossip_host::{ComponentRuntime, ComponentStoreError, Recovery, RuntimeConfig};
use gossip_persistence::{CommitHandle, DoneLedger, StoreError};

use crate::support::{clean, key};

fn hostile(mode: &str, recovery: Recovery) -> ComponentRuntime {
    let path = gossip_artifacts::hostile(mode).expect("a hostile fixture of that mode");
    let config = RuntimeConfig {
        call_timeout: Duration::from_millis(200),
        write_timeout: Duration::from_millis(300),
        recovery,
        ..RuntimeConfig::default()
    };
    ComponentRuntime::from_file(path, config).expect("the hostile fixture loads")
}

fn read(ledger: &gossip_host::ComponentDoneLedger) -> Result<(), ComponentStoreError> {
    let k = key(1, 2, 3);
    ledger.batch_get(k.tenant_id(), k.policy_hash(), &[k.ovid_hash()]).map(drop)
}

#[test]
fn a_timed_out_instance_is_discarded_and_the_store_serves_again_after_reset() {
    let runtime = hostile("spin-read", Recovery::FailUntilReset);
    let ledger = runtime.new_ledger().expect("instantiates");
    ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("submits").wait().expect("commits");

    let started = Instant::now();
    let error = read(&ledger).expect_err("the read spins");
    assert!(
        matches!(error, ComponentStoreError::TimedOut { operation: "batch-get", .. }),
        "{error:?} after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5), "interrupted near its deadline: {:?}", started.elapsed());
    assert_eq!(runtime.timeouts(), 1);

    // The interrupted instance is gone and nothing pretends otherwise.
    let lost = ledger.batch_upsert(&[clean(key(1, 2, 4))]).expect_err("state lost");
    assert!(matches!(lost, ComponentStoreError::Store(StoreError::StateLost { .. })), "{lost:?}");

    // A fresh instance serves writes again.
    ledger.reset().expect("reset");
    let receipt = ledger.batch_upsert(&[clean(key(1, 2, 5))]).expect("submits").wait().expect("commits");
    assert_eq!(receipt.record_count(), 1);
}

#[test]
fn with_a_journal_a_timed_out_instance_is_rebuilt_and_writes_keep_working() {
    let runtime = hostile("spin-read", Recovery::Journal);
    let ledger = runtime.new_ledger().expect("instantiates");
    ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("submits").wait().expect("commits");
    let error = read(&ledger).expect_err("the read spins");
    assert!(matches!(error, ComponentStoreError::TimedOut { .. }), "{error:?}");
    for ovid in 10..13 {
        let receipt = ledger.batch_upsert(&[clean(key(1, 2, ovid))]).expect("submits").wait().expect("commits");
        assert_eq!(receipt.record_count(), 1);
    }
    assert!(!ledger.is_state_lost());
}

#[test]
fn a_spinning_submit_times_out() {
    let runtime = hostile("spin-submit", Recovery::FailUntilReset);
    let ledger = runtime.new_ledger().expect("instantiates");
    let error = ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect_err("the submit spins");
    assert!(matches!(error, ComponentStoreError::TimedOut { operation: "batch-upsert", .. }), "{error:?}");
}

#[test]
fn a_write_that_never_completes_gives_up_at_the_write_deadline() {
    let runtime = hostile("never-done", Recovery::FailUntilReset);
    let ledger = runtime.new_ledger().expect("instantiates");
    let handle = ledger.batch_upsert(&[clean(key(1, 2, 3))]).expect("accepted");
    let started = Instant::now();
    let error = handle.wait().expect_err("never completes");
    assert!(matches!(error, ComponentStoreError::WriteTimedOut { .. }), "{error:?}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(5), "waited {waited:?}");
    // Giving up on a write discards nothing: the instance still answers.
    read(&ledger).expect("reads still answer");
    assert_eq!(runtime.timeouts(), 1);
}

#[test]
fn an_oversized_reply_is_refused_before_it_is_lifted() {
    let runtime = hostile("huge-lists", Recovery::FailUntilReset);
    let ledger = runtime.new_ledger().expect("instantiates");
    let k = key(1, 2, 3);
    let error = ledger.list_done_hashes_page(k.tenant_id(), k.policy_hash(), None, 10).expect_err("a million hashes");
    assert!(matches!(error, ComponentStoreError::ReplyTooLarge { operation: "list-done-hashes", .. }), "{error:?}");
    assert!(ledger.is_state_lost(), "an instance that broke the protocol is not trusted again");
}

#[test]
fn the_bundled_component_meets_its_deadlines() {
    // The defaults never fire on honest work: a full batch and a full page.
    let runtime = crate::support::runtime();
    assert_eq!(runtime.config().call_timeout, gossip_host::DEFAULT_CALL_TIMEOUT);
    let ledger = runtime.new_ledger().expect("instantiates");
    let rows: Vec<_> = (0..10_000u32)
        .map(|i| {
            let mut ovid = [0u8; 32];
            ovid[..4].copy_from_slice(&i.to_le_bytes());
            clean(gossip_persistence::done_ledger::DoneLedgerKey::new(
                gossip_persistence::identity::TenantId::from_bytes([1; 32]),
                gossip_persistence::identity::PolicyHash::from_bytes([2; 32]),
                gossip_persistence::identity::OvidHash::from_bytes(ovid),
            ))
        })
        .collect();
    ledger.batch_upsert(&rows).expect("submits").wait().expect("commits");
    use gossip_persistence::DoneLedgerInspect;
    assert_eq!(ledger.snapshot().expect("pages").len(), 10_000);
    assert_eq!(runtime.timeouts(), 0);
}
