//! `ComponentDoneLedger`: the done-ledger traits over a component instance.

use gossip_exec::Class;
use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord};
use gossip_persistence::identity::{OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, DoneLedger, DoneLedgerInspect, InMemoryDoneLedger, MAX_PAGE_SIZE, RECOMMENDED_MAX_BATCH_SIZE,
    StoreError, StoreKind, check_batch_size, check_read_size,
};
use wasmtime::component::ResourceAny;

use crate::bindings::exports::gossip::persistence::done_ledger::{GuestDoneLedger, GuestDoneWrite};
use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;
use crate::decode::Decoder;
use crate::error::ComponentStoreError;
use crate::flavor::DoneLedgerWrites;
use crate::handle::ComponentDoneLedgerHandle;
use crate::lower::{self, DoneRow};
use crate::paging::{check_page_len, collect_pages};
use crate::reply;
use crate::runtime::{Api, HostState, Recovery};
use crate::shared::{Flavor, Live};
use crate::store::ComponentDoneLedger;

fn ledger(api: &Api) -> GuestDoneLedger<'_> {
    api.gossip_persistence_done_ledger().done_ledger()
}

fn write(api: &Api) -> GuestDoneWrite<'_> {
    api.gossip_persistence_done_ledger().done_write()
}

/// Guest memory a batch's arguments take once lowered.
fn lowered_size(records: &[DoneLedgerRecord]) -> usize {
    records.iter().map(|r| lower::layout::SIZE + r.error_code().map_or(0, |c| c.as_str().len())).sum()
}

impl Flavor for DoneLedgerWrites {
    const KIND: StoreKind = StoreKind::DoneLedger;
    type Journal = InMemoryDoneLedger;
    type Entry = Vec<DoneLedgerRecord>;
    type WitReceipt = wit::DoneReceipt;

    fn construct(api: &Api, store: &mut wasmtime::Store<HostState>) -> wasmtime::Result<ResourceAny> {
        ledger(api).call_constructor(store)
    }

    fn controller(
        api: &Api,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny> {
        let testing = api.gossip_persistence_testing().ok_or_else(|| wasmtime::Error::msg("no testing interface"))?;
        testing.call_ledger_controller(store, this)
    }

    fn operation_id(live: &mut Live, w: ResourceAny) -> wasmtime::Result<u64> {
        write(&live.api).call_operation_id(&mut live.store, w)
    }

    fn poll(live: &mut Live, w: ResourceAny) -> wasmtime::Result<Option<Result<wit::DoneReceipt, wit::StoreError>>> {
        write(&live.api).call_poll(&mut live.store, w)
    }

    fn receipt(receipt: &wit::DoneReceipt) -> DoneLedgerCommitReceipt {
        convert::done_receipt(receipt)
    }

    fn record(journal: &mut InMemoryDoneLedger, entry: Vec<DoneLedgerRecord>) {
        // The component accepted and applied these very rows, and the journal
        // merges by the same rules, so this cannot fail short of a bug.
        if let Ok(handle) = journal.batch_upsert(&entry) {
            let _ = handle.wait();
        }
    }

    fn replay(journal: &InMemoryDoneLedger, live: &mut Live) -> Result<(), String> {
        let rows = journal.snapshot().map_err(|e| e.to_string())?;
        for chunk in rows.chunks(RECOMMENDED_MAX_BATCH_SIZE) {
            let wit_rows: Vec<wit::DoneRecord> = chunk.iter().map(convert::done_record).collect();
            let submitted = ledger(&live.api).call_batch_upsert(&mut live.store, live.this, &wit_rows);
            let written = submitted.map_err(|e| e.to_string())?.map_err(|e| format!("{e:?}"))?;
            let polled = write(&live.api).call_poll(&mut live.store, written).map_err(|e| e.to_string())?;
            written.resource_drop(&mut live.store).map_err(|e| e.to_string())?;
            match polled {
                Some(Ok(_)) => {}
                other => return Err(format!("replaying {} journaled rows: {other:?}", chunk.len())),
            }
        }
        Ok(())
    }
}

const fn decoder(operation: &'static str) -> Decoder {
    Decoder::new(StoreKind::DoneLedger, operation)
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
        check_read_size(ovid_hashes.len()).map_err(StoreError::from)?;
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let policy = convert::wit_digest(policy_hash.as_bytes());
        let ovids: Vec<_> = ovid_hashes.iter().map(|o| convert::wit_digest(o.as_bytes())).collect();
        let keys = ovids.len() * 32;
        let rows = ovids.len();
        let reply = self.shared.call_with_room(Class::Data, "batch-get", keys, move |live| {
            // Exactly one row per key: a longer answer is refused unlifted.
            live.expect_reply(reply::rows::<Option<wit::DoneRecord>>(rows, reply::DONE_ROW_STRINGS));
            ledger(&live.api).call_batch_get(&mut live.store, live.this, tenant, policy, &ovids)
        })?;
        let d = decoder("batch-get");
        let rows = reply.map_err(|e| d.error(e))?;
        if rows.len() != ovid_hashes.len() {
            return Err(d.protocol(format!("{} rows for {} keys", rows.len(), ovid_hashes.len())));
        }
        rows.iter().map(|row| row.as_ref().map(|r| d.done_record(r)).transpose()).collect()
    }

    /// Pages through the component (`list_done_hashes_page`), so no single
    /// call returns more than a page.
    fn list_done_hashes(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
    ) -> Result<Vec<OvidHash>, ComponentStoreError> {
        collect_pages(
            StoreKind::DoneLedger,
            |after| self.list_done_hashes_page(tenant_id, policy_hash, after, MAX_PAGE_SIZE),
            |h| *h,
        )
    }

    fn list_done_hashes_page(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        after: Option<OvidHash>,
        limit: usize,
    ) -> Result<Vec<OvidHash>, ComponentStoreError> {
        check_read_size(limit).map_err(StoreError::from)?;
        let tenant = convert::wit_digest(tenant_id.as_bytes());
        let policy = convert::wit_digest(policy_hash.as_bytes());
        let after = after.map(|h| convert::wit_digest(h.as_bytes()));
        let reply = self.shared.call(Class::Data, "list-done-hashes", move |live| {
            live.expect_reply(reply::rows::<wit::Digest>(limit, 0));
            ledger(&live.api).call_list_done_hashes(&mut live.store, live.this, tenant, policy, after, limit as u32)
        })?;
        let d = decoder("list-done-hashes");
        let page = reply.map_err(|e| d.error(e))?;
        check_page_len(&d, page.len(), limit)?;
        Ok(page.iter().map(|h| Decoder::ovid(*h)).collect())
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
        // Limits before work: nothing is cloned or lowered for a batch the
        // store must refuse, or one whose arguments the guest cannot hold.
        check_batch_size(records.len()).map_err(StoreError::from)?;
        let journaled = self.shared.runtime().config().recovery == Recovery::Journal;
        let entry = journaled.then(|| records.to_vec());
        // The request runs on whichever thread is combining, so it owns its
        // rows: one clone of the native records, lowered in place from there.
        let bytes = lowered_size(records);
        let records = records.to_vec();
        let export = *self.shared.runtime().batch_upsert_export();
        self.shared.submit("batch-upsert", bytes, entry, move |live| {
            let rows: Vec<DoneRow<'_>> = records.iter().map(DoneRow).collect();
            let this = live.this;
            live.submit_batch(export, "done-ledger.batch-upsert", (this, rows.as_slice()))
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

    /// Pages through the component (`snapshot_page`).
    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, ComponentStoreError> {
        collect_pages(StoreKind::DoneLedger, |after| self.snapshot_page(after.as_ref(), MAX_PAGE_SIZE), |r| *r.key())
    }

    fn snapshot_page(
        &self,
        after: Option<&DoneLedgerKey>,
        limit: usize,
    ) -> Result<Vec<DoneLedgerRecord>, ComponentStoreError> {
        check_read_size(limit).map_err(StoreError::from)?;
        let after = after.map(convert::key);
        let reply = self.shared.call(Class::Data, "snapshot", move |live| {
            live.expect_reply(reply::rows::<wit::DoneRecord>(limit, reply::DONE_ROW_STRINGS));
            ledger(&live.api).call_snapshot(&mut live.store, live.this, after, limit as u32)
        })?;
        let d = decoder("snapshot");
        let page = reply.map_err(|e| d.error(e))?;
        check_page_len(&d, page.len(), limit)?;
        page.iter().map(|r| d.done_record(r)).collect()
    }
}
