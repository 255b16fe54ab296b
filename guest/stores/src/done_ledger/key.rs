//! The done-ledger's dedup key. Deliberately excludes the shard: the same
//! object version is done once per tenant and policy, whoever scanned it.

use crate::identity::hashing::CanonicalBytes;
use crate::identity::{OvidHash, PolicyHash, TenantId};

/// A row's identity; orders by tenant, then policy, then ovid, each by bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DoneLedgerKey {
    tenant_id: TenantId,
    policy_hash: PolicyHash,
    ovid_hash: OvidHash,
}

impl DoneLedgerKey {
    /// Any three ids form a key: the ovid is the writer's choice, never derived here.
    pub const fn new(tenant_id: TenantId, policy_hash: PolicyHash, ovid_hash: OvidHash) -> Self {
        Self { tenant_id, policy_hash, ovid_hash }
    }

    /// The tenant the row belongs to.
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The detection policy the object version was scanned under.
    pub const fn policy_hash(&self) -> PolicyHash {
        self.policy_hash
    }

    /// The object version (`docs/contract.md §2.3`).
    pub const fn ovid_hash(&self) -> OvidHash {
        self.ovid_hash
    }
}

impl CanonicalBytes for DoneLedgerKey {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        self.tenant_id.write_canonical(hasher);
        self.policy_hash.write_canonical(hasher);
        self.ovid_hash.write_canonical(hasher);
    }
}
