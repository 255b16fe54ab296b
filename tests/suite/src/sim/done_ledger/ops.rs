//! The done-ledger's own simulation ops, and the short record token the log uses.

use core::fmt;

use gossip_persistence::done_ledger::{DoneLedgerRecord, DoneLedgerStatus};

use crate::sim::ops::SimOp;

/// The done-ledger's own ops; the controls are the engine's [`SimOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoneLedgerStoreOp {
    /// Writes a batch.
    BatchUpsert {
        /// The batch.
        records: Vec<DoneLedgerRecord>,
    },
    /// Reads pool keys.
    BatchGet {
        /// Indices into the harness's OVID pool, taken modulo its length.
        ovid_indices: Vec<usize>,
    },
}

/// A done-ledger simulation step.
pub type DoneLedgerSimOp = SimOp<DoneLedgerStoreOp>;

/// A record in one short, stable token: `ovid:status/bytes/findings/run/started-finished`.
pub struct ShortRecord<'a>(pub &'a DoneLedgerRecord);

impl fmt::Display for ShortRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let ovid = r.key().ovid_hash();
        let status = match r.status() {
            DoneLedgerStatus::FailedRetryable => "FR",
            DoneLedgerStatus::FailedPermanent => "FP",
            DoneLedgerStatus::Skipped => "SK",
            DoneLedgerStatus::ScannedClean => "SC",
            DoneLedgerStatus::ScannedWithFindings => "SF",
        };
        let p = r.provenance();
        for b in &ovid.as_bytes()[..3] {
            write!(f, "{b:02x}")?;
        }
        write!(
            f,
            ":{status}/b{}/f{}/r{}.{}.{}/{}-{}",
            r.bytes_scanned(),
            r.findings_count(),
            p.run_id().as_raw(),
            p.shard_id().as_raw(),
            p.fence_epoch().as_raw(),
            p.started_at().as_raw(),
            p.finished_at().as_raw()
        )?;
        if let Some(code) = r.error_code() {
            write!(f, "/{code}")?;
        }
        Ok(())
    }
}

pub(crate) fn write_records(f: &mut fmt::Formatter<'_>, records: &[DoneLedgerRecord]) -> fmt::Result {
    f.write_str("[")?;
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{}", ShortRecord(r))?;
    }
    f.write_str("]")
}

impl fmt::Display for DoneLedgerStoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BatchUpsert { records } => {
                f.write_str("upsert ")?;
                write_records(f, records)
            }
            Self::BatchGet { ovid_indices } => write!(f, "get {ovid_indices:?}"),
        }
    }
}
