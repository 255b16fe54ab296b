//! What both component stores share: one instance behind a flat combiner,
//! trap recovery, and waiting for a write without holding the instance.
//!
//! A wasm instance is single-threaded, so every call is a request to the
//! instance's `Combiner`: whichever caller wins the combiner's lock runs the
//! queued calls of all threads back to back (controls first), instead of
//! every thread queueing on a mutex. A handle's `wait` never parks inside
//! the combiner (a request must not block on another): it polls through it
//! and, while the write is pending, sleeps on a separate "writes finished"
//! epoch that every call which may finish writes (submits, releases, resets
//! after a trap) bumps.

use std::marker::PhantomData;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use gossip_exec::{Class, Combiner};
use gossip_persistence::{InMemoryStoreKind, PendingWriteId};
use wasmtime::component::ResourceAny;

use crate::ComponentStoreError;
use crate::bindings::Persistence;
use crate::runtime::{ComponentRuntime, HostState, Instance, describe};

/// Requests queued without taking the combiner's lock; beyond this a caller
/// serves the queue itself. Far above the thread counts the host sees.
const QUEUE_CAPACITY: usize = 64;

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

/// The combiner's resource: owned by whichever thread is combining.
pub(crate) struct Slot<F: Flavor> {
    /// None after a trap, until the next call instantiates afresh.
    live: Option<Live>,
    /// Bumped on every reset; handles from older generations are lost.
    generation: u64,
    runtime: ComponentRuntime,
    auto_complete: bool,
    flavor: PhantomData<fn() -> F>,
}

/// How a call left the instance.
pub(crate) struct Called<T> {
    pub(crate) result: Result<T, ComponentStoreError>,
    /// The generation after the call (a handle created by it belongs here).
    pub(crate) generation: u64,
}

/// What one poll of a pending write found.
enum Polled<T> {
    Done(T),
    Pending,
    Reset,
}

impl<F: Flavor> Slot<F> {
    fn instantiate(runtime: &ComponentRuntime, auto_complete: bool) -> Result<Live, ComponentStoreError> {
        let build = || -> wasmtime::Result<Live> {
            let Instance { mut store, api, instance } = runtime.instantiate()?;
            let this = F::construct(&api, &mut store, auto_complete)?;
            let controller = F::controller(&api, &mut store, this)?;
            Ok(Live { store, api, instance, this, controller })
        };
        build().map_err(|e| ComponentStoreError::Instantiate { store: F::KIND, message: describe(&e) })
    }

    /// Runs `f` against the live instance, instantiating one first if the
    /// last one trapped. An error from wasmtime means the guest trapped (or
    /// could not be entered): the instance is dropped, never reused.
    fn call<T>(
        &mut self,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T>,
    ) -> Result<T, ComponentStoreError> {
        // In place: `Live` is large, and moving it out and back in on every
        // call showed up as a tenth of a one-key lookup.
        if self.live.is_none() {
            self.live = Some(Self::instantiate(&self.runtime, self.auto_complete)?);
        }
        let Some(live) = self.live.as_mut() else {
            return Err(ComponentStoreError::Instantiate { store: F::KIND, message: "no live instance".to_owned() });
        };
        f(live).map_err(|error| {
            self.generation += 1;
            self.live = None;
            ComponentStoreError::Trap { store: F::KIND, operation, message: describe(&error) }
        })
    }
}

pub(crate) struct Shared<F: Flavor> {
    runtime: ComponentRuntime,
    combiner: Combiner<Slot<F>>,
    /// Epoch of calls that may have finished writes; waiters sleep on it.
    finished: Mutex<u64>,
    written: Condvar,
}

impl<F: Flavor> Shared<F> {
    pub(crate) fn new(runtime: ComponentRuntime, auto_complete: bool) -> Result<Self, ComponentStoreError> {
        let live = Slot::<F>::instantiate(&runtime, auto_complete)?;
        let slot =
            Slot { live: Some(live), generation: 0, runtime: runtime.clone(), auto_complete, flavor: PhantomData };
        let combiner = Combiner::new(slot, QUEUE_CAPACITY)
            .map_err(|e| ComponentStoreError::Instantiate { store: F::KIND, message: e.to_string() })?;
        Ok(Self { runtime, combiner, finished: Mutex::new(0), written: Condvar::new() })
    }

    pub(crate) fn runtime(&self) -> &ComponentRuntime {
        &self.runtime
    }

    /// The epoch is a plain counter: a panic elsewhere cannot corrupt it.
    fn epoch(&self) -> MutexGuard<'_, u64> {
        self.finished.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells every waiter that writes may have finished (or been lost).
    pub(crate) fn wake(&self) {
        *self.epoch() += 1;
        self.written.notify_all();
    }

    /// Runs `f` on the instance as one combiner request; see `Slot::call`.
    pub(crate) fn call_at<T: Send + 'static>(
        &self,
        class: Class,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T> + Send + 'static,
    ) -> Called<T> {
        let called = self.combiner.execute(class, move |slot: &mut Slot<F>| {
            let result = slot.call(operation, f);
            Called { result, generation: slot.generation }
        });
        if matches!(called.result, Err(ComponentStoreError::Trap { .. })) {
            // Waiters on the lost instance must learn that their write is gone.
            self.wake();
        }
        called
    }

    pub(crate) fn call<T: Send + 'static>(
        &self,
        class: Class,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.call_at(class, operation, f).result
    }

    /// Polls `write` until it has an outcome, sleeping between polls without
    /// occupying the instance; then drops the guest's write resource.
    pub(crate) fn wait_for<T: Send + 'static>(
        &self,
        generation: u64,
        op_id: PendingWriteId,
        write: ResourceAny,
        poll: impl Fn(&mut Live, ResourceAny) -> wasmtime::Result<Option<T>> + Send + Copy + 'static,
    ) -> Result<T, ComponentStoreError> {
        loop {
            // Read before polling: a write finished after this poll bumps the
            // epoch past `seen`, so the sleep below cannot miss it.
            let seen = *self.epoch();
            let polled = self.combiner.execute(Class::Data, move |slot: &mut Slot<F>| {
                if slot.generation != generation {
                    return Ok(Polled::Reset);
                }
                match slot.call("poll", |live| poll(live, write))? {
                    Some(outcome) => {
                        slot.call("drop write", |live| write.resource_drop(&mut live.store))?;
                        Ok(Polled::Done(outcome))
                    }
                    None => Ok(Polled::Pending),
                }
            });
            match polled {
                Ok(Polled::Done(outcome)) => return Ok(outcome),
                Ok(Polled::Reset) => return Err(ComponentStoreError::InstanceReset { store: F::KIND, op_id }),
                Ok(Polled::Pending) => {
                    let mut epoch = self.epoch();
                    while *epoch == seen {
                        epoch = self.written.wait(epoch).unwrap_or_else(PoisonError::into_inner);
                    }
                }
                Err(error) => {
                    if matches!(error, ComponentStoreError::Trap { .. }) {
                        self.wake();
                    }
                    return Err(error);
                }
            }
        }
    }

    /// Drops an unwaited write's guest resource: like a native handle, the
    /// write still applies when released; only its outcome is discarded.
    pub(crate) fn discard(&self, generation: u64, write: ResourceAny) {
        let trapped = self.combiner.execute(Class::Data, move |slot: &mut Slot<F>| {
            if slot.generation != generation || slot.live.is_none() {
                return false;
            }
            // A trap here resets the store; nobody is left to tell but waiters.
            slot.call("drop write", |live| write.resource_drop(&mut live.store)).is_err()
        });
        if trapped {
            self.wake();
        }
    }
}
