//! The host's public WIT records redact like the native ones: the `Debug` of
//! `gossip_host::bindings::exports::gossip::persistence::types::Finding`, and
//! of the example worker's `gossip_host::worker::wit::Secret` and the
//! `ObjectScan` request that holds it, never shows a `secret-hash`, in any
//! encoding the suite's `find_leak` looks for nor as the digest's words; and
//! the hand-written records still cross the component boundary with every
//! field intact.

use gossip_host::bindings::exports::gossip::persistence::types as wit;
use gossip_host::worker::{WorkerRuntime, wit as worker_wit, wit_digest};
use gossip_host::{ComponentRuntime, RuntimeConfig};
use gossip_persistence::FindingsInspect;
use gossip_persistence::findings::FindingRecord;
use gossip_persistence::identity::{RuleFingerprint, SecretHash, StableItemId, TenantId};
use gossip_suite::conformance::find_leak;

/// A secret hash whose words are all large, so none of their decimal or hex
/// forms can turn up by chance in the other fields' output.
const SECRET: [u8; 32] = [
    0xC3, 0x5A, 0x91, 0x2E, 0xD7, 0x48, 0xB6, 0xF1, 0x0D, 0x63, 0xAC, 0x97, 0x3B, 0xE4, 0x52, 0x8F, 0x7E, 0x19, 0xC8,
    0xA5, 0x26, 0xDB, 0x84, 0xB0, 0x4F, 0xE2, 0x6A, 0x13, 0x9D, 0x35, 0xF8, 0xC7,
];

/// The fragment of `secret` that `debug` shows: `find_leak`'s encodings of
/// its bytes, or one of its four digest words in decimal (how bindgen's
/// `Debug` prints a `digest`) or hex.
fn leak(debug: &str, secret: &[u8; 32]) -> Option<String> {
    if let Some(fragment) = find_leak(debug, secret) {
        return Some(fragment);
    }
    let lower = debug.to_ascii_lowercase();
    let (a, b, c, d) = wit_digest(secret);
    [a, b, c, d].into_iter().flat_map(|word| [word.to_string(), format!("{word:x}")]).find(|f| lower.contains(f))
}

fn record() -> FindingRecord {
    FindingRecord::new(
        TenantId::from_bytes([1; 32]),
        StableItemId::from_bytes([2; 32]),
        RuleFingerprint::from_bytes([3; 32]),
        SecretHash::from_persisted_bytes(SECRET),
    )
}

fn to_wit(record: &FindingRecord) -> wit::Finding {
    wit::Finding {
        tenant_id: wit_digest(record.tenant_id().as_bytes()),
        finding_id: wit_digest(record.finding_id().as_bytes()),
        stable_item_id: wit_digest(record.stable_item_id().as_bytes()),
        rule_fingerprint: wit_digest(record.rule_fingerprint().as_bytes()),
        secret_hash: wit_digest(record.secret_hash().as_bytes()),
    }
}

/// Every field (the record has no `PartialEq`, as bindgen generates none).
fn fields(f: &wit::Finding) -> [wit::Digest; 5] {
    [f.tenant_id, f.finding_id, f.stable_item_id, f.rule_fingerprint, f.secret_hash]
}

#[test]
fn the_leak_check_sees_a_digest_printed_as_bindgen_prints_it() {
    let words = wit_digest(&SECRET);
    // Bindgen's `Debug` of a `digest`: the tuple of words, in decimal.
    assert!(leak(&format!("{words:?}"), &SECRET).is_some());
    assert!(leak(&format!("{words:x?}"), &SECRET).is_some());
    let hex: String = SECRET.iter().map(|b| format!("{b:02X}")).collect();
    assert!(leak(&hex, &SECRET).is_some());
    assert_eq!(leak("Finding { secret-hash: [redacted] }", &SECRET), None);
}

#[test]
fn a_wit_finding_debug_redacts_the_secret_hash_and_prints_the_rest() {
    let finding = to_wit(&record());
    let debug = format!("{finding:?}");
    assert_eq!(leak(&debug, &SECRET), None, "{debug}");
    assert!(debug.contains("secret-hash: [redacted]"), "{debug}");
    // The other fields print as bindgen prints them: WIT names, decimal words.
    assert!(debug.starts_with("Finding { tenant-id: "), "{debug}");
    assert!(debug.contains(&format!("finding-id: {:?}", finding.finding_id)), "{debug}");
    assert!(debug.contains(&format!("rule-fingerprint: {:?}", finding.rule_fingerprint)), "{debug}");
    // Nested, and pretty-printed.
    let nested = format!("{:#?}", (Some(finding), vec![finding]));
    assert_eq!(leak(&nested, &SECRET), None, "{nested}");
}

#[test]
fn a_wit_finding_round_trips_through_the_component_with_its_secret_hash() {
    let runtime = ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, RuntimeConfig::default())
        .expect("the bundled component loads");
    let sink = runtime.new_sink().expect("instance");
    let native = record();
    let sent = to_wit(&native);
    let answers = sink
        .with_raw(move |store, api, this| {
            let findings = api.gossip_persistence_findings();
            // Lowered as the component's `finding`, lifted back from `get-finding` and a snapshot.
            let write = match findings.findings_sink().call_upsert_batch(&mut *store, this, &[sent], &[], &[])? {
                Ok(write) => write,
                Err(e) => return Ok(Err(e)),
            };
            let receipt = findings.findings_write().call_poll(&mut *store, write)?;
            write.resource_drop(&mut *store)?;
            let got = findings.findings_sink().call_get_finding(&mut *store, this, sent.tenant_id, sent.finding_id)?;
            let listed = findings.findings_sink().call_findings_snapshot(&mut *store, this, None, 10)?;
            Ok(Ok((receipt, got, listed)))
        })
        .expect("no trap")
        .expect("the batch is accepted");
    let (receipt, got, listed) = answers;
    let receipt = receipt.expect("auto-complete: durable at once").expect("committed");
    assert_eq!((receipt.finding_count, receipt.occurrence_count, receipt.observation_count), (1, 0, 0));
    let got = got.expect("read").expect("the finding is durable");
    assert_eq!(fields(&got), fields(&sent));
    let listed = listed.expect("snapshot");
    assert_eq!(listed.iter().map(fields).collect::<Vec<_>>(), vec![fields(&sent)]);
    assert_eq!(leak(&format!("{got:?} {listed:?}"), &SECRET), None);
    // The host's decoder reads the same row back as the native record.
    assert_eq!(sink.get_finding(native.tenant_id(), native.finding_id()).expect("read"), Some(native));
}

fn worker_secret() -> worker_wit::Secret {
    worker_wit::Secret {
        rule_fingerprint: wit_digest(&[3; 32]),
        secret_hash: wit_digest(&SECRET),
        byte_offset: 17,
        byte_length: 40,
        location: Some(wit::Location { display: "src/config.rs".to_owned(), url: None }),
    }
}

fn object_scan() -> worker_wit::ObjectScan {
    worker_wit::ObjectScan {
        stable_item_id: wit_digest(&[2; 32]),
        object_version_id: wit_digest(&[4; 32]),
        strong_version: true,
        bytes_scanned: 4096,
        secrets: vec![worker_secret()],
    }
}

#[test]
fn a_worker_secret_and_its_request_debug_redact_the_secret_hash_and_print_the_rest() {
    let secret = worker_secret();
    let debug = format!("{secret:?}");
    assert_eq!(leak(&debug, &SECRET), None, "{debug}");
    assert!(debug.contains("secret-hash: [redacted]"), "{debug}");
    // The other fields print as bindgen prints them: WIT names, decimal words.
    assert!(debug.starts_with(&format!("Secret {{ rule-fingerprint: {:?}, ", secret.rule_fingerprint)), "{debug}");
    assert!(debug.contains("byte-offset: 17, byte-length: 40, location: Some(Location { display: "), "{debug}");
    // The request that holds it, nested, and pretty-printed.
    let object = object_scan();
    let debug = format!("{object:?}");
    assert_eq!(leak(&debug, &SECRET), None, "{debug}");
    assert!(debug.starts_with("ObjectScan { stable-item-id: "), "{debug}");
    assert!(debug.contains("secrets: [Secret { rule-fingerprint: "), "{debug}");
    assert!(debug.contains("secret-hash: [redacted]"), "{debug}");
    let nested = format!("{:#?}", (Some(object.clone()), vec![object], &[secret][..]));
    assert_eq!(leak(&nested, &SECRET), None, "{nested}");
}

#[test]
fn a_worker_secret_crosses_into_the_worker_with_its_secret_hash() {
    let runtime = WorkerRuntime::from_bytes("scanning worker", gossip_artifacts::PLUGGED_WORKER)
        .expect("the plugged worker loads");
    let mut worker = runtime.spawn().expect("a worker starts");
    let context = worker_wit::ScanContext {
        tenant_id: wit_digest(&[1; 32]),
        policy_hash: wit_digest(&[5; 32]),
        run_id: 1,
        shard_id: 0,
        fence_epoch: 1,
        started_at: 10,
        finished_at: 20,
    };
    // Lowered as the component's `object-scan`, its `secret` inside.
    let report = worker.scan(context, &[object_scan()]).expect("the scan succeeds");
    assert_eq!(
        report.scanned.iter().map(|s| (s.findings, s.occurrences, s.observations)).collect::<Vec<_>>(),
        vec![(1, 1, 1)]
    );
    let rows = worker.findings_rows().expect("read back");
    // The worker's finding carries the hash it was given; every field arrived.
    let hashes: Vec<[u8; 32]> = rows.findings.iter().map(|f| *f.secret_hash().as_bytes()).collect();
    assert_eq!(hashes, vec![SECRET]);
    assert_eq!(rows.findings[0].tenant_id(), TenantId::from_bytes([1; 32]));
    assert_eq!(rows.findings[0].stable_item_id(), StableItemId::from_bytes([2; 32]));
    assert_eq!(rows.findings[0].rule_fingerprint(), RuleFingerprint::from_bytes([3; 32]));
    let spans: Vec<(u64, u64)> = rows.occurrences.iter().map(|o| (o.byte_offset(), o.byte_length().get())).collect();
    assert_eq!(spans, vec![(17, 40)]);
    assert_eq!(
        rows.observations.iter().map(|o| o.location().map(|l| l.display().to_owned())).collect::<Vec<_>>(),
        vec![Some("src/config.rs".to_owned())]
    );
    assert_eq!(leak(&format!("{report:?} {rows:?}"), &SECRET), None);
}
