//! What each findings simulation step observed, and the event kinds.

use core::fmt;

use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::{PendingWriteId, PersistenceInputError, StoreError};

use crate::sim::report::EventKind;

/// Why the store refused a batch, as far as the simulation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    MissingFinding,
    MissingOccurrence,
    FindingConflict,
    OccurrenceConflict,
    ObservationConflict,
    InconsistentTenant,
    ObservationIdMismatch,
    /// Any other data error (none is expected from the generated batches).
    /// Operational failures (faults, capacity, lost state) are not
    /// rejections: [`Rejection::of`] returns `None` for them.
    Other,
}

impl Rejection {
    pub fn of(error: &StoreError) -> Option<Self> {
        use StoreError as E;
        Some(match error {
            E::MissingFinding { .. } => Self::MissingFinding,
            E::MissingOccurrence { .. } => Self::MissingOccurrence,
            E::FindingConflict { .. } => Self::FindingConflict,
            E::OccurrenceConflict { .. } => Self::OccurrenceConflict,
            E::ObservationConflict { .. } => Self::ObservationConflict,
            E::BatchValidation(PersistenceInputError::InconsistentTenant) => Self::InconsistentTenant,
            E::BatchValidation(PersistenceInputError::ObservationIdMismatch { .. }) => Self::ObservationIdMismatch,
            E::BatchValidation(_) => Self::Other,
            E::InjectedSubmissionFailure { .. }
            | E::InjectedCommitFailure { .. }
            | E::Poisoned { .. }
            | E::UnknownOperation { .. }
            | E::CapacityExceeded { .. }
            | E::StateLost { .. } => return None,
        })
    }

    const fn kind(self) -> FindingsSimEventKind {
        match self {
            Self::MissingFinding => FindingsSimEventKind::OrphanOccurrence,
            Self::MissingOccurrence => FindingsSimEventKind::OrphanObservation,
            Self::FindingConflict => FindingsSimEventKind::FindingConflict,
            Self::OccurrenceConflict => FindingsSimEventKind::OccurrenceConflict,
            Self::ObservationConflict => FindingsSimEventKind::ObservationConflict,
            Self::InconsistentTenant => FindingsSimEventKind::InconsistentTenant,
            Self::ObservationIdMismatch => FindingsSimEventKind::ObservationIdMismatch,
            Self::Other => FindingsSimEventKind::UpsertRejected,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsSimEvent {
    /// Applied at submit and durable; `resighted` observations already existed.
    UpsertCommitted {
        op_id: PendingWriteId,
        receipt: FindingsCommitReceipt,
        resighted: usize,
    },
    UpsertPending {
        op_id: PendingWriteId,
    },
    /// An injected submission failure.
    UpsertSubmitFailed,
    /// Refused at submit by batch validation (tenant, observation id).
    UpsertRejected {
        reason: Rejection,
    },
    /// Applied at submit; an injected commit failure.
    UpsertCommitFailed {
        op_id: PendingWriteId,
    },
    /// Applied at submit; refused for referential integrity or a conflict.
    UpsertIntegrityFailed {
        op_id: PendingWriteId,
        reason: Rejection,
    },
    ReadOk {
        found: usize,
        missing: usize,
    },
    Released {
        op_id: PendingWriteId,
        receipt: FindingsCommitReceipt,
        resighted: usize,
    },
    ReleasedCommitFailed {
        op_id: PendingWriteId,
    },
    ReleasedIntegrityFailed {
        op_id: PendingWriteId,
        reason: Rejection,
    },
    ReleasedAll {
        count: usize,
        committed: usize,
        failed: usize,
    },
    ReleaseNoop,
    FaultConfigured,
}

/// Event kinds, plus the reasons a batch was refused and re-sightings, so
/// coverage shows every path of the referential-integrity rules was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingsSimEventKind {
    UpsertCommitted,
    UpsertPending,
    UpsertSubmitFailed,
    UpsertRejected,
    UpsertCommitFailed,
    UpsertIntegrityFailed,
    ReadOk,
    Released,
    ReleasedCommitFailed,
    ReleasedIntegrityFailed,
    ReleasedAll,
    ReleaseNoop,
    FaultConfigured,
    /// An occurrence without its finding was refused.
    OrphanOccurrence,
    /// An observation without its occurrence was refused.
    OrphanObservation,
    FindingConflict,
    OccurrenceConflict,
    ObservationConflict,
    InconsistentTenant,
    ObservationIdMismatch,
    /// A committed batch merged a new sighting into an existing observation.
    ObservationResighted,
}

impl FindingsSimEventKind {
    pub const ALL: [Self; 21] = [
        Self::UpsertCommitted,
        Self::UpsertPending,
        Self::UpsertSubmitFailed,
        Self::UpsertRejected,
        Self::UpsertCommitFailed,
        Self::UpsertIntegrityFailed,
        Self::ReadOk,
        Self::Released,
        Self::ReleasedCommitFailed,
        Self::ReleasedIntegrityFailed,
        Self::ReleasedAll,
        Self::ReleaseNoop,
        Self::FaultConfigured,
        Self::OrphanOccurrence,
        Self::OrphanObservation,
        Self::FindingConflict,
        Self::OccurrenceConflict,
        Self::ObservationConflict,
        Self::InconsistentTenant,
        Self::ObservationIdMismatch,
        Self::ObservationResighted,
    ];

    /// The kinds a fault-free run can reach.
    pub const fn needs_faults(self) -> bool {
        matches!(
            self,
            Self::UpsertPending
                | Self::UpsertSubmitFailed
                | Self::UpsertCommitFailed
                | Self::Released
                | Self::ReleasedCommitFailed
                | Self::ReleasedIntegrityFailed
                | Self::FaultConfigured
        )
    }
}

impl EventKind for FindingsSimEventKind {
    const ALL: &'static [Self] = &Self::ALL;

    fn name(self) -> &'static str {
        match self {
            Self::UpsertCommitted => "UpsertCommitted",
            Self::UpsertPending => "UpsertPending",
            Self::UpsertSubmitFailed => "UpsertSubmitFailed",
            Self::UpsertRejected => "UpsertRejected",
            Self::UpsertCommitFailed => "UpsertCommitFailed",
            Self::UpsertIntegrityFailed => "UpsertIntegrityFailed",
            Self::ReadOk => "ReadOk",
            Self::Released => "Released",
            Self::ReleasedCommitFailed => "ReleasedCommitFailed",
            Self::ReleasedIntegrityFailed => "ReleasedIntegrityFailed",
            Self::ReleasedAll => "ReleasedAll",
            Self::ReleaseNoop => "ReleaseNoop",
            Self::FaultConfigured => "FaultConfigured",
            Self::OrphanOccurrence => "OrphanOccurrence",
            Self::OrphanObservation => "OrphanObservation",
            Self::FindingConflict => "FindingConflict",
            Self::OccurrenceConflict => "OccurrenceConflict",
            Self::ObservationConflict => "ObservationConflict",
            Self::InconsistentTenant => "InconsistentTenant",
            Self::ObservationIdMismatch => "ObservationIdMismatch",
            Self::ObservationResighted => "ObservationResighted",
        }
    }
}

impl FindingsSimEvent {
    pub const fn kind(&self) -> FindingsSimEventKind {
        match self {
            Self::UpsertCommitted { .. } => FindingsSimEventKind::UpsertCommitted,
            Self::UpsertPending { .. } => FindingsSimEventKind::UpsertPending,
            Self::UpsertSubmitFailed => FindingsSimEventKind::UpsertSubmitFailed,
            Self::UpsertRejected { .. } => FindingsSimEventKind::UpsertRejected,
            Self::UpsertCommitFailed { .. } => FindingsSimEventKind::UpsertCommitFailed,
            Self::UpsertIntegrityFailed { .. } => FindingsSimEventKind::UpsertIntegrityFailed,
            Self::ReadOk { .. } => FindingsSimEventKind::ReadOk,
            Self::Released { .. } => FindingsSimEventKind::Released,
            Self::ReleasedCommitFailed { .. } => FindingsSimEventKind::ReleasedCommitFailed,
            Self::ReleasedIntegrityFailed { .. } => FindingsSimEventKind::ReleasedIntegrityFailed,
            Self::ReleasedAll { .. } => FindingsSimEventKind::ReleasedAll,
            Self::ReleaseNoop => FindingsSimEventKind::ReleaseNoop,
            Self::FaultConfigured => FindingsSimEventKind::FaultConfigured,
        }
    }

    /// The secondary kinds this event adds to the histogram.
    pub fn extra_kinds(&self) -> impl Iterator<Item = FindingsSimEventKind> {
        let (reason, resighted) = match self {
            Self::UpsertRejected { reason }
            | Self::UpsertIntegrityFailed { reason, .. }
            | Self::ReleasedIntegrityFailed { reason, .. } => (Some(reason.kind()), false),
            Self::UpsertCommitted { resighted, .. } | Self::Released { resighted, .. } => (None, *resighted > 0),
            _ => (None, false),
        };
        let reason = reason.filter(|k| *k != FindingsSimEventKind::UpsertRejected);
        reason.into_iter().chain(resighted.then_some(FindingsSimEventKind::ObservationResighted))
    }
}

fn write_receipt(f: &mut fmt::Formatter<'_>, r: &FindingsCommitReceipt) -> fmt::Result {
    write!(f, "({},{},{})", r.finding_count(), r.occurrence_count(), r.observation_count())
}

impl fmt::Display for FindingsSimEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpsertCommitted { op_id, receipt, resighted } => {
                write!(f, "UpsertCommitted op{} ", op_id.as_raw())?;
                write_receipt(f, receipt)?;
                write!(f, " resighted={resighted}")
            }
            Self::UpsertPending { op_id } => write!(f, "UpsertPending op{}", op_id.as_raw()),
            Self::UpsertSubmitFailed => f.write_str("UpsertSubmitFailed"),
            Self::UpsertRejected { reason } => write!(f, "UpsertRejected {reason:?}"),
            Self::UpsertCommitFailed { op_id } => write!(f, "UpsertCommitFailed op{}", op_id.as_raw()),
            Self::UpsertIntegrityFailed { op_id, reason } => {
                write!(f, "UpsertIntegrityFailed op{} {reason:?}", op_id.as_raw())
            }
            Self::ReadOk { found, missing } => write!(f, "ReadOk found={found} missing={missing}"),
            Self::Released { op_id, receipt, resighted } => {
                write!(f, "Released op{} ", op_id.as_raw())?;
                write_receipt(f, receipt)?;
                write!(f, " resighted={resighted}")
            }
            Self::ReleasedCommitFailed { op_id } => write!(f, "ReleasedCommitFailed op{}", op_id.as_raw()),
            Self::ReleasedIntegrityFailed { op_id, reason } => {
                write!(f, "ReleasedIntegrityFailed op{} {reason:?}", op_id.as_raw())
            }
            Self::ReleasedAll { count, committed, failed } => {
                write!(f, "ReleasedAll count={count} committed={committed} failed={failed}")
            }
            Self::ReleaseNoop => f.write_str("ReleaseNoop"),
            Self::FaultConfigured => f.write_str("FaultConfigured"),
        }
    }
}
