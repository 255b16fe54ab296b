//! Fixture builders shared by the integration tests, mirroring the helpers
//! of the reference's unit tests (`done_record`, `provenance`, `finding_record`, ...).
#![allow(dead_code)]

use std::num::NonZeroU64;
use std::sync::Arc;

use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, NormHash, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, ShardId,
    StableItemId, TenantId, TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink, Location,
};

pub fn tenant(seed: u8) -> TenantId {
    TenantId::from_bytes([seed; 32])
}

pub fn policy(seed: u8) -> PolicyHash {
    PolicyHash::from_bytes([seed; 32])
}

pub fn ovid(seed: u8) -> OvidHash {
    OvidHash::from_bytes([seed; 32])
}

pub fn key(tenant_seed: u8, policy_seed: u8, ovid_seed: u8) -> DoneLedgerKey {
    DoneLedgerKey::new(tenant(tenant_seed), policy(policy_seed), ovid(ovid_seed))
}

pub fn provenance(run: u64, shard: u64, epoch: u64, started: u64, finished: u64) -> DoneLedgerProvenance {
    DoneLedgerProvenance::new(
        RunId::from_raw(run),
        ShardId::from_raw(shard),
        FenceEpoch::from_raw(epoch),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    )
}

pub fn code(text: &str) -> DoneLedgerErrorCode {
    DoneLedgerErrorCode::try_new(text).expect("fixture error code is valid")
}

/// A record built through `try_new` (findings shape checked, error code not).
#[allow(clippy::too_many_arguments)]
pub fn done_record(
    tenant_seed: u8,
    policy_seed: u8,
    ovid_seed: u8,
    status: DoneLedgerStatus,
    bytes_scanned: u64,
    findings_count: u32,
    provenance: DoneLedgerProvenance,
    error_code: Option<&str>,
) -> DoneLedgerRecord {
    DoneLedgerRecord::try_new(
        key(tenant_seed, policy_seed, ovid_seed),
        status,
        bytes_scanned,
        findings_count,
        provenance,
        error_code.map(code),
    )
    .expect("fixture record has a consistent findings count")
}

/// A valid ScannedClean row for key (t, p, o), for tests that only need rows.
pub fn clean_row(tenant_seed: u8, policy_seed: u8, ovid_seed: u8, bytes: u64) -> DoneLedgerRecord {
    done_record(
        tenant_seed,
        policy_seed,
        ovid_seed,
        DoneLedgerStatus::ScannedClean,
        bytes,
        0,
        provenance(1, 1, 1, 10, 20),
        None,
    )
}

pub fn finding_record(tenant_seed: u8, seed: u8) -> FindingRecord {
    let secret = key_secret_hash(
        &TenantSecretKey::from_bytes([tenant_seed; 32]),
        &NormHash::from_digest([seed.wrapping_add(2); 32]),
    );
    FindingRecord::new(
        tenant(tenant_seed),
        StableItemId::from_bytes([seed; 32]),
        RuleFingerprint::from_bytes([seed.wrapping_add(1); 32]),
        secret,
    )
}

pub fn occurrence_record(
    tenant_seed: u8,
    finding: &FindingRecord,
    version_seed: u8,
    byte_offset: u64,
) -> OccurrenceRecord {
    OccurrenceRecord::new(
        tenant(tenant_seed),
        finding.finding_id(),
        ObjectVersionId::from_bytes([version_seed; 32]),
        byte_offset,
        NonZeroU64::new(u64::from(version_seed) + 1).expect("non-zero"),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn observation_record(
    tenant_seed: u8,
    occurrence: &OccurrenceRecord,
    policy_seed: u8,
    ovid_seed: u8,
    run: u64,
    shard: u64,
    epoch: u64,
    seen_at: u64,
) -> ObservationRecord {
    ObservationRecord::new(
        tenant(tenant_seed),
        occurrence.occurrence_id(),
        policy(policy_seed),
        ovid(ovid_seed),
        RunId::from_raw(run),
        ShardId::from_raw(shard),
        FenceEpoch::from_raw(epoch),
        LogicalTime::from_raw(seen_at),
    )
}

pub fn location(display: &str) -> Arc<Location> {
    Arc::new(Location::try_new(display, None::<String>).expect("fixture location is valid"))
}

/// A complete finding → occurrence → observation chain for one tenant.
pub struct Chain {
    pub finding: FindingRecord,
    pub occurrence: OccurrenceRecord,
    pub observation: ObservationRecord,
}

pub fn chain(tenant_seed: u8, seed: u8) -> Chain {
    let finding = finding_record(tenant_seed, seed);
    let occurrence = occurrence_record(tenant_seed, &finding, seed.wrapping_add(3), u64::from(seed) * 10);
    let observation = observation_record(tenant_seed, &occurrence, 30, seed, 50, 60, 70, 80);
    Chain { finding, occurrence, observation }
}

impl Chain {
    pub fn batch(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(
            core::slice::from_ref(&self.finding),
            core::slice::from_ref(&self.occurrence),
            core::slice::from_ref(&self.observation),
        )
    }
}

/// Submits and waits, panicking on any error (for setup steps).
pub fn upsert_done(ledger: &InMemoryDoneLedger, records: &[DoneLedgerRecord]) {
    ledger.batch_upsert(records).expect("submit accepted").wait().expect("write durable");
}

pub fn upsert_findings(sink: &InMemoryFindingsSink, batch: FindingsUpsertBatch<'_>) {
    sink.upsert_batch(batch).expect("submit accepted").wait().expect("write durable");
}

/// Every durable row of all three findings layers plus the probe counts.
#[derive(Debug, PartialEq, Eq)]
pub struct SinkState {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
    pub counts: gossip_persistence::findings::DurableFindingsCounts,
}

pub fn sink_state(sink: &InMemoryFindingsSink) -> SinkState {
    SinkState {
        findings: sink.findings_snapshot().expect("snapshot"),
        occurrences: sink.occurrences_snapshot().expect("snapshot"),
        observations: sink.observations_snapshot().expect("snapshot"),
        counts: sink.durable_counts().expect("probe"),
    }
}

pub fn ledger_state(ledger: &InMemoryDoneLedger) -> Vec<DoneLedgerRecord> {
    ledger.snapshot().expect("snapshot")
}

/// A ledger holding a few rows of every status, so a rejected batch that
/// touched anything would show up in the snapshot.
pub fn populated_ledger() -> InMemoryDoneLedger {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(
        &ledger,
        &[
            done_record(1, 2, 3, DoneLedgerStatus::FailedRetryable, 10, 1, provenance(1, 2, 3, 4, 5), Some("TIMEOUT")),
            done_record(1, 2, 4, DoneLedgerStatus::ScannedWithFindings, 20, 2, provenance(1, 2, 3, 4, 6), None),
            done_record(1, 2, 5, DoneLedgerStatus::Skipped, 30, 0, provenance(1, 2, 3, 4, 7), Some("SIZE_CAP")),
            clean_row(1, 2, 6, 40),
        ],
    );
    ledger
}

/// A sink holding two complete chains.
pub fn populated_sink() -> InMemoryFindingsSink {
    let sink = InMemoryFindingsSink::new();
    upsert_findings(&sink, chain(1, 10).batch());
    upsert_findings(&sink, chain(1, 20).batch());
    sink
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
