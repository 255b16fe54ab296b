//! Strict tenant and policy isolation of every read: list/count of done
//! hashes, positional batch_get, findings lookups, and referential integrity
//! (a parent durable under another tenant does not count).

use std::collections::HashSet;

use gossip_persistence::StoreError;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{LogicalTime, OvidHash, PolicyHash, TenantId};

use super::error::CheckFailure;
use super::fixture::{FixtureError, SampleFixture, done_record, fill32, provenance};
use super::harness::{
    batch_get, count_done, ensure_findings, ensure_ledger, expect_store_error, findings_state, findings_unchanged,
    fixture_failed, get_finding, get_observation, get_occurrence, list_done, new_ledger, new_sink, sink_rejection,
    submit_ledger, submit_sink,
};
use crate::backend::{Backend, SuiteLedger};

const T1: TenantId = TenantId::from_bytes(fill32(0x61));
const T2: TenantId = TenantId::from_bytes(fill32(0x62));
const T3: TenantId = TenantId::from_bytes(fill32(0x63));
const P1: PolicyHash = PolicyHash::from_bytes(fill32(0x71));
const P2: PolicyHash = PolicyHash::from_bytes(fill32(0x72));
const X: OvidHash = OvidHash::from_bytes(fill32(0x81));
const Y: OvidHash = OvidHash::from_bytes(fill32(0x82));
const Z: OvidHash = OvidHash::from_bytes(fill32(0x83));

/// The same ovids under several scopes with different statuses, so a
/// backend that filters on the ovid or status alone lists the wrong set.
struct Scopes {
    t1p1: [DoneLedgerRecord; 3],
    t2p1: [DoneLedgerRecord; 2],
    t1p2: [DoneLedgerRecord; 2],
}

fn scopes() -> Result<Scopes, FixtureError> {
    use DoneLedgerStatus::{FailedPermanent, FailedRetryable, ScannedClean, ScannedWithFindings, Skipped};
    let row = |t, p, o, status, findings, code| {
        done_record(DoneLedgerKey::new(t, p, o), status, 64, findings, provenance(1, 2, 3, 4, 5), code)
    };
    Ok(Scopes {
        t1p1: [
            row(T1, P1, X, ScannedClean, 0, None)?,
            row(T1, P1, Y, FailedRetryable, 0, Some("TIMEOUT"))?,
            row(T1, P1, Z, Skipped, 0, Some("UNSUPPORTED_FORMAT"))?,
        ],
        t2p1: [row(T2, P1, X, FailedRetryable, 0, Some("TIMEOUT"))?, row(T2, P1, Y, ScannedWithFindings, 3, None)?],
        t1p2: [
            row(T1, P2, Y, FailedPermanent, 0, Some("PERM_FAILURE"))?,
            row(T1, P2, X, FailedRetryable, 0, Some("TIMEOUT"))?,
        ],
    })
}

fn written_scopes<B: Backend>(backend: &B, case: &'static str) -> Result<(B::Ledger, Scopes), CheckFailure> {
    let scopes = scopes().map_err(|e| fixture_failed(case, e))?;
    let ledger = new_ledger(backend, case)?;
    // One batch per scope: mixing scopes in a batch is allowed but not what is tested here.
    submit_ledger(&ledger, &scopes.t1p1, case)?;
    submit_ledger(&ledger, &scopes.t2p1, case)?;
    submit_ledger(&ledger, &scopes.t1p2, case)?;
    Ok((ledger, scopes))
}

pub(crate) fn list_and_count_by_scope<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const CASE: &str = "isolation/list-and-count-by-scope:list";
    let (ledger, _) = written_scopes(backend, "isolation/list-and-count-by-scope:setup")?;
    let expectations: [(TenantId, PolicyHash, &str, &[OvidHash]); 5] = [
        (T1, P1, "(t1, p1)", &[X, Z]),
        (T2, P1, "(t2, p1)", &[Y]),
        (T1, P2, "(t1, p2)", &[Y]),
        (T2, P2, "(t2, p2)", &[]),
        (T3, P1, "(t3, p1)", &[]),
    ];
    for (tenant, policy, label, want) in expectations {
        assert_scope(&ledger, tenant, policy, label, want, CASE)?;
    }
    Ok(())
}

fn assert_scope<L: SuiteLedger>(
    ledger: &L,
    tenant: TenantId,
    policy: PolicyHash,
    label: &str,
    want: &[OvidHash],
    case: &'static str,
) -> Result<(), CheckFailure> {
    let listed = list_done(ledger, tenant, policy, case)?;
    let set: HashSet<OvidHash> = listed.iter().copied().collect();
    let want: HashSet<OvidHash> = want.iter().copied().collect();
    ensure_ledger(set.len() == listed.len(), case, || format!("scope {label} lists duplicates: {listed:?}"))?;
    ensure_ledger(set == want, case, || format!("scope {label} lists {set:?}, expected {want:?}"))?;
    let count = count_done(ledger, tenant, policy, "isolation/list-and-count-by-scope:count")?;
    ensure_ledger(count.is_none_or(|n| n == listed.len()), "isolation/list-and-count-by-scope:count", || {
        format!("scope {label}: count_done_hashes is {count:?} but the list has {} hashes", listed.len())
    })
}

pub(crate) fn batch_get_by_scope<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let (ledger, s) = written_scopes(backend, "isolation/batch-get-by-scope:setup")?;
    let [t1p1x, t1p1y, t1p1z] = &s.t1p1;
    let [t2p1x, t2p1y] = &s.t2p1;
    let [t1p2y, t1p2x] = &s.t1p2;
    expect_rows(&ledger, (T1, P1, "(t1, p1)"), &[X, Y, Z, X], &[Some(t1p1x), Some(t1p1y), Some(t1p1z), Some(t1p1x)])?;
    expect_rows(&ledger, (T2, P1, "(t2, p1)"), &[X, Y, Z], &[Some(t2p1x), Some(t2p1y), None])?;
    expect_rows(&ledger, (T1, P2, "(t1, p2)"), &[X, Y, Z], &[Some(t1p2x), Some(t1p2y), None])?;
    expect_rows(&ledger, (T2, P2, "(t2, p2)"), &[X, Y], &[None, None])
}

fn expect_rows<L: SuiteLedger>(
    ledger: &L,
    (tenant, policy, label): (TenantId, PolicyHash, &str),
    ovids: &[OvidHash],
    want: &[Option<&DoneLedgerRecord>],
) -> Result<(), CheckFailure> {
    const CASE: &str = "isolation/batch-get-by-scope:fetch";
    let rows = batch_get(ledger, tenant, policy, ovids, CASE)?;
    let got: Vec<Option<&DoneLedgerRecord>> = rows.iter().map(Option::as_ref).collect();
    ensure_ledger(got == want, CASE, || format!("scope {label}: batch_get returned {got:?}, expected {want:?}"))
}

pub(crate) fn findings_by_tenant<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "isolation/findings-by-tenant:setup";
    const LOOKUP: &str = "isolation/findings-by-tenant:lookup";
    const PARENT: &str = "isolation/findings-by-tenant:cross-tenant-parent";
    // One seed in two tenants: the same item, rule and secret, so only the tenant differs.
    let build = || -> Result<_, FixtureError> {
        Ok((SampleFixture::in_scope(0x20, T1, P1)?, SampleFixture::in_scope(0x20, T2, P1)?))
    };
    let (a, b) = build().map_err(|e| fixture_failed(SETUP, e))?;
    let sink = new_sink(backend, SETUP)?;
    submit_sink(&sink, a.full_batch(), SETUP)?;
    submit_sink(&sink, b.full_batch(), SETUP)?;

    let state = findings_state(&sink, LOOKUP)?;
    let sizes = (state.findings.len(), state.occurrences.len(), state.observations.len());
    ensure_findings(sizes == (2, 2, 2), LOOKUP, || format!("snapshots hold {sizes:?} rows, expected two per layer"))?;
    ensure_findings(get_finding(&sink, T1, &a.finding, LOOKUP)?.as_ref() == Some(&a.finding), LOOKUP, || {
        "tenant 1 cannot read its own finding".to_owned()
    })?;
    ensure_findings(get_finding(&sink, T2, &a.finding, LOOKUP)?.is_none(), LOOKUP, || {
        "tenant 2 reads tenant 1's finding".to_owned()
    })?;
    ensure_findings(get_occurrence(&sink, T1, &b.occurrence, LOOKUP)?.is_none(), LOOKUP, || {
        "tenant 1 reads tenant 2's occurrence".to_owned()
    })?;
    ensure_findings(get_observation(&sink, T2, &a.observation, LOOKUP)?.is_none(), LOOKUP, || {
        "tenant 2 reads tenant 1's observation".to_owned()
    })?;
    ensure_findings(
        get_observation(&sink, T2, &b.observation, LOOKUP)?.as_ref() == Some(&b.observation),
        LOOKUP,
        || "tenant 2 cannot read its own observation".to_owned(),
    )?;

    // A child in tenant 3 naming parents that are durable only in tenant 1.
    let orphan_occurrence = OccurrenceRecord::try_new(T3, a.finding.finding_id(), a.object_version_id, 7, 9)
        .map_err(|e| fixture_failed(SETUP, e.into()))?;
    let expected = StoreError::MissingFinding {
        tenant_id: T3,
        finding_id: a.finding.finding_id(),
        occurrence_id: orphan_occurrence.occurrence_id(),
    };
    let before = findings_state(&sink, PARENT)?;
    let batch = FindingsUpsertBatch::new(&[], core::slice::from_ref(&orphan_occurrence), &[]);
    expect_store_error(PARENT, &sink_rejection(&sink, batch, PARENT)?.1, &expected)?;
    let orphan_observation = ObservationRecord::new(
        T3,
        a.occurrence.occurrence_id(),
        P1,
        a.ovid_hash,
        a.observation.run_id(),
        a.observation.shard_id(),
        a.observation.fence_epoch(),
        LogicalTime::from_raw(1),
    );
    let expected = StoreError::MissingOccurrence {
        tenant_id: T3,
        occurrence_id: a.occurrence.occurrence_id(),
        observation_id: orphan_observation.observation_id(),
    };
    let batch = FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&orphan_observation));
    expect_store_error(PARENT, &sink_rejection(&sink, batch, PARENT)?.1, &expected)?;
    findings_unchanged(PARENT, &before, &findings_state(&sink, PARENT)?)
}
