//! The done-ledger oracle: what the committed state must be, given which
//! writes committed and in which order.
//!
//! It reuses the production merge on purpose: it checks sequencing (order,
//! commit versus abort), not the merge algorithm, which has its own proofs.

use std::collections::HashMap;

use gossip_persistence::DoneLedgerInspect;
use gossip_persistence::PendingWriteId;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord};

use super::invariants::{DoneLedgerInvariantViolation, dedupe};
use crate::sim::fast_hash::FastMap;

#[derive(Debug, Default, Clone)]
pub struct DoneLedgerOracle {
    committed: FastMap<DoneLedgerKey, DoneLedgerRecord>,
    pending: HashMap<PendingWriteId, Vec<DoneLedgerRecord>>,
    merges_changed: usize,
    merges_tied: usize,
}

impl DoneLedgerOracle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an accepted write; a later `commit` or `abort` settles it.
    pub fn submit(&mut self, op_id: PendingWriteId, records: Vec<DoneLedgerRecord>) {
        self.pending.insert(op_id, records);
    }

    /// Applies a pending write; false if `op_id` is not pending.
    pub fn commit(&mut self, op_id: PendingWriteId) -> bool {
        let Some(records) = self.pending.remove(&op_id) else { return false };
        for incoming in dedupe(&records) {
            let merged = match self.committed.get(incoming.key()) {
                Some(existing) => {
                    let merged = existing.merge(&incoming).expect("simulation records are valid");
                    self.merges_changed += usize::from(merged != *existing);
                    self.merges_tied += usize::from(ties(existing, &incoming));
                    merged
                }
                None => incoming,
            };
            self.committed.insert(*merged.key(), merged);
        }
        true
    }

    /// Committed rows that changed the row they merged into.
    pub const fn merges_changed(&self) -> usize {
        self.merges_changed
    }

    /// Committed rows that tied with the row they merged into (§4.2).
    pub const fn merges_tied(&self) -> usize {
        self.merges_tied
    }

    pub fn abort(&mut self, op_id: PendingWriteId) {
        self.pending.remove(&op_id);
    }

    pub fn expected_state(&self, key: &DoneLedgerKey) -> Option<&DoneLedgerRecord> {
        self.committed.get(key)
    }

    pub fn committed_count(&self) -> usize {
        self.committed.len()
    }

    pub fn committed_iter(&self) -> impl Iterator<Item = (&DoneLedgerKey, &DoneLedgerRecord)> {
        self.committed.iter()
    }

    pub fn pending_batch_count(&self) -> usize {
        self.pending.len()
    }

    /// I6: the ledger's durable rows must be exactly the oracle's. Only
    /// meaningful once every write is settled.
    pub fn verify_convergence<L: DoneLedgerInspect>(&self, ledger: &L) -> Vec<DoneLedgerInvariantViolation> {
        assert!(self.pending.is_empty(), "verify_convergence with {} unsettled writes", self.pending.len());
        let snapshot = match ledger.snapshot() {
            Ok(rows) => rows,
            Err(e) => return vec![DoneLedgerInvariantViolation::backend("snapshot", &e)],
        };
        let actual: FastMap<DoneLedgerKey, DoneLedgerRecord> = snapshot.into_iter().map(|r| (*r.key(), r)).collect();
        let mut violations = Vec::new();
        // Sorted, so the violation list is as deterministic as the run.
        let keys: std::collections::BTreeSet<&DoneLedgerKey> = self.committed.keys().chain(actual.keys()).collect();
        for key in keys {
            let (oracle, actual) = (self.committed.get(key), actual.get(key));
            if oracle != actual {
                violations.push(DoneLedgerInvariantViolation::LatticeConvergence {
                    key: *key,
                    oracle: oracle.map(|r| Box::new(r.clone())),
                    actual: actual.map(|r| Box::new(r.clone())),
                });
            }
        }
        violations
    }
}

/// Whether the winner of `a` and `b` is decided past status and times: by
/// fence, run, shard or code, or not at all (§4.2).
fn ties(a: &DoneLedgerRecord, b: &DoneLedgerRecord) -> bool {
    let (p, q) = (a.provenance(), b.provenance());
    a.status() == b.status() && p.finished_at() == q.finished_at() && p.started_at() == q.started_at()
}
