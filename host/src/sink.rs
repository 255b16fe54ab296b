//! `ComponentFindingsSink`: the findings traits over a component instance.

use core::fmt;
use std::sync::Arc;

use gossip_exec::Class;
use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use gossip_persistence::{
    CommitHandle, FindingsConformanceProbe, FindingsInspect, FindingsSink, InMemoryStoreKind, PendingWriteId,
    TrackedHandle,
};
use wasmtime::component::ResourceAny;

use crate::bindings::Persistence;
use crate::bindings::exports::gossip::persistence::findings::{GuestFindingsSink, GuestFindingsWrite};
use crate::convert;
use crate::error::{ComponentStoreError, Decoder};
use crate::runtime::{ComponentRuntime, HostState};
use crate::shared::{Flavor, Shared};

pub(crate) struct SinkFlavor;

fn sink(api: &Persistence) -> GuestFindingsSink<'_> {
    api.gossip_persistence_findings().findings_sink()
}

fn write(api: &Persistence) -> GuestFindingsWrite<'_> {
    api.gossip_persistence_findings().findings_write()
}

impl Flavor for SinkFlavor {
    const KIND: InMemoryStoreKind = InMemoryStoreKind::Findings;

    fn construct(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        auto_complete: bool,
    ) -> wasmtime::Result<ResourceAny> {
        sink(api).call_constructor(store, auto_complete)
    }

    fn controller(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny> {
        sink(api).call_controller(store, this)
    }
}

const fn decoder(operation: &'static str) -> Decoder {
    Decoder { store: InMemoryStoreKind::Findings, operation }
}

/// A findings sink backed by its own instance of a component. Clones share
/// the instance; after a trap it serves on from a fresh, empty instance.
#[derive(Clone)]
pub struct ComponentFindingsSink {
    pub(crate) shared: Arc<Shared<SinkFlavor>>,
}

impl ComponentFindingsSink {
    pub(crate) fn new(runtime: ComponentRuntime, auto_complete: bool) -> Result<Self, ComponentStoreError> {
        Ok(Self { shared: Arc::new(Shared::new(runtime, auto_complete)?) })
    }

    /// Runs `f` on this sink's raw instance (see `ComponentDoneLedger::with_raw`).
    pub fn with_raw<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut wasmtime::Store<HostState>, &Persistence, ResourceAny) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.shared.call(Class::Data, "raw", move |live| f(&mut live.store, &live.api, live.this))
    }

    fn lookup<T: Send + 'static>(
        &self,
        operation: &'static str,
        tenant_id: TenantId,
        id: &[u8; 32],
        call: impl FnOnce(
            GuestFindingsSink<'_>,
            &mut wasmtime::Store<HostState>,
            ResourceAny,
            crate::bindings::exports::gossip::persistence::types::Digest,
            crate::bindings::exports::gossip::persistence::types::Digest,
        ) -> wasmtime::Result<
            Result<Option<T>, crate::bindings::exports::gossip::persistence::types::StoreError>,
        > + Send
        + 'static,
    ) -> Result<Option<T>, ComponentStoreError> {
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let id = convert::wit_digest(id);
        let reply = self
            .shared
            .call(Class::Data, operation, move |live| call(sink(&live.api), &mut live.store, live.this, tenant, id))?;
        reply.map_err(|e| decoder(operation).error(e))
    }
}

impl FindingsSink for ComponentFindingsSink {
    type Error = ComponentStoreError;
    type CommitHandle = ComponentFindingsHandle;

    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<ComponentFindingsHandle, ComponentStoreError> {
        let findings: Vec<_> = batch.findings().iter().map(convert::finding).collect();
        let occurrences: Vec<_> = batch.occurrences().iter().map(convert::occurrence).collect();
        let observations: Vec<_> = batch.observations().iter().map(convert::observation).collect();
        let d = decoder("upsert-batch");
        // The converted rows are already owned: moved in, not copied again.
        let called = self.shared.call_at(Class::Data, "upsert-batch", move |live| {
            let reply = sink(&live.api).call_upsert_batch(
                &mut live.store,
                live.this,
                &findings,
                &occurrences,
                &observations,
            )?;
            Ok(match reply {
                Ok(w) => Ok((w, write(&live.api).call_operation_id(&mut live.store, w)?)),
                Err(e) => Err(e),
            })
        });
        let (reply, generation) = (called.result, called.generation);
        self.shared.wake();
        let (write, op_id) = reply?.map_err(|e| d.error(e))?;
        Ok(ComponentFindingsHandle {
            shared: Arc::clone(&self.shared),
            write: Some(write),
            op_id: PendingWriteId::from_raw(op_id),
            generation,
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
        let reply = self.shared.call(Class::Data, "findings-snapshot", |live| {
            sink(&live.api).call_findings_snapshot(&mut live.store, live.this)
        })?;
        let d = decoder("findings-snapshot");
        Ok(reply.map_err(|e| d.error(e))?.iter().map(Decoder::finding).collect())
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, ComponentStoreError> {
        let reply = self.shared.call(Class::Data, "occurrences-snapshot", |live| {
            sink(&live.api).call_occurrences_snapshot(&mut live.store, live.this)
        })?;
        let d = decoder("occurrences-snapshot");
        reply.map_err(|e| d.error(e))?.iter().map(|r| d.occurrence(r)).collect()
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, ComponentStoreError> {
        let reply = self.shared.call(Class::Data, "observations-snapshot", |live| {
            sink(&live.api).call_observations_snapshot(&mut live.store, live.this)
        })?;
        let d = decoder("observations-snapshot");
        reply.map_err(|e| d.error(e))?.iter().map(|r| d.observation(r)).collect()
    }
}

impl fmt::Debug for ComponentFindingsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentFindingsSink").field("component", &self.shared.runtime().name()).finish()
    }
}

/// A claim on one accepted findings write in a component.
#[must_use = "durability is not established until wait() returns a receipt"]
pub struct ComponentFindingsHandle {
    shared: Arc<Shared<SinkFlavor>>,
    write: Option<ResourceAny>,
    op_id: PendingWriteId,
    generation: u64,
}

impl TrackedHandle for ComponentFindingsHandle {
    fn operation_id(&self) -> PendingWriteId {
        self.op_id
    }
}

impl CommitHandle for ComponentFindingsHandle {
    type Receipt = FindingsCommitReceipt;
    type Error = ComponentStoreError;

    fn wait(mut self) -> Result<FindingsCommitReceipt, ComponentStoreError> {
        let Some(write_res) = self.write.take() else {
            return Err(ComponentStoreError::InstanceReset { store: InMemoryStoreKind::Findings, op_id: self.op_id });
        };
        let outcome = self.shared.wait_for(self.generation, self.op_id, write_res, |live, w| {
            write(&live.api).call_poll(&mut live.store, w)
        })?;
        outcome.map(|r| convert::findings_receipt(&r)).map_err(|e| decoder("poll").error(e))
    }
}

impl Drop for ComponentFindingsHandle {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            self.shared.discard(self.generation, write);
        }
    }
}

impl fmt::Debug for ComponentFindingsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentFindingsHandle").field("op_id", &self.op_id).finish()
    }
}
