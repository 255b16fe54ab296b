//! What each done-ledger simulation step observed, and its kind.

use core::fmt;

use gossip_persistence::PendingWriteId;
use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};

use super::ops::ShortRecord;
use crate::sim::report::EventKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoneLedgerSimEvent {
    /// Applied at submit and durable.
    UpsertCommitted {
        op_id: PendingWriteId,
        receipt: DoneLedgerCommitReceipt,
    },
    /// Delayed until a release.
    UpsertPending {
        op_id: PendingWriteId,
    },
    /// Rejected at submit.
    UpsertSubmitFailed,
    /// Applied at submit, but the commit failed.
    UpsertCommitFailed {
        op_id: PendingWriteId,
    },
    GetOk {
        results: Vec<Option<DoneLedgerRecord>>,
    },
    Released {
        op_id: PendingWriteId,
        receipt: DoneLedgerCommitReceipt,
    },
    ReleasedCommitFailed {
        op_id: PendingWriteId,
    },
    ReleasedAll {
        count: usize,
        committed: usize,
        failed: usize,
    },
    ReleaseNoop,
    FaultConfigured,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DoneLedgerSimEventKind {
    UpsertCommitted,
    UpsertPending,
    UpsertSubmitFailed,
    UpsertCommitFailed,
    GetOk,
    Released,
    ReleasedCommitFailed,
    ReleasedAll,
    ReleaseNoop,
    FaultConfigured,
}

impl DoneLedgerSimEventKind {
    pub const ALL: [Self; 10] = [
        Self::UpsertCommitted,
        Self::UpsertPending,
        Self::UpsertSubmitFailed,
        Self::UpsertCommitFailed,
        Self::GetOk,
        Self::Released,
        Self::ReleasedCommitFailed,
        Self::ReleasedAll,
        Self::ReleaseNoop,
        Self::FaultConfigured,
    ];
}

impl EventKind for DoneLedgerSimEventKind {
    const ALL: &'static [Self] = &Self::ALL;

    fn name(self) -> &'static str {
        match self {
            Self::UpsertCommitted => "UpsertCommitted",
            Self::UpsertPending => "UpsertPending",
            Self::UpsertSubmitFailed => "UpsertSubmitFailed",
            Self::UpsertCommitFailed => "UpsertCommitFailed",
            Self::GetOk => "GetOk",
            Self::Released => "Released",
            Self::ReleasedCommitFailed => "ReleasedCommitFailed",
            Self::ReleasedAll => "ReleasedAll",
            Self::ReleaseNoop => "ReleaseNoop",
            Self::FaultConfigured => "FaultConfigured",
        }
    }
}

impl DoneLedgerSimEvent {
    pub const fn kind(&self) -> DoneLedgerSimEventKind {
        match self {
            Self::UpsertCommitted { .. } => DoneLedgerSimEventKind::UpsertCommitted,
            Self::UpsertPending { .. } => DoneLedgerSimEventKind::UpsertPending,
            Self::UpsertSubmitFailed => DoneLedgerSimEventKind::UpsertSubmitFailed,
            Self::UpsertCommitFailed { .. } => DoneLedgerSimEventKind::UpsertCommitFailed,
            Self::GetOk { .. } => DoneLedgerSimEventKind::GetOk,
            Self::Released { .. } => DoneLedgerSimEventKind::Released,
            Self::ReleasedCommitFailed { .. } => DoneLedgerSimEventKind::ReleasedCommitFailed,
            Self::ReleasedAll { .. } => DoneLedgerSimEventKind::ReleasedAll,
            Self::ReleaseNoop => DoneLedgerSimEventKind::ReleaseNoop,
            Self::FaultConfigured => DoneLedgerSimEventKind::FaultConfigured,
        }
    }
}

fn write_receipt(f: &mut fmt::Formatter<'_>, r: &DoneLedgerCommitReceipt) -> fmt::Result {
    write!(f, "({},{},{})", r.record_count(), r.scanned_count(), r.findings_count())
}

impl fmt::Display for DoneLedgerSimEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpsertCommitted { op_id, receipt } => {
                write!(f, "UpsertCommitted op{} ", op_id.as_raw())?;
                write_receipt(f, receipt)
            }
            Self::UpsertPending { op_id } => write!(f, "UpsertPending op{}", op_id.as_raw()),
            Self::UpsertSubmitFailed => f.write_str("UpsertSubmitFailed"),
            Self::UpsertCommitFailed { op_id } => write!(f, "UpsertCommitFailed op{}", op_id.as_raw()),
            Self::GetOk { results } => {
                f.write_str("GetOk [")?;
                for (i, r) in results.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match r {
                        Some(r) => write!(f, "{}", ShortRecord(r))?,
                        None => f.write_str("-")?,
                    }
                }
                f.write_str("]")
            }
            Self::Released { op_id, receipt } => {
                write!(f, "Released op{} ", op_id.as_raw())?;
                write_receipt(f, receipt)
            }
            Self::ReleasedCommitFailed { op_id } => write!(f, "ReleasedCommitFailed op{}", op_id.as_raw()),
            Self::ReleasedAll { count, committed, failed } => {
                write!(f, "ReleasedAll count={count} committed={committed} failed={failed}")
            }
            Self::ReleaseNoop => f.write_str("ReleaseNoop"),
            Self::FaultConfigured => f.write_str("FaultConfigured"),
        }
    }
}
