//! The batch-size limits: 10,000 records are accepted, 10,001 are rejected
//! with `BatchTooLarge` and change nothing. For the findings sink the limit
//! counts records across all three layers. Reads are bounded the same way:
//! `batch_get` takes at most `MAX_PAGE_SIZE` keys.

use std::collections::{HashMap, HashSet};

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
    StableItemId, TenantId,
};
use gossip_persistence::{DoneLedger, MAX_PAGE_SIZE, PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE};

use super::error::CheckFailure;
use super::fixture::{FixtureError, clean_rows, fill32, indexed_ovid};
use super::harness::{
    batch_get, count_done, ensure_findings, ensure_ledger, expect_store_error, findings_state, findings_unchanged,
    fixture_failed, ledger_invariant, ledger_rejection, ledger_snapshot, ledger_unchanged, list_done, new_ledger,
    new_sink, probe, read_refused, sink_rejection, submit_ledger, submit_sink,
};
use crate::backend::Backend;

const LIMIT: usize = RECOMMENDED_MAX_BATCH_SIZE;

fn too_large() -> PersistenceInputError {
    PersistenceInputError::BatchTooLarge { size: LIMIT + 1, max: LIMIT }
}

pub(crate) fn done_ledger_batch_size<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "limits/done-ledger-batch-size:setup";
    const OVER: &str = "limits/done-ledger-batch-size:over-limit";
    const AT: &str = "limits/done-ledger-batch-size:at-limit";
    let tenant = TenantId::from_bytes(fill32(0xC1));
    let policy = PolicyHash::from_bytes(fill32(0xC2));
    let rows = clean_rows(tenant, policy, 0, LIMIT + 1).map_err(|e| fixture_failed(SETUP, e))?;
    let ledger = new_ledger(backend, SETUP)?;

    let before = ledger_snapshot(&ledger, SETUP)?;
    let (_, error) = ledger_rejection(&ledger, &rows, OVER)?;
    expect_store_error(OVER, &error, &too_large().into())?;
    ledger_unchanged(OVER, &before, &ledger_snapshot(&ledger, OVER)?)?;

    let receipt = submit_ledger(&ledger, &rows[..LIMIT], AT)?;
    let expected = DoneLedgerCommitReceipt::new(LIMIT as u64, LIMIT as u64, 0);
    ensure_ledger(receipt == expected, AT, || format!("expected receipt {expected:?}, got {receipt:?}"))?;
    let durable = ledger_snapshot(&ledger, AT)?;
    ensure_ledger(durable.len() == LIMIT, AT, || {
        format!("{} durable rows after a {LIMIT}-record batch", durable.len())
    })?;
    let listed: HashSet<_> = list_done(&ledger, tenant, policy, AT)?.into_iter().collect();
    ensure_ledger(listed.len() == LIMIT, AT, || {
        format!("{} done hashes listed after a {LIMIT}-record batch", listed.len())
    })?;
    let count = count_done(&ledger, tenant, policy, AT)?;
    ensure_ledger(count.is_none_or(|n| n == LIMIT), AT, || {
        format!("count_done_hashes returned {count:?}, expected {LIMIT}")
    })
}

/// `n` chains of finding → occurrence → observation under one tenant.
struct Chains {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

fn chains(n: u32) -> Result<Chains, FixtureError> {
    let tenant = TenantId::from_bytes(fill32(0xD1));
    let policy = PolicyHash::from_bytes(fill32(0xD2));
    let version = ObjectVersionId::from_version_bytes(b"limits-version")?;
    let mut out = Chains { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
    for i in 0..n {
        let mut item = fill32(0xD3);
        item[..4].copy_from_slice(&i.to_le_bytes());
        let finding = FindingRecord::new(
            tenant,
            StableItemId::from_bytes(item),
            RuleFingerprint::from_bytes(fill32(0xD4)),
            SecretHash::from_persisted_bytes(fill32(0xD5)),
        );
        let occurrence = OccurrenceRecord::try_new(tenant, finding.finding_id(), version, u64::from(i), 8)?;
        let observation = ObservationRecord::new(
            tenant,
            occurrence.occurrence_id(),
            policy,
            indexed_ovid(i),
            RunId::from_raw(1),
            ShardId::from_raw(2),
            FenceEpoch::from_raw(3),
            LogicalTime::from_raw(u64::from(i)),
        );
        out.findings.push(finding);
        out.occurrences.push(occurrence);
        out.observations.push(observation);
    }
    Ok(out)
}

pub(crate) fn findings_batch_size<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "limits/findings-batch-size:setup";
    const OVER: &str = "limits/findings-batch-size:over-limit";
    const AT: &str = "limits/findings-batch-size:at-limit";
    // 3,334 findings + 3,333 occurrences + 3,333 observations = 10,000;
    // one more finding makes 10,001, so no single layer reaches the limit.
    let full = (LIMIT / 3) as u32;
    let c = chains(full + 2).map_err(|e| fixture_failed(SETUP, e))?;
    let n = full as usize;
    let at_limit = FindingsUpsertBatch::new(&c.findings[..=n], &c.occurrences[..n], &c.observations[..n]);
    let over_limit = FindingsUpsertBatch::new(&c.findings[..n + 2], &c.occurrences[..n], &c.observations[..n]);
    let sink = new_sink(backend, SETUP)?;

    let before = findings_state(&sink, SETUP)?;
    let (_, error) = sink_rejection(&sink, over_limit, OVER)?;
    expect_store_error(OVER, &error, &too_large().into())?;
    findings_unchanged(OVER, &before, &findings_state(&sink, OVER)?)?;

    let receipt = submit_sink(&sink, at_limit, AT)?;
    let expected = FindingsCommitReceipt::new(n as u64 + 1, n as u64, n as u64);
    ensure_findings(receipt == expected, AT, || format!("expected receipt {expected:?}, got {receipt:?}"))?;
    let counts = probe(&sink, AT)?;
    let want = DurableFindingsCounts::new(n as u64 + 1, n as u64, n as u64);
    ensure_findings(counts == want, AT, || format!("durable counts {counts:?}, expected {want:?}"))
}

/// `batch_get` takes at most [`MAX_PAGE_SIZE`] keys: one more is refused
/// with `BatchTooLarge` before anything is read (and changes nothing);
/// exactly that many are answered position by position, in a scrambled key
/// order with every seventh key durable.
pub(crate) fn done_ledger_batch_get_size<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "limits/done-ledger-batch-get-size:setup";
    const OVER: &str = "limits/done-ledger-batch-get-size:over-limit";
    const AT: &str = "limits/done-ledger-batch-get-size:at-limit";
    let tenant = TenantId::from_bytes(fill32(0xC5));
    let policy = PolicyHash::from_bytes(fill32(0xC6));
    let durable_index = |i: u32| i % 7 == 3;
    let rows = (0..MAX_PAGE_SIZE as u32)
        .filter(|&i| durable_index(i))
        .map(|i| clean_rows(tenant, policy, i, 1).map(|mut one| one.remove(0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fixture_failed(SETUP, e))?;
    let ledger = new_ledger(backend, SETUP)?;
    submit_ledger(&ledger, &rows, SETUP)?;
    let before = ledger_snapshot(&ledger, SETUP)?;
    ensure_ledger(before.len() == rows.len(), SETUP, || {
        format!("{} durable rows after writing {}", before.len(), rows.len())
    })?;

    let over: Vec<OvidHash> = (0..=MAX_PAGE_SIZE as u32).map(indexed_ovid).collect();
    let error = read_refused(ledger.batch_get(tenant, policy, &over), OVER, ledger_invariant)?;
    let expected = PersistenceInputError::BatchTooLarge { size: MAX_PAGE_SIZE + 1, max: MAX_PAGE_SIZE };
    expect_store_error(OVER, &error, &expected.into())?;
    ledger_unchanged(OVER, &before, &ledger_snapshot(&ledger, OVER)?)?;

    // 7,919 is prime, so i -> 7,919 i mod 10,000 visits every index once.
    let indices: Vec<u32> = (0..MAX_PAGE_SIZE as u64).map(|i| (i * 7_919 % MAX_PAGE_SIZE as u64) as u32).collect();
    let keys: Vec<OvidHash> = indices.iter().map(|&i| indexed_ovid(i)).collect();
    let answer = batch_get(&ledger, tenant, policy, &keys, AT)?;
    let by_ovid: HashMap<OvidHash, &DoneLedgerRecord> = rows.iter().map(|r| (r.key().ovid_hash(), r)).collect();
    let wrong: Vec<usize> = (0..keys.len()).filter(|&p| answer[p].as_ref() != by_ovid.get(&keys[p]).copied()).collect();
    ensure_ledger(wrong.is_empty(), AT, || {
        let p = wrong[0];
        format!(
            "{} of {MAX_PAGE_SIZE} positions are wrong; position {p} (key index {}) answered {:?}, expected {:?}",
            wrong.len(),
            indices[p],
            answer[p],
            by_ovid.get(&keys[p])
        )
    })?;
    ledger_unchanged(AT, &before, &ledger_snapshot(&ledger, AT)?)
}
