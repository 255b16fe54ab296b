//! The store core shared by both in-memory stores: one mutex over all state,
//! one condvar that wakes every waiter whenever any write finishes.
//!
//! It is public so another backend (the SQLite peer) gets the same pending
//! writes, releases and fault injection by supplying only a [`StoreBackend`].

use core::fmt;
use std::collections::{HashMap, VecDeque};

use super::countdown::Countdown;
use super::error::{StoreError, StoreKind};
use super::pending::{OpState, PendingOp};
use crate::contract::{CommitHandle, CommitReceipt};
use crate::control::{CompletionOrder, PendingWriteId, TrackedHandle};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The domain half of a store: what a payload does to durable state.
pub trait StoreBackend: Send + 'static {
    /// One write's input, kept while the write is pending.
    type Payload: Send;
    /// What an applied write acknowledges.
    type Receipt: Send;
    /// The durable state, only ever touched under the core's lock.
    type Durable: Send;
    /// What a write can fail with: at least every reference store error
    /// (the core's own faults and lookups arrive through `From`).
    type Error: From<StoreError> + Send;
    /// Which store the core's own errors name.
    const STORE_KIND: StoreKind;

    /// Runs under the store mutex, so it must not block. It must validate
    /// everything, and reserve whatever it grows, before changing anything:
    /// an Err (such as `StoreError::CapacityExceeded`) leaves `durable`
    /// untouched, and fails this write's commit like an injected fault.
    fn apply(durable: &mut Self::Durable, payload: &Self::Payload) -> Result<Self::Receipt, Self::Error>;
}

type Op<B> = PendingOp<<B as StoreBackend>::Payload, <B as StoreBackend>::Receipt, <B as StoreBackend>::Error>;
/// What waiting on one write yields.
pub type Outcome<B> = Result<<B as StoreBackend>::Receipt, <B as StoreBackend>::Error>;

pub(crate) struct StoreState<B: StoreBackend> {
    pub(crate) durable: B::Durable,
    /// Every write not yet waited on: pending, or finished with a result.
    ops: HashMap<PendingWriteId, Op<B>>,
    /// Acceptance order of delayed writes; may hold ids already released
    /// out of order, which releases skip.
    order: VecDeque<PendingWriteId>,
    next_op_id: u64,
    pub(crate) auto_complete: bool,
    delay_next: Countdown,
    fail_submit: Countdown,
    fail_commit: Countdown,
    /// Set when the last clone of the store is dropped: no release can
    /// come any more, so a waiter on a pending write must not wait.
    closed: bool,
}

impl<B: StoreBackend> StoreState<B> {
    fn new(durable: B::Durable, auto_complete: bool) -> Self {
        Self {
            durable,
            ops: HashMap::new(),
            order: VecDeque::new(),
            next_op_id: 1,
            auto_complete,
            delay_next: Countdown::default(),
            fail_submit: Countdown::default(),
            fail_commit: Countdown::default(),
            closed: false,
        }
    }

    fn is_pending(&self, op_id: PendingWriteId) -> bool {
        self.ops.get(&op_id).is_some_and(PendingOp::is_pending)
    }

    pub fn pending_count(&self) -> usize {
        self.ops.values().filter(|op| op.is_pending()).count()
    }

    /// The commit-fault counter is consumed by whichever write is applied
    /// next, not by the write submitted next.
    fn apply(&mut self, payload: &B::Payload) -> Outcome<B> {
        if self.fail_commit.try_take() {
            return Err(StoreError::InjectedCommitFailure { store: B::STORE_KIND }.into());
        }
        B::apply(&mut self.durable, payload)
    }

    /// Applies a pending write. Its failure is kept for `wait`, not returned:
    /// the release itself succeeded.
    fn finish(&mut self, op_id: PendingWriteId) -> Result<(), StoreError> {
        let Some(op) = self.ops.remove(&op_id) else {
            return Err(StoreError::UnknownOperation { store: B::STORE_KIND, op_id });
        };
        let OpState::Pending(payload) = op.state else {
            self.ops.insert(op_id, op);
            return Ok(());
        };
        let result = self.apply(&payload);
        if !op.abandoned {
            self.ops.insert(op_id, PendingOp { state: OpState::Finished(result), abandoned: false });
        }
        Ok(())
    }

    /// Takes a finished result out, or reports that the write is still pending.
    fn take_finished(&mut self, op_id: PendingWriteId) -> Result<Option<Outcome<B>>, StoreError> {
        match self.ops.get(&op_id) {
            None => Err(StoreError::UnknownOperation { store: B::STORE_KIND, op_id }),
            Some(op) if op.is_pending() => Ok(None),
            Some(_) => match self.ops.remove(&op_id) {
                Some(PendingOp { state: OpState::Finished(result), .. }) => Ok(Some(result)),
                _ => Err(StoreError::UnknownOperation { store: B::STORE_KIND, op_id }),
            },
        }
    }
}

/// Pending writes, completion mode and armed faults around one backend's
/// durable state, all behind one lock (`docs/contract.md §9`).
pub struct StoreCore<B: StoreBackend> {
    state: Mutex<StoreState<B>>,
    cv: Condvar,
}

impl<B: StoreBackend> StoreCore<B> {
    /// A core over `durable`; with `auto_complete` off every write waits for a release.
    pub fn new(durable: B::Durable, auto_complete: bool) -> Self {
        Self { state: Mutex::new(StoreState::new(durable, auto_complete)), cv: Condvar::new() }
    }

    fn poisoned() -> StoreError {
        StoreError::Poisoned { store: B::STORE_KIND }
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, StoreState<B>>, StoreError> {
        self.state.lock().map_err(|_| Self::poisoned())
    }

    /// For `Debug`: never blocks, so formatting a store while this thread
    /// holds its lock cannot deadlock.
    pub(crate) fn try_lock(&self) -> Option<Result<MutexGuard<'_, StoreState<B>>, ()>> {
        #[cfg(not(loom))]
        match self.state.try_lock() {
            Ok(guard) => Some(Ok(guard)),
            Err(std::sync::TryLockError::Poisoned(_)) => Some(Err(())),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
        #[cfg(loom)]
        match self.state.try_lock() {
            Ok(guard) => Some(Ok(guard)),
            Err(_) => None,
        }
    }

    fn wake_waiters(&self) {
        // Every handle shares this condvar; waking only one could wake a
        // waiter for another write and leave the right one asleep.
        #[cfg(not(loom_planted_bug = "notify_one"))]
        self.cv.notify_all();
        #[cfg(loom_planted_bug = "notify_one")]
        self.cv.notify_one();
    }

    /// Runs `f` over durable state under the lock; it must not block.
    pub fn read<T>(&self, f: impl FnOnce(&B::Durable) -> T) -> Result<T, StoreError> {
        Ok(f(&self.lock()?.durable))
    }

    pub(crate) fn configure(&self, f: impl FnOnce(&mut StoreState<B>)) -> Result<(), StoreError> {
        f(&mut *self.lock()?);
        Ok(())
    }

    /// Affects later submissions only; pending writes stay pending.
    pub fn set_auto_complete(&self, on: bool) -> Result<(), StoreError> {
        self.configure(|s| s.auto_complete = on)
    }

    /// Makes the next `count` accepted writes pending even in auto-complete mode (adds up).
    pub fn delay_next_writes(&self, count: usize) -> Result<(), StoreError> {
        self.configure(|s| s.delay_next.arm(count))
    }

    /// Rejects the next `count` submissions that reach the core, changing nothing (adds up).
    pub fn fail_next_submissions(&self, count: usize) -> Result<(), StoreError> {
        self.configure(|s| s.fail_submit.arm(count))
    }

    /// Fails the next `count` applies, whichever writes they belong to (adds up).
    pub fn fail_next_commits(&self, count: usize) -> Result<(), StoreError> {
        self.configure(|s| s.fail_commit.arm(count))
    }

    /// Accepts a write: a submission fault rejects it outright; otherwise it
    /// is either delayed until released or applied at once. (An associated
    /// function: loom's `Arc` cannot be a method receiver.)
    pub fn submit(core: &Arc<Self>, payload: B::Payload) -> Result<StoreHandle<B>, StoreError> {
        let mut state = core.lock()?;
        // The write's bookkeeping is reserved first, so a refusal consumes
        // neither an op id nor an armed fault, like a rejected batch.
        if state.ops.try_reserve(1).is_err() || state.order.try_reserve(1).is_err() {
            let needed = size_of::<(PendingWriteId, Op<B>)>() + size_of::<PendingWriteId>();
            return Err(StoreError::CapacityExceeded { store: B::STORE_KIND, needed: needed as u64, available: 0 });
        }
        if state.fail_submit.try_take() {
            return Err(StoreError::InjectedSubmissionFailure { store: B::STORE_KIND });
        }
        let op_id = PendingWriteId::from_raw(state.next_op_id);
        state.next_op_id =
            state.next_op_id.checked_add(1).ok_or(StoreError::InjectedSubmissionFailure { store: B::STORE_KIND })?;
        let delayed = state.delay_next.try_take() || !state.auto_complete;
        if delayed {
            state.order.push_back(op_id);
            state.ops.insert(op_id, PendingOp { state: OpState::Pending(payload), abandoned: false });
        } else {
            let result = state.apply(&payload);
            state.ops.insert(op_id, PendingOp { state: OpState::Finished(result), abandoned: false });
            drop(state);
            core.wake_waiters();
        }
        Ok(StoreHandle { core: Arc::clone(core), op_id, settled: false })
    }

    /// Applies the oldest or newest pending write and returns its id, or `Ok(None)`
    /// when nothing is pending. Its failure is kept for `wait`, not returned.
    pub fn release_next(&self, order: CompletionOrder) -> Result<Option<PendingWriteId>, StoreError> {
        let mut state = self.lock()?;
        loop {
            let next = match order {
                CompletionOrder::OldestFirst => state.order.pop_front(),
                CompletionOrder::NewestFirst => state.order.pop_back(),
            };
            let Some(op_id) = next else { return Ok(None) };
            if state.is_pending(op_id) {
                state.finish(op_id)?;
                drop(state);
                self.wake_waiters();
                return Ok(Some(op_id));
            }
        }
    }

    /// Applies `op_id` and returns true, or false when it is unknown or no longer pending.
    pub fn release_specific(&self, op_id: PendingWriteId) -> Result<bool, StoreError> {
        let mut state = self.lock()?;
        if !state.is_pending(op_id) {
            return Ok(false);
        }
        state.finish(op_id)?;
        state.order.retain(|id| *id != op_id);
        drop(state);
        self.wake_waiters();
        Ok(true)
    }

    /// Releases exactly the writes pending when called, applying them in the
    /// requested order; nothing can be submitted meanwhile (one lock hold).
    pub fn release_all(&self, order: CompletionOrder) -> Result<usize, StoreError> {
        let mut state = self.lock()?;
        let mut ids: Vec<PendingWriteId> = state.order.iter().copied().filter(|id| state.is_pending(*id)).collect();
        if order == CompletionOrder::NewestFirst {
            ids.reverse();
        }
        for op_id in &ids {
            state.finish(*op_id)?;
        }
        // Every id left in the queue is now finished or stale.
        state.order.clear();
        drop(state);
        if !ids.is_empty() {
            self.wake_waiters();
        }
        Ok(ids.len())
    }

    /// Poisons the state lock the way a real panic under it would, so tests
    /// can check that every operation then reports `Poisoned` instead of
    /// panicking. Nothing in this crate panics while holding the lock.
    #[cfg(all(feature = "test-support", not(loom)))]
    pub(crate) fn poison_for_tests(&self) {
        std::thread::scope(|scope| {
            let _ = scope
                .spawn(|| {
                    let _guard = self.state.lock();
                    panic!("poisoning the store lock on purpose (test-support)");
                })
                .join();
        });
    }

    /// Pending writes in acceptance order.
    pub fn pending_ids(&self) -> Result<Vec<PendingWriteId>, StoreError> {
        let state = self.lock()?;
        Ok(state.order.iter().copied().filter(|id| state.is_pending(*id)).collect())
    }

    /// The number of pending writes.
    pub fn pending_count(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.pending_count())
    }

    fn wait(&self, op_id: PendingWriteId) -> Outcome<B> {
        self.wait_inner(op_id)?
    }

    /// The outer error is the core's own (poisoned, unknown id); the inner
    /// one is the write's outcome.
    fn wait_inner(&self, op_id: PendingWriteId) -> Result<Outcome<B>, StoreError> {
        let mut state = self.lock()?;
        loop {
            // Re-check after every wake-up: the condvar is shared by all
            // writes and may also wake spuriously.
            if let Some(result) = state.take_finished(op_id)? {
                return Ok(result);
            }
            if state.closed {
                state.ops.remove(&op_id);
                return Err(StoreError::WriteAbandoned { store: B::STORE_KIND, op_id });
            }
            state = self.cv.wait(state).map_err(|_| Self::poisoned())?;
            // The planted bug: act on the first wake-up as if it were ours.
            #[cfg(loom_planted_bug = "no_recheck")]
            return Ok(state.take_finished(op_id)?.unwrap_or(Err(StoreError::UnknownOperation {
                store: B::STORE_KIND,
                op_id,
            }
            .into())));
        }
    }

    fn poll(&self, op_id: PendingWriteId) -> Result<Option<Outcome<B>>, StoreError> {
        self.lock()?.take_finished(op_id)
    }

    /// Tells waiters that nothing can release their writes any more.
    fn close(&self) {
        // A poisoned store already answers every waiter with an error.
        let Ok(mut state) = self.lock() else { return };
        state.closed = true;
        drop(state);
        self.cv.notify_all();
    }

    fn abandon(&self, op_id: PendingWriteId) {
        // A poisoned store has nothing left to clean up.
        let Ok(mut state) = self.lock() else { return };
        match state.ops.get_mut(&op_id) {
            Some(op) if op.is_pending() => op.abandoned = true,
            Some(_) => {
                state.ops.remove(&op_id);
            }
            None => {}
        }
    }
}

/// The core as every clone of a store holds it (handles hold the bare
/// core): when the last clone is dropped, pending writes can never be
/// released, and their waiters are told so instead of blocking forever.
pub struct SharedCore<B: StoreBackend>(Arc<Frontend<B>>);

struct Frontend<B: StoreBackend>(Arc<StoreCore<B>>);

impl<B: StoreBackend> Drop for Frontend<B> {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<B: StoreBackend> SharedCore<B> {
    /// The first clone's hold on a new core.
    pub fn new(core: StoreCore<B>) -> Self {
        Self(Arc::new(Frontend(Arc::new(core))))
    }
}

impl<B: StoreBackend> Clone for SharedCore<B> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<B: StoreBackend> core::ops::Deref for SharedCore<B> {
    type Target = Arc<StoreCore<B>>;

    fn deref(&self) -> &Arc<StoreCore<B>> {
        &self.0.0
    }
}

/// A claim on one accepted write, for every store built on the core (the
/// in-memory stores, the SQLite peer): durable only once `wait` returns a
/// receipt. Dropping it unwaited cancels nothing: the write still applies
/// when released; only its result is discarded.
#[must_use = "durability is not established until wait() returns a receipt"]
pub struct StoreHandle<B: StoreBackend> {
    core: Arc<StoreCore<B>>,
    op_id: PendingWriteId,
    settled: bool,
}

impl<B: StoreBackend> StoreHandle<B> {
    /// The id the core gave this write when it accepted it.
    pub const fn operation_id(&self) -> PendingWriteId {
        self.op_id
    }

    /// The outcome if the write has finished, without blocking (for
    /// single-threaded hosts such as a wasm instance). Once it has returned
    /// `Some`, the outcome is gone and further polls report `UnknownOperation`.
    pub fn poll(&mut self) -> Result<Option<Outcome<B>>, StoreError> {
        let outcome = self.core.poll(self.op_id)?;
        if outcome.is_some() {
            self.settled = true;
        }
        Ok(outcome)
    }
}

impl<B: StoreBackend> TrackedHandle for StoreHandle<B> {
    fn operation_id(&self) -> PendingWriteId {
        self.op_id
    }
}

impl<B: StoreBackend> CommitHandle for StoreHandle<B>
where
    B::Receipt: CommitReceipt,
    B::Error: std::error::Error + Sync + 'static,
{
    type Receipt = B::Receipt;
    type Error = B::Error;

    /// Blocks until the write is released (from any thread) and returns its outcome.
    fn wait(mut self) -> Outcome<B> {
        self.settled = true;
        self.core.wait(self.op_id)
    }
}

impl<B: StoreBackend> fmt::Debug for StoreHandle<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreHandle").field("store", &B::STORE_KIND).field("op_id", &self.op_id).finish()
    }
}

impl<B: StoreBackend> Drop for StoreHandle<B> {
    fn drop(&mut self) {
        if !self.settled {
            self.core.abandon(self.op_id);
        }
    }
}
