//! The scenario's JSON values ↔ native types. Values use the WIT names
//! (kebab-case fields, ranks for statuses, `{"case": payload}` for variants,
//! digests as 64 hex digits), so the Node host reads the same file directly.

use std::num::NonZeroU64;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail, ensure};
use gossip_persistence::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord,
    DoneLedgerStatus,
};
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, ObservationRecord, OccurrenceRecord,
};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use gossip_persistence::{FieldError, Location, PersistenceInputError, StoreError, StoreKind};
use serde_json::{Map, Value, json};

/// Integers above this are written as decimal strings: a JSON number beyond
/// 2^53 does not survive a JavaScript reader.
const MAX_EXACT_JSON_INT: u64 = (1 << 53) - 1;

/// An object whose every key is one of `allowed`, so a misspelt field in the
/// scenario is an error instead of a silently ignored value.
pub fn object<'a>(value: &'a Value, what: &str, allowed: &[&str]) -> anyhow::Result<&'a Map<String, Value>> {
    let map = value.as_object().ok_or_else(|| anyhow!("{what} must be an object, got {value}"))?;
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        bail!("{what} has an unknown field {unknown:?} (allowed: {allowed:?})");
    }
    Ok(map)
}

pub fn field<'a>(map: &'a Map<String, Value>, name: &str) -> anyhow::Result<&'a Value> {
    map.get(name).ok_or_else(|| anyhow!("missing field {name:?}"))
}

pub fn text<'a>(map: &'a Map<String, Value>, name: &str) -> anyhow::Result<&'a str> {
    field(map, name)?.as_str().ok_or_else(|| anyhow!("{name} must be a string"))
}

pub fn list<'a>(map: &'a Map<String, Value>, name: &str) -> anyhow::Result<&'a Vec<Value>> {
    field(map, name)?.as_array().ok_or_else(|| anyhow!("{name} must be a list"))
}

pub fn boolean(map: &Map<String, Value>, name: &str) -> anyhow::Result<bool> {
    field(map, name)?.as_bool().ok_or_else(|| anyhow!("{name} must be true or false"))
}

/// A u64: a JSON number, or a decimal string for values beyond 2^53.
pub fn uint(value: &Value) -> anyhow::Result<u64> {
    match value {
        Value::Number(n) => n.as_u64().ok_or_else(|| anyhow!("{n} is not a u64")),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().with_context(|| format!("{s} is not a u64"))
        }
        other => bail!("expected a u64, got {other}"),
    }
}

pub fn uint_field(map: &Map<String, Value>, name: &str) -> anyhow::Result<u64> {
    uint(field(map, name)?).with_context(|| format!("field {name:?}"))
}

pub fn u64_value(n: u64) -> Value {
    if n <= MAX_EXACT_JSON_INT { json!(n) } else { json!(n.to_string()) }
}

pub fn digest(value: &Value) -> anyhow::Result<[u8; 32]> {
    let hex = value.as_str().ok_or_else(|| anyhow!("a digest must be a hex string, got {value}"))?;
    ensure!(hex.len() == 64, "a digest is 64 hex digits, got {} in {hex:?}", hex.len());
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).with_context(|| format!("bad hex digest {hex:?}"))?;
    }
    Ok(bytes)
}

fn digest_field(map: &Map<String, Value>, name: &str) -> anyhow::Result<[u8; 32]> {
    digest(field(map, name)?).with_context(|| format!("field {name:?}"))
}

pub fn hex(bytes: &[u8; 32]) -> Value {
    Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

// ---- inputs: scenario JSON → native records ----

pub fn done_key(value: &Value) -> anyhow::Result<DoneLedgerKey> {
    let m = object(value, "done-key", &["tenant-id", "policy-hash", "ovid-hash"])?;
    Ok(DoneLedgerKey::new(
        TenantId::from_bytes(digest_field(m, "tenant-id")?),
        PolicyHash::from_bytes(digest_field(m, "policy-hash")?),
        OvidHash::from_bytes(digest_field(m, "ovid-hash")?),
    ))
}

pub fn done_record(value: &Value) -> anyhow::Result<DoneLedgerRecord> {
    let m = object(
        value,
        "done-record",
        &["key", "status", "bytes-scanned", "findings-count", "provenance", "error-code"],
    )?;
    let rank = u8::try_from(uint_field(m, "status")?).context("status rank")?;
    let status = DoneLedgerStatus::from_rank(rank)
        .ok_or_else(|| anyhow!("status rank {rank} names no status; the native stores cannot express it"))?;
    let p = object(
        field(m, "provenance")?,
        "provenance",
        &["run-id", "shard-id", "fence-epoch", "started-at", "finished-at"],
    )?;
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(uint_field(p, "run-id")?),
        ShardId::from_raw(uint_field(p, "shard-id")?),
        FenceEpoch::from_raw(uint_field(p, "fence-epoch")?),
        LogicalTime::from_raw(uint_field(p, "started-at")?),
        LogicalTime::from_raw(uint_field(p, "finished-at")?),
    );
    let error_code = match m.get("error-code") {
        None | Some(Value::Null) => None,
        Some(code) => {
            let code = code.as_str().ok_or_else(|| anyhow!("error-code must be a string"))?;
            Some(DoneLedgerErrorCode::try_new(code).map_err(|e| anyhow!("error code {code:?}: {e}"))?)
        }
    };
    let findings_count = u32::try_from(uint_field(m, "findings-count")?).context("findings-count")?;
    DoneLedgerRecord::try_new(
        done_key(field(m, "key")?)?,
        status,
        uint_field(m, "bytes-scanned")?,
        findings_count,
        provenance,
        error_code,
    )
    .map_err(|e| anyhow!("a row the native types cannot hold: {e}"))
}

pub fn finding(value: &Value) -> anyhow::Result<FindingRecord> {
    let m =
        object(value, "finding", &["tenant-id", "finding-id", "stable-item-id", "rule-fingerprint", "secret-hash"])?;
    Ok(FindingRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_field(m, "tenant-id")?),
        FindingId::from_bytes(digest_field(m, "finding-id")?),
        StableItemId::from_bytes(digest_field(m, "stable-item-id")?),
        RuleFingerprint::from_bytes(digest_field(m, "rule-fingerprint")?),
        SecretHash::from_persisted_bytes(digest_field(m, "secret-hash")?),
    ))
}

pub fn occurrence(value: &Value) -> anyhow::Result<OccurrenceRecord> {
    let m = object(
        value,
        "occurrence",
        &["tenant-id", "occurrence-id", "finding-id", "object-version-id", "byte-offset", "byte-length"],
    )?;
    let length = NonZeroU64::new(uint_field(m, "byte-length")?)
        .ok_or_else(|| anyhow!("byte-length 0: the native types cannot hold it"))?;
    Ok(OccurrenceRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_field(m, "tenant-id")?),
        OccurrenceId::from_bytes(digest_field(m, "occurrence-id")?),
        FindingId::from_bytes(digest_field(m, "finding-id")?),
        ObjectVersionId::from_bytes(digest_field(m, "object-version-id")?),
        uint_field(m, "byte-offset")?,
        length,
    ))
}

pub fn observation(value: &Value) -> anyhow::Result<ObservationRecord> {
    let m = object(
        value,
        "observation",
        &[
            "tenant-id",
            "observation-id",
            "occurrence-id",
            "policy-hash",
            "ovid-hash",
            "run-id",
            "shard-id",
            "fence-epoch",
            "seen-at",
            "location",
        ],
    )?;
    let location = match m.get("location") {
        None | Some(Value::Null) => None,
        Some(loc) => {
            let l = object(loc, "location", &["display", "url"])?;
            let url = match l.get("url") {
                None | Some(Value::Null) => None,
                Some(u) => Some(u.as_str().ok_or_else(|| anyhow!("url must be a string"))?),
            };
            let location = Location::try_new(text(l, "display")?, url).map_err(|e| anyhow!("location: {e}"))?;
            Some(Arc::new(location))
        }
    };
    Ok(ObservationRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_field(m, "tenant-id")?),
        ObservationId::from_bytes(digest_field(m, "observation-id")?),
        OccurrenceId::from_bytes(digest_field(m, "occurrence-id")?),
        PolicyHash::from_bytes(digest_field(m, "policy-hash")?),
        OvidHash::from_bytes(digest_field(m, "ovid-hash")?),
        RunId::from_raw(uint_field(m, "run-id")?),
        ShardId::from_raw(uint_field(m, "shard-id")?),
        FenceEpoch::from_raw(uint_field(m, "fence-epoch")?),
        LogicalTime::from_raw(uint_field(m, "seen-at")?),
        location,
    ))
}

// ---- outcomes: native values → scenario JSON ----

pub fn done_key_value(key: &DoneLedgerKey) -> Value {
    json!({
        "tenant-id": hex(key.tenant_id().as_bytes()),
        "policy-hash": hex(key.policy_hash().as_bytes()),
        "ovid-hash": hex(key.ovid_hash().as_bytes()),
    })
}

pub fn done_record_value(r: &DoneLedgerRecord) -> Value {
    let p = r.provenance();
    let mut row = json!({
        "key": done_key_value(r.key()),
        "status": r.status().rank(),
        "bytes-scanned": u64_value(r.bytes_scanned()),
        "findings-count": r.findings_count(),
        "provenance": {
            "run-id": u64_value(p.run_id().as_raw()),
            "shard-id": u64_value(p.shard_id().as_raw()),
            "fence-epoch": u64_value(p.fence_epoch().as_raw()),
            "started-at": u64_value(p.started_at().as_raw()),
            "finished-at": u64_value(p.finished_at().as_raw()),
        },
    });
    if let Some(code) = r.error_code() {
        row["error-code"] = json!(code.as_str());
    }
    row
}

pub fn done_receipt_value(r: &DoneLedgerCommitReceipt) -> Value {
    json!({
        "record-count": u64_value(r.record_count()),
        "scanned-count": u64_value(r.scanned_count()),
        "findings-count": u64_value(r.findings_count()),
    })
}

pub fn findings_receipt_value(r: &FindingsCommitReceipt) -> Value {
    json!({
        "finding-count": u64_value(r.finding_count()),
        "occurrence-count": u64_value(r.occurrence_count()),
        "observation-count": u64_value(r.observation_count()),
    })
}

pub fn counts_value(c: &DurableFindingsCounts) -> Value {
    json!({
        "findings": u64_value(c.findings),
        "occurrences": u64_value(c.occurrences),
        "observations": u64_value(c.observations),
    })
}

pub fn finding_value(f: &FindingRecord) -> Value {
    json!({
        "tenant-id": hex(f.tenant_id().as_bytes()),
        "finding-id": hex(f.finding_id().as_bytes()),
        "stable-item-id": hex(f.stable_item_id().as_bytes()),
        "rule-fingerprint": hex(f.rule_fingerprint().as_bytes()),
        "secret-hash": hex(f.secret_hash().as_bytes()),
    })
}

pub fn occurrence_value(o: &OccurrenceRecord) -> Value {
    json!({
        "tenant-id": hex(o.tenant_id().as_bytes()),
        "occurrence-id": hex(o.occurrence_id().as_bytes()),
        "finding-id": hex(o.finding_id().as_bytes()),
        "object-version-id": hex(o.object_version_id().as_bytes()),
        "byte-offset": u64_value(o.byte_offset()),
        "byte-length": u64_value(o.byte_length().get()),
    })
}

pub fn observation_value(o: &ObservationRecord) -> Value {
    let mut row = json!({
        "tenant-id": hex(o.tenant_id().as_bytes()),
        "observation-id": hex(o.observation_id().as_bytes()),
        "occurrence-id": hex(o.occurrence_id().as_bytes()),
        "policy-hash": hex(o.policy_hash().as_bytes()),
        "ovid-hash": hex(o.ovid_hash().as_bytes()),
        "run-id": u64_value(o.run_id().as_raw()),
        "shard-id": u64_value(o.shard_id().as_raw()),
        "fence-epoch": u64_value(o.fence_epoch().as_raw()),
        "seen-at": u64_value(o.seen_at().as_raw()),
    });
    if let Some(l) = o.location() {
        let mut location = json!({ "display": l.display() });
        if let Some(url) = l.url() {
            location["url"] = json!(url);
        }
        row["location"] = location;
    }
    row
}

const fn store_kind(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::DoneLedger => "done-ledger",
        StoreKind::Findings => "findings",
    }
}

/// Native errors name statuses; the WIT (and so the scenario) carries ranks.
fn status_rank(name: &str) -> anyhow::Result<u8> {
    DoneLedgerStatus::ALL
        .iter()
        .find(|s| s.name() == name)
        .map(|s| s.rank())
        .ok_or_else(|| anyhow!("unknown status name {name:?}"))
}

fn layer(type_name: &str) -> anyhow::Result<&'static str> {
    match type_name {
        "FindingRecord" => Ok("finding"),
        "OccurrenceRecord" => Ok("occurrence"),
        "ObservationRecord" => Ok("observation"),
        other => bail!("unknown record layer {other:?}"),
    }
}

fn input_error_value(error: &PersistenceInputError) -> anyhow::Result<Value> {
    use PersistenceInputError as E;
    Ok(match error {
        E::Field(FieldError::Empty { field }) => json!({ "empty": field }),
        E::Field(FieldError::TooLarge { field, size, max }) => {
            json!({ "too-large": { "field": field, "size": size, "max": max } })
        }
        E::Field(FieldError::InvalidByte { field, index, byte }) => {
            json!({ "invalid-byte": { "field": field, "index": index, "byte": byte } })
        }
        E::ZeroSpanLength => json!("zero-span-length"),
        E::ObservationIdMismatch { expected, actual } => json!({
            "observation-id-mismatch": { "expected": hex(expected.as_bytes()), "actual": hex(actual.as_bytes()) }
        }),
        E::InconsistentFindingsCount { status, findings_count } => json!({
            "inconsistent-findings-count": { "status": status_rank(status)?, "findings-count": findings_count }
        }),
        E::MissingErrorCode { status } => json!({ "missing-error-code": status_rank(status)? }),
        E::UnexpectedErrorCode { status } => json!({ "unexpected-error-code": status_rank(status)? }),
        E::OrphanedReference { child_type, parent_type } => json!({
            "orphaned-reference": { "child-type": layer(child_type)?, "parent-type": layer(parent_type)? }
        }),
        E::InconsistentTenant => json!("inconsistent-tenant"),
        E::ProvenanceOrdering { started_at, finished_at } => json!({
            "provenance-ordering": { "started-at": u64_value(*started_at), "finished-at": u64_value(*finished_at) }
        }),
        E::KeyMismatch { existing, incoming } => json!({
            "key-mismatch": { "existing": done_key_value(existing), "incoming": done_key_value(incoming) }
        }),
        E::BatchTooLarge { size, max } => json!({ "batch-too-large": { "size": size, "max": max } }),
    })
}

/// A store error as the WIT `store-error` it crosses the boundary as.
pub fn store_error_value(error: &StoreError) -> anyhow::Result<Value> {
    use StoreError as E;
    Ok(match error {
        E::InjectedSubmissionFailure { store } => json!({ "injected-submission-failure": store_kind(*store) }),
        E::InjectedCommitFailure { store } => json!({ "injected-commit-failure": store_kind(*store) }),
        E::Poisoned { store } => json!({ "poisoned": store_kind(*store) }),
        E::UnknownOperation { store, op_id } => json!({
            "unknown-operation": { "store": store_kind(*store), "op-id": u64_value(op_id.as_raw()) }
        }),
        E::MissingFinding { tenant_id, finding_id, occurrence_id } => json!({
            "missing-finding": {
                "tenant-id": hex(tenant_id.as_bytes()),
                "finding-id": hex(finding_id.as_bytes()),
                "occurrence-id": hex(occurrence_id.as_bytes()),
            }
        }),
        E::MissingOccurrence { tenant_id, occurrence_id, observation_id } => json!({
            "missing-occurrence": {
                "tenant-id": hex(tenant_id.as_bytes()),
                "occurrence-id": hex(occurrence_id.as_bytes()),
                "observation-id": hex(observation_id.as_bytes()),
            }
        }),
        E::FindingConflict { tenant_id, finding_id } => json!({
            "finding-conflict": { "tenant-id": hex(tenant_id.as_bytes()), "finding-id": hex(finding_id.as_bytes()) }
        }),
        E::OccurrenceConflict { tenant_id, occurrence_id } => json!({
            "occurrence-conflict": {
                "tenant-id": hex(tenant_id.as_bytes()),
                "occurrence-id": hex(occurrence_id.as_bytes()),
            }
        }),
        E::ObservationConflict { tenant_id, observation_id } => json!({
            "observation-conflict": {
                "tenant-id": hex(tenant_id.as_bytes()),
                "observation-id": hex(observation_id.as_bytes()),
            }
        }),
        E::BatchValidation(input) => json!({ "batch-validation": input_error_value(input)? }),
        E::CapacityExceeded { store, needed, available } => json!({
            "capacity-exceeded": {
                "store": store_kind(*store),
                "needed": u64_value(*needed),
                "available": u64_value(*available),
            }
        }),
        E::StateLost { store } => json!({ "state-lost": store_kind(*store) }),
        E::WriteAbandoned { store, op_id } => json!({
            "write-abandoned": { "store": store_kind(*store), "op-id": u64_value(op_id.as_raw()) }
        }),
    })
}

/// Drops object fields that are null: an absent optional and an explicit
/// null mean the same (none); list positions keep their nulls.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The path of the first place two values differ, with both sides there.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let here = format!("{path}.{k}");
                match (e.get(k), a.get(k)) {
                    (Some(ev), Some(av)) => first_difference(ev, av, &here),
                    (ev, av) => Some(format!("{here}: expected {}, actual {}", shown(ev), shown(av))),
                }
            })
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            e.iter().zip(a).enumerate().find_map(|(i, (ev, av))| first_difference(ev, av, &format!("{path}[{i}]")))
        }
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, actual {actual}")),
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_owned(), Value::to_string)
}
