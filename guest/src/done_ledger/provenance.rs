//! Who wrote a done-ledger row, and when (audit metadata, not part of the key).

use crate::identity::{FenceEpoch, LogicalTime, RunId, ShardId};
use crate::write_context::WriteContext;

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

    pub const fn from_write_context(wc: &WriteContext, started_at: LogicalTime, finished_at: LogicalTime) -> Self {
        Self::new(wc.run_id(), wc.shard_id(), wc.fence_epoch(), started_at, finished_at)
    }

    pub const fn run_id(&self) -> RunId {
        self.run_id
    }

    pub const fn shard_id(&self) -> ShardId {
        self.shard_id
    }

    pub const fn fence_epoch(&self) -> FenceEpoch {
        self.fence_epoch
    }

    pub const fn started_at(&self) -> LogicalTime {
        self.started_at
    }

    pub const fn finished_at(&self) -> LogicalTime {
        self.finished_at
    }

    pub const fn is_ordered(&self) -> bool {
        self.started_at.as_raw() <= self.finished_at.as_raw()
    }
}
