//! `ComponentFindingsSink`: the findings traits over a component instance.

use gossip_exec::Class;
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use gossip_persistence::{
    CommitHandle, FindingsConformanceProbe, FindingsInspect, FindingsSink, InMemoryFindingsSink, MAX_PAGE_SIZE,
    RECOMMENDED_MAX_BATCH_SIZE, StoreError, StoreKind, check_batch_size, check_read_size,
};
use wasmtime::component::ResourceAny;

use crate::bindings::exports::gossip::persistence::findings::{GuestFindingsSink, GuestFindingsWrite};
use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;
use crate::decode::Decoder;
use crate::error::ComponentStoreError;
use crate::flavor::FindingsWrites;
use crate::handle::ComponentFindingsHandle;
use crate::lower::findings::layout;
use crate::lower::{FindingRow, ObservationRow, OccurrenceRow};
use crate::paging::{check_page_len, collect_pages};
use crate::reply;
use crate::runtime::{Api, HostState, Recovery};
use crate::shared::{Flavor, Live};
use crate::store::ComponentFindingsSink;

fn sink(api: &Api) -> GuestFindingsSink<'_> {
    api.gossip_persistence_findings().findings_sink()
}

fn write(api: &Api) -> GuestFindingsWrite<'_> {
    api.gossip_persistence_findings().findings_write()
}

/// One findings batch, owned.
pub(crate) type Rows = (Vec<FindingRecord>, Vec<OccurrenceRecord>, Vec<ObservationRecord>);

/// Guest memory a batch's arguments take once lowered: the records' fixed
/// parts plus every location string.
fn lowered_size(batch: &FindingsUpsertBatch<'_>) -> usize {
    let strings: usize = batch
        .observations()
        .iter()
        .filter_map(ObservationRecord::location)
        .map(|l| l.display().len() + l.url().map_or(0, str::len))
        .sum();
    batch.findings().len() * layout::finding::SIZE
        + batch.occurrences().len() * layout::occurrence::SIZE
        + batch.observations().len() * layout::observation::SIZE
        + strings
}

/// `findings-sink.upsert-batch`'s parameters, its rows lowered straight from
/// the native records.
type UpsertBatchParams<'a> = (ResourceAny, &'a [FindingRow<'a>], &'a [OccurrenceRow<'a>], &'a [ObservationRow<'a>]);

/// Submits one batch to a fresh instance and requires it to apply.
fn replay_batch(
    live: &mut Live,
    f: &[wit::Finding],
    o: &[wit::Occurrence],
    b: &[wit::Observation],
) -> Result<(), String> {
    let submitted = sink(&live.api).call_upsert_batch(&mut live.store, live.this, f, o, b);
    let written = submitted.map_err(|e| e.to_string())?.map_err(|e| format!("{e:?}"))?;
    let polled = write(&live.api).call_poll(&mut live.store, written).map_err(|e| e.to_string())?;
    written.resource_drop(&mut live.store).map_err(|e| e.to_string())?;
    match polled {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!("replaying journaled findings: {e:?}")),
        None => Err("a replayed findings write stayed pending".to_owned()),
    }
}

/// Cuts rows sorted by tenant into single-tenant batches of at most the
/// batch limit.
fn tenant_chunks<T>(rows: &[T], tenant: impl Fn(&T) -> TenantId) -> impl Iterator<Item = &[T]> {
    rows.chunk_by(move |a, b| tenant(a) == tenant(b)).flat_map(|run| run.chunks(RECOMMENDED_MAX_BATCH_SIZE))
}

impl Flavor for FindingsWrites {
    const KIND: StoreKind = StoreKind::Findings;
    type Journal = InMemoryFindingsSink;
    type Entry = Rows;
    type WitReceipt = wit::FindingsReceipt;

    fn construct(api: &Api, store: &mut wasmtime::Store<HostState>) -> wasmtime::Result<ResourceAny> {
        sink(api).call_constructor(store)
    }

    fn controller(
        api: &Api,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny> {
        let testing = api.gossip_persistence_testing().ok_or_else(|| wasmtime::Error::msg("no testing interface"))?;
        testing.call_sink_controller(store, this)
    }

    fn operation_id(live: &mut Live, w: ResourceAny) -> wasmtime::Result<u64> {
        write(&live.api).call_operation_id(&mut live.store, w)
    }

    fn poll(
        live: &mut Live,
        w: ResourceAny,
    ) -> wasmtime::Result<Option<Result<wit::FindingsReceipt, wit::StoreError>>> {
        write(&live.api).call_poll(&mut live.store, w)
    }

    fn receipt(receipt: &wit::FindingsReceipt) -> FindingsCommitReceipt {
        convert::findings_receipt(receipt)
    }

    fn record(journal: &mut InMemoryFindingsSink, (f, o, b): Rows) {
        // The component applied these very rows under the same rules.
        if let Ok(handle) = journal.upsert_batch(FindingsUpsertBatch::new(&f, &o, &b)) {
            let _ = handle.wait();
        }
    }

    /// Parents before children: findings, then occurrences, then
    /// observations, each layer in single-tenant batches.
    fn replay(journal: &InMemoryFindingsSink, live: &mut Live) -> Result<(), String> {
        let findings = journal.findings_snapshot().map_err(|e| e.to_string())?;
        for chunk in tenant_chunks(&findings, FindingRecord::tenant_id) {
            let rows: Vec<_> = chunk.iter().map(convert::finding).collect();
            replay_batch(live, &rows, &[], &[])?;
        }
        let occurrences = journal.occurrences_snapshot().map_err(|e| e.to_string())?;
        for chunk in tenant_chunks(&occurrences, OccurrenceRecord::tenant_id) {
            let rows: Vec<_> = chunk.iter().map(convert::occurrence).collect();
            replay_batch(live, &[], &rows, &[])?;
        }
        let observations = journal.observations_snapshot().map_err(|e| e.to_string())?;
        for chunk in tenant_chunks(&observations, ObservationRecord::tenant_id) {
            let rows: Vec<_> = chunk.iter().map(convert::observation).collect();
            replay_batch(live, &[], &[], &rows)?;
        }
        Ok(())
    }
}

const fn decoder(operation: &'static str) -> Decoder {
    Decoder::new(StoreKind::Findings, operation)
}

impl ComponentFindingsSink {
    fn lookup<T: Send + 'static>(
        &self,
        operation: &'static str,
        tenant_id: TenantId,
        id: &[u8; 32],
        call: impl FnOnce(
            GuestFindingsSink<'_>,
            &mut wasmtime::Store<HostState>,
            ResourceAny,
            wit::Digest,
            wit::Digest,
        ) -> wasmtime::Result<Result<Option<T>, wit::StoreError>>
        + Send
        + 'static,
    ) -> Result<Option<T>, ComponentStoreError> {
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let id = convert::wit_digest(id);
        let reply = self
            .shared
            .call(Class::Data, operation, move |live| call(sink(&live.api), &mut live.store, live.this, tenant, id))?;
        reply.map_err(|e| decoder(operation).error(e))
    }

    /// One page of a findings layer: `call` runs the guest's paged snapshot.
    /// `strings` bounds the string bytes one row may carry (see `reply`).
    fn page<W: Send + 'static, T>(
        &self,
        operation: &'static str,
        limit: usize,
        strings: usize,
        call: impl FnOnce(&mut Live, u32) -> wasmtime::Result<Result<Vec<W>, wit::StoreError>> + Send + 'static,
        decode: impl Fn(&Decoder, &W) -> Result<T, ComponentStoreError>,
    ) -> Result<Vec<T>, ComponentStoreError> {
        check_read_size(limit).map_err(StoreError::from)?;
        let reply = self.shared.call(Class::Data, operation, move |live| {
            live.expect_reply(reply::rows::<W>(limit, strings));
            call(live, limit as u32)
        })?;
        let d = decoder(operation);
        let page = reply.map_err(|e| d.error(e))?;
        check_page_len(&d, page.len(), limit)?;
        page.iter().map(|row| decode(&d, row)).collect()
    }
}

fn reference(tenant: TenantId, id: &[u8; 32]) -> (wit::Digest, wit::Digest) {
    (convert::wit_digest(tenant.as_bytes()), convert::wit_digest(id))
}

impl FindingsSink for ComponentFindingsSink {
    type Error = ComponentStoreError;
    type CommitHandle = ComponentFindingsHandle;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<ComponentFindingsHandle, ComponentStoreError> {
        // Limits before work, as for the done-ledger.
        check_batch_size(batch.total_records()).map_err(StoreError::from)?;
        let bytes = lowered_size(&batch);
        let journaled = self.shared.runtime().config().recovery == Recovery::Journal;
        let entry =
            journaled.then(|| (batch.findings().to_vec(), batch.occurrences().to_vec(), batch.observations().to_vec()));
        // The request runs on whichever thread is combining, so it owns its
        // rows: one clone of the native records, lowered in place from there.
        let findings = batch.findings().to_vec();
        let occurrences = batch.occurrences().to_vec();
        let observations = batch.observations().to_vec();
        let export = *self.shared.runtime().upsert_batch_export();
        self.shared.submit("upsert-batch", bytes, entry, move |live| {
            let findings: Vec<FindingRow<'_>> = findings.iter().map(FindingRow).collect();
            let occurrences: Vec<OccurrenceRow<'_>> = occurrences.iter().map(OccurrenceRow).collect();
            let observations: Vec<ObservationRow<'_>> = observations.iter().map(ObservationRow).collect();
            let params: UpsertBatchParams<'_> = (live.this, &findings, &occurrences, &observations);
            live.submit_batch(export, "findings-sink.upsert-batch", params)
        })
    }
}

impl FindingsConformanceProbe for ComponentFindingsSink {
    type Error = ComponentStoreError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, ComponentStoreError> {
        let reply = self.shared.call(Class::Data, "durable-counts", |live| {
            sink(&live.api).call_durable_counts(&mut live.store, live.this)
        })?;
        reply.map(|c| convert::counts(&c)).map_err(|e| decoder("durable-counts").error(e))
    }
}

impl FindingsInspect for ComponentFindingsSink {
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, ComponentStoreError> {
        let row = self
            .lookup("get-finding", tenant_id, id.as_bytes(), |s, st, this, t, i| s.call_get_finding(st, this, t, i))?;
        Ok(row.as_ref().map(Decoder::finding))
    }

    fn get_occurrence(
        &self,
        tenant_id: TenantId,
        id: OccurrenceId,
    ) -> Result<Option<OccurrenceRecord>, ComponentStoreError> {
        let row = self.lookup("get-occurrence", tenant_id, id.as_bytes(), |s, st, this, t, i| {
            s.call_get_occurrence(st, this, t, i)
        })?;
        row.as_ref().map(|r| decoder("get-occurrence").occurrence(r)).transpose()
    }

    fn get_observation(
        &self,
        tenant_id: TenantId,
        id: ObservationId,
    ) -> Result<Option<ObservationRecord>, ComponentStoreError> {
        let row = self.lookup("get-observation", tenant_id, id.as_bytes(), |s, st, this, t, i| {
            s.call_get_observation(st, this, t, i)
        })?;
        row.as_ref().map(|r| decoder("get-observation").observation(r)).transpose()
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, ComponentStoreError> {
        let key = |r: &FindingRecord| (r.tenant_id(), r.finding_id());
        collect_pages(StoreKind::Findings, |after| self.findings_page(after, MAX_PAGE_SIZE), key)
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, ComponentStoreError> {
        let key = |r: &OccurrenceRecord| (r.tenant_id(), r.occurrence_id());
        collect_pages(StoreKind::Findings, |after| self.occurrences_page(after, MAX_PAGE_SIZE), key)
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, ComponentStoreError> {
        let key = |r: &ObservationRecord| (r.tenant_id(), r.observation_id());
        collect_pages(StoreKind::Findings, |after| self.observations_page(after, MAX_PAGE_SIZE), key)
    }

    fn findings_page(
        &self,
        after: Option<(TenantId, FindingId)>,
        limit: usize,
    ) -> Result<Vec<FindingRecord>, ComponentStoreError> {
        let after = after.map(|(t, id)| reference(t, id.as_bytes()));
        let after = after.map(|(tenant_id, finding_id)| wit::FindingRef { tenant_id, finding_id });
        self.page(
            "findings-snapshot",
            limit,
            0,
            move |live, limit| sink(&live.api).call_findings_snapshot(&mut live.store, live.this, after, limit),
            |_, r| Ok(Decoder::finding(r)),
        )
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, ComponentStoreError> {
        let after = after.map(|(t, id)| reference(t, id.as_bytes()));
        let after = after.map(|(tenant_id, occurrence_id)| wit::OccurrenceRef { tenant_id, occurrence_id });
        self.page(
            "occurrences-snapshot",
            limit,
            0,
            move |live, limit| sink(&live.api).call_occurrences_snapshot(&mut live.store, live.this, after, limit),
            |d, r| d.occurrence(r),
        )
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, ComponentStoreError> {
        let after = after.map(|(t, id)| reference(t, id.as_bytes()));
        let after = after.map(|(tenant_id, observation_id)| wit::ObservationRef { tenant_id, observation_id });
        self.page(
            "observations-snapshot",
            limit,
            reply::OBSERVATION_STRINGS,
            move |live, limit| sink(&live.api).call_observations_snapshot(&mut live.store, live.this, after, limit),
            |d, r| d.observation(r),
        )
    }
}
