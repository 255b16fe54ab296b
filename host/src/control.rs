//! `StoreControl` for both component stores, through the guest's controller.

use gossip_exec::Class;
use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};

use crate::ComponentStoreError;
use crate::bindings::Persistence;
use crate::bindings::exports::gossip::persistence::control::GuestController;
use crate::bindings::exports::gossip::persistence::types::CompletionOrder as WitOrder;
use crate::error::Decoder;
use crate::ledger::ComponentDoneLedger;
use crate::shared::Flavor;
use crate::sink::ComponentFindingsSink;

fn controller(api: &Persistence) -> GuestController<'_> {
    api.gossip_persistence_control().controller()
}

const fn order(order: CompletionOrder) -> WitOrder {
    match order {
        CompletionOrder::OldestFirst => WitOrder::OldestFirst,
        CompletionOrder::NewestFirst => WitOrder::NewestFirst,
    }
}

macro_rules! impl_store_control {
    ($($store:ty => $flavor:ty),+) => {$(
        impl $store {
            fn decoder(operation: &'static str) -> Decoder {
                Decoder { store: <$flavor as Flavor>::KIND, operation }
            }
        }

        impl StoreControl for $store {
            type ControlError = ComponentStoreError;

            fn set_auto_complete(&self, on: bool) -> Result<(), ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "set-auto-complete", move |l| controller(&l.api).call_set_auto_complete(&mut l.store, l.controller, on));
                // Turning auto-complete on may finish the pending writes.
                self.shared.wake();
                let reply = reply?;
                reply.map_err(|e| Self::decoder("set-auto-complete").error(e))
            }

            fn delay_next_writes(&self, count: usize) -> Result<(), ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "delay-next-writes", move |l| controller(&l.api).call_delay_next_writes(&mut l.store, l.controller, count as u64))?;
                reply.map_err(|e| Self::decoder("delay-next-writes").error(e))
            }

            fn fail_next_submissions(&self, count: usize) -> Result<(), ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "fail-next-submissions", move |l| controller(&l.api).call_fail_next_submissions(&mut l.store, l.controller, count as u64))?;
                reply.map_err(|e| Self::decoder("fail-next-submissions").error(e))
            }

            fn fail_next_commits(&self, count: usize) -> Result<(), ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "fail-next-commits", move |l| controller(&l.api).call_fail_next_commits(&mut l.store, l.controller, count as u64))?;
                reply.map_err(|e| Self::decoder("fail-next-commits").error(e))
            }

            fn release_next(&self, o: CompletionOrder) -> Result<Option<PendingWriteId>, ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "release-next", move |l| controller(&l.api).call_release_next(&mut l.store, l.controller, order(o)));
                self.shared.wake();
                reply?.map(|id| id.map(PendingWriteId::from_raw)).map_err(|e| Self::decoder("release-next").error(e))
            }

            fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "release-specific", move |l| controller(&l.api).call_release_specific(&mut l.store, l.controller, op_id.as_raw()));
                self.shared.wake();
                reply?.map_err(|e| Self::decoder("release-specific").error(e))
            }

            fn release_all(&self, o: CompletionOrder) -> Result<usize, ComponentStoreError> {
                let reply = self.shared.call(Class::Control, "release-all", move |l| controller(&l.api).call_release_all(&mut l.store, l.controller, order(o)));
                self.shared.wake();
                let d = Self::decoder("release-all");
                d.size(reply?.map_err(|e| d.error(e))?)
            }

            fn pending_ids(&self) -> Result<Vec<PendingWriteId>, ComponentStoreError> {
                let reply = self.shared.call(Class::Data, "pending-ids", |l| controller(&l.api).call_pending_ids(&mut l.store, l.controller))?;
                let ids = reply.map_err(|e| Self::decoder("pending-ids").error(e))?;
                Ok(ids.into_iter().map(PendingWriteId::from_raw).collect())
            }

            fn pending_count(&self) -> Result<usize, ComponentStoreError> {
                let reply = self.shared.call(Class::Data, "pending-count", |l| controller(&l.api).call_pending_count(&mut l.store, l.controller))?;
                let d = Self::decoder("pending-count");
                d.size(reply.map_err(|e| d.error(e))?)
            }
        }
    )+};
}

impl_store_control!(ComponentDoneLedger => crate::ledger::LedgerFlavor, ComponentFindingsSink => crate::sink::SinkFlavor);
