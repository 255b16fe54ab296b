//! The `findings-sink` and `findings-write` resources over `InMemoryFindingsSink`.

use std::cell::Cell;
use std::sync::Arc;

use super::convert::{
    counts_out, digest_in, finding_in, finding_out, limit_in, list_out, observation_in, observation_out, occurrence_in,
    occurrence_out,
};
use super::errors::{invalid_input, store_error};
use super::wit::findings::{FindingsWrite, GuestFindingsSink, GuestFindingsWrite};
use super::wit::types::{
    Digest, DurableCounts, Finding, FindingRef, FindingsReceipt, Observation, ObservationRef, Occurrence,
    OccurrenceRef, StoreError,
};
use crate::contract::{FindingsConformanceProbe, FindingsInspect, FindingsSink};
use crate::findings::{FindingsCommitReceipt, FindingsUpsertBatch};
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::check_batch_size;
use crate::store::{InMemoryFindingsHandle, InMemoryFindingsSink, StoreKind};

pub struct Sink {
    /// See `Ledger::store`.
    store: Arc<InMemoryFindingsSink>,
}

impl Sink {
    #[cfg(feature = "testing")]
    pub const fn store(&self) -> &Arc<InMemoryFindingsSink> {
        &self.store
    }
}

fn tenant(tenant_id: Digest) -> TenantId {
    TenantId::from_bytes(digest_in(tenant_id))
}

const fn receipt_out(r: FindingsCommitReceipt) -> FindingsReceipt {
    FindingsReceipt {
        finding_count: r.finding_count(),
        occurrence_count: r.occurrence_count(),
        observation_count: r.observation_count(),
    }
}

const KIND: StoreKind = StoreKind::Findings;

impl GuestFindingsSink for Sink {
    fn new() -> Self {
        let store = Arc::new(InMemoryFindingsSink::new());
        #[cfg(feature = "testing")]
        super::testing::register_sink(&store);
        Self { store }
    }

    fn upsert_batch(
        &self,
        findings: Vec<Finding>,
        occurrences: Vec<Occurrence>,
        observations: Vec<Observation>,
    ) -> Result<FindingsWrite, StoreError> {
        check_batch_size(findings.len() + occurrences.len() + observations.len()).map_err(invalid_input)?;
        let findings: Vec<_> = findings.iter().map(finding_in).collect();
        let occurrences = occurrences.iter().map(occurrence_in).collect::<Result<Vec<_>, _>>()?;
        let observations = observations.iter().map(observation_in).collect::<Result<Vec<_>, _>>()?;
        let handle = self
            .store
            .upsert_batch(FindingsUpsertBatch::new(&findings, &occurrences, &observations))
            .map_err(store_error)?;
        Ok(FindingsWrite::new(SinkWrite { op_id: handle.operation_id().as_raw(), handle: Cell::new(Some(handle)) }))
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

pub struct SinkWrite {
    op_id: u64,
    /// See `LedgerWrite::handle`.
    handle: Cell<Option<InMemoryFindingsHandle>>,
}

impl GuestFindingsWrite for SinkWrite {
    fn operation_id(&self) -> u64 {
        self.op_id
    }

    fn poll(&self) -> Option<Result<FindingsReceipt, StoreError>> {
        let mut handle = self.handle.take()?;
        let outcome = handle.poll();
        self.handle.set(Some(handle));
        match outcome {
            Ok(None) => None,
            Ok(Some(result)) => Some(result.map(receipt_out).map_err(store_error)),
            Err(error) => Some(Err(store_error(error))),
        }
    }
}
