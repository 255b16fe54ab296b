//! What both component stores are: one instance of the component shared by
//! every clone, with the raw-call hook and the way out of a lost state.

use core::fmt;
use std::sync::Arc;

use gossip_exec::Class;
use wasmtime::component::ResourceAny;

use crate::error::ComponentStoreError;
use crate::flavor::{DoneLedgerWrites, FindingsWrites};
use crate::runtime::{Api, ComponentRuntime, HostState};
use crate::shared::{Flavor, Shared};

/// A store backed by its own instance of a component; clones share the
/// instance. After a trap it never answers as if empty: it reports
/// `StoreError::StateLost` until [`reset`](Self::reset), or, with
/// `Recovery::Journal`, rebuilds every acknowledged write into a fresh
/// instance.
///
/// The crate-private `Flavor` bound is how the two sealed markers reach
/// their store's calls; nothing outside can name another flavor.
#[allow(private_bounds)]
pub struct ComponentStore<F: Flavor> {
    pub(crate) shared: Arc<Shared<F>>,
}

/// A done-ledger in a component (`DoneLedger`, `DoneLedgerInspect`,
/// `StoreControl`).
pub type ComponentDoneLedger = ComponentStore<DoneLedgerWrites>;
/// A findings sink in a component (`FindingsSink`, `FindingsInspect`,
/// `FindingsConformanceProbe`, `StoreControl`).
pub type ComponentFindingsSink = ComponentStore<FindingsWrites>;

// The runtime's store constructors live with the stores, so the runtime
// knows nothing of the stores built on it.
impl ComponentRuntime {
    /// A new, empty done-ledger in its own instance (auto-complete on).
    pub fn new_ledger(&self) -> Result<ComponentDoneLedger, ComponentStoreError> {
        ComponentStore::new(self.clone(), true)
    }

    /// A new, empty done-ledger whose writes wait for a release unless
    /// `auto_complete`; needs the component's `testing` interface to turn
    /// auto-complete off (else `NoTestingInterface`).
    pub fn new_ledger_with_auto_complete(
        &self,
        auto_complete: bool,
    ) -> Result<ComponentDoneLedger, ComponentStoreError> {
        ComponentStore::new(self.clone(), auto_complete)
    }

    /// A new, empty findings sink in its own instance (auto-complete on).
    pub fn new_sink(&self) -> Result<ComponentFindingsSink, ComponentStoreError> {
        ComponentStore::new(self.clone(), true)
    }

    /// A new, empty findings sink; see `new_ledger_with_auto_complete`.
    pub fn new_sink_with_auto_complete(
        &self,
        auto_complete: bool,
    ) -> Result<ComponentFindingsSink, ComponentStoreError> {
        ComponentStore::new(self.clone(), auto_complete)
    }
}

#[allow(private_bounds)]
impl<F: Flavor> ComponentStore<F> {
    fn new(runtime: ComponentRuntime, auto_complete: bool) -> Result<Self, ComponentStoreError> {
        Ok(Self { shared: Arc::new(Shared::new(runtime, auto_complete)?) })
    }

    /// Runs `f` on this store's raw instance and store resource: the test
    /// hook for inputs the Rust types cannot represent. A wasmtime error
    /// discards the instance like a trap. Calling this store from inside `f`
    /// fails with `ComponentStoreError::Reentered`.
    ///
    /// `f` runs on whichever thread is serving the instance, so it owns
    /// what it uses (`Send + 'static`).
    pub fn with_raw<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut wasmtime::Store<HostState>, &Api, ResourceAny) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.shared.call(Class::Data, "raw", move |live| f(&mut live.store, &live.api, live.this))
    }

    /// Replaces a lost (or any) instance with a fresh, empty one: the
    /// explicit way out of `StoreError::StateLost`. Pending writes are lost.
    pub fn reset(&self) -> Result<(), ComponentStoreError> {
        self.shared.reset()
    }

    /// Whether the store lost its state and answers only `StateLost`.
    pub fn is_state_lost(&self) -> bool {
        self.shared.is_lost()
    }
}

#[allow(private_bounds)]
impl<F: Flavor> Clone for ComponentStore<F> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

#[allow(private_bounds)]
impl<F: Flavor> fmt::Debug for ComponentStore<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentStore")
            .field("store", &F::KIND)
            .field("component", &self.shared.runtime().name())
            .finish()
    }
}
