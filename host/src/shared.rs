//! What both component stores share: one instance behind a mutex, trap
//! recovery, and waiting for a write without holding the instance.
//!
//! A wasm instance is single-threaded, so every call takes the mutex. A
//! handle's `wait` polls under the mutex and sleeps on the condvar between
//! polls, so another thread can take the instance to release the write;
//! every call that may finish writes (submits, releases, resets) wakes all
//! sleepers.

use std::marker::PhantomData;
use std::sync::{Condvar, Mutex, MutexGuard};

use gossip_persistence::{InMemoryPersistenceError, InMemoryStoreKind, PendingWriteId};
use wasmtime::component::ResourceAny;

use crate::ComponentStoreError;
use crate::bindings::Persistence;
use crate::runtime::{ComponentRuntime, HostState, Instance, describe};

/// How one kind of store is created inside an instance.
pub(crate) trait Flavor: 'static {
    const KIND: InMemoryStoreKind;
    fn construct(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        auto_complete: bool,
    ) -> wasmtime::Result<ResourceAny>;
    fn controller(
        api: &Persistence,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny>;
}

/// A live instance with its store resource and that store's controller.
pub(crate) struct Live {
    pub(crate) store: wasmtime::Store<HostState>,
    pub(crate) api: Persistence,
    pub(crate) instance: wasmtime::component::Instance,
    pub(crate) this: ResourceAny,
    pub(crate) controller: ResourceAny,
}

pub(crate) struct Slot {
    /// None after a trap, until the next call instantiates afresh.
    live: Option<Live>,
    /// Bumped on every reset; handles from older generations are lost.
    generation: u64,
}

pub(crate) struct Shared<F: Flavor> {
    runtime: ComponentRuntime,
    auto_complete: bool,
    slot: Mutex<Slot>,
    written: Condvar,
    flavor: PhantomData<fn() -> F>,
}

impl<F: Flavor> Shared<F> {
    pub(crate) fn new(runtime: ComponentRuntime, auto_complete: bool) -> Result<Self, ComponentStoreError> {
        let live = Self::instantiate(&runtime, auto_complete)?;
        Ok(Self {
            runtime,
            auto_complete,
            slot: Mutex::new(Slot { live: Some(live), generation: 0 }),
            written: Condvar::new(),
            flavor: PhantomData,
        })
    }

    pub(crate) fn runtime(&self) -> &ComponentRuntime {
        &self.runtime
    }

    fn instantiate(runtime: &ComponentRuntime, auto_complete: bool) -> Result<Live, ComponentStoreError> {
        let build = || -> wasmtime::Result<Live> {
            let Instance { mut store, api, instance } = runtime.instantiate()?;
            let this = F::construct(&api, &mut store, auto_complete)?;
            let controller = F::controller(&api, &mut store, this)?;
            Ok(Live { store, api, instance, this, controller })
        };
        build().map_err(|e| ComponentStoreError::Instantiate { store: F::KIND, message: describe(&e) })
    }

    fn poisoned() -> ComponentStoreError {
        InMemoryPersistenceError::Poisoned { store: F::KIND }.into()
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Slot>, ComponentStoreError> {
        self.slot.lock().map_err(|_| Self::poisoned())
    }

    pub(crate) fn wake(&self) {
        self.written.notify_all();
    }

    /// The current generation, for a handle created under this lock.
    pub(crate) fn generation(slot: &Slot) -> u64 {
        slot.generation
    }

    /// Runs `f` against the live instance, instantiating one first if the
    /// last one trapped. An error from wasmtime means the guest trapped (or
    /// could not be entered): the instance is dropped, never reused.
    pub(crate) fn call_in<T>(
        &self,
        slot: &mut Slot,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T>,
    ) -> Result<T, ComponentStoreError> {
        // In place: `Live` is large, and moving it out and back in on every
        // call showed up as a tenth of a one-key lookup.
        if slot.live.is_none() {
            slot.live = Some(Self::instantiate(&self.runtime, self.auto_complete)?);
        }
        let Some(live) = slot.live.as_mut() else {
            return Err(ComponentStoreError::Instantiate { store: F::KIND, message: "no live instance".to_owned() });
        };
        match f(live) {
            Ok(value) => Ok(value),
            Err(error) => {
                slot.generation += 1;
                slot.live = None;
                // Waiters on the lost instance must learn that their write is gone.
                self.wake();
                Err(ComponentStoreError::Trap { store: F::KIND, operation, message: describe(&error) })
            }
        }
    }

    pub(crate) fn call<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T>,
    ) -> Result<T, ComponentStoreError> {
        let mut slot = self.lock()?;
        self.call_in(&mut slot, operation, f)
    }

    /// Polls `write` until it has an outcome, sleeping between polls without
    /// holding the instance; then drops the guest's write resource.
    pub(crate) fn wait_for<T>(
        &self,
        generation: u64,
        op_id: PendingWriteId,
        write: ResourceAny,
        poll: impl Fn(&mut Live, ResourceAny) -> wasmtime::Result<Option<T>>,
    ) -> Result<T, ComponentStoreError> {
        let mut slot = self.lock()?;
        loop {
            if slot.generation != generation {
                return Err(ComponentStoreError::InstanceReset { store: F::KIND, op_id });
            }
            match self.call_in(&mut slot, "poll", |live| poll(live, write))? {
                Some(outcome) => {
                    self.call_in(&mut slot, "drop write", |live| write.resource_drop(&mut live.store))?;
                    return Ok(outcome);
                }
                None => slot = self.written.wait(slot).map_err(|_| Self::poisoned())?,
            }
        }
    }

    /// Drops an unwaited write's guest resource: like a native handle, the
    /// write still applies when released; only its outcome is discarded.
    pub(crate) fn discard(&self, generation: u64, write: ResourceAny) {
        let Ok(mut slot) = self.slot.lock() else { return };
        if slot.generation == generation && slot.live.is_some() {
            // A trap here has already reset the store; nobody is left to tell.
            let _ = self.call_in(&mut slot, "drop write", |live| write.resource_drop(&mut live.store));
        }
    }
}
