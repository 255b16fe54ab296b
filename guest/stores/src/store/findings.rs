//! `InMemoryFindingsSink`: three immutable-or-upserted layers over the store core.

use crate::hash::HashMap;
use core::fmt;
use std::collections::hash_map::Entry;

use super::core::{SharedCore, StoreBackend, StoreCore, StoreHandle};
use super::error::{StoreError, StoreKind};
use super::page;
use super::reserve::Reserver;
use crate::contract::{FindingsConformanceProbe, FindingsInspect, FindingsSink};
use crate::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord, check_immutable, merge_observations,
};
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::check_read_size;

/// The three layers' durable rows. Opaque: named only as the backend's
/// durable state.
pub struct FindingsDurable {
    findings: HashMap<(TenantId, FindingId), FindingRecord>,
    occurrences: HashMap<(TenantId, OccurrenceId), OccurrenceRecord>,
    observations: HashMap<(TenantId, ObservationId), ObservationRecord>,
    reserve: Reserver,
}

impl FindingsDurable {
    fn new(reserve: Reserver) -> Self {
        Self {
            findings: HashMap::default(),
            occurrences: HashMap::default(),
            observations: HashMap::default(),
            reserve,
        }
    }
}

/// One accepted findings batch, staged. Opaque: named only as the
/// backend's payload.
pub struct FindingsPayload {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

/// The findings rows behind the store core: how an in-memory write applies.
pub struct FindingsBackend;

impl StoreBackend for FindingsBackend {
    type Payload = FindingsPayload;
    type Receipt = FindingsCommitReceipt;
    type Durable = FindingsDurable;
    type Error = StoreError;
    const STORE_KIND: StoreKind = StoreKind::Findings;

    /// Validates every layer against the union of the batch and durable
    /// state, parents before children, reserves room in every layer, and
    /// only then stores anything.
    fn apply(durable: &mut FindingsDurable, payload: &FindingsPayload) -> Result<FindingsCommitReceipt, StoreError> {
        let reserve = &durable.reserve;
        let mut findings: HashMap<(TenantId, FindingId), &FindingRecord> = HashMap::default();
        reserve.map(&mut findings, payload.findings.len())?;
        let mut new_findings = 0;
        for f in &payload.findings {
            let key = (f.tenant_id(), f.finding_id());
            let fresh = check_immutable(key, f, &findings, &durable.findings)
                .map_err(|()| StoreError::FindingConflict { tenant_id: key.0, finding_id: key.1 })?;
            if let Some(new) = fresh {
                findings.insert(key, f);
                new_findings += usize::from(new);
            }
        }

        let mut occurrences: HashMap<(TenantId, OccurrenceId), &OccurrenceRecord> = HashMap::default();
        reserve.map(&mut occurrences, payload.occurrences.len())?;
        let mut new_occurrences = 0;
        for o in &payload.occurrences {
            let parent = (o.tenant_id(), o.finding_id());
            if !findings.contains_key(&parent) && !durable.findings.contains_key(&parent) {
                return Err(StoreError::MissingFinding {
                    tenant_id: o.tenant_id(),
                    finding_id: o.finding_id(),
                    occurrence_id: o.occurrence_id(),
                });
            }
            let key = (o.tenant_id(), o.occurrence_id());
            let fresh = check_immutable(key, o, &occurrences, &durable.occurrences)
                .map_err(|()| StoreError::OccurrenceConflict { tenant_id: key.0, occurrence_id: key.1 })?;
            if let Some(new) = fresh {
                occurrences.insert(key, o);
                new_occurrences += usize::from(new);
            }
        }

        let mut observations: HashMap<(TenantId, ObservationId), ObservationRecord> = HashMap::default();
        reserve.map(&mut observations, payload.observations.len())?;
        let mut new_observations = 0;
        // Observation ids were checked when the batch was submitted (the
        // payload is built only there); a second BLAKE3 pass here cost a
        // fifth of a batch.
        for obs in &payload.observations {
            let parent = (obs.tenant_id(), obs.occurrence_id());
            if !occurrences.contains_key(&parent) && !durable.occurrences.contains_key(&parent) {
                return Err(StoreError::MissingOccurrence {
                    tenant_id: obs.tenant_id(),
                    occurrence_id: obs.occurrence_id(),
                    observation_id: obs.observation_id(),
                });
            }
            let key = (obs.tenant_id(), obs.observation_id());
            let conflict =
                || StoreError::ObservationConflict { tenant_id: obs.tenant_id(), observation_id: obs.observation_id() };
            match observations.entry(key) {
                Entry::Occupied(mut slot) => {
                    let merged = merge_observations(slot.get(), obs).ok_or_else(conflict)?;
                    slot.insert(merged);
                }
                Entry::Vacant(slot) => {
                    let merged = match durable.observations.get(&key) {
                        Some(stored) => merge_observations(stored, obs).ok_or_else(conflict)?,
                        None => {
                            new_observations += 1;
                            obs.clone()
                        }
                    };
                    slot.insert(merged);
                }
            }
        }

        let receipt =
            FindingsCommitReceipt::new(findings.len() as u64, occurrences.len() as u64, observations.len() as u64);
        // Room in every layer before any is written, so a refusal for the
        // last layer leaves the first two as they were.
        let FindingsDurable {
            findings: stored_findings,
            occurrences: stored_occurrences,
            observations: stored_observations,
            reserve,
        } = durable;
        reserve.map(stored_findings, new_findings)?;
        reserve.map(stored_occurrences, new_occurrences)?;
        reserve.map(stored_observations, new_observations)?;
        for (key, f) in findings {
            stored_findings.entry(key).or_insert_with(|| f.clone());
        }
        for (key, o) in occurrences {
            stored_occurrences.entry(key).or_insert_with(|| o.clone());
        }
        // Not `extend`: it reserves (infallibly) for up to the iterator's
        // length, more than the new rows when most of them replace stored ones.
        for (key, obs) in observations {
            stored_observations.insert(key, obs);
        }
        Ok(receipt)
    }
}

/// The in-memory findings sink. Clones share one store.
#[derive(Clone)]
pub struct InMemoryFindingsSink {
    core: SharedCore<FindingsBackend>,
    /// Shared with the durable state; used here to stage batches outside the lock.
    reserve: Reserver,
}

impl Default for InMemoryFindingsSink {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryFindingsSink {
    /// A sink that applies writes at submit (auto-complete).
    pub fn new() -> Self {
        Self::with_auto_complete(true)
    }

    /// An empty sink; with `auto_complete` off every write waits for a release.
    pub fn with_auto_complete(auto_complete: bool) -> Self {
        let reserve = Reserver::new(StoreKind::Findings);
        let durable = FindingsDurable::new(reserve.clone());
        Self { core: SharedCore::new(StoreCore::new(durable, auto_complete)), reserve }
    }

    /// Test support: poisons this store's lock (see the store core).
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn poison_for_tests(&self) {
        self.core.poison_for_tests();
    }

    /// Test support: the store's next memory reservation (staging a batch,
    /// growing a layer when a write applies, a read buffer) is refused.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_next_reservation(&self) {
        self.reserve.fail_reservation_after(0);
    }

    /// Test support: lets `skip` reservations succeed, then refuses one.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_reservation_after(&self, skip: usize) {
        self.reserve.fail_reservation_after(skip);
    }

    /// Test support: removes an armed reservation fault; true if it had not fired.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn disarm_reservation_fault(&self) -> bool {
        self.reserve.disarm()
    }

    pub(crate) fn core(&self) -> &StoreCore<FindingsBackend> {
        &self.core
    }
}

impl FindingsSink for InMemoryFindingsSink {
    type Error = StoreError;
    type CommitHandle = InMemoryFindingsHandle;

    /// Identity and tenant problems are rejected here, before any fault
    /// counter or op id is consumed; parent and conflict checks run at apply.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<InMemoryFindingsHandle, Self::Error> {
        batch.validate_submission()?;
        let mut payload = FindingsPayload { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
        self.reserve.vec(&mut payload.findings, batch.findings().len())?;
        self.reserve.vec(&mut payload.occurrences, batch.occurrences().len())?;
        self.reserve.vec(&mut payload.observations, batch.observations().len())?;
        payload.findings.extend_from_slice(batch.findings());
        payload.occurrences.extend_from_slice(batch.occurrences());
        payload.observations.extend_from_slice(batch.observations());
        Ok(StoreCore::submit(&self.core, payload)?)
    }
}

impl FindingsConformanceProbe for InMemoryFindingsSink {
    type Error = StoreError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, StoreError> {
        self.core.read(|d| {
            DurableFindingsCounts::new(d.findings.len() as u64, d.occurrences.len() as u64, d.observations.len() as u64)
        })
    }
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
        self.core.read(|d| page::table_page(&d.reserve, &d.findings, None, usize::MAX))?
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        self.core.read(|d| page::table_page(&d.reserve, &d.occurrences, None, usize::MAX))?
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Self::Error> {
        self.core.read(|d| page::table_page(&d.reserve, &d.observations, None, usize::MAX))?
    }

    fn findings_page(
        &self,
        after: Option<(TenantId, FindingId)>,
        limit: usize,
    ) -> Result<Vec<FindingRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| page::table_page(&d.reserve, &d.findings, after.as_ref(), limit))?
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| page::table_page(&d.reserve, &d.occurrences, after.as_ref(), limit))?
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| page::table_page(&d.reserve, &d.observations, after.as_ref(), limit))?
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

/// A claim on one accepted findings write (see [`StoreHandle`]).
pub type InMemoryFindingsHandle = StoreHandle<FindingsBackend>;
