//! The registry of BLAKE3 derive-key domain strings. Each derivation names
//! exactly one of these, so two kinds of id can never collide.

pub const COORD_SPLIT_ID: &str = "gossip/coord/v1/split-id";
pub const COORD_OP_PAYLOAD: &str = "gossip/coord/v1/op-payload";
pub const FINDING_ID: &str = "gossip/finding/v1";
pub const OCCURRENCE_ID: &str = "gossip/occurrence/v1";
pub const OBSERVATION_ID: &str = "gossip/observation/v1";
pub const SECRET_HASH: &str = "gossip/secret-hash/v1";
pub const ITEM_ID: &str = "gossip/item-id/v1";
pub const CONNECTOR_INSTANCE_ID: &str = "gossip/connector-instance-id/v1";
pub const OBJECT_VERSION: &str = "gossip/object-version/v1";
pub const RULE_FINGERPRINT: &str = "gossip/rule/v1";
pub const POLICY_HASH: &str = "gossip/policy-hash/v2";
pub const RULES_DIGEST: &str = "gossip/rules-digest/v1";
pub const OVID_HASH: &str = "gossip/persistence/v1/ovid";
pub const DONE_KEY: &str = "gossip/persistence/v1/done-key";
pub const TRIAGE_GROUP: &str = "gossip/persistence/v1/triage-group";
pub const WORKER_COORDINATION_TELEMETRY: &str = "gossip/worker/v1/coordination-telemetry";
pub const GIT_REPO_ID: &str = "gossip/git/v1/repo-id";
pub const GIT_MIRROR_PATH: &str = "gossip/git/v1/mirror-path";

/// Every registered domain string, for the registry's own well-formedness test.
pub const ALL: [&str; 18] = [
    COORD_SPLIT_ID,
    COORD_OP_PAYLOAD,
    FINDING_ID,
    OCCURRENCE_ID,
    OBSERVATION_ID,
    SECRET_HASH,
    ITEM_ID,
    CONNECTOR_INSTANCE_ID,
    OBJECT_VERSION,
    RULE_FINGERPRINT,
    POLICY_HASH,
    RULES_DIGEST,
    OVID_HASH,
    DONE_KEY,
    TRIAGE_GROUP,
    WORKER_COORDINATION_TELEMETRY,
    GIT_REPO_ID,
    GIT_MIRROR_PATH,
];
