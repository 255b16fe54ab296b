//! The registry of BLAKE3 derive-key domain strings. Each derivation names
//! exactly one of these, so two kinds of id can never collide.

/// Reserved: coordination split shard ids.
pub const COORD_SPLIT_ID: &str = "gossip/coord/v1/split-id";
/// Reserved: coordination operation payloads.
pub const COORD_OP_PAYLOAD: &str = "gossip/coord/v1/op-payload";
/// Derives [`FindingId`](super::FindingId).
pub const FINDING_ID: &str = "gossip/finding/v1";
/// Derives [`OccurrenceId`](super::OccurrenceId).
pub const OCCURRENCE_ID: &str = "gossip/occurrence/v1";
/// Derives [`ObservationId`](super::ObservationId).
pub const OBSERVATION_ID: &str = "gossip/observation/v1";
/// Hashed as data ahead of the norm hash in keyed mode, not a derive-key context.
pub const SECRET_HASH: &str = "gossip/secret-hash/v1";
/// Derives [`StableItemId`](super::StableItemId).
pub const ITEM_ID: &str = "gossip/item-id/v1";
/// Derives [`ConnectorInstanceIdHash`](super::ConnectorInstanceIdHash).
pub const CONNECTOR_INSTANCE_ID: &str = "gossip/connector-instance-id/v1";
/// Derives [`ObjectVersionId`](super::ObjectVersionId).
pub const OBJECT_VERSION: &str = "gossip/object-version/v1";
/// Reserved: rule fingerprints.
pub const RULE_FINGERPRINT: &str = "gossip/rule/v1";
/// Derives [`PolicyHash`](super::PolicyHash).
pub const POLICY_HASH: &str = "gossip/policy-hash/v2";
/// Reserved: a policy's rules digest.
pub const RULES_DIGEST: &str = "gossip/rules-digest/v1";
/// Derives [`OvidHash`](super::OvidHash).
pub const OVID_HASH: &str = "gossip/persistence/v1/ovid";
/// Reserved: digests of done-ledger keys.
pub const DONE_KEY: &str = "gossip/persistence/v1/done-key";
/// Reserved: triage groups.
pub const TRIAGE_GROUP: &str = "gossip/persistence/v1/triage-group";
/// Reserved: worker coordination telemetry.
pub const WORKER_COORDINATION_TELEMETRY: &str = "gossip/worker/v1/coordination-telemetry";
/// Reserved: git repository ids.
pub const GIT_REPO_ID: &str = "gossip/git/v1/repo-id";
/// Reserved: git mirror paths.
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
