//! The exported `worker` resource: one scan = one batched ledger lookup,
//! then per object to scan one findings write and one done write, each
//! polled to its receipt before the next step.
// The helpers return the export's own WIT error (it holds a whole store
// error, digests included); it is built once, on the failure path only.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;

use gossip_persistence::done_ledger::DoneLedgerStatus;

use super::convert::{self, digest_out, index};
use super::exports::gossip::scanning_worker::scanner::{
    ContractViolation, FindingsRows, GuestWorker, ObjectScan, ScanContext, ScanReport, ScanStage, ScannedObject,
    StoreFailure, WorkerError,
};
use super::gossip::persistence::control::Controller;
use super::gossip::persistence::done_ledger::DoneLedger;
use super::gossip::persistence::findings::FindingsSink;
use super::gossip::persistence::types::{DoneRecord, DurableCounts, StoreError, StoreKind};
use crate::plan::{ObjectPlan, plan_scan};

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
        let findings: Vec<_> = plan.findings.iter().map(convert::finding).collect();
        let occurrences: Vec<_> = plan.occurrences.iter().map(convert::occurrence).collect();
        let observations: Vec<_> = plan.observations.iter().map(convert::observation).collect();
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
        let write = self
            .ledger
            .batch_upsert(&[convert::done_record(&plan.done)])
            .map_err(store_failure(stage, Some(object)))?;
        let receipt = outcome(write.poll(), write.operation_id(), stage, object)?;
        let got = (receipt.record_count, receipt.scanned_count, receipt.findings_count);
        let sent = (1, 1, u64::from(plan.done.findings_count()));
        if got != sent {
            return Err(violation(stage, Some(object), format!("receipt {got:?} for one scanned row {sent:?}")));
        }
        Ok(())
    }

    fn controller(&self, store: StoreKind) -> Controller {
        match store {
            StoreKind::DoneLedger => self.ledger.controller(),
            StoreKind::Findings => self.sink.controller(),
        }
    }
}

impl GuestWorker for ScanningWorker {
    fn new() -> Self {
        Self { ledger: DoneLedger::new(true), sink: FindingsSink::new(true) }
    }

    fn scan(&self, context: ScanContext, objects: Vec<ObjectScan>) -> Result<ScanReport, WorkerError> {
        let plans = plan_scan(&convert::context(&context), objects.into_iter().map(convert::object).collect())
            .map_err(convert::plan_error)?;
        let ovids: Vec<_> = plans.iter().map(|p| digest_out(p.ovid.as_bytes())).collect();
        let rows = self
            .ledger
            .batch_get(context.tenant_id, context.policy_hash, &ovids)
            .map_err(store_failure(ScanStage::Lookup, None))?;
        if rows.len() != ovids.len() {
            let detail = format!("batch-get answered {} rows for {} keys", rows.len(), ovids.len());
            return Err(violation(ScanStage::Lookup, None, detail));
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
        self.ledger.snapshot()
    }

    fn findings_rows(&self) -> Result<FindingsRows, StoreError> {
        Ok(FindingsRows {
            findings: self.sink.findings_snapshot()?,
            occurrences: self.sink.occurrences_snapshot()?,
            observations: self.sink.observations_snapshot()?,
        })
    }

    fn inject_faults(&self, store: StoreKind, submissions: u64, commits: u64) -> Result<(), StoreError> {
        let controller = self.controller(store);
        controller.fail_next_submissions(submissions)?;
        controller.fail_next_commits(commits)
    }
}
