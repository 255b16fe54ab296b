//! What a findings simulation step observed: the engine's shared events
//! with the sink's receipts, plus the sink's own outcomes (refusals, reads)
//! and the kinds that show every path of the integrity rules was taken.

use core::fmt;

use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::{PendingWriteId, PersistenceInputError, StoreError};

use crate::sim::events::{ReceiptText, SimEvent, SimEventKind, StoreKind, StoreOutcome};

/// Why the store refused a batch, as far as the simulation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// An occurrence without its finding.
    MissingFinding,
    /// An observation without its occurrence.
    MissingOccurrence,
    /// A finding whose content differs from the durable one.
    FindingConflict,
    /// An occurrence whose content differs from the durable one.
    OccurrenceConflict,
    /// An observation that cannot merge with the durable one.
    ObservationConflict,
    /// A batch mixing tenants.
    InconsistentTenant,
    /// An observation whose id is not derived from its content.
    ObservationIdMismatch,
    /// Any other data error (none is expected from the generated batches).
    /// Operational failures (faults, capacity, lost state) are not
    /// rejections: [`Rejection::of`] returns `None` for them.
    Other,
}

impl Rejection {
    /// The rejection `error` is, if it is one.
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
            | E::StateLost { .. }
            | E::WriteAbandoned { .. } => return None,
        })
    }

    const fn kind(self) -> FindingsStoreKind {
        match self {
            Self::MissingFinding => FindingsStoreKind::OrphanOccurrence,
            Self::MissingOccurrence => FindingsStoreKind::OrphanObservation,
            Self::FindingConflict => FindingsStoreKind::FindingConflict,
            Self::OccurrenceConflict => FindingsStoreKind::OccurrenceConflict,
            Self::ObservationConflict => FindingsStoreKind::ObservationConflict,
            Self::InconsistentTenant => FindingsStoreKind::InconsistentTenant,
            Self::ObservationIdMismatch => FindingsStoreKind::ObservationIdMismatch,
            Self::Other => FindingsStoreKind::UpsertRejected,
        }
    }
}

/// A committed batch, as the events carry it: the receipt, and how many
/// observations it re-sighted (they already existed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsCommit {
    /// Distinct keys per layer.
    pub receipt: FindingsCommitReceipt,
    /// Observations that already existed and took a new sighting.
    pub resighted: usize,
}

/// The findings sink's own outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsOutcome {
    /// Refused at submit by batch validation (tenant, observation id).
    UpsertRejected {
        /// Why.
        reason: Rejection,
    },
    /// Applied at submit; refused for referential integrity or a conflict.
    UpsertIntegrityFailed {
        /// The write.
        op_id: PendingWriteId,
        /// Why.
        reason: Rejection,
    },
    /// Released, then refused for referential integrity or a conflict.
    ReleasedIntegrityFailed {
        /// The write.
        op_id: PendingWriteId,
        /// Why.
        reason: Rejection,
    },
    /// Point lookups, each as the oracle says.
    ReadOk {
        /// Keys with a durable row.
        found: usize,
        /// Keys without one.
        missing: usize,
    },
}

/// The sink's own event kinds, plus the reasons a batch was refused and
/// re-sightings, so coverage shows every path of the referential-integrity
/// rules was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingsStoreKind {
    /// See [`FindingsOutcome::UpsertRejected`].
    UpsertRejected,
    /// See [`FindingsOutcome::UpsertIntegrityFailed`].
    UpsertIntegrityFailed,
    /// See [`FindingsOutcome::ReadOk`].
    ReadOk,
    /// See [`FindingsOutcome::ReleasedIntegrityFailed`].
    ReleasedIntegrityFailed,
    /// An occurrence without its finding was refused.
    OrphanOccurrence,
    /// An observation without its occurrence was refused.
    OrphanObservation,
    /// A finding conflicting with a durable one was refused.
    FindingConflict,
    /// An occurrence conflicting with a durable one was refused.
    OccurrenceConflict,
    /// An observation that cannot merge with the durable one was refused.
    ObservationConflict,
    /// A batch mixing tenants was refused at submit.
    InconsistentTenant,
    /// A batch with a non-canonical observation id was refused at submit.
    ObservationIdMismatch,
    /// A committed batch merged a new sighting into an existing observation.
    ObservationResighted,
}

/// What a findings step observed.
pub type FindingsSimEvent = SimEvent<FindingsCommit, FindingsOutcome>;
/// A kind of findings event.
pub type FindingsSimEventKind = SimEventKind<FindingsStoreKind>;

impl StoreKind for FindingsStoreKind {
    const ALL: &'static [Self] = &[
        Self::UpsertRejected,
        Self::UpsertIntegrityFailed,
        Self::ReadOk,
        Self::ReleasedIntegrityFailed,
        Self::OrphanOccurrence,
        Self::OrphanObservation,
        Self::FindingConflict,
        Self::OccurrenceConflict,
        Self::ObservationConflict,
        Self::InconsistentTenant,
        Self::ObservationIdMismatch,
        Self::ObservationResighted,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::UpsertRejected => "UpsertRejected",
            Self::UpsertIntegrityFailed => "UpsertIntegrityFailed",
            Self::ReadOk => "ReadOk",
            Self::ReleasedIntegrityFailed => "ReleasedIntegrityFailed",
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

    /// A released batch exists only after a delay.
    fn needs_faults(self) -> bool {
        self == Self::ReleasedIntegrityFailed
    }
}

impl StoreOutcome for FindingsOutcome {
    type Kind = FindingsStoreKind;

    fn kind(&self) -> FindingsStoreKind {
        match self {
            Self::UpsertRejected { .. } => FindingsStoreKind::UpsertRejected,
            Self::UpsertIntegrityFailed { .. } => FindingsStoreKind::UpsertIntegrityFailed,
            Self::ReleasedIntegrityFailed { .. } => FindingsStoreKind::ReleasedIntegrityFailed,
            Self::ReadOk { .. } => FindingsStoreKind::ReadOk,
        }
    }
}

/// The secondary kinds an event adds to the histogram: why a batch was
/// refused, and whether a commit re-sighted an observation. A release-all
/// adds nothing for the writes it settled.
pub(crate) fn extra_kinds(event: &FindingsSimEvent) -> impl Iterator<Item = FindingsSimEventKind> {
    let (reason, resighted) = match event {
        SimEvent::Store(
            FindingsOutcome::UpsertRejected { reason }
            | FindingsOutcome::UpsertIntegrityFailed { reason, .. }
            | FindingsOutcome::ReleasedIntegrityFailed { reason, .. },
        ) => (Some(reason.kind()), false),
        SimEvent::UpsertCommitted { receipt, .. } | SimEvent::Released { receipt, .. } => (None, receipt.resighted > 0),
        _ => (None, false),
    };
    let reason = reason.filter(|k| *k != FindingsStoreKind::UpsertRejected);
    reason.into_iter().chain(resighted.then_some(FindingsStoreKind::ObservationResighted)).map(SimEventKind::Store)
}

impl ReceiptText for FindingsCommit {
    fn fmt_receipt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.receipt;
        write!(
            f,
            "({},{},{}) resighted={}",
            r.finding_count(),
            r.occurrence_count(),
            r.observation_count(),
            self.resighted
        )
    }
}

impl fmt::Display for FindingsOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpsertRejected { reason } => write!(f, "UpsertRejected {reason:?}"),
            Self::UpsertIntegrityFailed { op_id, reason } => {
                write!(f, "UpsertIntegrityFailed op{} {reason:?}", op_id.as_raw())
            }
            Self::ReleasedIntegrityFailed { op_id, reason } => {
                write!(f, "ReleasedIntegrityFailed op{} {reason:?}", op_id.as_raw())
            }
            Self::ReadOk { found, missing } => write!(f, "ReadOk found={found} missing={missing}"),
        }
    }
}
