//! Independent checks I1–I10 of a done-ledger's observable behaviour.
//!
//! I6 comes from the oracle and I7 from the harness's reads; the rest are
//! checked here after each write outcome. I0 is this suite's addition: the
//! backend failed a call, or failed it with an error no fault explains.

use core::fmt;

use gossip_persistence::DoneLedgerInspect;
use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};

use super::ops::ShortRecord;
use crate::sim::fast_hash::FastMap;
use crate::sim::pending::BackendViolation;

type Row = Option<Box<DoneLedgerRecord>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoneLedgerInvariantViolation {
    /// I0: a store call failed, or failed with an error no injected fault explains.
    Backend { during: &'static str, error: String },
    /// I1: a key's status rank went down after a committed write.
    StatusMonotonicity { key: DoneLedgerKey, prev_rank: u8, current_rank: u8 },
    /// I2: a key's bytes_scanned went down after a committed write.
    BytesScanMonotonicity { key: DoneLedgerKey, prev_bytes: u64, current_bytes: u64 },
    /// I3: a key of a committed batch is not readable.
    CommitDurability { key: DoneLedgerKey },
    /// I4: a rejected (or still delayed) write changed visible state.
    SubmitRollback { key: DoneLedgerKey, expected: Row, actual: Row },
    /// I5: a write whose commit failed changed visible state.
    CommitRollback { key: DoneLedgerKey, expected: Row, actual: Row },
    /// I6: the final state differs from the oracle's.
    LatticeConvergence { key: DoneLedgerKey, oracle: Row, actual: Row },
    /// I7: a read returned something other than the oracle's committed state.
    ReadConsistency { key: DoneLedgerKey, oracle: Row, actual: Row },
    /// I8: the merged provenance came from neither the existing nor the incoming row.
    ProvenanceFidelity { key: DoneLedgerKey, message: String },
    /// I9: the receipt does not count the deduplicated batch.
    ReceiptAccuracy {
        key_count_expected: u64,
        key_count_actual: u64,
        scanned_expected: u64,
        scanned_actual: u64,
        findings_expected: u64,
        findings_actual: u64,
    },
    /// I10: replaying the stored row changed it.
    IdempotentUpsert { key: DoneLedgerKey, before: Box<DoneLedgerRecord>, after: Box<DoneLedgerRecord> },
}

impl DoneLedgerInvariantViolation {
    pub const fn id(&self) -> &'static str {
        match self {
            Self::Backend { .. } => "I0",
            Self::StatusMonotonicity { .. } => "I1",
            Self::BytesScanMonotonicity { .. } => "I2",
            Self::CommitDurability { .. } => "I3",
            Self::SubmitRollback { .. } => "I4",
            Self::CommitRollback { .. } => "I5",
            Self::LatticeConvergence { .. } => "I6",
            Self::ReadConsistency { .. } => "I7",
            Self::ProvenanceFidelity { .. } => "I8",
            Self::ReceiptAccuracy { .. } => "I9",
            Self::IdempotentUpsert { .. } => "I10",
        }
    }

    pub const fn name(&self) -> &'static str {
        match self {
            Self::Backend { .. } => "Backend",
            Self::StatusMonotonicity { .. } => "StatusMonotonicity",
            Self::BytesScanMonotonicity { .. } => "BytesScanMonotonicity",
            Self::CommitDurability { .. } => "CommitDurability",
            Self::SubmitRollback { .. } => "SubmitRollback",
            Self::CommitRollback { .. } => "CommitRollback",
            Self::LatticeConvergence { .. } => "LatticeConvergence",
            Self::ReadConsistency { .. } => "ReadConsistency",
            Self::ProvenanceFidelity { .. } => "ProvenanceFidelity",
            Self::ReceiptAccuracy { .. } => "ReceiptAccuracy",
            Self::IdempotentUpsert { .. } => "IdempotentUpsert",
        }
    }

    pub(crate) fn backend(during: &'static str, error: &dyn fmt::Display) -> Self {
        Self::Backend { during, error: error.to_string() }
    }
}

impl BackendViolation for DoneLedgerInvariantViolation {
    fn backend(during: &'static str, error: &dyn fmt::Display) -> Self {
        Self::backend(during, error)
    }
}

struct ShortRow<'a>(&'a Row);

impl fmt::Display for ShortRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(r) => write!(f, "{}", ShortRecord(r)),
            None => f.write_str("none"),
        }
    }
}

fn key_tag(key: &DoneLedgerKey) -> String {
    key.ovid_hash().as_bytes()[..3].iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for DoneLedgerInvariantViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.id(), self.name())?;
        match self {
            Self::Backend { during, error } => write!(f, "{during} failed: {error}"),
            Self::StatusMonotonicity { key, prev_rank, current_rank } => {
                write!(f, "key {} rank {prev_rank} -> {current_rank}", key_tag(key))
            }
            Self::BytesScanMonotonicity { key, prev_bytes, current_bytes } => {
                write!(f, "key {} bytes {prev_bytes} -> {current_bytes}", key_tag(key))
            }
            Self::CommitDurability { key } => write!(f, "key {} missing after commit", key_tag(key)),
            Self::SubmitRollback { key, expected, actual } | Self::CommitRollback { key, expected, actual } => {
                write!(f, "key {} expected {} actual {}", key_tag(key), ShortRow(expected), ShortRow(actual))
            }
            Self::LatticeConvergence { key, oracle, actual } | Self::ReadConsistency { key, oracle, actual } => {
                write!(f, "key {} oracle {} actual {}", key_tag(key), ShortRow(oracle), ShortRow(actual))
            }
            Self::ProvenanceFidelity { key, message } => write!(f, "key {}: {message}", key_tag(key)),
            Self::ReceiptAccuracy {
                key_count_expected,
                key_count_actual,
                scanned_expected,
                scanned_actual,
                findings_expected,
                findings_actual,
            } => write!(
                f,
                "expected ({key_count_expected},{scanned_expected},{findings_expected}) \
                 actual ({key_count_actual},{scanned_actual},{findings_actual})"
            ),
            Self::IdempotentUpsert { key, before, after } => {
                write!(f, "key {} {} became {}", key_tag(key), ShortRecord(before), ShortRecord(after))
            }
        }
    }
}

/// Merges in-batch duplicates with the production merge, keeping first-seen
/// key order. A merge error means the harness built an invalid record.
pub(crate) fn dedupe(records: &[DoneLedgerRecord]) -> Vec<DoneLedgerRecord> {
    let mut index: FastMap<DoneLedgerKey, usize> = FastMap::with_capacity_and_hasher(records.len(), Default::default());
    let mut out: Vec<DoneLedgerRecord> = Vec::with_capacity(records.len());
    for record in records {
        match index.get(record.key()) {
            Some(&i) => out[i] = out[i].merge(record).expect("simulation records are valid"),
            None => {
                index.insert(*record.key(), out.len());
                out.push(record.clone());
            }
        }
    }
    out
}

/// The durable rows of `keys`, in order, read through `batch_get`: one call
/// per run of keys sharing a (tenant, policy) scope, which for a component
/// backend is one boundary crossing instead of one per key.
pub fn read_rows<L: DoneLedgerInspect>(
    ledger: &L,
    keys: &[DoneLedgerKey],
) -> Result<Vec<Option<DoneLedgerRecord>>, L::Error> {
    let mut rows = Vec::with_capacity(keys.len());
    for scope in keys.chunk_by(|a, b| a.tenant_id() == b.tenant_id() && a.policy_hash() == b.policy_hash()) {
        let ovids: Vec<_> = scope.iter().map(DoneLedgerKey::ovid_hash).collect();
        let got = ledger.batch_get(scope[0].tenant_id(), scope[0].policy_hash(), &ovids)?;
        rows.extend(got.into_iter().chain(std::iter::repeat(None)).take(scope.len()));
    }
    Ok(rows)
}

fn boxed(row: Option<&DoneLedgerRecord>) -> Row {
    row.map(|r| Box::new(r.clone()))
}

/// Keeps each key's last observed status rank and byte count, so a later
/// committed write can be checked for going backwards.
#[derive(Debug, Default, Clone)]
pub struct DoneLedgerInvariantChecker {
    prev_status: FastMap<DoneLedgerKey, u8>,
    prev_bytes: FastMap<DoneLedgerKey, u64>,
}

impl DoneLedgerInvariantChecker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides a key's remembered rank: lets the checker's own tests show I1 firing.
    pub fn set_prev_rank(&mut self, key: DoneLedgerKey, rank: u8) {
        self.prev_status.insert(key, rank);
    }

    /// Overrides a key's remembered byte count: lets the checker's own tests show I2 firing.
    pub fn set_prev_bytes(&mut self, key: DoneLedgerKey, bytes: u64) {
        self.prev_bytes.insert(key, bytes);
    }

    /// I1–I3 and I8–I10 after a write committed. `pre_snapshot[i]` is the row
    /// of `records[i]`'s key before the write, or empty when unknown.
    pub fn check_after_committed_upsert<L: DoneLedgerInspect>(
        &mut self,
        ledger: &L,
        records: &[DoneLedgerRecord],
        receipt: &DoneLedgerCommitReceipt,
        pre_snapshot: &[Option<DoneLedgerRecord>],
    ) -> Vec<DoneLedgerInvariantViolation> {
        let deduped = dedupe(records);
        let mut violations = Vec::new();
        if let Some(v) = check_receipt_accuracy(&deduped, receipt) {
            violations.push(v);
        }
        let mut pre_by_key: FastMap<DoneLedgerKey, &DoneLedgerRecord> = FastMap::default();
        for (record, pre) in records.iter().zip(pre_snapshot) {
            if let Some(pre) = pre {
                pre_by_key.entry(*record.key()).or_insert(pre);
            }
        }
        let keys: Vec<DoneLedgerKey> = deduped.iter().map(|r| *r.key()).collect();
        let rows = match read_rows(ledger, &keys) {
            Ok(rows) => rows,
            Err(e) => {
                violations.push(DoneLedgerInvariantViolation::backend("batch_get", &e));
                return violations;
            }
        };
        for (incoming, current) in deduped.iter().zip(rows) {
            let key = *incoming.key();
            let Some(current) = current else {
                violations.push(DoneLedgerInvariantViolation::CommitDurability { key });
                continue;
            };
            let rank = current.status().rank();
            if let Some(prev) = self.prev_status.insert(key, rank).filter(|prev| rank < *prev) {
                violations.push(DoneLedgerInvariantViolation::StatusMonotonicity {
                    key,
                    prev_rank: prev,
                    current_rank: rank,
                });
            }
            let bytes = current.bytes_scanned();
            if let Some(prev) = self.prev_bytes.insert(key, bytes).filter(|prev| bytes < *prev) {
                violations.push(DoneLedgerInvariantViolation::BytesScanMonotonicity {
                    key,
                    prev_bytes: prev,
                    current_bytes: bytes,
                });
            }
            if let Some(pre) = pre_by_key.get(&key) {
                violations.extend(check_provenance_fidelity(pre, incoming, &current));
                if *pre == incoming {
                    violations.extend(Self::check_idempotent_upsert(key, pre, &current));
                }
            }
        }
        violations
    }

    /// I4: after a rejected submit, and for a delayed one (no leak), every
    /// record's key must read back exactly as before the submit.
    pub fn check_after_submit_failure<L: DoneLedgerInspect>(
        &self,
        ledger: &L,
        records: &[DoneLedgerRecord],
        pre_snapshot: &[Option<DoneLedgerRecord>],
    ) -> Vec<DoneLedgerInvariantViolation> {
        compare_with_pre(ledger, records, pre_snapshot, |key, expected, actual| {
            DoneLedgerInvariantViolation::SubmitRollback { key, expected, actual }
        })
    }

    /// I5: after an auto-completed write whose commit failed.
    pub fn check_after_commit_failure<L: DoneLedgerInspect>(
        &self,
        ledger: &L,
        records: &[DoneLedgerRecord],
        pre_snapshot: &[Option<DoneLedgerRecord>],
    ) -> Vec<DoneLedgerInvariantViolation> {
        compare_with_pre(ledger, records, pre_snapshot, |key, expected, actual| {
            DoneLedgerInvariantViolation::CommitRollback { key, expected, actual }
        })
    }

    /// I10: a replay of the stored row must leave it unchanged.
    pub fn check_idempotent_upsert(
        key: DoneLedgerKey,
        before: &DoneLedgerRecord,
        after: &DoneLedgerRecord,
    ) -> Option<DoneLedgerInvariantViolation> {
        (before != after).then(|| DoneLedgerInvariantViolation::IdempotentUpsert {
            key,
            before: Box::new(before.clone()),
            after: Box::new(after.clone()),
        })
    }
}

fn compare_with_pre<L: DoneLedgerInspect>(
    ledger: &L,
    records: &[DoneLedgerRecord],
    pre_snapshot: &[Option<DoneLedgerRecord>],
    violation: impl Fn(DoneLedgerKey, Row, Row) -> DoneLedgerInvariantViolation,
) -> Vec<DoneLedgerInvariantViolation> {
    let keys: Vec<DoneLedgerKey> = records.iter().map(|r| *r.key()).collect();
    let rows = match read_rows(ledger, &keys) {
        Ok(rows) => rows,
        Err(e) => return vec![DoneLedgerInvariantViolation::backend("batch_get", &e)],
    };
    let mut violations = Vec::new();
    for (i, (key, actual)) in keys.into_iter().zip(rows).enumerate() {
        let expected = pre_snapshot.get(i).and_then(Option::as_ref);
        if actual.as_ref() != expected {
            violations.push(violation(key, boxed(expected), boxed(actual.as_ref())));
        }
    }
    violations
}

/// I8: the merged row's provenance must be one of its two inputs'.
pub fn check_provenance_fidelity(
    existing: &DoneLedgerRecord,
    incoming: &DoneLedgerRecord,
    merged: &DoneLedgerRecord,
) -> Option<DoneLedgerInvariantViolation> {
    let p = merged.provenance();
    (p != existing.provenance() && p != incoming.provenance()).then(|| {
        DoneLedgerInvariantViolation::ProvenanceFidelity {
            key: *merged.key(),
            message: format!(
                "merged provenance {p:?} matches neither existing {:?} nor incoming {:?}",
                existing.provenance(),
                incoming.provenance()
            ),
        }
    })
}

/// I9, counted here rather than by the production receipt code it checks.
pub fn check_receipt_accuracy(
    deduped: &[DoneLedgerRecord],
    receipt: &DoneLedgerCommitReceipt,
) -> Option<DoneLedgerInvariantViolation> {
    let key_count_expected = deduped.len() as u64;
    let scanned_expected = deduped.iter().filter(|r| r.status().is_scanned()).count() as u64;
    let findings_expected: u64 = deduped.iter().map(|r| u64::from(r.findings_count())).sum();
    let actual = (receipt.record_count(), receipt.scanned_count(), receipt.findings_count());
    (actual != (key_count_expected, scanned_expected, findings_expected)).then_some(
        DoneLedgerInvariantViolation::ReceiptAccuracy {
            key_count_expected,
            key_count_actual: actual.0,
            scanned_expected,
            scanned_actual: actual.1,
            findings_expected,
            findings_actual: actual.2,
        },
    )
}
