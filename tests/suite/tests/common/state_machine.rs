//! The proptest state machine every store's simulation runs: a fixed fault
//! prefix, then generated ops, the store's own mixed with the shared
//! controls, with no violation allowed and convergence at the end.

use std::fmt;
use std::panic::Location;

use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};
use gossip_suite::sim::engine::PluginEvent;
use gossip_suite::sim::{FaultLevel, PersistenceSim, Sim, SimEvent, SimOp, StorePlugin};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// Cases per state machine.
pub const CASES: u32 = 128;

fn arb_level() -> impl Strategy<Value = FaultLevel> {
    prop_oneof![Just(FaultLevel::SunnyDay), Just(FaultLevel::Stormy), Just(FaultLevel::Radioactive)]
}

/// The shared controls, weighted among themselves; mixed in with weight 8
/// next to the store's own ops. Release-specific ids go past the writes a
/// case submits, so some miss.
pub fn arb_control<S: Clone + fmt::Debug>() -> impl Strategy<Value = SimOp<S>> {
    prop_oneof![
        1 => Just(SimOp::ReleaseOldest),
        1 => Just(SimOp::ReleaseNewest),
        2 => prop_oneof![Just(CompletionOrder::OldestFirst), Just(CompletionOrder::NewestFirst)]
            .prop_map(|order| SimOp::ReleaseAll { order }),
        1 => (1u64..=64).prop_map(|raw| SimOp::ReleaseSpecific { op_id: PendingWriteId::from_raw(raw) }),
        1 => (1usize..=2).prop_map(|count| SimOp::InjectSubmitFailure { count }),
        1 => (1usize..=2).prop_map(|count| SimOp::InjectCommitFailure { count }),
        1 => (1usize..=3).prop_map(|count| SimOp::InjectDelay { count }),
    ]
}

/// What a read of the prefix's write must observe.
pub type ReadCheck<'a, P, S> = &'a dyn Fn(&PluginEvent<P, S>) -> bool;

/// Turns a generated op into a sim op, with the case's state `T`.
pub type ToOp<P, S, O, T> = fn(&mut Sim<P, S>, &O, &mut T) -> SimOp<<P as StorePlugin<S>>::Op>;

/// The prefix every case starts with: delay → commit failure → successful
/// retry. `read` reads the write's keys: `unseen` until the retry commits,
/// then `seen`.
pub fn run_fault_prefix<P: StorePlugin<S>, S: StoreControl>(
    sim: &mut Sim<P, S>,
    write: P::Op,
    retry: P::Op,
    read: P::Op,
    unseen: ReadCheck<'_, P, S>,
    seen: ReadCheck<'_, P, S>,
) {
    let steps: [(_, ReadCheck<'_, P, S>); 8] = [
        (SimOp::InjectDelay { count: 1 }, &|e| matches!(e, SimEvent::FaultConfigured)),
        (SimOp::Store(write), &|e| matches!(e, SimEvent::UpsertPending { .. })),
        (SimOp::Store(read.clone()), unseen),
        (SimOp::InjectCommitFailure { count: 1 }, &|e| matches!(e, SimEvent::FaultConfigured)),
        (SimOp::ReleaseOldest, &|e| matches!(e, SimEvent::ReleasedCommitFailed { .. })),
        (SimOp::Store(read.clone()), unseen),
        (SimOp::Store(retry), &|e| matches!(e, SimEvent::UpsertCommitted { .. })),
        (SimOp::Store(read), seen),
    ];
    for (op, check) in steps {
        let (event, violations) = sim.step(op.clone());
        assert!(violations.is_empty(), "prefix {op}: {violations:?}");
        assert!(check(&event), "prefix {op}: unexpected {event:?}");
    }
    assert_eq!(sim.pending_batch_count(), 0);
}

/// The state machine of one store: [`CASES`] cases, each a fresh native
/// simulation of a random seed and level that runs `prefix`, then 100 to 150
/// ops drawn by `arb_op`, each turned into a sim op by `to_op` (with state
/// `T`, fresh per case). No step may report a violation; then whatever is
/// still pending is released and the store must converge on the oracle. A
/// failure panics with the smallest failing case proptest finds.
#[track_caller]
pub fn check_state_machine<P, S, O, T>(
    prefix: fn(&mut Sim<P, S>),
    arb_op: impl Strategy<Value = O>,
    to_op: ToOp<P, S, O, T>,
) where
    P: StorePlugin<S>,
    S: StoreControl + Default,
    O: fmt::Debug,
    T: Default,
{
    let source_file = Some(Location::caller().file());
    let config = ProptestConfig { cases: CASES, max_shrink_iters: 10_000, source_file, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    let cases = (any::<u64>(), arb_level(), prop::collection::vec(arb_op, 100..150));
    let result = runner.run(&cases, |(seed, level, ops)| {
        let mut sim = Sim::<P, S>::new(seed, level, S::default());
        prefix(&mut sim);
        run_case(&mut sim, &ops, to_op)
    });
    if let Err(e) = result {
        panic!("{e}\n{runner}");
    }
}

fn run_case<P: StorePlugin<S>, S: StoreControl, O, T: Default>(
    sim: &mut Sim<P, S>,
    ops: &[O],
    to_op: ToOp<P, S, O, T>,
) -> Result<(), TestCaseError> {
    let case = format!("seed {} level {}", sim.seed(), sim.level());
    let mut state = T::default();
    for (step, op) in ops.iter().enumerate() {
        let sim_op = to_op(sim, op, &mut state);
        let (_, violations) = sim.step(sim_op.clone());
        prop_assert!(violations.is_empty(), "{case} step {step} op {sim_op}: {violations:?}");
    }
    if sim.pending_batch_count() > 0 {
        let (_, violations) = sim.step(SimOp::ReleaseAll { order: CompletionOrder::OldestFirst });
        prop_assert!(violations.is_empty(), "{case} final drain: {violations:?}");
    }
    let end = sim.check_convergence();
    prop_assert!(end.is_empty(), "{case}: {end:?}");
    Ok(())
}
