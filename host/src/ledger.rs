//! `ComponentDoneLedger`: the done-ledger traits over a component instance.

use core::fmt;
use std::sync::Arc;

use gossip_exec::Class;
use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::identity::{OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, InMemoryStoreKind, PendingWriteId, TrackedHandle,
};
use wasmtime::component::ResourceAny;

use crate::bindings::Persistence;
use crate::bindings::exports::gossip::persistence::done_ledger::{GuestDoneLedger, GuestDoneWrite};
use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;
use crate::error::{ComponentStoreError, Decoder};
use crate::lower::DoneRow;
use crate::runtime::{ComponentRuntime, HostState};
use crate::shared::{Flavor, Shared};

pub(crate) struct LedgerFlavor;

fn ledger(api: &Persistence) -> GuestDoneLedger<'_> {
    api.gossip_persistence_done_ledger().done_ledger()
}

fn write(api: &Persistence) -> GuestDoneWrite<'_> {
    api.gossip_persistence_done_ledger().done_write()
}

impl Flavor for LedgerFlavor {
    const KIND: InMemoryStoreKind = InMemoryStoreKind::DoneLedger;

    fn construct(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        auto_complete: bool,
    ) -> wasmtime::Result<ResourceAny> {
        ledger(api).call_constructor(store, auto_complete)
    }

    fn controller(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny> {
        ledger(api).call_controller(store, this)
    }
}

const fn decoder(operation: &'static str) -> Decoder {
    Decoder { store: InMemoryStoreKind::DoneLedger, operation }
}

/// A done-ledger backed by its own instance of a component. Clones share
/// the instance. After a trap the ledger serves on from a fresh, empty
/// instance (the trapped call reports `ComponentStoreError::Trap`).
#[derive(Clone)]
pub struct ComponentDoneLedger {
    pub(crate) shared: Arc<Shared<LedgerFlavor>>,
}

impl ComponentDoneLedger {
    pub(crate) fn new(runtime: ComponentRuntime, auto_complete: bool) -> Result<Self, ComponentStoreError> {
        Ok(Self { shared: Arc::new(Shared::new(runtime, auto_complete)?) })
    }

    /// Runs `f` on this ledger's raw instance: the test hook for inputs the
    /// Rust types cannot represent. A wasmtime error resets the instance.
    ///
    /// `f` runs on whichever thread is serving the instance, so it owns
    /// what it uses (`Send + 'static`).
    pub fn with_raw<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut wasmtime::Store<HostState>, &Persistence, ResourceAny) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.shared.call(Class::Data, "raw", move |live| f(&mut live.store, &live.api, live.this))
    }
}

impl DoneLedger for ComponentDoneLedger {
    type Error = ComponentStoreError;
    type CommitHandle = ComponentDoneLedgerHandle;

    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, ComponentStoreError> {
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let policy = convert::wit_digest(policy_hash.as_bytes());
        let ovids: Vec<_> = ovid_hashes.iter().map(|o| convert::wit_digest(o.as_bytes())).collect();
        let reply = self.shared.call(Class::Data, "batch-get", move |live| {
            ledger(&live.api).call_batch_get(&mut live.store, live.this, tenant, policy, &ovids)
        })?;
        let d = decoder("batch-get");
        let rows = reply.map_err(|e| d.error(e))?;
        if rows.len() != ovid_hashes.len() {
            return Err(d.protocol(format!("{} rows for {} keys", rows.len(), ovid_hashes.len())));
        }
        rows.iter().map(|row| row.as_ref().map(|r| d.done_record(r)).transpose()).collect()
    }

    fn list_done_hashes(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
    ) -> Result<Vec<OvidHash>, ComponentStoreError> {
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let policy = convert::wit_digest(policy_hash.as_bytes());
        let reply = self.shared.call(Class::Data, "list-done-hashes", move |live| {
            ledger(&live.api).call_list_done_hashes(&mut live.store, live.this, tenant, policy)
        })?;
        let d = decoder("list-done-hashes");
        reply.map_err(|e| d.error(e))?.iter().map(|h| Ok(Decoder::ovid(*h))).collect()
    }

    fn count_done_hashes(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
    ) -> Result<Option<usize>, ComponentStoreError> {
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let policy = convert::wit_digest(policy_hash.as_bytes());
        let reply = self.shared.call(Class::Data, "count-done-hashes", move |live| {
            ledger(&live.api).call_count_done_hashes(&mut live.store, live.this, tenant, policy)
        })?;
        let d = decoder("count-done-hashes");
        reply.map_err(|e| d.error(e))?.map(|n| d.size(n)).transpose()
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<ComponentDoneLedgerHandle, ComponentStoreError> {
        // The request runs on whichever thread is combining, so it owns its
        // rows: one clone of the native records, lowered in place from there.
        let records = records.to_vec();
        let d = decoder("batch-upsert");
        let export = *self.shared.runtime().batch_upsert_export();
        let called = self.shared.call_at(Class::Data, "batch-upsert", move |live| {
            let rows: Vec<DoneRow<'_>> = records.iter().map(DoneRow).collect();
            let func = live
                .instance
                .get_func(&mut live.store, export)
                .ok_or_else(|| wasmtime::Error::msg("done-ledger.batch-upsert is not a function"))?;
            let typed =
                func.typed::<(ResourceAny, &[DoneRow<'_>]), (Result<ResourceAny, wit::StoreError>,)>(&live.store)?;
            let (reply,) = typed.call(&mut live.store, (live.this, &rows))?;
            Ok(match reply {
                Ok(w) => Ok((w, write(&live.api).call_operation_id(&mut live.store, w)?)),
                Err(e) => Err(e),
            })
        });
        let (reply, generation) = (called.result, called.generation);
        // Auto-completed writes are already finished: wake any waiter.
        self.shared.wake();
        let (write, op_id) = reply?.map_err(|e| d.error(e))?;
        Ok(ComponentDoneLedgerHandle {
            shared: Arc::clone(&self.shared),
            write: Some(write),
            op_id: PendingWriteId::from_raw(op_id),
            generation,
        })
    }
}

impl DoneLedgerInspect for ComponentDoneLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, ComponentStoreError> {
        let wit_key = convert::key(key);
        let reply = self.shared.call(Class::Data, "get-record", move |live| {
            ledger(&live.api).call_get_record(&mut live.store, live.this, wit_key)
        })?;
        let d = decoder("get-record");
        reply.map_err(|e| d.error(e))?.as_ref().map(|r| d.done_record(r)).transpose()
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, ComponentStoreError> {
        let reply = self
            .shared
            .call(Class::Data, "snapshot", |live| ledger(&live.api).call_snapshot(&mut live.store, live.this))?;
        let d = decoder("snapshot");
        reply.map_err(|e| d.error(e))?.iter().map(|r| d.done_record(r)).collect()
    }
}

impl fmt::Debug for ComponentDoneLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentDoneLedger").field("component", &self.shared.runtime().name()).finish()
    }
}

/// A claim on one accepted done-ledger write in a component.
#[must_use = "durability is not established until wait() returns a receipt"]
pub struct ComponentDoneLedgerHandle {
    shared: Arc<Shared<LedgerFlavor>>,
    /// Taken by `wait`; still present on drop means "discard the outcome".
    write: Option<ResourceAny>,
    op_id: PendingWriteId,
    generation: u64,
}

impl TrackedHandle for ComponentDoneLedgerHandle {
    fn operation_id(&self) -> PendingWriteId {
        self.op_id
    }
}

impl CommitHandle for ComponentDoneLedgerHandle {
    type Receipt = DoneLedgerCommitReceipt;
    type Error = ComponentStoreError;

    fn wait(mut self) -> Result<DoneLedgerCommitReceipt, ComponentStoreError> {
        let Some(write_res) = self.write.take() else {
            return Err(ComponentStoreError::InstanceReset { store: InMemoryStoreKind::DoneLedger, op_id: self.op_id });
        };
        let outcome = self.shared.wait_for(self.generation, self.op_id, write_res, |live, w| {
            write(&live.api).call_poll(&mut live.store, w)
        })?;
        outcome.map(|r| convert::done_receipt(&r)).map_err(|e| decoder("poll").error(e))
    }
}

impl Drop for ComponentDoneLedgerHandle {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            self.shared.discard(self.generation, write);
        }
    }
}

impl fmt::Debug for ComponentDoneLedgerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentDoneLedgerHandle").field("op_id", &self.op_id).finish()
    }
}
