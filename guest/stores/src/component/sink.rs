//! The `findings-sink` resource: `Store` over `InMemoryFindingsSink` (its writes are `write::Write`).

use super::exports::findings::{FindingsWrite, GuestFindingsSink};
use super::page::{limit_in, list_out};
use super::resource::Store;
use super::write::Write;
use crate::contract::{FindingsConformanceProbe, FindingsInspect};
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::check_batch_size;
use crate::store::{InMemoryFindingsSink, StoreKind};
use crate::wit::types::{
    Digest, DurableCounts, Finding, FindingRef, Observation, ObservationRef, Occurrence, OccurrenceRef, StoreError,
};
use crate::wit::{
    counts_out, digest_in, finding_in, finding_out, invalid_input, observation_in, observation_out, occurrence_in,
    occurrence_out, store_error,
};

impl GuestFindingsSink for Store<InMemoryFindingsSink> {
    fn new() -> Self {
        Self::open()
    }

    fn upsert_batch(
        &self,
        findings: Vec<Finding>,
        occurrences: Vec<Occurrence>,
        observations: Vec<Observation>,
    ) -> Result<FindingsWrite, StoreError> {
        check_batch_size(findings.len() + occurrences.len() + observations.len()).map_err(invalid_input)?;
        // Consumed, so each decoded list is freed before the write applies
        // and its memory can hold the write's indexes and rows.
        let findings: Vec<_> = findings.into_iter().map(|f| finding_in(&f)).collect();
        let occurrences = occurrences.into_iter().map(|o| occurrence_in(&o)).collect::<Result<Vec<_>, _>>()?;
        let observations = observations.into_iter().map(observation_in).collect::<Result<Vec<_>, _>>()?;
        let handle = self.store.upsert_batch_owned(findings, occurrences, observations).map_err(store_error)?;
        Ok(FindingsWrite::new(Write::new(handle)))
    }

    fn durable_counts(&self) -> Result<DurableCounts, StoreError> {
        self.store.durable_counts().map(counts_out).map_err(store_error)
    }

    fn get_finding(&self, tenant_id: Digest, finding_id: Digest) -> Result<Option<Finding>, StoreError> {
        let id = FindingId::from_bytes(digest_in(finding_id));
        let row = self.store.get_finding(tenant(tenant_id), id).map_err(store_error)?;
        Ok(row.as_ref().map(finding_out))
    }

    fn get_occurrence(&self, tenant_id: Digest, occurrence_id: Digest) -> Result<Option<Occurrence>, StoreError> {
        let id = OccurrenceId::from_bytes(digest_in(occurrence_id));
        let row = self.store.get_occurrence(tenant(tenant_id), id).map_err(store_error)?;
        Ok(row.as_ref().map(occurrence_out))
    }

    fn get_observation(&self, tenant_id: Digest, observation_id: Digest) -> Result<Option<Observation>, StoreError> {
        let id = ObservationId::from_bytes(digest_in(observation_id));
        let row = self.store.get_observation(tenant(tenant_id), id).map_err(store_error)?;
        Ok(row.as_ref().map(observation_out))
    }

    fn findings_snapshot(&self, after: Option<FindingRef>, limit: u32) -> Result<Vec<Finding>, StoreError> {
        let after = after.map(|r| (tenant(r.tenant_id), FindingId::from_bytes(digest_in(r.finding_id))));
        let rows = self.store.findings_page(after, limit_in(limit)).map_err(store_error)?;
        list_out(KIND, &rows, finding_out).map_err(store_error)
    }

    fn occurrences_snapshot(&self, after: Option<OccurrenceRef>, limit: u32) -> Result<Vec<Occurrence>, StoreError> {
        let after = after.map(|r| (tenant(r.tenant_id), OccurrenceId::from_bytes(digest_in(r.occurrence_id))));
        let rows = self.store.occurrences_page(after, limit_in(limit)).map_err(store_error)?;
        list_out(KIND, &rows, occurrence_out).map_err(store_error)
    }

    fn observations_snapshot(&self, after: Option<ObservationRef>, limit: u32) -> Result<Vec<Observation>, StoreError> {
        let after = after.map(|r| (tenant(r.tenant_id), ObservationId::from_bytes(digest_in(r.observation_id))));
        let rows = self.store.observations_page(after, limit_in(limit)).map_err(store_error)?;
        list_out(KIND, &rows, observation_out).map_err(store_error)
    }
}

fn tenant(tenant_id: Digest) -> TenantId {
    TenantId::from_bytes(digest_in(tenant_id))
}

const KIND: StoreKind = StoreKind::Findings;
