//! The write envelope both component stores submit a batch through: room
//! checked and the batch lowered in one combiner request, the guest's write
//! resource paired with its host operation id, waiters woken, and a refusal
//! decoded against the memory the instance had left.

use std::sync::Arc;

use gossip_exec::Class;
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, Lower, ResourceAny};

use crate::bindings::exports::gossip::persistence::types::StoreError as WitError;
use crate::decode::Decoder;
use crate::error::ComponentStoreError;
use crate::handle::ComponentHandle;
use crate::shared::{Flavor, Live, Shared};

/// What a batch-submitting export returns: the guest's write, or its refusal.
type Submitted = (Result<ResourceAny, WitError>,);

impl Live {
    /// Calls the batch export `export` with `params` lowered straight from
    /// the host's rows (`crate::lower`), skipping bindgen's owned copies.
    pub(crate) fn submit_batch<P>(
        &mut self,
        export: ComponentExportIndex,
        operation: &'static str,
        params: P,
    ) -> wasmtime::Result<Result<ResourceAny, WitError>>
    where
        P: ComponentNamedList + Lower,
    {
        let func = self
            .instance
            .get_func(&mut self.store, export)
            .ok_or_else(|| wasmtime::Error::msg(format!("{operation} is not a function")))?;
        let (reply,) = func.typed::<P, Submitted>(&self.store)?.call(&mut self.store, params)?;
        Ok(reply)
    }
}

impl<F: Flavor> Shared<F> {
    /// Submits one batch as one request: `bytes` of room are ensured, then
    /// `call` hands the rows to the guest, whose write is paired with its
    /// host operation id before the request ends. `entry` is the batch as
    /// the journal will keep it once the write is acknowledged.
    pub(crate) fn submit(
        self: &Arc<Self>,
        operation: &'static str,
        bytes: usize,
        entry: Option<F::Entry>,
        call: impl FnOnce(&mut Live) -> wasmtime::Result<Result<ResourceAny, WitError>> + Send + 'static,
    ) -> Result<ComponentHandle<F>, ComponentStoreError> {
        let called = self.with_slot(Class::Data, move |slot| {
            slot.ensure_room(bytes)?;
            let reply = slot.call(operation, move |live| match call(live)? {
                Ok(write) => Ok(Ok((write, F::operation_id(live, write)?))),
                Err(refused) => Ok(Err(refused)),
            })?;
            Ok((reply.map(|(write, guest_id)| (write, slot.host_id(guest_id))), slot.memory_available()))
        });
        // An auto-completed write is already finished: wake any waiter.
        self.wake();
        let (reply, available) = called.result?;
        let (write, op_id) = reply.map_err(|e| Decoder::new(F::KIND, operation).with_available(available).error(e))?;
        Ok(ComponentHandle::new(Arc::clone(self), write, op_id, called.generation, entry))
    }
}
