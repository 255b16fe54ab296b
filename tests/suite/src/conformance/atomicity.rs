//! A rejected batch leaves every layer unchanged, for each error class. Each
//! rejected batch also carries valid records placed *before* the bad one (an
//! upgrade of a durable row and a new row), so a backend that applies
//! records or layers one by one leaks them and is caught by the full
//! before/after snapshot comparison.

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{ObservationId, OvidHash, PolicyHash, RuleFingerprint, TenantId};
use gossip_persistence::{PersistenceInputError, StoreControl, StoreError, StoreKind};

use super::error::CheckFailure;
use super::fixture::{FixtureError, SampleFixture, done_record, fill32, provenance, strong_ovid};
use super::harness::{
    Stage, control, expect_at, expect_store_error, findings_state, findings_unchanged, fixture_failed,
    ledger_rejection, ledger_snapshot, ledger_unchanged, new_ledger, new_sink, sink_rejection, submit_ledger,
    submit_sink,
};
use crate::backend::{Backend, SuiteLedger, SuiteSink};

/// The case names of one atomicity check's steps.
struct Cases {
    setup: &'static str,
    write: &'static str,
    unchanged: &'static str,
}

/// A ledger holding a baseline, the valid part of the batch to reject, and
/// the key a bad record should use.
struct LedgerScene<L> {
    ledger: L,
    valid: Vec<DoneLedgerRecord>,
    bad_key: DoneLedgerKey,
}

fn ledger_scene<B: Backend>(backend: &B, seed: u8, case: &'static str) -> Result<LedgerScene<B::Ledger>, CheckFailure> {
    let build = || -> Result<_, FixtureError> {
        let fx = super::fixture::sample_fixture(seed)?;
        let key = |k: u8, version: &str| -> Result<DoneLedgerKey, FixtureError> {
            Ok(DoneLedgerKey::new(fx.tenant_id, fx.policy_hash, strong_ovid(seed.wrapping_add(k), version)?))
        };
        let baseline_clean = done_record(
            key(40, "atomicity-baseline")?,
            DoneLedgerStatus::ScannedClean,
            300,
            0,
            provenance(1, 2, 3, 4, 5),
            None,
        )?;
        let fresh = done_record(
            key(41, "atomicity-fresh")?,
            DoneLedgerStatus::Skipped,
            10,
            0,
            provenance(6, 7, 8, 9, 10),
            Some("UNSUPPORTED_FORMAT"),
        )?;
        let baseline = vec![fx.failed_record.clone(), baseline_clean];
        let valid = vec![fx.scanned_record.clone(), fresh];
        Ok((baseline, valid, key(42, "atomicity-bad")?))
    };
    let (baseline, valid, bad_key) = build().map_err(|e| fixture_failed(case, e))?;
    let ledger = new_ledger(backend, case)?;
    submit_ledger(&ledger, &baseline, case)?;
    Ok(LedgerScene { ledger, valid, bad_key })
}

/// Rejects `batch` and checks the error value and the unchanged snapshot.
fn ledger_rejects<L: SuiteLedger>(
    ledger: &L,
    batch: &[DoneLedgerRecord],
    cases: &Cases,
    expected: &StoreError,
    stage: Option<Stage>,
) -> Result<(), CheckFailure> {
    let before = ledger_snapshot(ledger, cases.setup)?;
    let rejection = ledger_rejection(ledger, batch, cases.write)?;
    match stage {
        Some(stage) => expect_at(cases.write, &rejection, stage, expected)?,
        None => expect_store_error(cases.write, &rejection.1, expected)?,
    }
    ledger_unchanged(cases.unchanged, &before, &ledger_snapshot(ledger, cases.unchanged)?)
}

fn with_bad(valid: &[DoneLedgerRecord], bad: DoneLedgerRecord) -> Vec<DoneLedgerRecord> {
    let mut batch = valid.to_vec();
    batch.push(bad);
    batch
}

pub(crate) fn done_ledger_invalid_record<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "atomicity/done-ledger-invalid-record:setup";
    let scene = ledger_scene(backend, 0x31, SETUP)?;
    let missing_code =
        done_record(scene.bad_key, DoneLedgerStatus::FailedPermanent, 1, 0, provenance(1, 1, 1, 1, 1), None)
            .map_err(|e| fixture_failed(SETUP, e))?;
    ledger_rejects(
        &scene.ledger,
        &with_bad(&scene.valid, missing_code),
        &Cases {
            setup: SETUP,
            write: "atomicity/done-ledger-invalid-record:missing-code",
            unchanged: "atomicity/done-ledger-invalid-record:missing-code-unchanged",
        },
        &PersistenceInputError::MissingErrorCode { status: "FailedPermanent" }.into(),
        None,
    )?;
    let unexpected_code = done_record(
        scene.bad_key,
        DoneLedgerStatus::ScannedClean,
        1,
        0,
        provenance(1, 1, 1, 1, 1),
        Some("NOT_FOR_CLEAN"),
    )
    .map_err(|e| fixture_failed(SETUP, e))?;
    ledger_rejects(
        &scene.ledger,
        &with_bad(&scene.valid, unexpected_code),
        &Cases {
            setup: SETUP,
            write: "atomicity/done-ledger-invalid-record:unexpected-code",
            unchanged: "atomicity/done-ledger-invalid-record:unexpected-code-unchanged",
        },
        &PersistenceInputError::UnexpectedErrorCode { status: "ScannedClean" }.into(),
        None,
    )?;
    // A findings count the status contradicts (docs/contract.md §3.5 rule 1)
    // cannot even be built into a row, in either direction: no backend can be
    // handed one through the record type.
    for (status, findings, name, case) in [
        (DoneLedgerStatus::ScannedClean, 3, "ScannedClean", "atomicity/done-ledger-invalid-record:clean-with-findings"),
        (
            DoneLedgerStatus::ScannedWithFindings,
            0,
            "ScannedWithFindings",
            "atomicity/done-ledger-invalid-record:findings-without-count",
        ),
    ] {
        let expected = PersistenceInputError::InconsistentFindingsCount { status: name, findings_count: findings };
        match DoneLedgerRecord::try_new(scene.bad_key, status, 1, findings, provenance(1, 1, 1, 1, 1), None) {
            Err(error) if error == expected => {}
            other => {
                return Err(CheckFailure::WrongError {
                    case,
                    expected: expected.to_string(),
                    actual: format!("{other:?}"),
                });
            }
        }
    }
    Ok(())
}

pub(crate) fn done_ledger_provenance_ordering<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "atomicity/done-ledger-provenance-ordering:setup";
    let scene = ledger_scene(backend, 0x39, SETUP)?;
    let backwards =
        done_record(scene.bad_key, DoneLedgerStatus::ScannedClean, 1, 0, provenance(1, 2, 3, 900, 100), None)
            .map_err(|e| fixture_failed(SETUP, e))?;
    ledger_rejects(
        &scene.ledger,
        &with_bad(&scene.valid, backwards),
        &Cases {
            setup: SETUP,
            write: "atomicity/done-ledger-provenance-ordering:write",
            unchanged: "atomicity/done-ledger-provenance-ordering:unchanged",
        },
        &PersistenceInputError::ProvenanceOrdering { started_at: 900, finished_at: 100 }.into(),
        None,
    )
}

pub(crate) fn done_ledger_submit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "atomicity/done-ledger-submit-failure:setup";
    let scene = ledger_scene(backend, 0x41, SETUP)?;
    control(scene.ledger.fail_next_submissions(1), SETUP)?;
    ledger_rejects(
        &scene.ledger,
        &scene.valid,
        &Cases {
            setup: SETUP,
            write: "atomicity/done-ledger-submit-failure:write",
            unchanged: "atomicity/done-ledger-submit-failure:unchanged",
        },
        &StoreError::InjectedSubmissionFailure { store: StoreKind::DoneLedger },
        Some(Stage::Submit),
    )
}

pub(crate) fn done_ledger_commit_failure<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SETUP: &str = "atomicity/done-ledger-commit-failure:setup";
    let scene = ledger_scene(backend, 0x49, SETUP)?;
    control(scene.ledger.fail_next_commits(1), SETUP)?;
    ledger_rejects(
        &scene.ledger,
        &scene.valid,
        &Cases {
            setup: SETUP,
            write: "atomicity/done-ledger-commit-failure:write",
            unchanged: "atomicity/done-ledger-commit-failure:unchanged",
        },
        &StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger },
        Some(Stage::Wait),
    )
}

/// Chains in one tenant and policy: `durable` is written first, `fresh`
/// rides in every rejected batch, `absent` is never written; `foreign`
/// repeats `fresh` under another tenant.
struct FindingsScene {
    durable: SampleFixture,
    fresh: SampleFixture,
    absent: SampleFixture,
    foreign: SampleFixture,
}

fn findings_scene(seed: u8) -> Result<FindingsScene, FixtureError> {
    let tenant = TenantId::from_bytes(fill32(seed));
    let policy = PolicyHash::from_bytes(fill32(seed.wrapping_add(1)));
    Ok(FindingsScene {
        durable: SampleFixture::in_scope(seed, tenant, policy)?,
        fresh: SampleFixture::in_scope(seed + 8, tenant, policy)?,
        absent: SampleFixture::in_scope(seed + 16, tenant, policy)?,
        foreign: SampleFixture::in_scope(seed + 8, TenantId::from_bytes(fill32(seed.wrapping_add(2))), policy)?,
    })
}

/// The records of one rejected batch and the error it must produce.
struct Rejected {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
    expected: StoreError,
}

impl Rejected {
    /// The fresh chain plus one bad record added by `add`.
    fn fresh_plus(scene: &FindingsScene, expected: StoreError, add: impl FnOnce(&mut Self)) -> Self {
        let mut batch = Self {
            findings: vec![scene.fresh.finding.clone()],
            occurrences: vec![scene.fresh.occurrence.clone()],
            observations: vec![scene.fresh.observation.clone()],
            expected,
        };
        add(&mut batch);
        batch
    }
}

fn sink_rejects_atomically<B: Backend>(
    backend: &B,
    seed: u8,
    cases: &Cases,
    build: impl FnOnce(&FindingsScene) -> Rejected,
) -> Result<(), CheckFailure> {
    let scene = findings_scene(seed).map_err(|e| fixture_failed(cases.setup, e))?;
    let sink = new_sink(backend, cases.setup)?;
    submit_sink(&sink, scene.durable.full_batch(), cases.setup)?;
    let rejected = build(&scene);
    sink_rejects(&sink, &rejected, cases)
}

fn sink_rejects<S: SuiteSink>(sink: &S, rejected: &Rejected, cases: &Cases) -> Result<(), CheckFailure> {
    let before = findings_state(sink, cases.setup)?;
    let batch = FindingsUpsertBatch::new(&rejected.findings, &rejected.occurrences, &rejected.observations);
    let (_, error) = sink_rejection(sink, batch, cases.write)?;
    expect_store_error(cases.write, &error, &rejected.expected)?;
    findings_unchanged(cases.unchanged, &before, &findings_state(sink, cases.unchanged)?)
}

macro_rules! cases {
    ($check:literal) => {
        Cases {
            setup: concat!("atomicity/", $check, ":setup"),
            write: concat!("atomicity/", $check, ":write"),
            unchanged: concat!("atomicity/", $check, ":unchanged"),
        }
    };
}

pub(crate) fn findings_missing_finding<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0x50, &cases!("findings-missing-finding"), |s| {
        let orphan = &s.absent.occurrence;
        let expected = StoreError::MissingFinding {
            tenant_id: orphan.tenant_id(),
            finding_id: orphan.finding_id(),
            occurrence_id: orphan.occurrence_id(),
        };
        Rejected::fresh_plus(s, expected, |b| b.occurrences.push(orphan.clone()))
    })
}

pub(crate) fn findings_missing_occurrence<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0x60, &cases!("findings-missing-occurrence"), |s| {
        let orphan = &s.absent.observation;
        let expected = StoreError::MissingOccurrence {
            tenant_id: orphan.tenant_id(),
            occurrence_id: orphan.occurrence_id(),
            observation_id: orphan.observation_id(),
        };
        Rejected::fresh_plus(s, expected, |b| b.observations.push(orphan.clone()))
    })
}

pub(crate) fn findings_finding_conflict<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0x70, &cases!("findings-finding-conflict"), |s| {
        let d = &s.durable;
        // Ids are content-derived, so only a forged id can collide with different content.
        let forged = FindingRecord::from_persisted_unchecked(
            d.tenant_id,
            d.finding.finding_id(),
            d.stable_item_id,
            RuleFingerprint::from_bytes(fill32(0xEE)),
            d.secret_hash,
        );
        let expected = StoreError::FindingConflict { tenant_id: d.tenant_id, finding_id: d.finding.finding_id() };
        Rejected::fresh_plus(s, expected, |b| b.findings.push(forged))
    })
}

pub(crate) fn findings_occurrence_conflict<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0x80, &cases!("findings-occurrence-conflict"), |s| {
        let o = &s.durable.occurrence;
        let forged = OccurrenceRecord::from_persisted_unchecked(
            o.tenant_id(),
            o.occurrence_id(),
            o.finding_id(),
            o.object_version_id(),
            o.byte_offset() + 1,
            o.byte_length(),
        );
        let expected = StoreError::OccurrenceConflict { tenant_id: o.tenant_id(), occurrence_id: o.occurrence_id() };
        Rejected::fresh_plus(s, expected, |b| b.occurrences.push(forged))
    })
}

pub(crate) fn findings_observation_conflict<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0x90, &cases!("findings-observation-conflict"), |s| {
        let o = &s.durable.observation;
        // Same derived id (tenant, policy, occurrence) but another ovid: an identity change.
        let moved = ObservationRecord::new(
            o.tenant_id(),
            o.occurrence_id(),
            o.policy_hash(),
            OvidHash::from_bytes(fill32(0xEE)),
            o.run_id(),
            o.shard_id(),
            o.fence_epoch(),
            o.seen_at(),
        );
        let expected = StoreError::ObservationConflict { tenant_id: o.tenant_id(), observation_id: o.observation_id() };
        Rejected::fresh_plus(s, expected, |b| b.observations.push(moved))
    })
}

pub(crate) fn findings_inconsistent_tenant<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0xA0, &cases!("findings-inconsistent-tenant"), |s| {
        let expected = PersistenceInputError::InconsistentTenant.into();
        Rejected::fresh_plus(s, expected, |b| b.findings.push(s.foreign.finding.clone()))
    })
}

pub(crate) fn findings_observation_id_mismatch<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    sink_rejects_atomically(backend, 0xB0, &cases!("findings-observation-id-mismatch"), |s| {
        let o = &s.durable.observation;
        let wrong_id = ObservationId::from_bytes(fill32(0xEE));
        let forged = ObservationRecord::from_persisted_unchecked(
            o.tenant_id(),
            wrong_id,
            o.occurrence_id(),
            o.policy_hash(),
            o.ovid_hash(),
            o.run_id(),
            o.shard_id(),
            o.fence_epoch(),
            o.seen_at(),
            o.location_arc(),
        );
        let expected =
            PersistenceInputError::ObservationIdMismatch { expected: o.observation_id(), actual: wrong_id }.into();
        Rejected::fresh_plus(s, expected, |b| b.observations.push(forged))
    })
}
