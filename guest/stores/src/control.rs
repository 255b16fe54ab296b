//! Completion and fault-injection controls shared by every store backend,
//! so one conformance and simulation suite can drive them all.

use core::fmt;

/// Opaque id of one accepted write, strictly increasing per store; 0 is never issued.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PendingWriteId(u64);

impl PendingWriteId {
    /// The id with this raw value, as it crossed a boundary; not checked.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw value, as the WIT `operation-id` carries it.
    pub const fn as_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for PendingWriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PendingWriteId({})", self.0)
    }
}

impl fmt::Display for PendingWriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Which end of the pending queue a release drains from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompletionOrder {
    /// FIFO: the earliest accepted write first.
    OldestFirst,
    /// LIFO: the latest accepted write first.
    NewestFirst,
}

/// Test and simulation controls: completion mode, releases and fault injection.
pub trait StoreControl: Send + Sync {
    /// Why a control failed (a poisoned store, a trapped instance); controls
    /// never block.
    type ControlError: std::error::Error + Send + Sync + 'static;

    /// Affects future submissions only; already-pending writes stay pending.
    fn set_auto_complete(&self, on: bool) -> Result<(), Self::ControlError>;
    /// Forces the next `count` accepted writes to wait for a release (adds up).
    fn delay_next_writes(&self, count: usize) -> Result<(), Self::ControlError>;
    /// Rejects the next `count` submissions before any state change (adds up).
    fn fail_next_submissions(&self, count: usize) -> Result<(), Self::ControlError>;
    /// Fails the next `count` applies, whichever writes they belong to (adds up).
    fn fail_next_commits(&self, count: usize) -> Result<(), Self::ControlError>;
    /// Applies the oldest or newest pending write and returns its id, or `Ok(None)`
    /// when nothing is pending. A write whose apply fails still counts as released.
    fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, Self::ControlError>;
    /// `Ok(false)` for an id that is unknown or no longer pending.
    fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, Self::ControlError>;
    /// Applies exactly the writes pending at the call, in `order`; returns how many.
    fn release_all(&self, order: CompletionOrder) -> Result<usize, Self::ControlError>;
    /// Pending writes in acceptance order.
    fn pending_ids(&self) -> Result<Vec<PendingWriteId>, Self::ControlError>;
    /// The number of pending writes.
    fn pending_count(&self) -> Result<usize, Self::ControlError> {
        self.pending_ids().map(|ids| ids.len())
    }
}

/// A commit handle that knows which accepted write it tracks.
pub trait TrackedHandle {
    /// The id the store gave this write when it accepted it.
    fn operation_id(&self) -> PendingWriteId;
}
