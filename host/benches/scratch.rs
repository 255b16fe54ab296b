use std::hint::black_box;
use std::time::Instant;
use gossip_host::bindings::exports::gossip::persistence::types as wit;
use gossip_host::ComponentRuntime;
use gossip_persistence::StoreControl;

fn rows_at(bad: u64) -> Vec<wit::DoneRecord> {
    (0..1000u64).map(|n| {
        
        wit::DoneRecord {
            key: wit::DoneKey { tenant_id: (1,1,1,1), policy_hash: (2,2,2,2), ovid_hash: (n,0,0,0) },
            status: if n == bad { 0 } else if n % 10 == 0 { 1 } else { 10 },
            bytes_scanned: 4096, findings_count: 0,
            provenance: wit::Provenance { run_id: 9, shard_id: n % 16, fence_epoch: 1, started_at: n, finished_at: n + 5 },
            error_code: (n % 10 == 0).then(|| "timeout: remote".to_owned()),
        }
    }).collect()
}

fn time(label: &str, iters: u32, mut f: impl FnMut()) {
    for _ in 0..iters / 10 { f(); }
    let start = Instant::now();
    for _ in 0..iters { f(); }
    println!("{label:<40} {:?}", start.elapsed() / iters);
}

fn main() {
    let rt = ComponentRuntime::bundled().unwrap();
    let ledger = rt.new_ledger().unwrap();
    let good = rows_at(5000);
    let bad = rows_at(999);
    let bad_first = rows_at(0);
    if std::env::var_os("ONLY_GET").is_some() {
        let t = (1u64,1,1,1); let p = (2u64,2,2,2); let o = vec![(0u64,0,0,0)];
        time("raw batch_get 1 key", 1000000, || {
            ledger.with_raw(|store, api, this| Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_get(&mut *store, this, t, p, &o)?))).unwrap();
        });
        return;
    }
    if std::env::var_os("ONLY_TRAIT").is_some() {
        use gossip_persistence::{DoneLedger, CommitHandle};
        let recs: Vec<gossip_persistence::done_ledger::DoneLedgerRecord> = (0..1000u64).map(|n| {
            let mut ovid = [0u8; 32]; ovid[..8].copy_from_slice(&n.to_le_bytes());
            let key = gossip_persistence::done_ledger::DoneLedgerKey::new(gossip_persistence::identity::TenantId::from_bytes([1;32]), gossip_persistence::identity::PolicyHash::from_bytes([2;32]), gossip_persistence::identity::OvidHash::from_bytes(ovid));
            let prov = gossip_persistence::done_ledger::DoneLedgerProvenance::new(gossip_persistence::identity::RunId::from_raw(9), gossip_persistence::identity::ShardId::from_raw(n%16), gossip_persistence::identity::FenceEpoch::from_raw(1), gossip_persistence::identity::LogicalTime::from_raw(n), gossip_persistence::identity::LogicalTime::from_raw(n+5));
            gossip_persistence::done_ledger::DoneLedgerRecord::try_new(key, gossip_persistence::done_ledger::DoneLedgerStatus::ScannedClean, 4096, 0, prov, None).unwrap()
        }).collect();
        let native = gossip_persistence::InMemoryDoneLedger::new();
        time("native trait upsert", 2000, || { black_box(native.batch_upsert(&recs).unwrap().wait().unwrap()); });
        time("component trait upsert", 2000, || { black_box(ledger.batch_upsert(&recs).unwrap().wait().unwrap()); });
        return;
    }
    if std::env::var_os("ONLY_LOWER").is_some() {
        time("raw upsert invalid first (lower+lift)", 3000, || {
            ledger.with_raw(|store, api, this| {
                Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_upsert(&mut *store, this, &bad_first)?.is_err()))
            }).unwrap();
        });
        return;
    }
    time("build 1000 wit rows on the host", 300, || { black_box(rows_at(5000)); });
    time("raw upsert invalid first (lower+lift)", 300, || {
        ledger.with_raw(|store, api, this| {
            Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_upsert(&mut *store, this, &bad_first)?.is_err()))
        }).unwrap();
    });
    time("raw upsert valid (+poll+drop)", 300, || {
        ledger.with_raw(|store, api, this| {
            let l = api.gossip_persistence_done_ledger();
            let w = l.done_ledger().call_batch_upsert(&mut *store, this, &good)?.unwrap();
            let r = l.done_write().call_poll(&mut *store, w)?;
            w.resource_drop(&mut *store)?;
            Ok(black_box(r))
        }).unwrap();
    });
    time("raw upsert invalid last (boundary only)", 300, || {
        ledger.with_raw(|store, api, this| {
            Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_upsert(&mut *store, this, &bad)?.is_err()))
        }).unwrap();
    });
    let t = (1u64,1,1,1); let p = (2u64,2,2,2); let o = vec![(0u64,0,0,0)];
    time("raw batch_get 1 key", 100000, || {
        ledger.with_raw(|store, api, this| Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_get(&mut *store, this, t, p, &o)?))).unwrap();
    });
    let empty: Vec<(u64,u64,u64,u64)> = vec![];
    time("raw batch_get 0 keys", 100000, || {
        ledger.with_raw(|store, api, this| Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_batch_get(&mut *store, this, t, p, &empty)?))).unwrap();
    });
    let k = wit::DoneKey { tenant_id: t, policy_hash: p, ovid_hash: (0,0,0,0) };
    time("raw get_record", 100000, || {
        ledger.with_raw(|store, api, this| Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_get_record(&mut *store, this, k)?))).unwrap();
    });
    time("raw count_done_hashes", 100000, || {
        ledger.with_raw(|store, api, this| Ok(black_box(api.gossip_persistence_done_ledger().done_ledger().call_count_done_hashes(&mut *store, this, t, p)?))).unwrap();
    });
    time("pending_count (trait)", 100000, || { black_box(ledger.pending_count().unwrap()); });
    time("instantiate", 2000, || { black_box(rt.instantiate().unwrap()); });
    time("new_ledger", 2000, || { black_box(rt.new_ledger().unwrap()); });
}
