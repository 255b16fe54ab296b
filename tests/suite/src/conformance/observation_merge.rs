//! The observation upsert's winner and location fallback (docs/contract.md
//! §7.3), including its asymmetric ties, each compared with literal
//! expectations: as two writes and as in-batch duplicates, in the order the
//! contract says matters (existing first).

use std::sync::Arc;

use gossip_persistence::Location;
use gossip_persistence::findings::{FindingsUpsertBatch, ObservationRecord};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, PolicyHash, RunId, ShardId};

use super::error::CheckFailure;
use super::fixture::{SampleFixture, fill32};
use super::harness::{ensure_findings, findings_invariant, fixture, get_observation, new_sink, probe, submit_sink};
use crate::backend::Backend;

/// run (= shard - 1 = fence - 2), seen_at, location display.
type Obs = (u64, u64, Option<&'static str>);

/// Existing row, incoming row, and the merged (run, seen_at, location).
const CASES: [(&str, Obs, Obs, Obs); 7] = [
    ("tie-both-located", (10, 50, Some("old/a")), (20, 50, Some("new/b")), (10, 50, Some("old/a"))),
    ("tie-neither-located", (10, 50, None), (20, 50, None), (10, 50, None)),
    ("tie-incoming-brings-location", (10, 50, None), (20, 50, Some("new/b")), (20, 50, Some("new/b"))),
    ("tie-incoming-lacks-location", (10, 50, Some("old/a")), (20, 50, None), (10, 50, Some("old/a"))),
    ("later-without-location", (10, 50, Some("old/a")), (20, 60, None), (20, 60, Some("old/a"))),
    ("earlier-with-location", (10, 50, None), (20, 40, Some("new/b")), (10, 50, Some("new/b"))),
    ("later-with-location", (10, 50, Some("old/a")), (20, 60, Some("new/b")), (20, 60, Some("new/b"))),
];

fn observation(fx: &SampleFixture, policy: PolicyHash, (run, seen, location): Obs) -> ObservationRecord {
    let record = ObservationRecord::new(
        fx.tenant_id,
        fx.occurrence.occurrence_id(),
        policy,
        fx.ovid_hash,
        RunId::from_raw(run),
        ShardId::from_raw(run + 1),
        FenceEpoch::from_raw(run + 2),
        LogicalTime::from_raw(seen),
    );
    match location.map(|d| Location::try_new(d.to_owned(), Some(format!("https://example.invalid/{d}")))) {
        Some(Ok(loc)) => record.with_location(Arc::new(loc)),
        _ => record,
    }
}

/// Later `seen_at` wins; on a tie the incoming row wins only by bringing a
/// location the existing one lacks; the location falls back across both.
pub(crate) fn ties_and_locations<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const CASE: &str = "merge/observation-ties:merged";
    let fx = fixture(0x91, "merge/observation-ties:fixture")?;
    let sink = new_sink(backend, "merge/observation-ties:store")?;
    let parents =
        FindingsUpsertBatch::new(core::slice::from_ref(&fx.finding), core::slice::from_ref(&fx.occurrence), &[]);
    submit_sink(&sink, parents, "merge/observation-ties:parents")?;
    let mut written = 0u64;
    for (i, (name, existing, incoming, merged)) in CASES.iter().enumerate() {
        for (way, in_batch) in [("two-writes", false), ("one-batch", true)] {
            let seed = u8::try_from(2 * i + usize::from(in_batch)).unwrap_or(0);
            let policy = PolicyHash::from_bytes(fill32(0xC0u8.wrapping_add(seed)));
            let (old, new) = (observation(&fx, policy, *existing), observation(&fx, policy, *incoming));
            if in_batch {
                let rows = [old.clone(), new];
                submit_sink(&sink, FindingsUpsertBatch::new(&[], &[], &rows), "merge/observation-ties:upsert")?;
            } else {
                submit_sink(
                    &sink,
                    FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&old)),
                    "merge/observation-ties:upsert",
                )?;
                submit_sink(
                    &sink,
                    FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&new)),
                    "merge/observation-ties:upsert",
                )?;
            }
            written += 1;
            let got = get_observation(&sink, fx.tenant_id, &old, "merge/observation-ties:fetch")?
                .ok_or_else(|| findings_invariant(CASE, format!("case {name}, {way}: no durable observation")))?;
            let (run, seen, location) = *merged;
            let read = (
                got.run_id().as_raw(),
                got.shard_id().as_raw(),
                got.fence_epoch().as_raw(),
                got.seen_at().as_raw(),
                got.location().map(|l| (l.display().to_owned(), l.url().map(str::to_owned))),
                got.observation_id() == old.observation_id(),
                got.ovid_hash() == fx.ovid_hash && got.policy_hash() == policy,
            );
            let want = (
                run,
                run + 1,
                run + 2,
                seen,
                location.map(|d| (d.to_owned(), Some(format!("https://example.invalid/{d}")))),
                true,
                true,
            );
            ensure_findings(read == want, CASE, || format!("case {name}, {way}: read {read:?}, expected {want:?}"))?;
        }
    }
    let counts = probe(&sink, "merge/observation-ties:probe")?;
    ensure_findings(counts.observations == written, "merge/observation-ties:probe", || {
        format!("expected {written} observations (one per key), probe says {counts:?}")
    })
}
