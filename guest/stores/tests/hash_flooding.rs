//! Done-ledger batches of ovids crafted to share one probe chain are stored
//! and read back exactly, through the store API, after the host seeded it.
//!
//! Correctness only: the store's key types derive `Hash` and `Eq` and the
//! store owns its maps, so no counter can be slipped into its tables, and this
//! suite measures no time. The collision work is measured on the same seeded
//! maps, with a counting key, by the unit tests in src/hash.rs.

mod common;

use std::collections::HashSet;
use std::hash::BuildHasher;

use common::{policy, provenance, tenant, upsert_done};
use foldhash::fast::FixedState;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::identity::OvidHash;
use gossip_persistence::{DoneLedger, InMemoryDoneLedger, set_hash_seed};

const N: u64 = 2_000;
/// Several batches, so crafted keys also meet the ones already stored.
const BATCH: usize = 500;
/// The host's seed; each test sets the same one, so their order is irrelevant.
const HOST_SEED: u64 = 0x5eed_5eed_5eed_5eed;
/// foldhash's public `FixedState` multiplier (`seeds[0]`).
const PUBLIC_MULTIPLIER: u64 = 0xc0ac_29b7_c97c_50dd;

/// Four 64-bit words, as foldhash reads them (written out: the brute force
/// calls this millions of times, unoptimized).
fn ovid([a, b, c, d]: [u64; 4]) -> OvidHash {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&a.to_ne_bytes());
    bytes[8..16].copy_from_slice(&b.to_ne_bytes());
    bytes[16..24].copy_from_slice(&c.to_ne_bytes());
    bytes[24..].copy_from_slice(&d.to_ne_bytes());
    OvidHash::from_bytes(bytes)
}

/// A distinct odd-looking word per index (any bijection would do).
fn spread(i: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d
}

/// Ovids whose hashes agree in all 64 bits under public multipliers, whatever
/// the per-map seed: every map of a store keyed that way puts them in one chain.
fn seed_independent_collisions() -> Vec<OvidHash> {
    (0..N).map(|i| ovid([spread(i), spread(i), PUBLIC_MULTIPLIER, PUBLIC_MULTIPLIER])).collect()
}

/// Ovids brute-forced to share the low 12 bits (one bucket of the table for
/// `N` keys) under a seed the attacker predicted.
fn brute_forced_collisions() -> Vec<OvidHash> {
    let predicted = FixedState::with_seed(0x0123_4567_89ab_cdef);
    let mask = (1 << 12) - 1;
    let candidate = |i: u64| ovid([i, spread(i), spread(!i), 0]);
    let target = predicted.hash_one(candidate(0)) & mask;
    let mut keys = Vec::new();
    let mut i = 0;
    while keys.len() < N as usize {
        let key = candidate(i);
        if predicted.hash_one(key) & mask == target {
            keys.push(key);
        }
        i += 1;
    }
    keys
}

/// Row `i` of the scope: its byte count says which row it is.
fn row(ovid: OvidHash, i: u64) -> DoneLedgerRecord {
    DoneLedgerRecord::try_new(
        DoneLedgerKey::new(tenant(1), policy(2), ovid),
        DoneLedgerStatus::ScannedClean,
        i,
        0,
        provenance(1, 1, 1, 10, 20),
        None,
    )
    .expect("a clean row without findings is valid")
}

fn stores_and_reads_back(ovids: &[OvidHash]) {
    assert_eq!(ovids.iter().collect::<HashSet<_>>().len(), ovids.len(), "the crafted ovids are distinct");
    set_hash_seed(HOST_SEED);
    let ledger = InMemoryDoneLedger::new();
    let rows: Vec<DoneLedgerRecord> = (0..).zip(ovids).map(|(i, ovid)| row(*ovid, i)).collect();
    for batch in rows.chunks(BATCH) {
        upsert_done(&ledger, batch);
    }
    // A replayed batch changes nothing.
    upsert_done(&ledger, &rows[..BATCH]);

    let got = ledger.batch_get(tenant(1), policy(2), ovids).expect("read");
    for (i, (ovid, record)) in (0..).zip(ovids.iter().zip(&got)) {
        let record = record.as_ref().unwrap_or_else(|| panic!("ovid {i} was stored"));
        assert_eq!(record.key().ovid_hash(), *ovid);
        assert_eq!(record.bytes_scanned(), i, "ovid {i} reads back its own row");
    }
    let listed = ledger.list_done_hashes(tenant(1), policy(2)).expect("list");
    assert_eq!(listed.len(), ovids.len(), "each row listed once");
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), ovids.iter().copied().collect());
    assert_eq!(ledger.len().expect("len"), ovids.len());
    assert_eq!(ledger.count_done_hashes(tenant(1), policy(2)).expect("count"), Some(ovids.len()));
}

#[test]
fn ovids_colliding_under_every_public_multiplier_seed_are_all_stored_and_read_back() {
    let ovids = seed_independent_collisions();
    let fixed = FixedState::with_seed(HOST_SEED);
    assert!(ovids.iter().all(|o| fixed.hash_one(o) == fixed.hash_one(ovids[0])), "the crafting works");
    stores_and_reads_back(&ovids);
}

#[test]
fn ovids_brute_forced_for_a_predicted_seed_are_all_stored_and_read_back() {
    stores_and_reads_back(&brute_forced_collisions());
}
