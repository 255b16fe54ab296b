//! The sweeps every store's simulation runs, on the native stores: each
//! test covers every store that has a plug-in, through the store-agnostic
//! run spec, so the sweeps (like the engine they exercise) are written once.

use gossip_persistence::{InMemoryDoneLedger, InMemoryFindingsSink};
use gossip_suite::sim::FaultLevel;
use gossip_suite::sim::done_ledger::DoneLedgerPlugin;
use gossip_suite::sim::findings::FindingsPlugin;
use gossip_suite::sim::sweep::{DEFAULT_LIVENESS_OPS, SimMode, SimStore};

mod common;

use common::sim::{
    RADIOACTIVE_SMOKE_OPS, RADIOACTIVE_SMOKE_SEEDS, RADIOACTIVE_SWEEP_OPS, RADIOACTIVE_SWEEP_SEEDS, STORES,
    STORMY_SWEEP_OPS, STORMY_SWEEP_SEEDS, SUNNY_DAY_OPS, SWIZZLE_BATCHES, SWIZZLE_SWEEP_SEEDS, StoreSweep,
    assert_deterministic,
};

/// `safety_ops` faulty ops, then the default fault-free liveness phase.
const fn with_liveness(safety_ops: usize) -> SimMode {
    SimMode::Run { safety_ops, liveness_ops: DEFAULT_LIVENESS_OPS }
}

const SWIZZLE_CLOG: SimMode = SimMode::SwizzleClog { batches: SWIZZLE_BATCHES };

#[test]
fn sunny_day_runs_are_clean() {
    for store in STORES {
        let sweep = StoreSweep::run(store, FaultLevel::SunnyDay, with_liveness(SUNNY_DAY_OPS), 1);
        assert!(sweep.assert_clean().count("UpsertCommitted") > 0, "{sweep}");
    }
}

/// Injected submission failures, commit failures and delayed writes: no
/// violation, and every event kind of the store reached.
#[test]
fn stormy_sweeps_are_clean_and_reach_every_event_kind() {
    for store in STORES {
        let sweep = StoreSweep::run(store, FaultLevel::Stormy, with_liveness(STORMY_SWEEP_OPS), STORMY_SWEEP_SEEDS);
        assert_eq!(sweep.assert_clean().missing_kinds(), Vec::<&str>::new(), "{sweep}");
        eprintln!("{sweep}");
    }
}

/// Every write delayed, released in a shuffled order with some commits
/// failing: the store converges on the oracle. Findings batches released
/// before their parents are refused as orphans.
#[test]
fn swizzle_clog_sweeps_converge() {
    for store in STORES {
        let sweep = StoreSweep::run(store, FaultLevel::SunnyDay, SWIZZLE_CLOG, SWIZZLE_SWEEP_SEEDS);
        let orphans: &[&str] = match store {
            SimStore::DoneLedger => &[],
            SimStore::Findings => &["OrphanOccurrence", "OrphanObservation"],
        };
        sweep.assert_clean();
        for kind in ["UpsertPending", "Released", "ReleasedCommitFailed"].iter().chain(orphans) {
            assert!(sweep.count(kind) > 0, "{kind} never happened\n{sweep}");
        }
    }
}

/// Swizzle-clog with the stormy per-write faults on top.
#[test]
fn swizzle_clog_stormy_sweeps_converge() {
    for store in STORES {
        StoreSweep::run(store, FaultLevel::Stormy, SWIZZLE_CLOG, SWIZZLE_SWEEP_SEEDS).assert_clean();
    }
}

#[test]
fn two_runs_of_one_seed_produce_identical_event_logs() {
    assert_deterministic::<DoneLedgerPlugin, InMemoryDoneLedger>();
    assert_deterministic::<FindingsPlugin, InMemoryFindingsSink>();
}

#[test]
fn radioactive_smoke() {
    for store in STORES {
        let mode = with_liveness(RADIOACTIVE_SMOKE_OPS);
        StoreSweep::run(store, FaultLevel::Radioactive, mode, RADIOACTIVE_SMOKE_SEEDS).assert_clean();
    }
}

#[test]
#[ignore = "50 seeds x 1000 radioactive ops per store; run with --ignored"]
fn radioactive_sweeps() {
    for store in STORES {
        let sweep = StoreSweep::run(
            store,
            FaultLevel::Radioactive,
            with_liveness(RADIOACTIVE_SWEEP_OPS),
            RADIOACTIVE_SWEEP_SEEDS,
        );
        eprintln!("{}", sweep.assert_clean());
    }
}
