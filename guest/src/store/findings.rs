//! `InMemoryFindingsSink`: three immutable-or-upserted layers over the store core.

use crate::hash::{HashMap, HashMapExt};
use core::fmt;
use std::collections::hash_map::Entry;

use super::core::{StoreBackend, StoreCore, StoreHandle};
use super::error::{InMemoryPersistenceError, InMemoryStoreKind};
use crate::contract::{CommitHandle, FindingsConformanceProbe, FindingsInspect, FindingsSink};
use crate::control::{PendingWriteId, TrackedHandle};
use crate::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord, merge_observations,
};
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::sync::Arc;

#[derive(Default)]
pub(crate) struct FindingsDurable {
    findings: HashMap<(TenantId, FindingId), FindingRecord>,
    occurrences: HashMap<(TenantId, OccurrenceId), OccurrenceRecord>,
    observations: HashMap<(TenantId, ObservationId), ObservationRecord>,
}

pub(crate) struct FindingsPayload {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

pub(crate) struct FindingsBackend;

/// Checks an immutable row against the batch so far and durable state;
/// `Ok(true)` if it is new to the batch.
fn check_immutable<K: Copy + Eq + core::hash::Hash, V: PartialEq>(
    key: K,
    record: &V,
    batch: &HashMap<K, &V>,
    durable: &HashMap<K, V>,
) -> Result<bool, ()> {
    if let Some(seen) = batch.get(&key) {
        return if *seen == record { Ok(false) } else { Err(()) };
    }
    match durable.get(&key) {
        Some(stored) if stored != record => Err(()),
        _ => Ok(true),
    }
}

impl StoreBackend for FindingsBackend {
    type Payload = FindingsPayload;
    type Receipt = FindingsCommitReceipt;
    type Durable = FindingsDurable;
    type Error = InMemoryPersistenceError;
    const STORE_KIND: InMemoryStoreKind = InMemoryStoreKind::Findings;

    /// Validates every layer against the union of the batch and durable
    /// state, parents before children, and only then stores anything.
    fn apply(
        durable: &mut FindingsDurable,
        payload: &FindingsPayload,
    ) -> Result<FindingsCommitReceipt, InMemoryPersistenceError> {
        let mut findings: HashMap<(TenantId, FindingId), &FindingRecord> =
            HashMap::with_capacity(payload.findings.len());
        for f in &payload.findings {
            let key = (f.tenant_id(), f.finding_id());
            let fresh = check_immutable(key, f, &findings, &durable.findings)
                .map_err(|()| InMemoryPersistenceError::FindingConflict { tenant_id: key.0, finding_id: key.1 })?;
            if fresh {
                findings.insert(key, f);
            }
        }

        let mut occurrences: HashMap<(TenantId, OccurrenceId), &OccurrenceRecord> =
            HashMap::with_capacity(payload.occurrences.len());
        for o in &payload.occurrences {
            let parent = (o.tenant_id(), o.finding_id());
            if !findings.contains_key(&parent) && !durable.findings.contains_key(&parent) {
                return Err(InMemoryPersistenceError::MissingFinding {
                    tenant_id: o.tenant_id(),
                    finding_id: o.finding_id(),
                    occurrence_id: o.occurrence_id(),
                });
            }
            let key = (o.tenant_id(), o.occurrence_id());
            let fresh = check_immutable(key, o, &occurrences, &durable.occurrences).map_err(|()| {
                InMemoryPersistenceError::OccurrenceConflict { tenant_id: key.0, occurrence_id: key.1 }
            })?;
            if fresh {
                occurrences.insert(key, o);
            }
        }

        let mut observations: HashMap<(TenantId, ObservationId), ObservationRecord> =
            HashMap::with_capacity(payload.observations.len());
        // Observation ids were checked when the batch was submitted (the
        // payload is built only there); a second BLAKE3 pass here cost a
        // fifth of a batch.
        for obs in &payload.observations {
            let parent = (obs.tenant_id(), obs.occurrence_id());
            if !occurrences.contains_key(&parent) && !durable.occurrences.contains_key(&parent) {
                return Err(InMemoryPersistenceError::MissingOccurrence {
                    tenant_id: obs.tenant_id(),
                    occurrence_id: obs.occurrence_id(),
                    observation_id: obs.observation_id(),
                });
            }
            let key = (obs.tenant_id(), obs.observation_id());
            let conflict = || InMemoryPersistenceError::ObservationConflict {
                tenant_id: obs.tenant_id(),
                observation_id: obs.observation_id(),
            };
            match observations.entry(key) {
                Entry::Occupied(mut slot) => {
                    let merged = merge_observations(slot.get(), obs).ok_or_else(conflict)?;
                    slot.insert(merged);
                }
                Entry::Vacant(slot) => {
                    let merged = match durable.observations.get(&key) {
                        Some(stored) => merge_observations(stored, obs).ok_or_else(conflict)?,
                        None => obs.clone(),
                    };
                    slot.insert(merged);
                }
            }
        }

        let receipt =
            FindingsCommitReceipt::new(findings.len() as u64, occurrences.len() as u64, observations.len() as u64);
        for (key, f) in findings {
            durable.findings.entry(key).or_insert_with(|| f.clone());
        }
        for (key, o) in occurrences {
            durable.occurrences.entry(key).or_insert_with(|| o.clone());
        }
        durable.observations.extend(observations);
        Ok(receipt)
    }
}

/// The in-memory findings sink. Clones share one store.
#[derive(Clone)]
pub struct InMemoryFindingsSink {
    core: Arc<StoreCore<FindingsBackend>>,
}

impl Default for InMemoryFindingsSink {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryFindingsSink {
    pub fn new() -> Self {
        Self::with_auto_complete(true)
    }

    pub fn with_auto_complete(auto_complete: bool) -> Self {
        Self { core: Arc::new(StoreCore::new(Default::default(), auto_complete)) }
    }

    /// Test support: poisons this store's lock (see the store core).
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn poison_for_tests(&self) {
        self.core.poison_for_tests();
    }

    pub(crate) fn core(&self) -> &StoreCore<FindingsBackend> {
        &self.core
    }
}

impl FindingsSink for InMemoryFindingsSink {
    type Error = InMemoryPersistenceError;
    type CommitHandle = InMemoryFindingsHandle;

    /// Identity and tenant problems are rejected here, before any fault
    /// counter or op id is consumed; parent and conflict checks run at apply.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<InMemoryFindingsHandle, Self::Error> {
        batch.validate_submission()?;
        let payload = FindingsPayload {
            findings: batch.findings().to_vec(),
            occurrences: batch.occurrences().to_vec(),
            observations: batch.observations().to_vec(),
        };
        Ok(InMemoryFindingsHandle { handle: StoreCore::submit(&self.core, payload)? })
    }
}

impl FindingsConformanceProbe for InMemoryFindingsSink {
    type Error = InMemoryPersistenceError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, InMemoryPersistenceError> {
        self.core.read(|d| {
            DurableFindingsCounts::new(d.findings.len() as u64, d.occurrences.len() as u64, d.observations.len() as u64)
        })
    }
}

fn sorted<K: Ord + Copy, V: Clone>(map: &HashMap<K, V>) -> Vec<V> {
    let mut rows: Vec<(K, V)> = map.iter().map(|(k, v)| (*k, v.clone())).collect();
    rows.sort_by_key(|row| row.0);
    rows.into_iter().map(|(_, v)| v).collect()
}

impl FindingsInspect for InMemoryFindingsSink {
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Self::Error> {
        self.core.read(|d| d.findings.get(&(tenant_id, id)).cloned())
    }

    fn get_occurrence(&self, tenant_id: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Self::Error> {
        self.core.read(|d| d.occurrences.get(&(tenant_id, id)).cloned())
    }

    fn get_observation(
        &self,
        tenant_id: TenantId,
        id: ObservationId,
    ) -> Result<Option<ObservationRecord>, Self::Error> {
        self.core.read(|d| d.observations.get(&(tenant_id, id)).cloned())
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Self::Error> {
        self.core.read(|d| sorted(&d.findings))
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        self.core.read(|d| sorted(&d.occurrences))
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Self::Error> {
        self.core.read(|d| sorted(&d.observations))
    }
}

impl fmt::Debug for InMemoryFindingsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.try_lock() {
            Some(Ok(state)) => f
                .debug_struct("InMemoryFindingsSink")
                .field("durable_findings", &state.durable.findings.len())
                .field("durable_occurrences", &state.durable.occurrences.len())
                .field("durable_observations", &state.durable.observations.len())
                .field("pending_ops", &state.pending_count())
                .field("auto_complete", &state.auto_complete)
                .finish(),
            Some(Err(())) => f.write_str("InMemoryFindingsSink(<poisoned>)"),
            None => f.write_str("InMemoryFindingsSink(<locked>)"),
        }
    }
}

/// A claim on one accepted findings write.
#[must_use = "durability is not established until wait() returns a receipt"]
pub struct InMemoryFindingsHandle {
    handle: StoreHandle<FindingsBackend>,
}

impl InMemoryFindingsHandle {
    pub const fn operation_id(&self) -> PendingWriteId {
        self.handle.operation_id()
    }

    /// The outcome if the write has finished, without blocking.
    pub fn poll(
        &mut self,
    ) -> Result<Option<Result<FindingsCommitReceipt, InMemoryPersistenceError>>, InMemoryPersistenceError> {
        self.handle.poll()
    }
}

impl TrackedHandle for InMemoryFindingsHandle {
    fn operation_id(&self) -> PendingWriteId {
        self.handle.operation_id()
    }
}

impl CommitHandle for InMemoryFindingsHandle {
    type Receipt = FindingsCommitReceipt;
    type Error = InMemoryPersistenceError;

    fn wait(self) -> Result<FindingsCommitReceipt, InMemoryPersistenceError> {
        self.handle.wait()
    }
}

impl fmt::Debug for InMemoryFindingsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryFindingsHandle").field("op_id", &self.handle.operation_id()).finish()
    }
}
