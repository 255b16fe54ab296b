//! Id derivations refuse inputs their canonical encoding cannot carry
//! (a `u32` length prefix) with a typed error, never a panic.

use gossip_persistence::ConnectorInputError;
use gossip_persistence::identity::{
    ConnectorInstanceIdHash, ConnectorTag, ItemIdentityKey, MAX_DERIVATION_INPUT, ObjectVersionId,
};

/// Zeroed pages are mapped lazily, so a 4 GiB input costs no real memory
/// unless something reads it; the check must come before any hashing.
fn oversize() -> Vec<u8> {
    vec![0u8; MAX_DERIVATION_INPUT + 1]
}

fn assert_too_large(result: Result<impl std::fmt::Debug, ConnectorInputError>, field: &str) {
    match result {
        Err(ConnectorInputError::TooLarge { field: f, size, max }) => {
            assert_eq!(f, field);
            assert_eq!((size, max), (MAX_DERIVATION_INPUT + 1, MAX_DERIVATION_INPUT));
        }
        other => panic!("expected TooLarge for {field}, got {other:?}"),
    }
}

#[test]
fn derivations_from_byte_strings_over_4_gib_are_errors() {
    assert_too_large(ObjectVersionId::from_version_bytes(&oversize()), "ObjectVersion");
    assert_too_large(ConnectorInstanceIdHash::from_instance_id_bytes(&oversize()), "ConnectorInstanceId");
    let key = ItemIdentityKey {
        connector: ConnectorTag::try_from_ascii("s3").expect("valid tag"),
        connector_instance: ConnectorInstanceIdHash::from_instance_id_bytes(b"bucket").expect("valid"),
        locator: oversize(),
    };
    assert_too_large(key.stable_id(), "ItemIdentityKey.locator");
}

#[test]
fn inputs_at_the_limit_boundary_are_still_derived() {
    // The limit sits below u32::MAX, where the length prefix is plain.
    assert_eq!(MAX_DERIVATION_INPUT, u32::MAX as usize - 1);
    assert!(ObjectVersionId::from_version_bytes(b"v1").is_ok());
}
