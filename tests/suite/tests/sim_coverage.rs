//! What the simulation exercises, measured and asserted (issue 16): under
//! the default (bounded) fault model, long faulty runs keep committing and
//! reach every event kind; the reference model's runs starve, and the same
//! assertions say so. A seed's printed options line replays its run.

use gossip_persistence::{InMemoryDoneLedger, InMemoryFindingsSink, StoreControl};
use gossip_suite::NativeBackend;
use gossip_suite::sim::done_ledger::DoneLedgerPlugin;
use gossip_suite::sim::findings::FindingsPlugin;
use gossip_suite::sim::sweep::{DEFAULT_LIVENESS_OPS, SimMode, SimRunSpec, SimStore};
use gossip_suite::sim::{FaultLevel, FaultModel, LogEntry, Sim, SimOptions, StorePlugin};

mod common;

use common::sim::{STORES, StoreSweep};

/// Ops per seed of the coverage sweeps: long enough that the reference
/// model's fault debt has starved every write.
const LONG_OPS: usize = 10_000;
const SHORT_OPS: usize = 500;
const SEEDS: u64 = 8;
const FAULTY: [FaultLevel; 2] = [FaultLevel::Stormy, FaultLevel::Radioactive];

const fn long(ops: usize) -> SimMode {
    SimMode::Run { safety_ops: ops, liveness_ops: DEFAULT_LIVENESS_OPS }
}

#[test]
fn bounded_faulty_sweeps_meet_the_coverage_minimums() {
    for store in STORES {
        for level in FAULTY {
            let sweep = StoreSweep::run(store, level, long(LONG_OPS), SEEDS);
            sweep.assert_clean();
            assert_eq!(sweep.shortfalls(), Vec::<String>::new(), "{sweep}");
            assert!(sweep.coverage.merges_changed > 0 && sweep.coverage.keys_touched > 0, "{sweep}");
            eprintln!("{sweep}");
        }
    }
}

/// The degenerate run the coverage assertion exists for: the reference
/// model's done-ledger runs pass every invariant at 10,000 ops while almost
/// nothing commits.
#[test]
fn the_reference_model_fails_the_coverage_minimums() {
    for level in FAULTY {
        let sweep = StoreSweep::run_model(SimStore::DoneLedger, level, FaultModel::Reference, long(LONG_OPS), SEEDS);
        sweep.assert_clean();
        let short = sweep.shortfalls();
        assert!(short.iter().any(|s| s.contains("submitted upserts committed")), "{short:?}\n{sweep}");
    }
}

/// Ten times the ops commit several times the writes under the bounded
/// model, and fewer under the reference model, whose debt stops commits.
#[test]
fn commits_grow_with_ops_at_every_level() {
    let committed = |store, level, model, ops| {
        let sweep = StoreSweep::run_model(store, level, model, long(ops), SEEDS);
        sweep.assert_clean();
        sweep.coverage.upserts_committed
    };
    for store in STORES {
        for level in FaultLevel::ALL {
            let (short, long) = (
                committed(store, level, FaultModel::Bounded, SHORT_OPS),
                committed(store, level, FaultModel::Bounded, LONG_OPS),
            );
            assert!(
                long >= 4 * short,
                "{} {level}: {short} commits at {SHORT_OPS} ops, {long} at {LONG_OPS}",
                store.name()
            );
        }
    }
    for level in FAULTY {
        let short = committed(SimStore::DoneLedger, level, FaultModel::Reference, SHORT_OPS);
        let long = committed(SimStore::DoneLedger, level, FaultModel::Reference, LONG_OPS);
        assert!(long < 2 * short, "reference {level}: {short} commits at {SHORT_OPS} ops, {long} at {LONG_OPS}");
    }
}

/// The options line a run logs first.
fn options_line<P: StorePlugin<S>, S: StoreControl>(sim: &Sim<P, S>) -> String {
    match sim.log().entries().first() {
        Some(LogEntry::Note(note)) => note.strip_prefix("options ").expect("the first note is the options").to_owned(),
        other => panic!("the log starts with {other:?}"),
    }
}

/// Runs `seed` from the seed alone, then from its printed options line and
/// the seed: the two logs are identical, line for line.
fn assert_line_replays<P: StorePlugin<S>, S: StoreControl + Default>(seed: u64, level: FaultLevel, model: FaultModel) {
    let sim = Sim::<P, S>::with_model(seed, level, model, S::default());
    let line = options_line(&sim);
    let first = sim.run(2_000, 100);
    let options: SimOptions = line.parse().expect("the options line reads back");
    let second = Sim::<P, S>::with_options(seed, options, S::default()).run(2_000, 100);
    assert!(first.is_clean(), "{}", first.failure().unwrap_or_default());
    assert_eq!(first.log.lines(), second.log.lines(), "seed {seed} with options {line}");
    assert_eq!(first, second);
}

#[test]
fn an_options_line_and_its_seed_replay_the_run_byte_identically() {
    for level in FaultLevel::ALL {
        for seed in [4, 19] {
            for model in FaultModel::ALL {
                assert_line_replays::<DoneLedgerPlugin, InMemoryDoneLedger>(seed, level, model);
                assert_line_replays::<FindingsPlugin, InMemoryFindingsSink>(seed, level, model);
            }
        }
    }
    // Through the run spec (what the CLI's --options does) as well.
    for store in STORES {
        let spec = SimRunSpec::new(store, FaultLevel::Radioactive, long(1_000));
        let drawn = spec.run_seed(&NativeBackend, 5, true).unwrap();
        let replay = SimRunSpec { options: Some(drawn.options.to_string().parse().unwrap()), ..spec };
        assert_eq!(replay.run_seed(&NativeBackend, 5, true).unwrap(), drawn);
    }
}

/// Seeds draw different options, so a sweep explores different corners.
#[test]
fn seeds_draw_different_swarm_options() {
    let drawn: std::collections::BTreeSet<String> =
        (0..20).map(|seed| SimOptions::for_seed(seed, FaultLevel::Stormy, FaultModel::Bounded).to_string()).collect();
    assert!(drawn.len() >= 18, "{drawn:?}");
    let reference = SimOptions::for_seed(1, FaultLevel::Stormy, FaultModel::Reference);
    assert_eq!(reference, SimOptions::for_seed(2, FaultLevel::Stormy, FaultModel::Reference));
}
