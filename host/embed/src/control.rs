//! `StoreControl` for both component stores, through the controller the
//! component's `testing` interface hands out for the store. Operation ids
//! cross this boundary translated (see `Slot::host_id`), so an id from
//! before a reset never names a newer write.

use gossip_exec::Class;
use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};

use crate::ComponentStoreError;
use crate::bindings::exports::gossip::persistence::types::{CompletionOrder as WitOrder, StoreError as WitError};
use crate::decode::Decoder;
use crate::shared::{Flavor, IdMap, Live, Shared, Slot};
use crate::store::ComponentStore;
use crate::testing::controller;

const fn order(order: CompletionOrder) -> WitOrder {
    match order {
        CompletionOrder::OldestFirst => WitOrder::OldestFirst,
        CompletionOrder::NewestFirst => WitOrder::NewestFirst,
    }
}

/// Runs one controller call as a combiner request, after checking the
/// component has the testing interface at all. `then` sees the slot, for
/// operation-id translation and the remembered completion mode.
fn control<F: Flavor, W: Send + 'static, T: Send + 'static>(
    shared: &Shared<F>,
    operation: &'static str,
    call: impl FnOnce(&mut Live, &IdMap) -> wasmtime::Result<Result<W, WitError>> + Send + 'static,
    then: impl FnOnce(&mut Slot<F>, W) -> Result<T, ComponentStoreError> + Send + 'static,
) -> Result<T, ComponentStoreError> {
    if !shared.runtime().has_testing() {
        return Err(ComponentStoreError::NoTestingInterface { store: F::KIND, operation });
    }
    let called = shared.with_slot(Class::Control, move |slot| {
        let translated = slot.translator();
        let reply = slot.call(operation, move |live| call(live, &translated))?;
        let value = reply.map_err(|e| Decoder::new(F::KIND, operation).error(e))?;
        then(slot, value)
    });
    called.result
}

#[allow(private_bounds)]
impl<F: Flavor> StoreControl for ComponentStore<F> {
    type ControlError = ComponentStoreError;

    fn set_auto_complete(&self, on: bool) -> Result<(), ComponentStoreError> {
        let reply = control(
            &self.shared,
            "set-auto-complete",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_set_auto_complete(&mut l.store, this, on)
            },
            move |slot, ()| {
                slot.set_auto_complete(on);
                Ok(())
            },
        );
        // Turning auto-complete on may finish the pending writes.
        self.shared.wake();
        reply
    }

    fn delay_next_writes(&self, count: usize) -> Result<(), ComponentStoreError> {
        control(
            &self.shared,
            "delay-next-writes",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_delay_next_writes(&mut l.store, this, count as u64)
            },
            |_, ()| Ok(()),
        )
    }

    fn fail_next_submissions(&self, count: usize) -> Result<(), ComponentStoreError> {
        control(
            &self.shared,
            "fail-next-submissions",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_fail_next_submissions(&mut l.store, this, count as u64)
            },
            |_, ()| Ok(()),
        )
    }

    fn fail_next_commits(&self, count: usize) -> Result<(), ComponentStoreError> {
        control(
            &self.shared,
            "fail-next-commits",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_fail_next_commits(&mut l.store, this, count as u64)
            },
            |_, ()| Ok(()),
        )
    }

    fn release_next(&self, o: CompletionOrder) -> Result<Option<PendingWriteId>, ComponentStoreError> {
        let reply = control(
            &self.shared,
            "release-next",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_release_next(&mut l.store, this, order(o))
            },
            |slot, id: Option<u64>| Ok(id.map(|id| slot.host_id(id))),
        );
        self.shared.wake();
        reply
    }

    fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, ComponentStoreError> {
        let reply = control(
            &self.shared,
            "release-specific",
            move |l, t| {
                // An id of an earlier instance is pending nowhere.
                let Some(guest) = t.guest_id(op_id) else { return Ok(Ok(false)) };
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_release_specific(&mut l.store, this, guest)
            },
            |_, released| Ok(released),
        );
        self.shared.wake();
        reply
    }

    fn release_all(&self, o: CompletionOrder) -> Result<usize, ComponentStoreError> {
        let reply = control(
            &self.shared,
            "release-all",
            move |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_release_all(&mut l.store, this, order(o))
            },
            |_, n| Decoder::new(F::KIND, "release-all").size(n),
        );
        self.shared.wake();
        reply
    }

    fn pending_ids(&self) -> Result<Vec<PendingWriteId>, ComponentStoreError> {
        control(
            &self.shared,
            "pending-ids",
            |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_pending_ids(&mut l.store, this)
            },
            |slot, ids: Vec<u64>| Ok(ids.into_iter().map(|id| slot.host_id(id)).collect()),
        )
    }

    fn pending_count(&self) -> Result<usize, ComponentStoreError> {
        control(
            &self.shared,
            "pending-count",
            |l, _| {
                let (c, this) = controller(&l.api, l.controller)?;
                c.call_pending_count(&mut l.store, this)
            },
            |_, n| Decoder::new(F::KIND, "pending-count").size(n),
        )
    }
}
