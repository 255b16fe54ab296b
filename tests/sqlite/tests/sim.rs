//! The deterministic simulation through the SQLite stores: a modest sweep of
//! each store (the native sweeps in gossip-suite are the long ones), and the
//! differential check that one seed gives the same event log, the same
//! report and the same final state on the native stores and on SQLite.

mod common;

use std::fmt;

use common::SqliteBackend;
use gossip_persistence::{DoneLedgerInspect, FindingsInspect};
use gossip_suite::sim::done_ledger::{DoneLedgerSim, DoneLedgerSimEventKind};
use gossip_suite::sim::findings::{FindingsSim, FindingsSimEventKind};
use gossip_suite::sim::sweep::{SweepSummary, run_seed_sweep};
use gossip_suite::sim::{EventKind, FaultLevel, SimReport};
use gossip_suite::{Backend, NativeBackend};

const STORMY_SEEDS: u64 = 50;
const SWIZZLE_SEEDS: u64 = 100;

fn ledger_sim(seed: u64, level: FaultLevel) -> anyhow::Result<DoneLedgerSim<<SqliteBackend as Backend>::Ledger>> {
    DoneLedgerSim::from_backend(&SqliteBackend, seed, level)
}

fn sink_sim(seed: u64, level: FaultLevel) -> anyhow::Result<FindingsSim<<SqliteBackend as Backend>::Sink>> {
    FindingsSim::from_backend(&SqliteBackend, seed, level)
}

fn assert_sweep_clean<K: EventKind>(name: &str, summary: &SweepSummary<K>) {
    assert!(summary.failures.is_empty(), "{name}: {summary}");
    assert_eq!(summary.violations, 0, "{name}: {summary}");
    assert!(summary.ops > 0, "{name}: no operation ran");
}

// ---- done-ledger ----

#[test]
fn sqlite_done_ledger_stormy_sweep_reaches_every_event_kind() {
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| Ok(ledger_sim(seed, FaultLevel::Stormy)?.run(500, 0)));
    assert_sweep_clean("done-ledger stormy", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<DoneLedgerSimEventKind>::new(), "{summary}");
}

#[test]
fn sqlite_done_ledger_radioactive_smoke_and_swizzle_clog() {
    let summary = run_seed_sweep(0..5, |seed| Ok(ledger_sim(seed, FaultLevel::Radioactive)?.run(200, 0)));
    assert_sweep_clean("done-ledger radioactive", &summary);
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..SWIZZLE_SEEDS, |seed| Ok(ledger_sim(seed, level)?.run_swizzle_clog(10)));
        assert_sweep_clean(&format!("done-ledger swizzle-clog {level}"), &summary);
    }
}

// ---- findings ----

#[test]
fn sqlite_findings_stormy_sweep_reaches_every_event_kind() {
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| Ok(sink_sim(seed, FaultLevel::Stormy)?.run(500, 0)));
    assert_sweep_clean("findings stormy", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<FindingsSimEventKind>::new(), "{summary}");
}

#[test]
fn sqlite_findings_radioactive_smoke_and_swizzle_clog() {
    let summary = run_seed_sweep(0..5, |seed| Ok(sink_sim(seed, FaultLevel::Radioactive)?.run(200, 0)));
    assert_sweep_clean("findings radioactive", &summary);
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..SWIZZLE_SEEDS, |seed| Ok(sink_sim(seed, level)?.run_swizzle_clog(10)));
        assert_sweep_clean(&format!("findings swizzle-clog {level}"), &summary);
    }
}

// ---- differential: native vs SQLite ----

const DIFF_CASES: [(u64, FaultLevel); 5] = [
    (0, FaultLevel::SunnyDay),
    (7, FaultLevel::Stormy),
    (42, FaultLevel::Stormy),
    (3, FaultLevel::Radioactive),
    (11, FaultLevel::Radioactive),
];

fn first_difference<K, V, O, E>(native: &SimReport<K, V, O, E>, sqlite: &SimReport<K, V, O, E>) -> String
where
    K: EventKind,
    V: fmt::Display + PartialEq,
    O: fmt::Display + PartialEq,
    E: fmt::Display + PartialEq,
{
    match native.log.first_difference(&sqlite.log) {
        Some((i, a, b)) => format!("entry {i}:\n  native: {a:?}\n  sqlite: {b:?}"),
        None => "logs equal, reports differ".to_owned(),
    }
}

#[test]
fn done_ledger_native_and_sqlite_agree_step_for_step() {
    for (seed, level) in DIFF_CASES {
        let (native_ledger, sqlite_ledger) = (NativeBackend.new_ledger().unwrap(), SqliteBackend.new_ledger().unwrap());
        let native = DoneLedgerSim::new(seed, level, native_ledger.clone()).run(300, 50);
        let sqlite = DoneLedgerSim::new(seed, level, sqlite_ledger.clone()).run(300, 50);
        assert!(native.is_clean(), "{}", native.failure().unwrap_or_default());
        assert!(native == sqlite, "seed {seed} {level}: {}", first_difference(&native, &sqlite));
        let snapshot = native_ledger.snapshot().unwrap();
        assert!(!snapshot.is_empty());
        assert_eq!(snapshot, sqlite_ledger.snapshot().unwrap(), "seed {seed} {level}: final snapshots differ");
        let (c, d) = (
            DoneLedgerSim::new(seed, level, NativeBackend.new_ledger().unwrap()).run_swizzle_clog(10),
            ledger_sim(seed, level).unwrap().run_swizzle_clog(10),
        );
        assert!(c == d, "swizzle seed {seed} {level}: {}", first_difference(&c, &d));
    }
}

#[test]
fn findings_native_and_sqlite_agree_step_for_step() {
    for (seed, level) in DIFF_CASES {
        let (native_sink, sqlite_sink) = (NativeBackend.new_sink().unwrap(), SqliteBackend.new_sink().unwrap());
        let native = FindingsSim::new(seed, level, native_sink.clone()).run(300, 50);
        let sqlite = FindingsSim::new(seed, level, sqlite_sink.clone()).run(300, 50);
        assert!(native.is_clean(), "{}", native.failure().unwrap_or_default());
        assert!(native == sqlite, "seed {seed} {level}: {}", first_difference(&native, &sqlite));
        assert_eq!(native_sink.findings_snapshot().unwrap(), sqlite_sink.findings_snapshot().unwrap());
        assert_eq!(native_sink.occurrences_snapshot().unwrap(), sqlite_sink.occurrences_snapshot().unwrap());
        let observations = native_sink.observations_snapshot().unwrap();
        assert!(!observations.is_empty());
        assert!(observations.iter().any(|o| o.location().is_some()), "the runs must exercise locations");
        assert_eq!(observations, sqlite_sink.observations_snapshot().unwrap(), "seed {seed} {level}");
        let (c, d) = (
            FindingsSim::new(seed, level, NativeBackend.new_sink().unwrap()).run_swizzle_clog(10),
            sink_sim(seed, level).unwrap().run_swizzle_clog(10),
        );
        assert!(c == d, "swizzle seed {seed} {level}: {}", first_difference(&c, &d));
    }
}
