//! The findings oracle: an independent model of what the sink must do with
//! each batch, applied in the order the backend settled the writes.
//!
//! It models the rules under test itself (submit-time validation, parents
//! before children, immutable findings and occurrences, distinct-key
//! receipts) and reuses only the production observation merge: like the
//! done-ledger oracle, it checks sequencing, not the merge algorithm.

use std::collections::{BTreeMap, HashMap};

use gossip_persistence::findings::{FindingsCommitReceipt, merge_observations};
use gossip_persistence::{PendingWriteId, PersistenceInputError, StoreError};

use super::rows::{Layer, Row, RowKey, finding_key, observation_key, occurrence_key};
use super::universe::SimBatch;

/// What a committed batch must produce: its receipt and the rows it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    pub receipt: FindingsCommitReceipt,
    /// Rows the commit stores (new findings and occurrences, every merged observation).
    pub writes: Vec<Row>,
    /// Observations that already existed and take a new sighting.
    pub resighted: usize,
}

#[derive(Debug, Default, Clone)]
pub struct FindingsOracle {
    committed: BTreeMap<RowKey, Row>,
    pending: HashMap<PendingWriteId, SimBatch>,
}

impl FindingsOracle {
    pub fn new() -> Self {
        Self::default()
    }

    /// The error `upsert_batch` must return before accepting the batch:
    /// observation identity first, then tenant consistency.
    pub fn submit_rejection(batch: &SimBatch) -> Option<StoreError> {
        for obs in &batch.observations {
            let expected = obs.derived_observation_id();
            if expected != obs.observation_id() {
                return Some(
                    PersistenceInputError::ObservationIdMismatch { expected, actual: obs.observation_id() }.into(),
                );
            }
        }
        let mut tenants = batch
            .findings
            .iter()
            .map(|r| r.tenant_id())
            .chain(batch.occurrences.iter().map(|r| r.tenant_id()))
            .chain(batch.observations.iter().map(|r| r.tenant_id()));
        let first = tenants.next()?;
        tenants.any(|t| t != first).then(|| PersistenceInputError::InconsistentTenant.into())
    }

    pub fn submit(&mut self, op_id: PendingWriteId, batch: SimBatch) {
        self.pending.insert(op_id, batch);
    }

    pub fn abort(&mut self, op_id: PendingWriteId) {
        self.pending.remove(&op_id);
    }

    pub fn pending_batch_count(&self) -> usize {
        self.pending.len()
    }

    /// The outcome of applying `op_id`'s batch to the committed state now.
    pub fn predict(&self, op_id: PendingWriteId) -> Option<Result<Prediction, StoreError>> {
        self.pending.get(&op_id).map(|batch| self.predict_batch(batch))
    }

    /// Stores a prediction's writes and settles `op_id`; call only when the
    /// backend committed the batch and the prediction was a success.
    pub fn commit(&mut self, op_id: PendingWriteId, prediction: &Prediction) {
        self.pending.remove(&op_id);
        for row in &prediction.writes {
            self.committed.insert(row.key(), row.clone());
        }
    }

    pub fn expected(&self, key: &RowKey) -> Option<&Row> {
        self.committed.get(key)
    }

    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.committed.values()
    }

    /// Durable rows per layer: (findings, occurrences, observations).
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut c = (0, 0, 0);
        for key in self.committed.keys() {
            match key.layer() {
                Layer::Finding => c.0 += 1,
                Layer::Occurrence => c.1 += 1,
                Layer::Observation => c.2 += 1,
            }
        }
        c
    }

    fn exists(&self, staged: &BTreeMap<RowKey, Row>, key: &RowKey) -> bool {
        staged.contains_key(key) || self.committed.contains_key(key)
    }

    /// Layer by layer, in input order: findings (immutable), occurrences
    /// (parent, then immutability), observations (parent, then merge).
    pub fn predict_batch(&self, batch: &SimBatch) -> Result<Prediction, StoreError> {
        let mut staged: BTreeMap<RowKey, Row> = BTreeMap::new();
        let mut distinct = [0u64; 3];
        for f in &batch.findings {
            let key = finding_key(f);
            let row = Row::Finding(f.clone());
            match staged.get(&key).or_else(|| self.committed.get(&key)) {
                Some(seen) if *seen != row => {
                    return Err(StoreError::FindingConflict { tenant_id: f.tenant_id(), finding_id: f.finding_id() });
                }
                _ => {}
            }
            if staged.insert(key, row).is_none() {
                distinct[0] += 1;
            }
        }
        for o in &batch.occurrences {
            if !self.exists(&staged, &RowKey::Finding(o.tenant_id(), o.finding_id())) {
                return Err(StoreError::MissingFinding {
                    tenant_id: o.tenant_id(),
                    finding_id: o.finding_id(),
                    occurrence_id: o.occurrence_id(),
                });
            }
            let key = occurrence_key(o);
            let row = Row::Occurrence(o.clone());
            match staged.get(&key).or_else(|| self.committed.get(&key)) {
                Some(seen) if *seen != row => {
                    return Err(StoreError::OccurrenceConflict {
                        tenant_id: o.tenant_id(),
                        occurrence_id: o.occurrence_id(),
                    });
                }
                _ => {}
            }
            if staged.insert(key, row).is_none() {
                distinct[1] += 1;
            }
        }
        let mut resighted = 0;
        for obs in &batch.observations {
            if !self.exists(&staged, &RowKey::Occurrence(obs.tenant_id(), obs.occurrence_id())) {
                return Err(StoreError::MissingOccurrence {
                    tenant_id: obs.tenant_id(),
                    occurrence_id: obs.occurrence_id(),
                    observation_id: obs.observation_id(),
                });
            }
            let key = observation_key(obs);
            let conflict =
                || StoreError::ObservationConflict { tenant_id: obs.tenant_id(), observation_id: obs.observation_id() };
            let merged = match staged.get(&key) {
                Some(Row::Observation(existing)) => merge_observations(existing, obs).ok_or_else(conflict)?,
                _ => {
                    distinct[2] += 1;
                    match self.committed.get(&key) {
                        Some(Row::Observation(existing)) => {
                            resighted += 1;
                            merge_observations(existing, obs).ok_or_else(conflict)?
                        }
                        _ => obs.clone(),
                    }
                }
            };
            staged.insert(key, Row::Observation(merged));
        }
        Ok(Prediction {
            receipt: FindingsCommitReceipt::new(distinct[0], distinct[1], distinct[2]),
            writes: staged.into_values().collect(),
            resighted,
        })
    }
}
