//! One done-ledger row and its lattice merge.

use core::cmp::Ordering;

use super::error_code::DoneLedgerErrorCode;
use super::key::DoneLedgerKey;
use super::provenance::DoneLedgerProvenance;
use super::status::DoneLedgerStatus;
use crate::input_error::PersistenceInputError;
use crate::write_context::WriteContext;

/// One done-ledger row: a key, its status and what the scan saw, and who wrote
/// it. Stores keep the [`merge`](Self::merge) of every row written for a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DoneLedgerRecord {
    key: DoneLedgerKey,
    status: DoneLedgerStatus,
    bytes_scanned: u64,
    findings_count: u32,
    provenance: DoneLedgerProvenance,
    error_code: Option<DoneLedgerErrorCode>,
}

impl DoneLedgerRecord {
    /// Checks only the findings shape, so rows can be rebuilt from storage;
    /// write paths additionally call [`validate`](Self::validate).
    pub fn try_new(
        key: DoneLedgerKey,
        status: DoneLedgerStatus,
        bytes_scanned: u64,
        findings_count: u32,
        provenance: DoneLedgerProvenance,
        error_code: Option<DoneLedgerErrorCode>,
    ) -> Result<Self, PersistenceInputError> {
        check_findings_shape(status, findings_count)?;
        Ok(Self { key, status, bytes_scanned, findings_count, provenance, error_code })
    }

    /// The full per-status invariant: findings count first, then error code.
    pub fn validate(&self) -> Result<(), PersistenceInputError> {
        check_findings_shape(self.status, self.findings_count)?;
        let status = self.status.name();
        match (self.status.is_scanned(), self.error_code.is_some()) {
            (true, true) => Err(PersistenceInputError::UnexpectedErrorCode { status }),
            (false, false) => Err(PersistenceInputError::MissingErrorCode { status }),
            _ => Ok(()),
        }
    }

    /// What every write path checks before merging: [`validate`](Self::validate),
    /// then the provenance order (rows rebuilt from storage skip the latter).
    pub fn validate_for_write(&self) -> Result<(), PersistenceInputError> {
        self.validate()?;
        let p = self.provenance;
        if p.is_ordered() {
            Ok(())
        } else {
            Err(PersistenceInputError::ProvenanceOrdering {
                started_at: p.started_at().as_raw(),
                finished_at: p.finished_at().as_raw(),
            })
        }
    }

    /// The row's identity; the merge never changes it.
    pub const fn key(&self) -> &DoneLedgerKey {
        &self.key
    }

    /// Only ever rises under the merge.
    pub const fn status(&self) -> DoneLedgerStatus {
        self.status
    }

    /// Bytes scanned; the merge keeps the maximum, whichever row wins.
    pub const fn bytes_scanned(&self) -> u64 {
        self.bytes_scanned
    }

    /// 0 when `ScannedClean`, at least 1 when `ScannedWithFindings`, any value otherwise.
    pub const fn findings_count(&self) -> u32 {
        self.findings_count
    }

    /// Who wrote the row; from the winning row after a merge.
    pub const fn provenance(&self) -> &DoneLedgerProvenance {
        &self.provenance
    }

    /// Present exactly when the status is failed or skipped (once validated).
    pub fn error_code(&self) -> Option<&DoneLedgerErrorCode> {
        self.error_code.as_ref()
    }

    /// The context the row was written under, rebuilt from its key and provenance.
    pub fn write_context(&self) -> WriteContext {
        WriteContext::new(
            self.key.tenant_id(),
            self.key.policy_hash(),
            self.provenance.run_id(),
            self.provenance.shard_id(),
            self.provenance.fence_epoch(),
        )
    }

    /// The lattice join of `self` (existing) and `incoming`.
    ///
    /// Both operands are validated first: merging an invalid row could
    /// otherwise produce results that depend on merge order.
    pub fn merge(&self, incoming: &Self) -> Result<Self, PersistenceInputError> {
        self.validate()?;
        incoming.validate()?;
        if self.key != incoming.key {
            return Err(PersistenceInputError::KeyMismatch {
                existing: Box::new(self.key),
                incoming: Box::new(incoming.key),
            });
        }
        let status = self.status.merge(incoming.status);
        let findings_count = match status {
            DoneLedgerStatus::ScannedClean => 0,
            DoneLedgerStatus::ScannedWithFindings => {
                let swf = |r: &Self| match r.status {
                    DoneLedgerStatus::ScannedWithFindings => r.findings_count,
                    _ => 0,
                };
                swf(self).max(swf(incoming)).max(1)
            }
            _ => self.findings_count.max(incoming.findings_count),
        };
        let incoming_wins = incoming.winner_cmp(self) == Ordering::Greater;
        let (winner, loser) = if incoming_wins { (incoming, self) } else { (self, incoming) };
        let error_code =
            if status.is_scanned() { None } else { winner.error_code.clone().or_else(|| loser.error_code.clone()) };
        Self::try_new(
            self.key,
            status,
            self.bytes_scanned.max(incoming.bytes_scanned),
            findings_count,
            winner.provenance,
            error_code,
        )
    }

    /// Orders rows by freshness: (rank, finished, started, fence, run, shard,
    /// error code). Run and shard compare as signed 64-bit values so the
    /// order matches a PostgreSQL BIGINT column holding the same bit pattern.
    fn winner_cmp(&self, other: &Self) -> Ordering {
        let tuple = |r: &Self| {
            let p = r.provenance;
            (
                r.status.rank(),
                p.finished_at().as_raw(),
                p.started_at().as_raw(),
                p.fence_epoch().as_raw(),
                p.run_id().as_raw() as i64,
                p.shard_id().as_raw() as i64,
            )
        };
        tuple(self).cmp(&tuple(other)).then_with(|| {
            let (mine, theirs) = (self.code_bytes(), other.code_bytes());
            // The planted bug for the extracted-model differential
            // (scripts/extraction.sh): the error-code tie-break flipped.
            #[cfg(model_planted_bug = "flipped_tie_break")]
            let (mine, theirs) = (theirs, mine);
            mine.cmp(theirs)
        })
    }
}

impl DoneLedgerRecord {
    /// Puts back together a row a store kept without its key. Checks
    /// nothing: the store validated the row when it was written.
    pub(crate) const fn from_stored(
        key: DoneLedgerKey,
        status: DoneLedgerStatus,
        bytes_scanned: u64,
        findings_count: u32,
        provenance: DoneLedgerProvenance,
        error_code: Option<DoneLedgerErrorCode>,
    ) -> Self {
        Self { key, status, bytes_scanned, findings_count, provenance, error_code }
    }

    /// The error code, moved out (the rest is `Copy` and read through the getters).
    pub(crate) fn into_error_code(self) -> Option<DoneLedgerErrorCode> {
        self.error_code
    }

    fn code_bytes(&self) -> &[u8] {
        self.error_code.as_ref().map_or(&[], |c| c.as_str().as_bytes())
    }
}

fn check_findings_shape(status: DoneLedgerStatus, findings_count: u32) -> Result<(), PersistenceInputError> {
    let inconsistent = match status {
        DoneLedgerStatus::ScannedWithFindings => findings_count == 0,
        DoneLedgerStatus::ScannedClean => findings_count > 0,
        _ => false,
    };
    if inconsistent {
        Err(PersistenceInputError::InconsistentFindingsCount { status: status.name(), findings_count })
    } else {
        Ok(())
    }
}
