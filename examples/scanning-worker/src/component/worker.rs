//! The exported `worker` resource: one scan = a batched ledger lookup of all
//! objects (`max-batch` keys per call), then per object to scan one findings
//! write and one done write, each polled to its receipt before the next
//! step. Listings read the stores page by page.
// The helpers return the export's own WIT error (it holds a whole store
// error, digests included); it is built once, on the failure path only.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;

use gossip_persistence::MAX_PAGE_SIZE;
use gossip_persistence::done_ledger::DoneLedgerStatus;
use gossip_persistence::wit::types::{DoneRecord, DurableCounts, StoreError};
use gossip_persistence::wit::{digest_out, done_record_out, finding_out, observation_out, occurrence_out};

use super::convert::{self, index};
use super::exports::gossip::scanning_worker::scanner::{
    ContractViolation, FindingsRows, GuestWorker, ObjectScan, ScanContext, ScanReport, ScanStage, ScannedObject,
    StoreFailure, WorkerError,
};
use super::gossip::persistence::done_ledger::DoneLedger;
use super::gossip::persistence::findings::FindingsSink;
use crate::plan::{ObjectPlan, plan_scan};

/// Rows per page of a listing. Any size up to `max-page` (10,000) reads the
/// same rows; a thousand keeps each page's buffers small, and lets the host's
/// tests cross page boundaries with a few thousand rows.
const PAGE: u32 = 1_000;

/// Reads every page of a paged listing: `read(after, limit)` returns the
/// rows strictly after `after`, ascending; a page shorter than the limit is
/// the last. `next` is the cursor a row continues from.
fn read_all<Row, Cursor>(
    mut read: impl FnMut(Option<&Cursor>, u32) -> Result<Vec<Row>, StoreError>,
    next: impl Fn(&Row) -> Cursor,
) -> Result<Vec<Row>, StoreError> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = read(after.as_ref(), PAGE)?;
        if page.len() < PAGE as usize {
            rows.extend(page);
            return Ok(rows);
        }
        after = page.last().map(&next);
        rows.extend(page);
    }
}

pub struct ScanningWorker {
    ledger: DoneLedger,
    sink: FindingsSink,
}

fn store_failure(stage: ScanStage, object: Option<usize>) -> impl FnOnce(StoreError) -> WorkerError {
    move |error| WorkerError::Store(StoreFailure { stage, object_index: object.map(index), error })
}

fn violation(stage: ScanStage, object: Option<usize>, detail: String) -> WorkerError {
    WorkerError::ContractViolation(ContractViolation { stage, object_index: object.map(index), detail })
}

/// A write's outcome. The stores complete writes at once, so a pending
/// write means the store broke that promise; a single-threaded worker
/// could not wait for it anyway.
fn outcome<T>(
    polled: Option<Result<T, StoreError>>,
    op_id: u64,
    stage: ScanStage,
    object: usize,
) -> Result<T, WorkerError> {
    match polled {
        Some(result) => result.map_err(store_failure(stage, Some(object))),
        None => Err(violation(stage, Some(object), format!("write {op_id} is still pending under auto-complete"))),
    }
}

impl ScanningWorker {
    /// Whether the ledger's row (if any) says the version needs no rescan.
    fn already_done(row: Option<&DoneRecord>, object: usize) -> Result<bool, WorkerError> {
        let Some(row) = row else { return Ok(false) };
        let status = DoneLedgerStatus::from_rank(row.status).ok_or_else(|| {
            violation(ScanStage::Lookup, Some(object), format!("stored row has unknown status rank {}", row.status))
        })?;
        Ok(status.is_terminal())
    }

    fn record_findings(&self, plan: &ObjectPlan, object: usize) -> Result<(), WorkerError> {
        if plan.findings.is_empty() {
            return Ok(());
        }
        let stage = ScanStage::RecordFindings;
        let findings: Vec<_> = plan.findings.iter().map(finding_out).collect();
        let occurrences: Vec<_> = plan.occurrences.iter().map(occurrence_out).collect();
        let observations: Vec<_> = plan.observations.iter().map(observation_out).collect();
        let write = self
            .sink
            .upsert_batch(&findings, &occurrences, &observations)
            .map_err(store_failure(stage, Some(object)))?;
        let receipt = outcome(write.poll(), write.operation_id(), stage, object)?;
        let got = (receipt.finding_count, receipt.occurrence_count, receipt.observation_count);
        let sent = (findings.len() as u64, occurrences.len() as u64, observations.len() as u64);
        if got != sent {
            return Err(violation(stage, Some(object), format!("receipt counts {got:?} for distinct rows {sent:?}")));
        }
        Ok(())
    }

    fn mark_done(&self, plan: &ObjectPlan, object: usize) -> Result<(), WorkerError> {
        let stage = ScanStage::MarkDone;
        let write =
            self.ledger.batch_upsert(&[done_record_out(&plan.done)]).map_err(store_failure(stage, Some(object)))?;
        let receipt = outcome(write.poll(), write.operation_id(), stage, object)?;
        let got = (receipt.record_count, receipt.scanned_count, receipt.findings_count);
        let sent = (1, 1, u64::from(plan.done.findings_count()));
        if got != sent {
            return Err(violation(stage, Some(object), format!("receipt {got:?} for one scanned row {sent:?}")));
        }
        Ok(())
    }
}

impl GuestWorker for ScanningWorker {
    fn new() -> Self {
        Self { ledger: DoneLedger::new(), sink: FindingsSink::new() }
    }

    fn scan(&self, context: ScanContext, objects: Vec<ObjectScan>) -> Result<ScanReport, WorkerError> {
        let plans = plan_scan(&convert::context(&context), objects.into_iter().map(convert::object).collect())
            .map_err(convert::plan_error)?;
        let ovids: Vec<_> = plans.iter().map(|p| digest_out(p.ovid.as_bytes())).collect();
        // The store takes at most `max-batch` keys per lookup.
        let mut rows = Vec::with_capacity(ovids.len());
        for keys in ovids.chunks(MAX_PAGE_SIZE) {
            let answer = self
                .ledger
                .batch_get(context.tenant_id, context.policy_hash, keys)
                .map_err(store_failure(ScanStage::Lookup, None))?;
            if answer.len() != keys.len() {
                let detail = format!("batch-get answered {} rows for {} keys", answer.len(), keys.len());
                return Err(violation(ScanStage::Lookup, None, detail));
            }
            rows.extend(answer);
        }

        let mut report = ScanReport { scanned: Vec::new(), skipped: Vec::new() };
        // A version listed twice is done by the time its second entry comes up.
        let mut done_now = HashSet::new();
        for (object, ((plan, row), ovid)) in plans.iter().zip(&rows).zip(ovids).enumerate() {
            if Self::already_done(row.as_ref(), object)? || !done_now.insert(plan.ovid) {
                report.skipped.push(ovid);
                continue;
            }
            self.record_findings(plan, object)?;
            self.mark_done(plan, object)?;
            report.scanned.push(ScannedObject {
                ovid_hash: ovid,
                findings: plan.done.findings_count(),
                occurrences: plan.occurrences.len() as u64,
                observations: plan.observations.len() as u64,
            });
        }
        Ok(report)
    }

    fn durable_counts(&self) -> Result<DurableCounts, StoreError> {
        self.sink.durable_counts()
    }

    fn done_rows(&self) -> Result<Vec<DoneRecord>, StoreError> {
        read_all(|after, limit| self.ledger.snapshot(after.copied(), limit), |row| row.key)
    }

    fn findings_rows(&self) -> Result<FindingsRows, StoreError> {
        let sink = &self.sink;
        Ok(FindingsRows {
            findings: read_all(|after, limit| sink.findings_snapshot(after.copied(), limit), convert::finding_ref)?,
            occurrences: read_all(
                |after, limit| sink.occurrences_snapshot(after.copied(), limit),
                convert::occurrence_ref,
            )?,
            observations: read_all(
                |after, limit| sink.observations_snapshot(after.copied(), limit),
                convert::observation_ref,
            )?,
        })
    }
}
