//! The operations a done-ledger simulation step can perform.

use core::fmt;

use gossip_persistence::done_ledger::{DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::{CompletionOrder, PendingWriteId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoneLedgerSimOp {
    BatchUpsert {
        records: Vec<DoneLedgerRecord>,
    },
    /// Indices into the harness's OVID pool, taken modulo its length.
    BatchGet {
        ovid_indices: Vec<usize>,
    },
    ReleaseOldest,
    ReleaseNewest,
    ReleaseSpecific {
        op_id: PendingWriteId,
    },
    ReleaseAll {
        order: CompletionOrder,
    },
    InjectSubmitFailure {
        count: usize,
    },
    InjectCommitFailure {
        count: usize,
    },
    InjectDelay {
        count: usize,
    },
}

impl DoneLedgerSimOp {
    pub const fn is_fault_injection(&self) -> bool {
        matches!(self, Self::InjectSubmitFailure { .. } | Self::InjectCommitFailure { .. } | Self::InjectDelay { .. })
    }
}

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

pub(crate) const fn order_name(order: CompletionOrder) -> &'static str {
    match order {
        CompletionOrder::OldestFirst => "oldest",
        CompletionOrder::NewestFirst => "newest",
    }
}

impl fmt::Display for DoneLedgerSimOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BatchUpsert { records } => {
                f.write_str("upsert ")?;
                write_records(f, records)
            }
            Self::BatchGet { ovid_indices } => write!(f, "get {ovid_indices:?}"),
            Self::ReleaseOldest => f.write_str("release-oldest"),
            Self::ReleaseNewest => f.write_str("release-newest"),
            Self::ReleaseSpecific { op_id } => write!(f, "release {}", op_id.as_raw()),
            Self::ReleaseAll { order } => write!(f, "release-all {}", order_name(*order)),
            Self::InjectSubmitFailure { count } => write!(f, "inject submit-failure x{count}"),
            Self::InjectCommitFailure { count } => write!(f, "inject commit-failure x{count}"),
            Self::InjectDelay { count } => write!(f, "inject delay x{count}"),
        }
    }
}
