//! Domain types → WIT values (inputs, always valid) and WIT values → domain
//! types (answers, validated: a component is untrusted).

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, ObservationRecord, OccurrenceRecord,
};

use crate::bindings::exports::gossip::persistence::types as wit;

/// Bytes 0..8 are the first word, little-endian (see `types.digest`).
pub(crate) fn wit_digest(bytes: &[u8; 32]) -> wit::Digest {
    let word = |i: usize| u64::from_le_bytes(core::array::from_fn(|j| bytes[i * 8 + j]));
    (word(0), word(1), word(2), word(3))
}

pub(crate) fn digest(words: wit::Digest) -> [u8; 32] {
    let (a, b, c, d) = words;
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip([a, b, c, d]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

pub(crate) fn key(key: &DoneLedgerKey) -> wit::DoneKey {
    wit::DoneKey {
        tenant_id: wit_digest(key.tenant_id().as_bytes()),
        policy_hash: wit_digest(key.policy_hash().as_bytes()),
        ovid_hash: wit_digest(key.ovid_hash().as_bytes()),
    }
}

/// A native row as the WIT value `batch-upsert` takes; public (re-exported
/// as `to_wit_done_record`) for callers of the raw `with_raw` hook.
pub fn done_record(record: &DoneLedgerRecord) -> wit::DoneRecord {
    let p = record.provenance();
    wit::DoneRecord {
        key: key(record.key()),
        status: record.status().rank(),
        bytes_scanned: record.bytes_scanned(),
        findings_count: record.findings_count(),
        provenance: wit::Provenance {
            run_id: p.run_id().as_raw(),
            shard_id: p.shard_id().as_raw(),
            fence_epoch: p.fence_epoch().as_raw(),
            started_at: p.started_at().as_raw(),
            finished_at: p.finished_at().as_raw(),
        },
        error_code: record.error_code().map(|c| c.as_str().to_owned()),
    }
}

pub(crate) fn finding(f: &FindingRecord) -> wit::Finding {
    wit::Finding {
        tenant_id: wit_digest(f.tenant_id().as_bytes()),
        finding_id: wit_digest(f.finding_id().as_bytes()),
        stable_item_id: wit_digest(f.stable_item_id().as_bytes()),
        rule_fingerprint: wit_digest(f.rule_fingerprint().as_bytes()),
        secret_hash: wit_digest(f.secret_hash().as_bytes()),
    }
}

pub(crate) fn occurrence(o: &OccurrenceRecord) -> wit::Occurrence {
    wit::Occurrence {
        tenant_id: wit_digest(o.tenant_id().as_bytes()),
        occurrence_id: wit_digest(o.occurrence_id().as_bytes()),
        finding_id: wit_digest(o.finding_id().as_bytes()),
        object_version_id: wit_digest(o.object_version_id().as_bytes()),
        byte_offset: o.byte_offset(),
        byte_length: o.byte_length().get(),
    }
}

pub(crate) fn observation(o: &ObservationRecord) -> wit::Observation {
    wit::Observation {
        tenant_id: wit_digest(o.tenant_id().as_bytes()),
        observation_id: wit_digest(o.observation_id().as_bytes()),
        occurrence_id: wit_digest(o.occurrence_id().as_bytes()),
        policy_hash: wit_digest(o.policy_hash().as_bytes()),
        ovid_hash: wit_digest(o.ovid_hash().as_bytes()),
        run_id: o.run_id().as_raw(),
        shard_id: o.shard_id().as_raw(),
        fence_epoch: o.fence_epoch().as_raw(),
        seen_at: o.seen_at().as_raw(),
        location: o
            .location()
            .map(|l| wit::Location { display: l.display().to_owned(), url: l.url().map(str::to_owned) }),
    }
}

pub(crate) const fn done_receipt(r: &wit::DoneReceipt) -> DoneLedgerCommitReceipt {
    DoneLedgerCommitReceipt::new(r.record_count, r.scanned_count, r.findings_count)
}

pub(crate) const fn findings_receipt(r: &wit::FindingsReceipt) -> FindingsCommitReceipt {
    FindingsCommitReceipt::new(r.finding_count, r.occurrence_count, r.observation_count)
}

pub(crate) const fn counts(c: &wit::DurableCounts) -> DurableFindingsCounts {
    DurableFindingsCounts::new(c.findings, c.occurrences, c.observations)
}
