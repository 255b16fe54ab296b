//! The differential against the in-memory stores: for each of 100+ seeds the
//! same simulation runs on the native stores and on PostgreSQL, and must
//! give the same event log (every outcome and receipt, step by step), the
//! same report and the same final rows.

mod common;

use std::fmt;

use gossip_persistence::{DoneLedgerInspect, FindingsInspect};
use gossip_suite::sim::done_ledger::DoneLedgerSim;
use gossip_suite::sim::findings::FindingsSim;
use gossip_suite::sim::{EventKind, FaultLevel, SimReport};
use gossip_suite::{Backend, NativeBackend};

const SEEDS: u64 = 100;
const SAFETY_OPS: usize = 60;
const LIVENESS_OPS: usize = 20;

/// Every level, so faults, delays and reorderings all take part.
fn level(seed: u64) -> FaultLevel {
    [FaultLevel::SunnyDay, FaultLevel::Stormy, FaultLevel::Radioactive][(seed % 3) as usize]
}

fn first_difference<K, V, O, E>(native: &SimReport<K, V, O, E>, postgres: &SimReport<K, V, O, E>) -> String
where
    K: EventKind,
    V: fmt::Display + PartialEq,
    O: fmt::Display + PartialEq,
    E: fmt::Display + PartialEq,
{
    match native.log.first_difference(&postgres.log) {
        Some((i, a, b)) => format!("entry {i}:\n  native:   {a:?}\n  postgres: {b:?}"),
        None => "logs equal, reports differ".to_owned(),
    }
}

#[test]
fn done_ledger_native_and_postgres_agree_on_100_seeds() {
    let Some(db) = common::test_db("diff_ledger") else { return };
    let backend = db.backend();
    let mut rows = 0;
    for seed in 0..SEEDS {
        let (native_ledger, pg_ledger) = (NativeBackend.new_ledger().unwrap(), backend.new_ledger().unwrap());
        let native = DoneLedgerSim::new(seed, level(seed), native_ledger.clone()).run(SAFETY_OPS, LIVENESS_OPS);
        let postgres = DoneLedgerSim::new(seed, level(seed), pg_ledger.clone()).run(SAFETY_OPS, LIVENESS_OPS);
        assert!(native.is_clean(), "seed {seed}: {}", native.failure().unwrap_or_default());
        assert!(native == postgres, "seed {seed} {}: {}", level(seed), first_difference(&native, &postgres));
        let snapshot = native_ledger.snapshot().unwrap();
        assert_eq!(snapshot, pg_ledger.snapshot().unwrap(), "seed {seed}: final snapshots differ");
        rows += snapshot.len();
    }
    assert!(rows > SEEDS as usize, "the runs must leave rows to compare ({rows})");
}

#[test]
fn findings_native_and_postgres_agree_on_100_seeds() {
    let Some(db) = common::test_db("diff_findings") else { return };
    let backend = db.backend();
    let (mut observations, mut located) = (0, 0);
    for seed in 0..SEEDS {
        let (native_sink, pg_sink) = (NativeBackend.new_sink().unwrap(), backend.new_sink().unwrap());
        let native = FindingsSim::new(seed, level(seed), native_sink.clone()).run(SAFETY_OPS, LIVENESS_OPS);
        let postgres = FindingsSim::new(seed, level(seed), pg_sink.clone()).run(SAFETY_OPS, LIVENESS_OPS);
        assert!(native.is_clean(), "seed {seed}: {}", native.failure().unwrap_or_default());
        assert!(native == postgres, "seed {seed} {}: {}", level(seed), first_difference(&native, &postgres));
        assert_eq!(native_sink.findings_snapshot().unwrap(), pg_sink.findings_snapshot().unwrap(), "seed {seed}");
        assert_eq!(native_sink.occurrences_snapshot().unwrap(), pg_sink.occurrences_snapshot().unwrap(), "seed {seed}");
        let rows = native_sink.observations_snapshot().unwrap();
        assert_eq!(rows, pg_sink.observations_snapshot().unwrap(), "seed {seed}: observations differ");
        observations += rows.len();
        located += rows.iter().filter(|o| o.location().is_some()).count();
    }
    assert!(observations > SEEDS as usize, "the runs must leave rows to compare ({observations})");
    assert!(located > 0, "the runs must exercise locations");
}

/// The swizzle-clog schedule (writes held, then released in shuffled
/// order) gives the same log on both backends.
#[test]
fn swizzle_clog_native_and_postgres_agree() {
    let Some(db) = common::test_db("diff_swizzle") else { return };
    let backend = db.backend();
    for seed in 0..20 {
        let level = level(seed);
        let native = DoneLedgerSim::new(seed, level, NativeBackend.new_ledger().unwrap()).run_swizzle_clog(8);
        let postgres = DoneLedgerSim::new(seed, level, backend.new_ledger().unwrap()).run_swizzle_clog(8);
        assert!(native == postgres, "ledger swizzle seed {seed} {level}: {}", first_difference(&native, &postgres));
        let native = FindingsSim::new(seed, level, NativeBackend.new_sink().unwrap()).run_swizzle_clog(8);
        let postgres = FindingsSim::new(seed, level, backend.new_sink().unwrap()).run_swizzle_clog(8);
        assert!(native == postgres, "findings swizzle seed {seed} {level}: {}", first_difference(&native, &postgres));
    }
}
