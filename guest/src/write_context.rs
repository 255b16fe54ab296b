//! The writer's identity carried by every durable write.

use crate::identity::{FenceEpoch, PolicyHash, RunId, ShardId, TenantId};

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
    pub const fn new(
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
    ) -> Self {
        Self { tenant_id, policy_hash, run_id, shard_id, fence_epoch }
    }

    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    pub const fn policy_hash(&self) -> PolicyHash {
        self.policy_hash
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
}
