//! What a simulation step observed, and the kinds the histogram counts.
//! The outcomes of writes and releases are the same for every store and are
//! named here once; a store adds its own (its reads, its refusals) through
//! [`SimEvent::Store`] and [`SimEventKind::Store`].

use core::fmt;

use gossip_persistence::PendingWriteId;

use super::report::EventKind;

/// One step's observation: `C` is how the store reports a commit, `X` the
/// store's own outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent<C, X> {
    /// Applied at submit and durable.
    UpsertCommitted {
        /// The write.
        op_id: PendingWriteId,
        /// Its commit.
        receipt: C,
    },
    /// Delayed until a release.
    UpsertPending {
        /// The write.
        op_id: PendingWriteId,
    },
    /// Rejected at submit by an injected failure.
    UpsertSubmitFailed,
    /// Accepted at submit, but the commit failed.
    UpsertCommitFailed {
        /// The write.
        op_id: PendingWriteId,
    },
    /// A delayed write, released and durable.
    Released {
        /// The write.
        op_id: PendingWriteId,
        /// Its commit.
        receipt: C,
    },
    /// A delayed write, released, whose commit failed.
    ReleasedCommitFailed {
        /// The write.
        op_id: PendingWriteId,
    },
    /// A release-all: what the store says it released, and how those writes
    /// settled.
    ReleasedAll {
        /// What the store says it released.
        count: usize,
        /// The released writes that committed.
        committed: usize,
        /// The released writes that did not.
        failed: usize,
    },
    /// A release that released nothing.
    ReleaseNoop,
    /// An inject op armed its faults.
    FaultConfigured,
    /// An outcome only this store has.
    Store(X),
}

/// A kind of event: the shared ones, then the store's own (`K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // Each is the kind of the `SimEvent` variant of its name.
pub enum SimEventKind<K> {
    UpsertCommitted,
    UpsertPending,
    UpsertSubmitFailed,
    UpsertCommitFailed,
    Released,
    ReleasedCommitFailed,
    ReleasedAll,
    ReleaseNoop,
    FaultConfigured,
    Store(K),
}

/// A store's own event kinds.
pub trait StoreKind: Copy + Ord + fmt::Debug + Send + Sync + 'static {
    /// Every kind, in order.
    const ALL: &'static [Self];

    /// The kind's name in summaries.
    fn name(self) -> &'static str;
    /// Whether only a run with faults can reach it.
    fn needs_faults(self) -> bool;
}

/// A store's own outcome (a read, a refusal), which knows its kind.
pub trait StoreOutcome {
    /// The store's own event kinds.
    type Kind: StoreKind;

    /// This outcome's kind.
    fn kind(&self) -> Self::Kind;
}

/// How a store's commit reads in the event log.
pub trait ReceiptText {
    /// Writes the receipt as the log shows it.
    fn fmt_receipt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<K> SimEventKind<K> {
    const SHARED: [Self; 9] = [
        Self::UpsertCommitted,
        Self::UpsertPending,
        Self::UpsertSubmitFailed,
        Self::UpsertCommitFailed,
        Self::Released,
        Self::ReleasedCommitFailed,
        Self::ReleasedAll,
        Self::ReleaseNoop,
        Self::FaultConfigured,
    ];
}

impl<K: StoreKind> SimEventKind<K> {
    /// Whether only a run with faults can reach it: a delay, an injected
    /// failure, or a store kind that says so.
    pub fn needs_faults(self) -> bool {
        match self {
            Self::UpsertPending
            | Self::UpsertSubmitFailed
            | Self::UpsertCommitFailed
            | Self::Released
            | Self::ReleasedCommitFailed
            | Self::FaultConfigured => true,
            Self::UpsertCommitted | Self::ReleasedAll | Self::ReleaseNoop => false,
            Self::Store(kind) => kind.needs_faults(),
        }
    }
}

impl<K: StoreKind> EventKind for SimEventKind<K> {
    fn all() -> Vec<Self> {
        Self::SHARED.into_iter().chain(K::ALL.iter().map(|kind| Self::Store(*kind))).collect()
    }

    fn name(self) -> &'static str {
        match self {
            Self::UpsertCommitted => "UpsertCommitted",
            Self::UpsertPending => "UpsertPending",
            Self::UpsertSubmitFailed => "UpsertSubmitFailed",
            Self::UpsertCommitFailed => "UpsertCommitFailed",
            Self::Released => "Released",
            Self::ReleasedCommitFailed => "ReleasedCommitFailed",
            Self::ReleasedAll => "ReleasedAll",
            Self::ReleaseNoop => "ReleaseNoop",
            Self::FaultConfigured => "FaultConfigured",
            Self::Store(kind) => kind.name(),
        }
    }
}

impl<C, X: StoreOutcome> SimEvent<C, X> {
    /// The event's kind in the histogram.
    pub fn kind(&self) -> SimEventKind<X::Kind> {
        match self {
            Self::UpsertCommitted { .. } => SimEventKind::UpsertCommitted,
            Self::UpsertPending { .. } => SimEventKind::UpsertPending,
            Self::UpsertSubmitFailed => SimEventKind::UpsertSubmitFailed,
            Self::UpsertCommitFailed { .. } => SimEventKind::UpsertCommitFailed,
            Self::Released { .. } => SimEventKind::Released,
            Self::ReleasedCommitFailed { .. } => SimEventKind::ReleasedCommitFailed,
            Self::ReleasedAll { .. } => SimEventKind::ReleasedAll,
            Self::ReleaseNoop => SimEventKind::ReleaseNoop,
            Self::FaultConfigured => SimEventKind::FaultConfigured,
            Self::Store(outcome) => SimEventKind::Store(outcome.kind()),
        }
    }
}

impl<C: ReceiptText, X: fmt::Display> fmt::Display for SimEvent<C, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpsertCommitted { op_id, receipt } => {
                write!(f, "UpsertCommitted op{} ", op_id.as_raw())?;
                receipt.fmt_receipt(f)
            }
            Self::UpsertPending { op_id } => write!(f, "UpsertPending op{}", op_id.as_raw()),
            Self::UpsertSubmitFailed => f.write_str("UpsertSubmitFailed"),
            Self::UpsertCommitFailed { op_id } => write!(f, "UpsertCommitFailed op{}", op_id.as_raw()),
            Self::Released { op_id, receipt } => {
                write!(f, "Released op{} ", op_id.as_raw())?;
                receipt.fmt_receipt(f)
            }
            Self::ReleasedCommitFailed { op_id } => write!(f, "ReleasedCommitFailed op{}", op_id.as_raw()),
            Self::ReleasedAll { count, committed, failed } => {
                write!(f, "ReleasedAll count={count} committed={committed} failed={failed}")
            }
            Self::ReleaseNoop => f.write_str("ReleaseNoop"),
            Self::FaultConfigured => f.write_str("FaultConfigured"),
            Self::Store(outcome) => outcome.fmt(f),
        }
    }
}

/// How a write settled, as its plug-in judged it. The engine names the event
/// for the stage: `UpsertCommitted` or `Released`, `UpsertCommitFailed` or
/// `ReleasedCommitFailed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement<C, X> {
    /// The write is durable.
    Committed(C),
    /// The commit failed: an injected fault, or an error the plug-in reported.
    Failed,
    /// An outcome only this store has (say, a refusal for integrity).
    Store(X),
}

impl<C, X> Settlement<C, X> {
    /// The event for a write settled at submit (`released` false) or by a release.
    pub fn into_event(self, op_id: PendingWriteId, released: bool) -> SimEvent<C, X> {
        match (self, released) {
            (Self::Committed(receipt), false) => SimEvent::UpsertCommitted { op_id, receipt },
            (Self::Committed(receipt), true) => SimEvent::Released { op_id, receipt },
            (Self::Failed, false) => SimEvent::UpsertCommitFailed { op_id },
            (Self::Failed, true) => SimEvent::ReleasedCommitFailed { op_id },
            (Self::Store(outcome), _) => SimEvent::Store(outcome),
        }
    }
}
