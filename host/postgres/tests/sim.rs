//! The deterministic simulation through the PostgreSQL stores: a stormy
//! sweep that must reach every event kind and a radioactive sweep of each
//! store, plus the swizzle-clog schedule, sized to run in about a minute
//! (the native sweeps in gossip-suite are the long ones). Seeds run in
//! parallel, each store in a schema of its own.

mod common;

use gossip_suite::sim::done_ledger::{DoneLedgerSim, DoneLedgerSimEventKind};
use gossip_suite::sim::findings::{FindingsSim, FindingsSimEventKind};
use gossip_suite::sim::sweep::{SweepSummary, run_seed_sweep};
use gossip_suite::sim::{EventKind, FaultLevel};

const STORMY_SEEDS: u64 = 40;
const STORMY_OPS: usize = 400;
const RADIOACTIVE_SEEDS: u64 = 12;
const RADIOACTIVE_OPS: usize = 250;
const SWIZZLE_SEEDS: u64 = 40;

fn assert_sweep_clean<K: EventKind>(name: &str, summary: &SweepSummary<K>) {
    assert!(summary.failures.is_empty(), "{name}: {summary}");
    assert_eq!(summary.violations, 0, "{name}: {summary}");
    assert!(summary.ops > 0, "{name}: no operation ran");
}

#[test]
fn postgres_done_ledger_stormy_sweep_reaches_every_event_kind() {
    let Some(db) = common::test_db("sim_ledger_stormy") else { return };
    let backend = db.backend();
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| {
        Ok(DoneLedgerSim::from_backend(&backend, seed, FaultLevel::Stormy)?.run(STORMY_OPS, 0))
    });
    assert_sweep_clean("done-ledger stormy", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<DoneLedgerSimEventKind>::new(), "{summary}");
}

#[test]
fn postgres_done_ledger_radioactive_and_swizzle_clog() {
    let Some(db) = common::test_db("sim_ledger_radioactive") else { return };
    let backend = db.backend();
    let summary = run_seed_sweep(0..RADIOACTIVE_SEEDS, |seed| {
        Ok(DoneLedgerSim::from_backend(&backend, seed, FaultLevel::Radioactive)?.run(RADIOACTIVE_OPS, 0))
    });
    assert_sweep_clean("done-ledger radioactive", &summary);
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..SWIZZLE_SEEDS, |seed| {
            Ok(DoneLedgerSim::from_backend(&backend, seed, level)?.run_swizzle_clog(10))
        });
        assert_sweep_clean(&format!("done-ledger swizzle-clog {level}"), &summary);
    }
}

#[test]
fn postgres_findings_stormy_sweep_reaches_every_event_kind() {
    let Some(db) = common::test_db("sim_findings_stormy") else { return };
    let backend = db.backend();
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| {
        Ok(FindingsSim::from_backend(&backend, seed, FaultLevel::Stormy)?.run(STORMY_OPS, 0))
    });
    assert_sweep_clean("findings stormy", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<FindingsSimEventKind>::new(), "{summary}");
}

#[test]
fn postgres_findings_radioactive_and_swizzle_clog() {
    let Some(db) = common::test_db("sim_findings_radioactive") else { return };
    let backend = db.backend();
    let summary = run_seed_sweep(0..RADIOACTIVE_SEEDS, |seed| {
        Ok(FindingsSim::from_backend(&backend, seed, FaultLevel::Radioactive)?.run(RADIOACTIVE_OPS, 0))
    });
    assert_sweep_clean("findings radioactive", &summary);
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..SWIZZLE_SEEDS, |seed| {
            Ok(FindingsSim::from_backend(&backend, seed, level)?.run_swizzle_clog(10))
        });
        assert_sweep_clean(&format!("findings swizzle-clog {level}"), &summary);
    }
}
