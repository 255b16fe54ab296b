//! Debug output that is part of the safety contract (docs/contract.md §1.4, §13.4):
//! secret-derived bytes never appear, public ids show a 4-byte prefix only,
//! and the stores format without touching a lock they might already hold.

mod common;

use common::{chain, hex};
use gossip_persistence::findings::FindingRecord;
use gossip_persistence::identity::{
    ConnectorInstanceIdHash, ConnectorTag, FenceEpoch, FindingId, JobId, LogicalTime, NormHash, ObjectVersionId,
    ObservationId, OccurrenceId, OpId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId, StableItemId,
    TenantId, TenantSecretKey, WorkerId, key_secret_hash,
};
use gossip_persistence::{
    CompletionOrder, DoneLedger, FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
};

/// Standard base64 without padding.
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
    }
    out
}

/// The fragment of `secret` that `debug` leaks, if any: the full hex (any
/// case), the hex of the first 8 bytes, or the unpadded base64.
fn leaked_fragment(debug: &str, secret: &[u8; 32]) -> Option<String> {
    let lower = debug.to_ascii_lowercase();
    let full_hex = hex(secret);
    let prefix_hex = hex(&secret[..8]);
    let b64 = base64_unpadded(secret);
    if lower.contains(&full_hex) {
        Some(full_hex)
    } else if lower.contains(&prefix_hex) {
        Some(prefix_hex)
    } else if b64.len() >= 4 && debug.contains(&b64) {
        Some(b64)
    } else {
        None
    }
}

#[test]
fn base64_encoder_matches_known_vectors() {
    assert_eq!(base64_unpadded(b""), "");
    assert_eq!(base64_unpadded(b"f"), "Zg");
    assert_eq!(base64_unpadded(b"fo"), "Zm8");
    assert_eq!(base64_unpadded(b"foo"), "Zm9v");
    assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_unpadded(&[0xff; 32]).len(), 43);
}

#[test]
fn leak_detector_detects_each_fragment() {
    let secret = [0xE7u8; 32];
    assert!(leaked_fragment(&format!("x{}", hex(&secret).to_uppercase()), &secret).is_some());
    assert!(leaked_fragment(&format!("x{}y", hex(&secret[..8])), &secret).is_some());
    assert!(leaked_fragment(&format!("[{}]", base64_unpadded(&secret)), &secret).is_some());
    assert!(leaked_fragment(&format!("{:?}", secret), &secret).is_none(), "decimal is not one of the checked forms");
    assert!(leaked_fragment("e7e7e7e7..", &secret).is_none(), "a 4-byte prefix is allowed");
}

#[test]
fn norm_hash_debug_is_redacted() {
    let norm = NormHash::from_digest([0xE7; 32]);
    let debug = format!("{norm:?}");
    assert_eq!(debug, "NormHash([redacted])");
    assert_eq!(leaked_fragment(&debug, norm.as_bytes()), None);
}

/// The conformance fixture's secret for seed 0x77.
fn fixture_secret() -> SecretHash {
    key_secret_hash(&TenantSecretKey::from_bytes([0x77 + 4; 32]), &NormHash::from_digest([0x77 + 5; 32]))
}

#[test]
fn secret_hash_debug_is_redacted() {
    let secret = fixture_secret();
    let debug = format!("{secret:?}");
    assert_eq!(debug, "SecretHash([redacted])");
    assert_eq!(leaked_fragment(&debug, secret.as_bytes()), None);
}

#[test]
fn finding_record_debug_hides_the_secret_hash() {
    let secret = fixture_secret();
    let finding = FindingRecord::new(
        TenantId::from_bytes([0x77; 32]),
        StableItemId::from_bytes([0x79; 32]),
        RuleFingerprint::from_bytes([0x7A; 32]),
        secret,
    );
    let debug = format!("{finding:?}");
    assert_eq!(leaked_fragment(&debug, secret.as_bytes()), None, "{debug}");
    assert!(debug.contains("SecretHash([redacted])"), "{debug}");
    assert!(debug.contains("TenantId(77777777..)"), "{debug}");
    assert!(debug.contains(&format!("{:?}", finding.finding_id())), "{debug}");
    // Pretty-printing goes through the same field formatters.
    assert_eq!(leaked_fragment(&format!("{finding:#?}"), secret.as_bytes()), None);
}

#[test]
fn tenant_secret_key_debug_is_redacted_and_equality_is_by_value() {
    let key = TenantSecretKey::from_bytes([0x5A; 32]);
    let debug = format!("{key:?}");
    assert_eq!(debug, "TenantSecretKey([redacted])");
    assert_eq!(leaked_fragment(&debug, key.as_bytes()), None);
    assert_eq!(key, TenantSecretKey::from_bytes([0x5A; 32]));
    let mut last = [0x5A; 32];
    last[31] = 0;
    assert_ne!(key, TenantSecretKey::from_bytes(last));
    let mut first = [0x5A; 32];
    first[0] = 0;
    assert_ne!(key, TenantSecretKey::from_bytes(first));
}

#[test]
fn records_that_carry_secrets_do_not_leak_them() {
    let c = chain(3, 40);
    let secret = *c.finding.secret_hash().as_bytes();
    for debug in [
        format!("{:?}", c.finding),
        format!("{:?}", c.occurrence),
        format!("{:?}", c.observation),
        format!("{:?}", c.batch()),
    ] {
        assert_eq!(leaked_fragment(&debug, &secret), None, "{debug}");
    }
}

macro_rules! assert_prefix_debug {
    ($($ty:ident),+) => {$(
        let id = $ty::from_bytes([0xAB; 32]);
        assert_eq!(format!("{id:?}"), concat!(stringify!($ty), "(abababab..)"));
        assert_eq!(format!("{id}"), format!("{id:?}"));
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
        assert_eq!(format!("{:?}", $ty::from_bytes(bytes)), concat!(stringify!($ty), "(01234567..)"));
        assert_eq!($ty::ZERO.as_bytes(), &[0u8; 32]);
    )+};
}

#[test]
fn public_ids_show_exactly_a_four_byte_prefix() {
    assert_prefix_debug!(
        TenantId,
        PolicyHash,
        StableItemId,
        ObjectVersionId,
        ConnectorInstanceIdHash,
        RuleFingerprint,
        FindingId,
        OccurrenceId,
        ObservationId,
        OvidHash
    );
    let mut low = [0u8; 32];
    low[31] = 1;
    let mut high = [0u8; 32];
    high[0] = 1;
    assert!(TenantId::from_bytes(low) < TenantId::from_bytes(high), "byte-lexicographic order");
}

#[test]
fn coordination_ids_print_in_decimal() {
    assert_eq!(format!("{:?}", RunId::from_raw(42)), "RunId(42)");
    assert_eq!(format!("{}", ShardId::from_raw(7)), "ShardId(7)");
    assert_eq!(format!("{:?}", WorkerId::from_raw(1)), "WorkerId(1)");
    assert_eq!(format!("{:?}", OpId::from_raw(2)), "OpId(2)");
    assert_eq!(format!("{:?}", JobId::from_raw(3)), "JobId(3)");
    assert_eq!(format!("{:?}", FenceEpoch::from_raw(5)), "FenceEpoch(5)");
    assert_eq!(format!("{:?}", LogicalTime::from_raw(99)), "LogicalTime(99)");
    assert!(ShardId::from_raw(1 << 63).is_derived());
    assert!(!ShardId::from_raw(u64::from(u32::MAX)).is_derived());
    assert_eq!((FenceEpoch::ZERO.as_raw(), FenceEpoch::INITIAL.as_raw()), (0, 1));
    assert!(FenceEpoch::INITIAL.is_assigned() && !FenceEpoch::ZERO.is_assigned());
    assert_eq!(FenceEpoch::INITIAL.checked_increment(), Some(FenceEpoch::from_raw(2)));
    assert_eq!(FenceEpoch::from_raw(u64::MAX).checked_increment(), None);
    assert_eq!(LogicalTime::ZERO.checked_add(3), Some(LogicalTime::from_raw(3)));
    assert_eq!(LogicalTime::from_raw(u64::MAX).checked_add(1), None);
}

#[test]
fn connector_tag_debug() {
    assert_eq!(format!("{:?}", ConnectorTag::try_from_ascii("github").expect("valid")), r#"ConnectorTag("github")"#);
    assert_eq!(
        format!("{:?}", ConnectorTag::from_bytes([0xff, 0, 0, 0, 0, 0, 0, 1])),
        "ConnectorTag(ff00000000000001)"
    );
    assert_eq!(format!("{:?}", ConnectorTag::from_bytes([0; 8])), "ConnectorTag(0000000000000000)");
}

#[test]
fn location_debug_is_display_safe_metadata() {
    let loc = gossip_persistence::Location::try_new("repo/path", Some("https://example.invalid/x")).expect("valid");
    let debug = format!("{loc:?}");
    assert!(debug.contains("repo/path") && debug.contains("https://example.invalid/x"), "{debug}");
}

#[test]
fn store_debug_reports_counts_without_blocking() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    assert_eq!(format!("{ledger:?}"), "InMemoryDoneLedger { durable_rows: 0, pending_ops: 0, auto_complete: false }");
    let pending = ledger.batch_upsert(&[common::clean_row(1, 2, 3, 1)]).expect("accepted");
    assert_eq!(format!("{ledger:?}"), "InMemoryDoneLedger { durable_rows: 0, pending_ops: 1, auto_complete: false }");
    assert_eq!(format!("{pending:?}"), "StoreHandle { store: DoneLedger, op_id: PendingWriteId(1) }");
    ledger.release_all(CompletionOrder::OldestFirst).expect("release");
    ledger.set_auto_complete(true).expect("switch");
    assert_eq!(format!("{ledger:?}"), "InMemoryDoneLedger { durable_rows: 1, pending_ops: 0, auto_complete: true }");
    drop(pending);

    let sink = InMemoryFindingsSink::new();
    let c = chain(1, 10);
    let h = sink.upsert_batch(c.batch()).expect("accepted");
    assert_eq!(
        format!("{sink:?}"),
        "InMemoryFindingsSink { durable_findings: 1, durable_occurrences: 1, durable_observations: 1, pending_ops: 0, auto_complete: true }"
    );
    assert_eq!(format!("{h:?}"), "StoreHandle { store: Findings, op_id: PendingWriteId(1) }");
}
