//! The findings-sink simulation on the native store: the sunny sweep over
//! every fault-free path, harness steps, the proptest state machine, and
//! unit tests of its oracle and invariant checker. The sweeps every store
//! runs are in `sim_sweeps.rs`.

use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::{
    CommitHandle, FindingsSink, InMemoryFindingsSink, PendingWriteId, PersistenceInputError, StoreError,
};
use gossip_suite::sim::findings::universe::{OCCURRENCES_PER_TENANT, TENANTS};
use gossip_suite::sim::findings::{
    BatchShape, BatchSpec, ConflictLayer, FindingsCommit, FindingsInvariantChecker, FindingsInvariantViolation as F,
    FindingsOracle, FindingsOutcome as Outcome, FindingsSim, FindingsSimEvent as Event, FindingsSimEventKind as Kind,
    FindingsSimOp as Op, FindingsStoreOp as SinkOp, Pick, Rejection, Row, Sighting, SimBatch,
};
use gossip_suite::sim::sweep::run_seed_sweep;
use gossip_suite::sim::{FaultLevel, PersistenceSim};
use proptest::prelude::*;

mod common;

use common::sim::{SUNNY_DAY_OPS, assert_sweep_clean};
use common::state_machine::{arb_control, check_state_machine, run_fault_prefix};

type Sim = FindingsSim<InMemoryFindingsSink>;

fn sim(seed: u64, level: FaultLevel) -> Sim {
    Sim::new(seed, level, InMemoryFindingsSink::new())
}

fn upsert(batch: SimBatch) -> Op {
    Op::Store(SinkOp::Upsert { batch })
}

fn sighting(seen_at: u64, location: Option<usize>) -> Sighting {
    Sighting { run: 1, shard: 1, fence: 1, seen_at, location }
}

fn pick(occurrence: usize, seen_at: u64) -> Pick {
    Pick { occurrence, policy: 0, sighting: Some(sighting(seen_at, None)) }
}

fn spec(shape: BatchShape, picks: Vec<Pick>) -> BatchSpec {
    BatchSpec { tenant: 0, shape, picks, salt: 1 }
}

// ---- sweeps ----

#[test]
fn findings_sim_sunny_sweep_reaches_every_fault_free_path() {
    let summary = run_seed_sweep(0..20, |seed| Ok(sim(seed, FaultLevel::SunnyDay).run(SUNNY_DAY_OPS, 50)));
    assert_sweep_clean(&summary);
    let missing: Vec<Kind> = summary.missing_kinds().into_iter().filter(|k| !k.needs_faults()).collect();
    assert!(missing.is_empty(), "never reached {missing:?}\n{summary}");
}

// ---- harness steps ----

#[test]
fn orphan_is_refused_then_accepted_once_its_parent_is_durable() {
    let mut sim = sim(7, FaultLevel::SunnyDay);
    let children = sim.build_batch(&spec(BatchShape::Children, vec![pick(0, 5)]));
    let (event, v) = sim.step(upsert(children.clone()));
    assert!(v.is_empty(), "{v:?}");
    assert!(
        matches!(event, Event::Store(Outcome::UpsertIntegrityFailed { reason: Rejection::MissingFinding, .. })),
        "{event:?}"
    );
    let parent = sim.build_batch(&spec(BatchShape::FullChain, vec![Pick { occurrence: 0, policy: 0, sighting: None }]));
    let (event, v) = sim.step(upsert(parent));
    assert!(v.is_empty(), "{v:?}");
    assert!(
        matches!(event, Event::UpsertCommitted { receipt: FindingsCommit { receipt, .. }, .. } if receipt == FindingsCommitReceipt::new(1, 1, 0)),
        "{event:?}"
    );
    let (event, v) = sim.step(upsert(children));
    assert!(v.is_empty(), "{v:?}");
    assert!(
        matches!(event, Event::UpsertCommitted { receipt: FindingsCommit { receipt, resighted: 0 }, .. } if receipt == FindingsCommitReceipt::new(0, 1, 1)),
        "{event:?}"
    );
}

#[test]
fn resightings_merge_and_conflicts_are_refused() {
    let mut sim = sim(8, FaultLevel::SunnyDay);
    let first = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(2, 10)]));
    assert!(sim.step(upsert(first)).1.is_empty());
    let later = Pick { occurrence: 2, policy: 0, sighting: Some(sighting(20, Some(1))) };
    let (event, v) = sim.step(upsert(sim.build_batch(&spec(BatchShape::Sightings, vec![later]))));
    assert!(v.is_empty(), "{v:?}");
    assert!(matches!(event, Event::UpsertCommitted { receipt: FindingsCommit { resighted: 1, .. }, .. }), "{event:?}");
    for layer in [ConflictLayer::Finding, ConflictLayer::Occurrence, ConflictLayer::Observation] {
        let conflict = sim.build_batch(&BatchSpec {
            tenant: 0,
            shape: BatchShape::Conflict(layer),
            picks: vec![pick(2, 30)],
            salt: 4,
        });
        let (event, v) = sim.step(upsert(conflict));
        assert!(v.is_empty(), "{v:?}");
        assert!(matches!(event, Event::Store(Outcome::UpsertIntegrityFailed { .. })), "{layer:?}: {event:?}");
    }
    let mut sim = sim;
    assert!(sim.check_convergence().is_empty());
}

#[test]
fn invalid_batches_are_refused_at_submit() {
    let mut sim = sim(9, FaultLevel::SunnyDay);
    for shape in [BatchShape::MixedTenant, BatchShape::BadObservationId] {
        let batch = sim.build_batch(&spec(shape, vec![pick(1, 3)]));
        let (event, v) = sim.step(upsert(batch));
        assert!(v.is_empty(), "{v:?}");
        assert!(matches!(event, Event::Store(Outcome::UpsertRejected { .. })), "{shape:?}: {event:?}");
    }
}

// ---- oracle ----

fn oracle_commit(oracle: &mut FindingsOracle, id: u64, batch: &SimBatch) -> Result<FindingsCommitReceipt, StoreError> {
    let id = PendingWriteId::from_raw(id);
    oracle.submit(id, batch.clone());
    match oracle.predict(id).unwrap() {
        Ok(p) => {
            oracle.commit(id, &p);
            Ok(p.receipt)
        }
        Err(e) => {
            oracle.abort(id);
            Err(e)
        }
    }
}

#[test]
fn oracle_agrees_with_the_store_on_hand_built_batches() {
    let sim = sim(11, FaultLevel::SunnyDay);
    let sink = InMemoryFindingsSink::new();
    let mut oracle = FindingsOracle::new();
    let batches = [
        spec(BatchShape::Children, vec![pick(0, 1)]),
        spec(BatchShape::Sightings, vec![pick(0, 1)]),
        spec(BatchShape::FullChain, vec![pick(0, 4), pick(1, 4), pick(1, 9)]),
        spec(
            BatchShape::Sightings,
            vec![pick(0, 2), Pick { occurrence: 0, policy: 0, sighting: Some(sighting(2, Some(3))) }],
        ),
        spec(BatchShape::Conflict(ConflictLayer::Finding), vec![pick(0, 1)]),
        spec(BatchShape::Conflict(ConflictLayer::Occurrence), vec![pick(3, 1)]),
        spec(BatchShape::Conflict(ConflictLayer::Observation), vec![pick(1, 1)]),
        spec(BatchShape::FullChain, vec![pick(3, 1)]),
    ];
    for (i, s) in batches.iter().enumerate() {
        let batch = sim.build_batch(s);
        let expected = oracle_commit(&mut oracle, i as u64 + 1, &batch);
        let actual = sink.upsert_batch(batch.as_batch()).unwrap().wait();
        assert_eq!(actual, expected, "batch {i} {s:?}");
    }
    let mut checker = FindingsInvariantChecker::new();
    assert_eq!(checker.check_final(&sink, &oracle), Vec::new());
}

#[test]
fn oracle_predicts_submit_refusals_identity_first() {
    let sim = sim(12, FaultLevel::SunnyDay);
    let mixed = sim.build_batch(&spec(BatchShape::MixedTenant, vec![pick(1, 1)]));
    assert_eq!(FindingsOracle::submit_rejection(&mixed), Some(PersistenceInputError::InconsistentTenant.into()));
    let mut both = mixed.clone();
    both.observations.extend(sim.build_batch(&spec(BatchShape::BadObservationId, vec![pick(1, 1)])).observations);
    let expected = FindingsOracle::submit_rejection(&both);
    assert!(matches!(expected, Some(StoreError::BatchValidation(PersistenceInputError::ObservationIdMismatch { .. }))));
    assert_eq!(InMemoryFindingsSink::new().upsert_batch(both.as_batch()).err(), expected);
    assert_eq!(
        FindingsOracle::submit_rejection(&sim.build_batch(&spec(BatchShape::FullChain, vec![pick(1, 1)]))),
        None
    );
}

#[test]
fn oracle_receipts_count_distinct_keys() {
    let sim = sim(13, FaultLevel::SunnyDay);
    let mut batch = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(4, 1), pick(5, 2), pick(4, 3)]));
    batch.findings.push(batch.findings[0].clone());
    let mut oracle = FindingsOracle::new();
    // One finding (both occurrences share it), two occurrences, two observations.
    assert_eq!(oracle_commit(&mut oracle, 1, &batch), Ok(FindingsCommitReceipt::new(1, 2, 2)));
    assert_eq!(oracle.counts(), (1, 2, 2));
}

// ---- checker ----

#[test]
fn f2_flags_a_changed_finding() {
    let sim = sim(14, FaultLevel::SunnyDay);
    let canonical = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(0, 1)])).findings.remove(0);
    let variant =
        sim.build_batch(&spec(BatchShape::Conflict(ConflictLayer::Finding), vec![pick(0, 1)])).findings.pop().unwrap();
    assert_eq!(canonical.finding_id(), variant.finding_id());
    let mut checker = FindingsInvariantChecker::new();
    assert!(checker.observe(&Row::Finding(canonical.clone())).is_none());
    assert!(checker.observe(&Row::Finding(canonical)).is_none());
    let v = checker.observe(&Row::Finding(variant));
    assert!(matches!(v, Some(F::Immutability { .. })), "{v:?}");
    assert!(v.unwrap().to_string().starts_with("F2 Immutability"));
}

#[test]
fn f3_flags_a_change_after_a_refusal() {
    let sim = sim(15, FaultLevel::SunnyDay);
    let sink = InMemoryFindingsSink::new();
    let batch = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(0, 1)]));
    let mut checker = FindingsInvariantChecker::new();
    let mut v = Vec::new();
    let pre = checker.read(&sink, &batch.keys(), &mut v);
    sink.upsert_batch(batch.as_batch()).unwrap().wait().unwrap();
    let v = checker.check_unchanged(&sink, "test", &pre);
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(v.iter().all(|v| matches!(v, F::RejectedUnchanged { .. })));
}

#[test]
fn f5_f7_f8_flag_divergence_from_the_oracle() {
    let sim = sim(16, FaultLevel::SunnyDay);
    let mut oracle = FindingsOracle::new();
    let batch = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(0, 1)]));
    oracle_commit(&mut oracle, 1, &batch).unwrap();
    let v = FindingsInvariantChecker::new().check_final(&InMemoryFindingsSink::new(), &oracle);
    assert_eq!(v.iter().filter(|v| matches!(v, F::Convergence { .. })).count(), 3, "{v:?}");
    assert!(v.iter().any(|v| matches!(v, F::DurableCounts { expected: (1, 1, 1), actual: (0, 0, 0) })), "{v:?}");
    let r = FindingsInvariantChecker::check_receipt(
        &FindingsCommitReceipt::new(1, 0, 0),
        &FindingsCommitReceipt::new(2, 0, 0),
    );
    assert!(matches!(r, Some(F::ReceiptAccuracy { .. })));
}

// ---- proptest state machine ----

#[derive(Debug, Clone)]
enum PropOp {
    Upsert(BatchSpec),
    Replay(usize),
    Read(Vec<(usize, usize, usize, usize)>),
    Control(Op),
}

/// Few occurrences, so batches collide on keys often.
const PROP_OCCURRENCES: usize = 6;

fn arb_sighting() -> impl Strategy<Value = Sighting> {
    (1u64..=6, 1u64..=3, 1u64..=2, 1u64..=30, prop::option::of(0usize..4))
        .prop_map(|(run, shard, fence, seen_at, location)| Sighting { run, shard, fence, seen_at, location })
}

fn arb_pick() -> impl Strategy<Value = Pick> {
    (0..PROP_OCCURRENCES, 0usize..2, prop::option::weighted(0.7, arb_sighting()))
        .prop_map(|(occurrence, policy, sighting)| Pick { occurrence, policy, sighting })
}

fn arb_shape() -> impl Strategy<Value = BatchShape> {
    prop_oneof![
        5 => Just(BatchShape::FullChain),
        2 => Just(BatchShape::Sightings),
        2 => Just(BatchShape::Children),
        1 => Just(BatchShape::Conflict(ConflictLayer::Finding)),
        1 => Just(BatchShape::Conflict(ConflictLayer::Occurrence)),
        1 => Just(BatchShape::Conflict(ConflictLayer::Observation)),
        1 => Just(BatchShape::MixedTenant),
        1 => Just(BatchShape::BadObservationId),
    ]
}

fn arb_spec() -> impl Strategy<Value = BatchSpec> {
    (0..TENANTS, arb_shape(), prop::collection::vec(arb_pick(), 1..=3), any::<u8>())
        .prop_map(|(tenant, shape, picks, salt)| BatchSpec { tenant, shape, picks, salt })
}

fn arb_prop_op() -> impl Strategy<Value = PropOp> {
    prop_oneof![
        6 => arb_spec().prop_map(PropOp::Upsert),
        1 => any::<usize>().prop_map(PropOp::Replay),
        3 => prop::collection::vec((0usize..3, 0..TENANTS, 0..OCCURRENCES_PER_TENANT, 0usize..2), 1..=6).prop_map(PropOp::Read),
        8 => arb_control().prop_map(PropOp::Control),
    ]
}

fn to_sim_op(sim: &mut Sim, op: &PropOp, _: &mut ()) -> Op {
    match op {
        PropOp::Upsert(spec) => upsert(sim.build_batch(spec)),
        PropOp::Replay(i) => upsert(sim.replay(*i).unwrap_or_default()),
        PropOp::Read(keys) => {
            Op::Store(SinkOp::Read { keys: keys.iter().map(|&(l, t, o, p)| sim.pool_key(l, t, o, p)).collect() })
        }
        PropOp::Control(op) => op.clone(),
    }
}

/// Every case starts with delay → commit failure → successful retry of one
/// full chain.
fn findings_fault_prefix(sim: &mut Sim) {
    let chain = sim.build_batch(&spec(BatchShape::FullChain, vec![pick(0, 7)]));
    let read = SinkOp::Read { keys: chain.keys() };
    let unseen = |e: &Event| *e == Event::Store(Outcome::ReadOk { found: 0, missing: 3 });
    let seen = |e: &Event| *e == Event::Store(Outcome::ReadOk { found: 3, missing: 0 });
    let write = SinkOp::Upsert { batch: chain };
    run_fault_prefix(sim, write.clone(), write, read, &unseen, &seen);
}

#[test]
fn prop_findings_state_machine() {
    check_state_machine(findings_fault_prefix, arb_prop_op(), to_sim_op);
}
