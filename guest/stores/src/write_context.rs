//! The writer's identity carried by every durable write.

use crate::identity::{FenceEpoch, PolicyHash, RunId, ShardId, TenantId};

/// Who writes: the tenant and policy scope, and the run, shard and fence of the
/// writer. Rows copy it into their provenance; nothing checks the fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WriteContext {
    tenant_id: TenantId,
    policy_hash: PolicyHash,
    run_id: RunId,
    shard_id: ShardId,
    fence_epoch: FenceEpoch,
}

const _: () = assert!(core::mem::size_of::<WriteContext>() == 88);

impl WriteContext {
    /// Unchecked: any combination is a valid context.
    pub const fn new(
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
    ) -> Self {
        Self { tenant_id, policy_hash, run_id, shard_id, fence_epoch }
    }

    /// The tenant every row written belongs to.
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The detection policy in force.
    pub const fn policy_hash(&self) -> PolicyHash {
        self.policy_hash
    }

    /// The scan run writing.
    pub const fn run_id(&self) -> RunId {
        self.run_id
    }

    /// The shard of the run writing.
    pub const fn shard_id(&self) -> ShardId {
        self.shard_id
    }

    /// The lease epoch the writer holds; recorded, never checked by the stores.
    pub const fn fence_epoch(&self) -> FenceEpoch {
        self.fence_epoch
    }
}
