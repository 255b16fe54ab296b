//! One commit handle for both component stores: a claim on one accepted
//! write in an instance, polled to its receipt through the combiner.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use gossip_persistence::{CommitHandle, PendingWriteId, TrackedHandle};
use wasmtime::component::ResourceAny;

use crate::decode::Decoder;
use crate::error::ComponentStoreError;
use crate::flavor::{DoneLedgerWrites, FindingsWrites};
use crate::shared::{Flavor, Shared};

/// A claim on one accepted write in a component; durable only once `wait`
/// returns a receipt. Dropping it unwaited cancels nothing: the write still
/// applies when released; only its outcome is discarded.
///
/// The crate-private `Flavor` bound is how the two sealed markers reach
/// their store's calls; nothing outside can name another flavor.
#[must_use = "durability is not established until wait() returns a receipt"]
#[allow(private_bounds)]
pub struct ComponentHandle<F: Flavor> {
    shared: Arc<Shared<F>>,
    /// Taken by `wait`; still present on drop means "discard the outcome".
    write: Option<ResourceAny>,
    op_id: PendingWriteId,
    generation: u64,
    /// The batch, kept only when the runtime journals acknowledged writes.
    entry: Option<F::Entry>,
    flavor: PhantomData<fn() -> F>,
}

/// A done-ledger write's handle.
pub type ComponentDoneLedgerHandle = ComponentHandle<DoneLedgerWrites>;
/// A findings write's handle.
pub type ComponentFindingsHandle = ComponentHandle<FindingsWrites>;

#[allow(private_bounds)]
impl<F: Flavor> ComponentHandle<F> {
    pub(crate) fn new(
        shared: Arc<Shared<F>>,
        write: ResourceAny,
        op_id: PendingWriteId,
        generation: u64,
        entry: Option<F::Entry>,
    ) -> Self {
        Self { shared, write: Some(write), op_id, generation, entry, flavor: PhantomData }
    }
}

#[allow(private_bounds)]
impl<F: Flavor> TrackedHandle for ComponentHandle<F> {
    fn operation_id(&self) -> PendingWriteId {
        self.op_id
    }
}

#[allow(private_bounds)]
impl<F: Flavor> CommitHandle for ComponentHandle<F> {
    type Receipt = F::Receipt;
    type Error = ComponentStoreError;

    fn wait(mut self) -> Result<F::Receipt, ComponentStoreError> {
        let Some(write) = self.write.take() else {
            return Err(ComponentStoreError::InstanceReset { store: F::KIND, op_id: self.op_id });
        };
        let (outcome, available) = self.shared.wait_for(self.generation, self.op_id, write, self.entry.take())?;
        outcome.map(|r| F::receipt(&r)).map_err(|e| Decoder::new(F::KIND, "poll").with_available(available).error(e))
    }
}

#[allow(private_bounds)]
impl<F: Flavor> Drop for ComponentHandle<F> {
    fn drop(&mut self) {
        if let Some(write) = self.write.take() {
            self.shared.discard(self.generation, write);
        }
    }
}

#[allow(private_bounds)]
impl<F: Flavor> fmt::Debug for ComponentHandle<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentHandle").field("store", &F::KIND).field("op_id", &self.op_id).finish()
    }
}
