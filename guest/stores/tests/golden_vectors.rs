//! Every golden vector of docs/contract.md §2.4, plus an independent recomputation
//! of each documented byte layout with plain `blake3` calls, and the domain
//! string registry.

mod common;

use std::collections::HashSet;

use common::hex;
use gossip_persistence::done_ledger::DoneLedgerKey;
use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::hashing::{CanonicalBytes, domain_hasher, finalize_32, finalize_64};
use gossip_persistence::identity::{
    ConnectorInstanceIdHash, ConnectorTag, FenceEpoch, FindingId, FindingIdInputs, IdHashMode, ItemIdentityKey,
    LogicalTime, NormHash, ObjectVersionId, ObservationIdInputs, OccurrenceId, OccurrenceIdInputs, OvidHash,
    OvidHashInputs, PolicyHash, PolicyHashInputs, RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
    TenantSecretKey, VersionId, derive_finding_id, derive_observation_id, derive_occurrence_id, derive_ovid_hash,
    domain, key_secret_hash,
};

const FINDING_ID: &str = "81ce2885df85e9630d46a02959e93acf8ace8e79016ee9d873c109bb20761fd8";
const OCCURRENCE_ID: &str = "ccebcdede965abcd388e68e2d67d298c782d5302f71adf522446cde99623dc85";
const OBSERVATION_ID: &str = "85454a298ecd3a949cb1b9ff040807dacef8fbce52ec5aebfcf6140a3c522820";
const OBJECT_VERSION_ID: &str = "cfae6513765d943a5643f454295c81ff83ffca49387f1b153d69d66250f6de2e";
const SECRET_HASH: &str = "6ba4c79833b05f0e0d205db89babc5fb6b7de227f96268542d67e2f264963cbe";
const POLICY_HASH: &str = "29f1e1f8f592a9eccaeb83f7987f636a39d592eb71164e73381e83774cf1f85c";
const DONE_KEY_DIGEST: &str = "5e27eaa0abcf3d6a721958222ea7ee068b00bc182123d6beb5a467aaa1d8016b";
const OVID_STRONG: &str = "dea50d63749a13a30bf6eb6556fd9eaf244fed258bb2bfa26f33ecd26e6a6c37";
const OVID_WEAK: &str = "7f1749a112be31cdacbc90c7f353617e117c239383fe9d78bdd54328f66d2492";
const CONNECTOR_INSTANCE: &str = "ac8d5ef3d400ed9c7943a106e74914ffe14c23dce37e62ee83bb6eaa0a1d11ab";
const STABLE_ITEM_ID: &str = "1c69b550547c36c498844740ea1f1c03d9750b34074cd6826a3e19cfc0a57d61";

/// BLAKE3 derive-key over explicitly concatenated bytes: the layout as the
/// contract documents it, built without `CanonicalBytes`.
fn derive_key_of(context: &str, parts: &[&[u8]]) -> String {
    hex(&blake3::derive_key(context, &parts.concat()))
}

fn finding_inputs() -> FindingIdInputs {
    FindingIdInputs {
        tenant: TenantId::from_bytes([0x11; 32]),
        item: StableItemId::from_bytes([0x22; 32]),
        rule: RuleFingerprint::from_bytes([0x33; 32]),
        secret: SecretHash::from_persisted_bytes([0x44; 32]),
    }
}

#[test]
fn finding_id_golden_vector() {
    let id = derive_finding_id(&finding_inputs());
    assert_eq!(hex(id.as_bytes()), FINDING_ID);
    assert_eq!(derive_key_of("gossip/finding/v1", &[&[0x11; 32], &[0x22; 32], &[0x33; 32], &[0x44; 32]]), FINDING_ID);
    let i = finding_inputs();
    let record = FindingRecord::new(i.tenant, i.item, i.rule, i.secret);
    assert_eq!(record.finding_id(), id);
    assert!(record.verify_id());
}

#[test]
fn occurrence_id_golden_vector() {
    let inputs = OccurrenceIdInputs {
        finding: FindingId::from_bytes([0x55; 32]),
        version: ObjectVersionId::from_bytes([0x66; 32]),
        byte_offset: 1024,
        byte_length: 42,
    };
    let id = derive_occurrence_id(&inputs);
    assert_eq!(hex(id.as_bytes()), OCCURRENCE_ID);
    assert_eq!(
        derive_key_of(
            "gossip/occurrence/v1",
            &[&[0x55; 32], &[0x66; 32], &1024u64.to_le_bytes(), &42u64.to_le_bytes()]
        ),
        OCCURRENCE_ID
    );
    // The tenant is not part of the derivation.
    for tenant_seed in [0u8, 0x99] {
        let record = OccurrenceRecord::try_new(
            TenantId::from_bytes([tenant_seed; 32]),
            inputs.finding,
            inputs.version,
            1024,
            42,
        )
        .expect("non-zero length");
        assert_eq!(record.occurrence_id(), id);
        assert!(record.verify_id());
    }
}

#[test]
fn observation_id_golden_vector() {
    let inputs = ObservationIdInputs {
        tenant: TenantId::from_bytes([0x77; 32]),
        policy: PolicyHash::from_bytes([0x88; 32]),
        occurrence: OccurrenceId::from_bytes([0x99; 32]),
    };
    let id = derive_observation_id(&inputs);
    assert_eq!(hex(id.as_bytes()), OBSERVATION_ID);
    assert_eq!(derive_key_of("gossip/observation/v1", &[&[0x77; 32], &[0x88; 32], &[0x99; 32]]), OBSERVATION_ID);
    let record = ObservationRecord::new(
        inputs.tenant,
        inputs.occurrence,
        inputs.policy,
        OvidHash::from_bytes([1; 32]),
        RunId::from_raw(1),
        ShardId::from_raw(2),
        FenceEpoch::from_raw(3),
        LogicalTime::from_raw(4),
    );
    assert_eq!(record.observation_id(), id);
    assert_eq!(record.derived_observation_id(), id);
    assert!(record.verify_id());
}

#[test]
fn object_version_id_golden_vector() {
    let id = ObjectVersionId::from_version_bytes(b"abc123def456").expect("non-empty");
    assert_eq!(hex(id.as_bytes()), OBJECT_VERSION_ID);
    assert_eq!(derive_key_of("gossip/object-version/v1", &[&12u32.to_le_bytes(), b"abc123def456"]), OBJECT_VERSION_ID);
}

#[test]
fn key_secret_hash_golden_vector() {
    let secret = key_secret_hash(&TenantSecretKey::from_bytes([0xBB; 32]), &NormHash::from_digest([0xCC; 32]));
    assert_eq!(hex(secret.as_bytes()), SECRET_HASH);
    // Keyed mode, with the domain tag fed as data rather than as a context.
    let mut keyed = blake3::Hasher::new_keyed(&[0xBB; 32]);
    keyed.update(b"gossip/secret-hash/v1");
    keyed.update(&[0xCC; 32]);
    assert_eq!(hex(keyed.finalize().as_bytes()), SECRET_HASH);
}

#[test]
fn policy_hash_golden_vector() {
    let inputs = PolicyHashInputs {
        policy_hash_version: PolicyHash::CURRENT_VERSION,
        id_hash_mode: IdHashMode::KeyedV1,
        evidence_hash_version: PolicyHash::CURRENT_EVIDENCE_VERSION,
        rules_digest: [0xAA; 32],
    };
    assert_eq!(PolicyHash::CURRENT_VERSION, 1);
    assert_eq!(PolicyHash::CURRENT_EVIDENCE_VERSION, 1);
    assert_eq!(IdHashMode::Unkeyed as u8, 0);
    assert_eq!(IdHashMode::KeyedV1 as u8, 1);
    assert_eq!(hex(PolicyHash::derive(&inputs).as_bytes()), POLICY_HASH);
    assert_eq!(
        derive_key_of("gossip/policy-hash/v2", &[&1u32.to_le_bytes(), &[1], &1u32.to_le_bytes(), &[0xAA; 32]]),
        POLICY_HASH
    );
    let unkeyed = PolicyHash::derive(&PolicyHashInputs { id_hash_mode: IdHashMode::Unkeyed, ..inputs });
    assert_ne!(hex(unkeyed.as_bytes()), POLICY_HASH, "the mode byte is part of the input");
}

#[test]
fn done_ledger_key_canonical_digest_golden_vector() {
    let key = DoneLedgerKey::new(
        TenantId::from_bytes([5; 32]),
        PolicyHash::from_bytes([7; 32]),
        OvidHash::from_bytes([11; 32]),
    );
    let mut hasher = blake3::Hasher::new();
    key.write_canonical(&mut hasher);
    assert_eq!(hex(hasher.finalize().as_bytes()), DONE_KEY_DIGEST);
    assert_eq!(hex(blake3::hash(&[[5u8; 32], [7; 32], [11; 32]].concat()).as_bytes()), DONE_KEY_DIGEST);
}

#[test]
fn ovid_hash_golden_vectors_strong_and_weak() {
    let stable_item_id = StableItemId::from_bytes([7; 32]);
    let version = ObjectVersionId::from_bytes([11; 32]);
    let strong = derive_ovid_hash(&OvidHashInputs { stable_item_id, version: VersionId::Strong(version) });
    let weak = derive_ovid_hash(&OvidHashInputs { stable_item_id, version: VersionId::Weak(version) });
    assert_eq!(hex(strong.as_bytes()), OVID_STRONG);
    assert_eq!(hex(weak.as_bytes()), OVID_WEAK);
    assert_eq!(derive_key_of("gossip/persistence/v1/ovid", &[&[7; 32], &[0], &[11; 32]]), OVID_STRONG);
    assert_eq!(derive_key_of("gossip/persistence/v1/ovid", &[&[7; 32], &[1], &[11; 32]]), OVID_WEAK);
    assert!(VersionId::Strong(version).is_strong());
    assert!(!VersionId::Weak(version).is_strong());
    assert_eq!(VersionId::Weak(version).object_version_id(), version);
}

fn github_instance() -> ConnectorInstanceIdHash {
    ConnectorInstanceIdHash::from_instance_id_bytes(b"github-installation-1").expect("non-empty")
}

#[test]
fn connector_instance_id_hash_golden_vector() {
    assert_eq!(hex(github_instance().as_bytes()), CONNECTOR_INSTANCE);
    assert_eq!(
        derive_key_of("gossip/connector-instance-id/v1", &[&21u32.to_le_bytes(), b"github-installation-1"]),
        CONNECTOR_INSTANCE
    );
}

#[test]
fn stable_item_id_golden_vector() {
    let tag = ConnectorTag::try_from_ascii("github").expect("valid tag");
    assert_eq!(tag.as_bytes(), b"github\0\0");
    let locator = b"org/repo\0src/main.rs".to_vec();
    let item = ItemIdentityKey { connector: tag, connector_instance: github_instance(), locator: locator.clone() };
    let id = item.stable_id().expect("non-empty locator");
    assert_eq!(hex(id.as_bytes()), STABLE_ITEM_ID);
    assert_eq!(
        derive_key_of(
            "gossip/item-id/v1",
            &[b"github\0\0", github_instance().as_bytes(), &(locator.len() as u32).to_le_bytes(), &locator]
        ),
        STABLE_ITEM_ID
    );
}

#[test]
fn canonical_encoding_rules() {
    let digest = |write: &dyn Fn(&mut blake3::Hasher)| {
        let mut h = blake3::Hasher::new();
        write(&mut h);
        *h.finalize().as_bytes()
    };
    assert_eq!(digest(&|h| 0xABu8.write_canonical(h)), *blake3::hash(&[0xAB]).as_bytes());
    assert_eq!(digest(&|h| 0x0102_0304u32.write_canonical(h)), *blake3::hash(&[4, 3, 2, 1]).as_bytes());
    assert_eq!(digest(&|h| 0x0102u64.write_canonical(h)), *blake3::hash(&[2, 1, 0, 0, 0, 0, 0, 0]).as_bytes());
    assert_eq!(digest(&|h| [9u8; 32].write_canonical(h)), *blake3::hash(&[9; 32]).as_bytes());
    assert_eq!(digest(&|h| b"ab".as_slice().write_canonical(h)), *blake3::hash(&[2, 0, 0, 0, b'a', b'b']).as_bytes());
    assert_eq!(digest(&|h| b"".as_slice().write_canonical(h)), *blake3::hash(&[0, 0, 0, 0]).as_bytes());
    assert_eq!(digest(&|h| RunId::from_raw(5).write_canonical(h)), *blake3::hash(&5u64.to_le_bytes()).as_bytes());
    assert_eq!(digest(&|h| FenceEpoch::from_raw(6).write_canonical(h)), *blake3::hash(&6u64.to_le_bytes()).as_bytes());
    assert_eq!(digest(&|h| LogicalTime::from_raw(7).write_canonical(h)), *blake3::hash(&7u64.to_le_bytes()).as_bytes());
}

#[test]
fn hashing_helpers_use_derive_key_mode() {
    let mut h = domain_hasher("gossip/test/v1");
    h.update(b"payload");
    let full = finalize_32(&h);
    assert_eq!(full, blake3::derive_key("gossip/test/v1", b"payload"));
    let mut first8 = [0u8; 8];
    first8.copy_from_slice(&full[..8]);
    assert_eq!(finalize_64(&h), u64::from_le_bytes(first8));
}

#[test]
fn domain_registry_is_well_formed() {
    assert_eq!(domain::ALL.len(), 18);
    let unique: HashSet<&str> = domain::ALL.iter().copied().collect();
    assert_eq!(unique.len(), 18, "domain strings must be unique");
    for tag in domain::ALL {
        assert!((11..=64).contains(&tag.len()), "{tag:?} has length {}", tag.len());
        assert!(
            tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'/' || b == b'-'),
            "{tag:?} has a byte outside [a-z0-9/-]"
        );
        assert!(tag.starts_with("gossip/"), "{tag:?}");
    }
    let expected = [
        "gossip/coord/v1/split-id",
        "gossip/coord/v1/op-payload",
        "gossip/finding/v1",
        "gossip/occurrence/v1",
        "gossip/observation/v1",
        "gossip/secret-hash/v1",
        "gossip/item-id/v1",
        "gossip/connector-instance-id/v1",
        "gossip/object-version/v1",
        "gossip/rule/v1",
        "gossip/policy-hash/v2",
        "gossip/rules-digest/v1",
        "gossip/persistence/v1/ovid",
        "gossip/persistence/v1/done-key",
        "gossip/persistence/v1/triage-group",
        "gossip/worker/v1/coordination-telemetry",
        "gossip/git/v1/repo-id",
        "gossip/git/v1/mirror-path",
    ];
    assert_eq!(unique, expected.into_iter().collect::<HashSet<_>>());
    assert_eq!(domain::FINDING_ID, "gossip/finding/v1");
    assert_eq!(domain::OVID_HASH, "gossip/persistence/v1/ovid");
    assert_eq!(domain::SECRET_HASH, "gossip/secret-hash/v1");
}
