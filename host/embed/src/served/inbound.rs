//! A guest's arguments → native values. The guest is untrusted: whatever it
//! sends that the native types cannot hold is refused with the `store-error`
//! a component store would answer (`batch-validation`, or `boundary` for
//! what the native types cannot even represent), never a host panic.
//!
//! Findings rows reuse the crate's decoder, whose only refusals are a zero
//! span and a bad location, so those two are rediagnosed here with their
//! typed errors. A done row can fail in several ways and the decoder keeps
//! only their text, so it is built here with the native constructors.
// The refusals are the WIT's own `store-error` (it holds digests), built
// once, on the failure path only.
#![allow(clippy::result_large_err)]

use gossip_persistence::done_ledger::{DoneLedgerErrorCode, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::{Location, PersistenceInputError, StoreKind};

use super::bindings::types as wit;
use super::encode::{field_error, input_error};
use crate::convert::digest;
use crate::decode::Decoder;

fn invalid(error: &PersistenceInputError) -> wit::StoreError {
    wit::StoreError::BatchValidation(input_error(error))
}

pub(crate) fn scope(tenant_id: wit::Digest, policy_hash: wit::Digest) -> (TenantId, PolicyHash) {
    (TenantId::from_bytes(digest(tenant_id)), PolicyHash::from_bytes(digest(policy_hash)))
}

pub(crate) fn ovids(hashes: &[wit::Digest]) -> Vec<OvidHash> {
    hashes.iter().map(|h| Decoder::ovid(*h)).collect()
}

/// One done row as the guest sent it, or the error a store answers for it.
pub(crate) fn done_record(record: wit::DoneRecord) -> Result<DoneLedgerRecord, wit::StoreError> {
    let status = DoneLedgerStatus::from_rank(record.status)
        .ok_or(wit::StoreError::Boundary(wit::BoundaryError::UnknownStatusRank(record.status)))?;
    let error_code = record.error_code.map(DoneLedgerErrorCode::try_new).transpose().map_err(|e| invalid(&e))?;
    let p = record.provenance;
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(p.run_id),
        ShardId::from_raw(p.shard_id),
        FenceEpoch::from_raw(p.fence_epoch),
        LogicalTime::from_raw(p.started_at),
        LogicalTime::from_raw(p.finished_at),
    );
    DoneLedgerRecord::try_new(
        Decoder::key(&record.key),
        status,
        record.bytes_scanned,
        record.findings_count,
        provenance,
        error_code,
    )
    .map_err(|e| invalid(&e))
}

/// The three layers of a findings batch as native rows.
pub(crate) type FindingsRows = (Vec<FindingRecord>, Vec<OccurrenceRecord>, Vec<ObservationRecord>);

pub(crate) fn findings_batch(
    findings: &[wit::Finding],
    occurrences: &[wit::Occurrence],
    observations: &[wit::Observation],
) -> Result<FindingsRows, wit::StoreError> {
    let decoder = Decoder::new(StoreKind::Findings, "upsert-batch");
    let findings = findings.iter().map(Decoder::finding).collect();
    let occurrences = occurrences
        .iter()
        .map(|o| decoder.occurrence(o).map_err(|_| invalid(&PersistenceInputError::ZeroSpanLength)))
        .collect::<Result<_, _>>()?;
    let observations = observations
        .iter()
        .map(|o| decoder.observation(o).map_err(|_| location_error(o.location.as_ref())))
        .collect::<Result<_, _>>()?;
    Ok((findings, occurrences, observations))
}

/// Why an observation's location was refused (the decoder's one refusal).
fn location_error(location: Option<&wit::Location>) -> wit::StoreError {
    let refusal = location.and_then(|l| Location::try_new(l.display.as_str(), l.url.as_deref()).err());
    match refusal {
        Some(error) => wit::StoreError::Boundary(wit::BoundaryError::InvalidLocation(field_error(&error))),
        // Unreachable while the decoder refuses only bad locations; if that
        // changes, still a refusal of the batch, never a wrong row.
        None => wit::StoreError::Boundary(wit::BoundaryError::InvalidLocation(wit::FieldError::Empty(
            "ObservationRecord.location".to_owned(),
        ))),
    }
}
