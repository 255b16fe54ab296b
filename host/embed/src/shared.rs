//! What both component stores share: one instance behind a flat combiner,
//! what happens after a trap (no silent forgetting), operation ids that
//! survive resets, and waiting for a write without holding the instance.
//!
//! A wasm instance is single-threaded, so every call is a request to the
//! instance's `Combiner`: whichever caller wins the combiner's lock runs the
//! queued calls of all threads back to back (controls first), instead of
//! every thread queueing on a mutex. A handle's `wait` never parks inside
//! the combiner (a request must not block on another): it polls through it
//! and, while the write is pending, sleeps on a separate "writes finished"
//! epoch that every call which may finish writes (submits, releases, resets
//! after a trap) bumps.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use gossip_exec::{Class, Combiner};
use gossip_persistence::{PendingWriteId, StoreError, StoreKind};
use wasmtime::component::ResourceAny;

use crate::ComponentStoreError;
use crate::bindings::exports::gossip::persistence::types::StoreError as WitError;
use crate::flavor::StoreFlavor;
use crate::runtime::{Api, ComponentRuntime, HostState, Instance, Recovery, describe};
use crate::{deadline, reply};

/// Requests queued without taking the combiner's lock; beyond this a caller
/// serves the queue itself. Far above the thread counts the host sees.
const QUEUE_CAPACITY: usize = 64;

/// A wasm page: an instance with less room than this cannot grow at all.
const WASM_PAGE: usize = 64 << 10;

thread_local! {
    /// Set while this thread runs a request on an instance: a store call from
    /// inside one (e.g. from a `with_raw` closure) would wait on the combiner
    /// this thread is serving, forever.
    static IN_REQUEST: Cell<bool> = const { Cell::new(false) };
}

/// Clears `IN_REQUEST` however the request ends.
struct RequestScope;

impl RequestScope {
    fn enter() -> Self {
        IN_REQUEST.with(|flag| flag.set(true));
        Self
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        IN_REQUEST.with(|flag| flag.set(false));
    }
}

/// How one kind of store is created inside an instance, and how its
/// acknowledged writes are journaled and replayed.
pub(crate) trait Flavor: StoreFlavor {
    const KIND: StoreKind;
    /// The acknowledged state, kept on the host when journaling.
    type Journal: Default + Send + 'static;
    /// What one acknowledged write adds to the journal.
    type Entry: Send + 'static;
    /// A durable write's receipt as the component answers it.
    type WitReceipt: Send + 'static;

    /// The guest's operation id of a write it just accepted.
    fn operation_id(live: &mut Live, write: ResourceAny) -> wasmtime::Result<u64>;
    /// One non-blocking poll of a write.
    fn poll(live: &mut Live, write: ResourceAny) -> wasmtime::Result<Option<Result<Self::WitReceipt, WitError>>>;
    fn receipt(receipt: &Self::WitReceipt) -> Self::Receipt;

    fn construct(api: &Api, store: &mut wasmtime::Store<HostState>) -> wasmtime::Result<ResourceAny>;
    fn controller(
        api: &Api,
        store: &mut wasmtime::Store<HostState>,
        this: ResourceAny,
    ) -> wasmtime::Result<ResourceAny>;
    fn record(journal: &mut Self::Journal, entry: Self::Entry);
    /// Writes the journal into a fresh instance's store; an error names why
    /// the state could not be rebuilt.
    fn replay(journal: &Self::Journal, live: &mut Live) -> Result<(), String>;
}

/// A live instance with its store resource and, when the component exports
/// the testing interface, that store's controller.
pub(crate) struct Live {
    pub(crate) store: wasmtime::Store<HostState>,
    pub(crate) api: Api,
    pub(crate) instance: wasmtime::component::Instance,
    pub(crate) this: ResourceAny,
    pub(crate) controller: Option<ResourceAny>,
}

impl Live {
    /// Allows this call's reply to make the host allocate up to `bytes`
    /// (see `reply`); set inside the call's closure, reset by every call.
    pub(crate) fn expect_reply(&mut self, bytes: usize) {
        self.store.set_hostcall_fuel(bytes);
    }
}

/// Where the store's instance stands.
enum State {
    Live(Box<Live>),
    /// Trapped under `Recovery::Journal`: the next call rebuilds.
    Rebuild,
    /// Trapped (or could not be rebuilt): calls fail until `reset`.
    Lost,
}

/// The combiner's resource: owned by whichever thread is combining.
pub(crate) struct Slot<F: Flavor> {
    state: State,
    /// Bumped whenever the instance is replaced; handles from older
    /// generations are lost.
    generation: u64,
    /// Added to the guest's operation ids: a fresh instance numbers its
    /// writes from 1 again, and an old id must never name a newer write.
    id_base: u64,
    /// The largest id handed out so far, the next generation's base.
    last_id: u64,
    runtime: ComponentRuntime,
    auto_complete: bool,
    journal: Option<F::Journal>,
}

/// The current instance's view of host operation ids.
#[derive(Clone, Copy)]
pub(crate) struct IdMap {
    base: u64,
}

impl IdMap {
    /// The current instance's id for a host id; `None` for ids of earlier
    /// instances (never pending here).
    pub(crate) fn guest_id(self, id: PendingWriteId) -> Option<u64> {
        id.as_raw().checked_sub(self.base).filter(|&guest| guest > 0)
    }
}

/// How a call left the instance.
pub(crate) struct Called<T> {
    pub(crate) result: Result<T, ComponentStoreError>,
    /// The generation after the call (a handle created by it belongs here).
    pub(crate) generation: u64,
}

/// What one poll of a pending write found.
enum Polled<T, E> {
    Done(T),
    /// Still pending: the journal entry goes back to the waiter for its
    /// next poll.
    Pending(Option<E>),
    Reset,
}

/// A write's outcome as the component reports it.
pub(crate) type Outcome<F> = Result<<F as Flavor>::WitReceipt, WitError>;

impl<F: Flavor> Slot<F> {
    fn instantiate(runtime: &ComponentRuntime, auto_complete: bool) -> Result<Live, ComponentStoreError> {
        let build = || -> wasmtime::Result<Live> {
            let Instance { mut store, api, instance } = runtime.instantiate()?;
            let this = F::construct(&api, &mut store)?;
            let controller = match api.gossip_persistence_testing() {
                Some(_) => Some(F::controller(&api, &mut store, this)?),
                None => None,
            };
            let mut live = Live { store, api, instance, this, controller };
            if !auto_complete {
                live.set_auto_complete(false)?;
            }
            Ok(live)
        };
        build().map_err(|e| ComponentStoreError::Instantiate { store: F::KIND, message: describe(&e) })
    }

    /// A fresh instance holding the journal's state, in the store's
    /// completion mode.
    fn rebuild(&self) -> Result<Live, ComponentStoreError> {
        let mut live = Self::instantiate(&self.runtime, true)?;
        if let Some(journal) = &self.journal {
            F::replay(journal, &mut live)
                .map_err(|message| ComponentStoreError::Instantiate { store: F::KIND, message })?;
        }
        if !self.auto_complete {
            live.set_auto_complete(false)
                .map_err(|e| ComponentStoreError::Instantiate { store: F::KIND, message: describe(&e) })?;
        }
        Ok(live)
    }

    fn replace(&mut self, state: State) {
        self.state = state;
        self.generation += 1;
        self.id_base = self.last_id;
    }

    /// Runs `f` against the live instance. An error from wasmtime means the
    /// guest trapped (or could not be entered): the instance is dropped,
    /// never reused, and never silently replaced by an empty one.
    pub(crate) fn call<T>(
        &mut self,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T>,
    ) -> Result<T, ComponentStoreError> {
        if matches!(self.state, State::Rebuild) {
            match self.rebuild() {
                Ok(live) => self.state = State::Live(Box::new(live)),
                Err(error) => {
                    self.state = State::Lost;
                    return Err(error);
                }
            }
        }
        let State::Live(live) = &mut self.state else {
            return Err(StoreError::StateLost { store: F::KIND }.into());
        };
        let _scope = RequestScope::enter();
        let timeout = self.runtime.config().call_timeout;
        live.store.set_epoch_deadline(deadline::ticks(timeout));
        live.store.set_hostcall_fuel(reply::SMALL_REPLY);
        live.store.data_mut().clear_refusal();
        match f(live) {
            Ok(value) => Ok(value),
            Err(error) => {
                let cause = Self::cause(live, operation, timeout, &error);
                if matches!(cause, ComponentStoreError::TimedOut { .. }) {
                    self.runtime.note_timeout();
                }
                let next = if self.journal.is_some() { State::Rebuild } else { State::Lost };
                self.replace(next);
                Err(cause)
            }
        }
    }

    /// Why a call failed, named for whoever reads the report: past its
    /// deadline, an oversized reply, a trap at the memory cap, or another trap.
    fn cause(live: &Live, operation: &'static str, timeout: Duration, error: &wasmtime::Error) -> ComponentStoreError {
        let store = F::KIND;
        if deadline::is_timeout(error) {
            return ComponentStoreError::TimedOut { store, operation, after: timeout };
        }
        if reply::is_oversized(error) {
            return ComponentStoreError::ReplyTooLarge { store, operation, allowed: live.store.hostcall_fuel() };
        }
        let mut message = describe(error);
        let state = live.store.data();
        // A Rust guest whose allocation fails aborts (`unreachable`): say so
        // when the cap refused a growth during the call, or the instance
        // had grown to within a page of it.
        if state.growth_refused() || state.memory_available() < WASM_PAGE {
            message.push_str(&format!(" (out of memory: at its memory cap of {} MiB)", state.memory_limit() >> 20));
        }
        ComponentStoreError::Trap { store, operation, message }
    }

    /// The host's id for a guest's operation id of the current instance.
    pub(crate) fn host_id(&mut self, guest_id: u64) -> PendingWriteId {
        let id = self.id_base.saturating_add(guest_id);
        self.last_id = self.last_id.max(id);
        PendingWriteId::from_raw(id)
    }

    /// Host ids → the current instance's ids, usable inside a call.
    pub(crate) const fn translator(&self) -> IdMap {
        IdMap { base: self.id_base }
    }

    /// Refuses a call whose arguments need `bytes` of guest memory when the
    /// instance cannot grow by that much: lowering them would make the
    /// guest's allocator fail, which a Rust guest turns into a trap. Checked
    /// in the same request as the call it guards, so nothing can grow the
    /// instance in between.
    pub(crate) fn ensure_room(&self, bytes: usize) -> Result<(), ComponentStoreError> {
        // Below this the guest's free lists (and its first growth) are enough.
        const SMALL: usize = 64 << 10;
        match self.memory_available() {
            Some(available) if bytes > SMALL && available < bytes => {
                Err(StoreError::CapacityExceeded { store: F::KIND, needed: bytes as u64, available: available as u64 }
                    .into())
            }
            _ => Ok(()),
        }
    }

    /// Bytes the instance's memories may still grow by.
    pub(crate) fn memory_available(&self) -> Option<usize> {
        match &self.state {
            State::Live(live) => Some(live.store.data().memory_available()),
            _ => None,
        }
    }

    pub(crate) fn set_auto_complete(&mut self, on: bool) {
        self.auto_complete = on;
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
        if !auto_complete && !runtime.has_testing() {
            return Err(ComponentStoreError::NoTestingInterface { store: F::KIND, operation: "set-auto-complete" });
        }
        let live = Slot::<F>::instantiate(&runtime, auto_complete)?;
        let journal = (runtime.config().recovery == Recovery::Journal).then(F::Journal::default);
        let slot = Slot {
            state: State::Live(Box::new(live)),
            generation: 0,
            id_base: 0,
            last_id: 0,
            runtime: runtime.clone(),
            auto_complete,
            journal,
        };
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

    /// Runs `request` on the slot as one combiner request, refusing a call
    /// made from inside another request on this thread (it would deadlock).
    fn execute<R: Send + 'static>(
        &self,
        class: Class,
        request: impl FnOnce(&mut Slot<F>) -> Result<R, ComponentStoreError> + Send + 'static,
    ) -> Result<R, ComponentStoreError> {
        if IN_REQUEST.with(Cell::get) {
            return Err(ComponentStoreError::Reentered { store: F::KIND });
        }
        self.combiner.execute(class, request)
    }

    /// Runs `f` on the slot itself (id translation, journal), as one request.
    pub(crate) fn with_slot<T: Send + 'static>(
        &self,
        class: Class,
        f: impl FnOnce(&mut Slot<F>) -> Result<T, ComponentStoreError> + Send + 'static,
    ) -> Called<T> {
        let called = self.execute(class, move |slot| {
            let result = f(slot);
            Ok(Called { result, generation: slot.generation })
        });
        let called = called.unwrap_or_else(|error| Called { result: Err(error), generation: u64::MAX });
        if called.result.as_ref().is_err_and(ComponentStoreError::discarded_instance) {
            // Waiters on the lost instance must learn that their write is gone.
            self.wake();
        }
        called
    }

    /// Runs `f` on the instance as one combiner request; see `Slot::call`.
    pub(crate) fn call_at<T: Send + 'static>(
        &self,
        class: Class,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T> + Send + 'static,
    ) -> Called<T> {
        self.with_slot(class, move |slot| slot.call(operation, f))
    }

    pub(crate) fn call<T: Send + 'static>(
        &self,
        class: Class,
        operation: &'static str,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.call_at(class, operation, f).result
    }

    /// Like `call`, after `Slot::ensure_room(bytes)` in the same request.
    pub(crate) fn call_with_room<T: Send + 'static>(
        &self,
        class: Class,
        operation: &'static str,
        bytes: usize,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<T> + Send + 'static,
    ) -> Result<T, ComponentStoreError> {
        self.with_slot(class, move |slot| {
            slot.ensure_room(bytes)?;
            slot.call(operation, f)
        })
        .result
    }

    /// Polls `write` until it has an outcome, sleeping between polls without
    /// occupying the instance; then drops the guest's write resource. A
    /// successful outcome's `entry` goes into the journal in the same
    /// request, so no rebuild can come between the acknowledgement and it.
    pub(crate) fn wait_for(
        &self,
        generation: u64,
        op_id: PendingWriteId,
        write: ResourceAny,
        mut entry: Option<F::Entry>,
    ) -> Result<(Outcome<F>, Option<usize>), ComponentStoreError> {
        let timeout = self.runtime.config().write_timeout;
        let deadline = Instant::now().checked_add(timeout);
        loop {
            // Read before polling: a write finished after this poll bumps the
            // epoch past `seen`, so the sleep below cannot miss it.
            let seen = *self.epoch();
            let pending_entry = entry.take();
            let polled = self.execute(Class::Data, move |slot: &mut Slot<F>| {
                if slot.generation != generation {
                    return Ok(Polled::Reset);
                }
                match slot.call("poll", |live| F::poll(live, write))? {
                    Some(outcome) => {
                        if let (Some(journal), Some(entry), true) =
                            (slot.journal.as_mut(), pending_entry, outcome.is_ok())
                        {
                            F::record(journal, entry);
                        }
                        slot.call("drop write", |live| write.resource_drop(&mut live.store))?;
                        Ok(Polled::Done((outcome, slot.memory_available())))
                    }
                    None => Ok(Polled::Pending(pending_entry)),
                }
            });
            match polled {
                Ok(Polled::Done(outcome)) => return Ok(outcome),
                Ok(Polled::Reset) => return Err(ComponentStoreError::InstanceReset { store: F::KIND, op_id }),
                Ok(Polled::Pending(kept)) => {
                    entry = kept;
                    let mut epoch = self.epoch();
                    while *epoch == seen {
                        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                        if left == Some(Duration::ZERO) {
                            drop(epoch);
                            // Never acknowledged, so nothing is journaled; the
                            // guest's write resource is released like an
                            // unwaited handle's.
                            self.discard(generation, write);
                            self.runtime.note_timeout();
                            return Err(ComponentStoreError::WriteTimedOut { store: F::KIND, op_id, after: timeout });
                        }
                        epoch = match left {
                            Some(left) => {
                                self.written.wait_timeout(epoch, left).unwrap_or_else(PoisonError::into_inner).0
                            }
                            None => self.written.wait(epoch).unwrap_or_else(PoisonError::into_inner),
                        };
                    }
                }
                Err(error) => {
                    if error.discarded_instance() {
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
        let trapped = self.execute(Class::Data, move |slot: &mut Slot<F>| {
            if slot.generation != generation || !matches!(slot.state, State::Live(_)) {
                return Ok(false);
            }
            // A trap here loses the instance; nobody is left to tell but waiters.
            Ok(slot.call("drop write", |live| write.resource_drop(&mut live.store)).is_err())
        });
        if trapped.unwrap_or(false) {
            self.wake();
        }
    }

    /// Replaces the instance with a fresh, empty one (discarding the
    /// journal): the explicit way out of `StateLost`. Pending writes of the
    /// old instance report `InstanceReset`.
    pub(crate) fn reset(&self) -> Result<(), ComponentStoreError> {
        let reset = self.execute(Class::Control, |slot: &mut Slot<F>| {
            let live = Slot::<F>::instantiate(&slot.runtime, slot.auto_complete)?;
            if let Some(journal) = slot.journal.as_mut() {
                *journal = F::Journal::default();
            }
            slot.replace(State::Live(Box::new(live)));
            Ok(())
        });
        self.wake();
        reset
    }

    /// Whether the store lost its state and waits for `reset`.
    pub(crate) fn is_lost(&self) -> bool {
        self.execute(Class::Data, |slot: &mut Slot<F>| Ok(matches!(slot.state, State::Lost))).unwrap_or(false)
    }
}
