//! The four reference findings checks (docs/contract.md §13.3), in order.

use gossip_persistence::findings::{
    DurableFindingsCounts, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
};
use gossip_persistence::identity::LogicalTime;

use super::error::CheckFailure;
use super::harness::{ensure_findings, fixture, new_sink, probe, sink_rejection, submit_sink};
use crate::backend::{Backend, SuiteSink};

pub(crate) fn idempotent<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x44, "findings/idempotent:fixture")?;
    let sink = new_sink(backend, "findings/idempotent:store")?;
    let before = probe(&sink, "findings/idempotent:probe-before")?;
    let receipt = submit_sink(&sink, fx.full_batch(), "findings/idempotent:first-upsert")?;
    let expected = FindingsCommitReceipt::new(1, 1, 1);
    ensure_findings(receipt == expected, "findings/idempotent:receipt", || {
        format!("unexpected receipt counts: expected {expected:?}, got {receipt:?}")
    })?;
    let after_first = probe(&sink, "findings/idempotent:probe-after-first")?;
    let delta = after_first.saturating_sub(before);
    ensure_findings(delta == DurableFindingsCounts::new(1, 1, 1), "findings/idempotent:probe-delta", || {
        format!("first upsert changed the counts by {delta:?}, expected one row per layer")
    })?;
    submit_sink(&sink, fx.full_batch(), "findings/idempotent:replay")?;
    let after_replay = probe(&sink, "findings/idempotent:probe-after-replay")?;
    ensure_findings(after_replay == after_first, "findings/idempotent:replay-counts", || {
        format!("replay changed the counts from {after_first:?} to {after_replay:?}")
    })
}

pub(crate) fn missing_finding<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x55, "findings/missing-finding:fixture")?;
    let sink = new_sink(backend, "findings/missing-finding:store")?;
    let batch = FindingsUpsertBatch::new(&[], core::slice::from_ref(&fx.occurrence), &[]);
    expect_failure_without_rows(
        &sink,
        batch,
        [
            "findings/missing-finding:probe-before",
            "findings/missing-finding:write",
            "findings/missing-finding:probe-after",
        ],
    )
}

pub(crate) fn missing_occurrence<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x66, "findings/missing-occurrence:fixture")?;
    let sink = new_sink(backend, "findings/missing-occurrence:store")?;
    let batch = FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&fx.observation));
    expect_failure_without_rows(
        &sink,
        batch,
        [
            "findings/missing-occurrence:probe-before",
            "findings/missing-occurrence:write",
            "findings/missing-occurrence:probe-after",
        ],
    )
}

/// The batch must fail at submit or at wait and leave the counts unchanged.
/// `cases` names the probe before, the write and the probe after.
fn expect_failure_without_rows<S: SuiteSink>(
    sink: &S,
    batch: FindingsUpsertBatch<'_>,
    [probe_before, write, probe_after]: [&'static str; 3],
) -> Result<(), CheckFailure> {
    let before = probe(sink, probe_before)?;
    sink_rejection(sink, batch, write)?;
    let after = probe(sink, probe_after)?;
    ensure_findings(after == before, probe_after, || {
        format!("a rejected batch left partial rows: {before:?} -> {after:?}")
    })
}

pub(crate) fn observation_merge<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x88, "findings/observation-merge:fixture")?;
    let sink = new_sink(backend, "findings/observation-merge:store")?;
    submit_sink(&sink, fx.full_batch(), "findings/observation-merge:first-upsert")?;
    let before = probe(&sink, "findings/observation-merge:probe-before")?;
    let obs = &fx.observation;
    let later = ObservationRecord::new(
        obs.tenant_id(),
        obs.occurrence_id(),
        obs.policy_hash(),
        obs.ovid_hash(),
        obs.run_id(),
        obs.shard_id(),
        obs.fence_epoch(),
        LogicalTime::from_raw(obs.seen_at().as_raw() + 1000),
    );
    let batch = FindingsUpsertBatch::new(
        core::slice::from_ref(&fx.finding),
        core::slice::from_ref(&fx.occurrence),
        core::slice::from_ref(&later),
    );
    submit_sink(&sink, batch, "findings/observation-merge:replay")?;
    let after = probe(&sink, "findings/observation-merge:probe-after")?;
    ensure_findings(after.observations == before.observations, "findings/observation-merge:count", || {
        format!(
            "observation count changed from {} to {} on a same-identity upsert",
            before.observations, after.observations
        )
    })
}
