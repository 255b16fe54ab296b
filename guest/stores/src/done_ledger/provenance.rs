//! Who wrote a done-ledger row, and when (audit metadata, not part of the key).

use crate::identity::{FenceEpoch, LogicalTime, RunId, ShardId};
use crate::write_context::WriteContext;

/// Which run, shard and fence wrote a row, and when its scan started and
/// finished. A merge copies it whole from the winning row (`docs/contract.md §4.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DoneLedgerProvenance {
    run_id: RunId,
    shard_id: ShardId,
    fence_epoch: FenceEpoch,
    started_at: LogicalTime,
    finished_at: LogicalTime,
}

impl DoneLedgerProvenance {
    /// Accepts `started_at > finished_at` so rows can be rebuilt from storage;
    /// every write path rejects such a row with `ProvenanceOrdering` instead
    /// (the upstream panics here in debug builds, which bad input must not cause).
    pub const fn new(
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        started_at: LogicalTime,
        finished_at: LogicalTime,
    ) -> Self {
        Self { run_id, shard_id, fence_epoch, started_at, finished_at }
    }

    /// A scan under `wc` (its run, shard and fence) between these times; unchecked,
    /// like `new`.
    pub const fn from_write_context(wc: &WriteContext, started_at: LogicalTime, finished_at: LogicalTime) -> Self {
        Self::new(wc.run_id(), wc.shard_id(), wc.fence_epoch(), started_at, finished_at)
    }

    /// The run that wrote the row; read as signed in the merge tie-break (`docs/contract.md §4.2`).
    pub const fn run_id(&self) -> RunId {
        self.run_id
    }

    /// The shard that scanned the object version; read as signed in the merge tie-break.
    pub const fn shard_id(&self) -> ShardId {
        self.shard_id
    }

    /// The writer's fence epoch; never checked for staleness, only a tie-break.
    pub const fn fence_epoch(&self) -> FenceEpoch {
        self.fence_epoch
    }

    /// When the scan started, in logical time.
    pub const fn started_at(&self) -> LogicalTime {
        self.started_at
    }

    /// When the scan finished, in logical time; the merge's first tie-break after status.
    pub const fn finished_at(&self) -> LogicalTime {
        self.finished_at
    }

    /// Whether `started_at <= finished_at`, which every write path requires.
    pub const fn is_ordered(&self) -> bool {
        self.started_at.as_raw() <= self.finished_at.as_raw()
    }
}
