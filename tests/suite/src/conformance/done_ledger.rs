//! The five reference done-ledger checks (docs/contract.md §13.2), in order.

use std::collections::HashSet;

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::identity::{
    ObjectVersionId, OvidHash, OvidHashInputs, PolicyHash, StableItemId, TenantId, VersionId, derive_ovid_hash,
};

use super::error::CheckFailure;
use super::fixture::{FixtureError, SampleFixture, done_record, fill32, provenance, strong_ovid};
use super::harness::{
    batch_get, ensure_ledger, fixture, fixture_failed, get_single, list_done, new_ledger, submit_ledger,
};
use crate::backend::{Backend, SuiteLedger};

pub(crate) fn idempotent<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x11, "done-ledger/idempotent:fixture")?;
    let ledger = new_ledger(backend, "done-ledger/idempotent:store")?;
    let rows = core::slice::from_ref(&fx.scanned_record);
    let receipt = submit_ledger(&ledger, rows, "done-ledger/idempotent:first-upsert")?;
    let expected = DoneLedgerCommitReceipt::new(1, 1, 1);
    ensure_ledger(receipt == expected, "done-ledger/idempotent:receipt", || {
        format!("unexpected receipt counts: expected {expected:?}, got {receipt:?}")
    })?;
    submit_ledger(&ledger, rows, "done-ledger/idempotent:replay")?;
    let row = get_single(&ledger, &fx.key, "done-ledger/idempotent:fetch")?;
    ensure_ledger(row == fx.scanned_record, "done-ledger/idempotent:fetch", || {
        format!("row after replay differs from the record written: expected {:?}, got {row:?}", fx.scanned_record)
    })
}

pub(crate) fn fail_then_scan<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x22, "done-ledger/fail-then-scan:fixture")?;
    let ledger = new_ledger(backend, "done-ledger/fail-then-scan:store")?;
    submit_ledger(&ledger, core::slice::from_ref(&fx.failed_record), "done-ledger/fail-then-scan:upsert-failed")?;
    submit_ledger(&ledger, core::slice::from_ref(&fx.scanned_record), "done-ledger/fail-then-scan:upsert-scanned")?;
    let row = get_single(&ledger, &fx.key, "done-ledger/fail-then-scan:fetch")?;
    assert_scanned_dominates(&fx, &row, "done-ledger/fail-then-scan:dominates")
}

pub(crate) fn scan_then_fail<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x33, "done-ledger/scan-then-fail:fixture")?;
    let ledger = new_ledger(backend, "done-ledger/scan-then-fail:store")?;
    submit_ledger(&ledger, core::slice::from_ref(&fx.scanned_record), "done-ledger/scan-then-fail:upsert-scanned")?;
    submit_ledger(&ledger, core::slice::from_ref(&fx.failed_record), "done-ledger/scan-then-fail:upsert-failed")?;
    let row = get_single(&ledger, &fx.key, "done-ledger/scan-then-fail:fetch")?;
    assert_scanned_dominates(&fx, &row, "done-ledger/scan-then-fail:dominates")
}

/// The merged row must be the scanned one with the per-field maxima:
/// provenance and error code are deliberately not checked here.
fn assert_scanned_dominates(
    fx: &SampleFixture,
    row: &DoneLedgerRecord,
    case: &'static str,
) -> Result<(), CheckFailure> {
    let inputs = [&fx.failed_record, &fx.scanned_record];
    ensure_ledger(row.key() == &fx.key, case, || format!("row has key {:?}, expected {:?}", row.key(), fx.key))?;
    ensure_ledger(row.status().is_scanned(), case, || format!("status {:?} is not scanned", row.status()))?;
    let max_bytes = inputs.iter().map(|r| r.bytes_scanned()).max().unwrap_or(0);
    ensure_ledger(row.bytes_scanned() >= max_bytes, case, || {
        format!("bytes_scanned {} is below the inputs' maximum {max_bytes}", row.bytes_scanned())
    })?;
    let min_findings = match row.status() {
        DoneLedgerStatus::ScannedClean => 0,
        DoneLedgerStatus::ScannedWithFindings => inputs
            .iter()
            .filter(|r| r.status() == DoneLedgerStatus::ScannedWithFindings)
            .map(|r| r.findings_count())
            .max()
            .unwrap_or(0)
            .max(1),
        _ => inputs.iter().map(|r| r.findings_count()).max().unwrap_or(0),
    };
    ensure_ledger(row.findings_count() >= min_findings, case, || {
        format!("findings_count {} is below the status-aware minimum {min_findings}", row.findings_count())
    })?;
    ensure_ledger(row.status().rank() >= fx.scanned_record.status().rank(), case, || {
        format!("status {:?} ranks below the scanned record's {:?}", row.status(), fx.scanned_record.status())
    })
}

pub(crate) fn batch_get_positional<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const CASE: &str = "done-ledger/batch-get-positional:fetch";
    let fx = fixture(0xAA, "done-ledger/batch-get-positional:fixture")?;
    let absent = ObjectVersionId::from_version_bytes(b"conformance-absent-version")
        .map(|v| {
            derive_ovid_hash(&OvidHashInputs {
                stable_item_id: StableItemId::from_bytes(fill32(0xAAu8.wrapping_add(20))),
                version: VersionId::Strong(v),
            })
        })
        .map_err(|e| fixture_failed("done-ledger/batch-get-positional:fixture", e.into()))?;
    let ledger = new_ledger(backend, "done-ledger/batch-get-positional:store")?;
    submit_ledger(&ledger, core::slice::from_ref(&fx.scanned_record), "done-ledger/batch-get-positional:upsert")?;
    let rows = batch_get(&ledger, fx.tenant_id, fx.policy_hash, &[fx.ovid_hash, absent], CASE)?;
    ensure_ledger(rows.len() == 2, CASE, || format!("expected exactly 2 rows, got {}", rows.len()))?;
    ensure_ledger(rows[0].is_some(), CASE, || "row 0 (present key) is None".to_owned())?;
    ensure_ledger(rows[1].is_none(), CASE, || format!("row 1 (absent key) is {:?}", rows[1]))
}

pub(crate) fn list_done_hashes<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SEED: u8 = 0xBB;
    let fx = fixture(SEED, "done-ledger/list-done-hashes:fixture")?;
    let extra = list_fixture(&fx).map_err(|e| fixture_failed("done-ledger/list-done-hashes:fixture", e))?;
    let ledger = new_ledger(backend, "done-ledger/list-done-hashes:store")?;
    let mut batch = vec![fx.scanned_record.clone()];
    batch.extend(extra.scope_rows.iter().cloned());
    submit_ledger(&ledger, &batch, "done-ledger/list-done-hashes:upsert")?;
    let expected: HashSet<OvidHash> = [fx.ovid_hash, extra.permanent, extra.skipped, extra.clean].into();
    let scope = (fx.tenant_id, fx.policy_hash);

    assert_listing(
        &ledger,
        scope,
        &expected,
        "done-ledger/list-done-hashes:terminal-count",
        "done-ledger/list-done-hashes:terminal-set",
    )?;
    submit_ledger(
        &ledger,
        core::slice::from_ref(&extra.cross_tenant),
        "done-ledger/list-done-hashes:cross-tenant-upsert",
    )?;
    assert_listing(
        &ledger,
        scope,
        &expected,
        "done-ledger/list-done-hashes:cross-tenant-count",
        "done-ledger/list-done-hashes:cross-tenant-set",
    )?;
    submit_ledger(
        &ledger,
        core::slice::from_ref(&extra.cross_policy),
        "done-ledger/list-done-hashes:cross-policy-upsert",
    )?;
    assert_listing(
        &ledger,
        scope,
        &expected,
        "done-ledger/list-done-hashes:cross-policy-count",
        "done-ledger/list-done-hashes:cross-policy-set",
    )
}

fn assert_listing<L: SuiteLedger>(
    ledger: &L,
    (tenant, policy): (TenantId, PolicyHash),
    expected: &HashSet<OvidHash>,
    count_case: &'static str,
    set_case: &'static str,
) -> Result<(), CheckFailure> {
    let listed = list_done(ledger, tenant, policy, count_case)?;
    ensure_ledger(listed.len() == expected.len(), count_case, || {
        format!("expected exactly {} terminal hashes, got {}: {listed:?}", expected.len(), listed.len())
    })?;
    let set: HashSet<OvidHash> = listed.iter().copied().collect();
    ensure_ledger(&set == expected, set_case, || format!("terminal set {set:?} differs from the expected {expected:?}"))
}

struct ListFixture {
    scope_rows: Vec<DoneLedgerRecord>,
    permanent: OvidHash,
    skipped: OvidHash,
    clean: OvidHash,
    cross_tenant: DoneLedgerRecord,
    cross_policy: DoneLedgerRecord,
}

fn list_fixture(fx: &SampleFixture) -> Result<ListFixture, FixtureError> {
    use DoneLedgerStatus::{FailedPermanent, FailedRetryable, ScannedClean, Skipped};
    let at = |k: u8| fx.seed.wrapping_add(k);
    let key = |ovid| DoneLedgerKey::new(fx.tenant_id, fx.policy_hash, ovid);
    let retryable = strong_ovid(at(20), "conformance-retryable-version")?;
    let permanent = strong_ovid(at(21), "conformance-failed-permanent-version")?;
    let skipped = strong_ovid(at(22), "conformance-skipped-version")?;
    let clean = strong_ovid(at(23), "conformance-scanned-clean-version")?;
    let scope_rows = vec![
        done_record(key(retryable), FailedRetryable, 512, 0, provenance(33, 34, 35, 36, 37), Some("TEMP_RETRYABLE"))?,
        done_record(key(permanent), FailedPermanent, 1024, 0, provenance(40, 41, 42, 43, 44), Some("PERM_FAILURE"))?,
        done_record(key(skipped), Skipped, 512, 0, provenance(50, 51, 52, 53, 54), Some("UNSUPPORTED_FORMAT"))?,
        done_record(key(clean), ScannedClean, 2048, 0, provenance(60, 61, 62, 63, 64), None)?,
    ];
    let other_tenant = TenantId::from_bytes(fill32(at(30)));
    let cross_tenant = done_record(
        DoneLedgerKey::new(other_tenant, fx.policy_hash, strong_ovid(at(31), "conformance-cross-tenant-version")?),
        ScannedClean,
        256,
        0,
        provenance(70, 71, 72, 73, 74),
        None,
    )?;
    let other_policy = PolicyHash::from_bytes(fill32(at(32)));
    let cross_policy = done_record(
        DoneLedgerKey::new(fx.tenant_id, other_policy, strong_ovid(at(33), "conformance-cross-policy-version")?),
        ScannedClean,
        256,
        0,
        provenance(80, 81, 82, 83, 84),
        None,
    )?;
    Ok(ListFixture { scope_rows, permanent, skipped, clean, cross_tenant, cross_policy })
}
