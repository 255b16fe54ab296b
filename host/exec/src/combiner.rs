//! Flat combining: many threads share one single-threaded resource.

use core::panic::AssertUnwindSafe;
use std::panic;
use std::sync::{PoisonError, TryLockError};

use crate::completion::{self, Closed, Receiver};
use crate::heap::Heap;
use crate::ring::{CapacityError, Ring};
use crate::seq::SeqAllocator;
use crate::sync::{AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering, thread};

/// Priority class of a request: every control request queued at the start
/// of a combining round runs before every data request of that round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Class {
    /// Completion and fault-injection controls (release, fail-next, …).
    Control = 0,
    /// Reads and writes of the stores.
    Data = 1,
}

type Task<S> = Box<dyn FnOnce(&mut S) + Send>;
/// (class, stamp): unique, so the heap order is total and FIFO per class.
type Key = (u8, u64);

struct Job<S> {
    key: Key,
    task: Task<S>,
}

struct Inner<S> {
    resource: S,
    queue: Heap<Key, Task<S>>,
}

/// Lets many threads share one resource that must only ever be used by one
/// thread at a time — for the host, a wasmtime `Store` with its component
/// instance — without a thread per resource and without every caller
/// queueing on a lock.
///
/// A caller enqueues its request in a lock-free ring and then tries to
/// become the *combiner* (a `try_lock`). The combiner drains the ring into
/// a min-heap keyed by ([`Class`], arrival stamp) and runs the requests in
/// that order — control before data, FIFO within a class — publishing each
/// result to its caller's one-shot completion cell. Callers that lose the
/// race park on their cell. Any order of concurrently queued requests is a
/// valid linearisation, because none of them has returned yet.
///
/// No request is lost: after unlocking, the combiner rings a shared
/// doorbell (an `AcqRel` read-modify-write that every producer also rings
/// after publishing) and re-checks the ring, taking the lock again if a
/// request arrived while it held it. If the ring is full, the caller takes
/// the lock (blocking) and serves everything itself.
///
/// # Using it in the host
///
/// Wrap each component store (the `Store` plus its instance) in one
/// `Arc<Combiner<_>>` shared by the host threads, and turn every call into a
/// request; calls that must not wait behind queued writes (`release_*`,
/// `fail_next_*`, `set_auto_complete`) use [`Class::Control`]:
///
/// ```
/// use gossip_exec::{Class, Combiner};
///
/// // Stands in for the wasmtime store + instance.
/// struct Component { rows: Vec<u32> }
///
/// let combiner = std::sync::Arc::new(Combiner::new(Component { rows: Vec::new() }, 64).unwrap());
/// let writers: Vec<_> = (0..4)
///     .map(|t| {
///         let combiner = combiner.clone();
///         std::thread::spawn(move || combiner.execute(Class::Data, move |c| {
///             c.rows.push(t);
///             c.rows.len()
///         }))
///     })
///     .collect();
/// for w in writers {
///     assert!(w.join().unwrap() <= 4);
/// }
/// assert_eq!(combiner.execute(Class::Control, |c| c.rows.len()), 4);
/// ```
///
/// Requests run on whichever caller is combining, so they must be
/// `Send + 'static` (move owned arguments in) and must not block waiting for
/// another request (a component-side `wait` must be a poll the caller
/// retries) nor call back into the same combiner, which would deadlock. A
/// request that panics does not take the combiner down: the panic is
/// re-raised in the caller that submitted it, and the resource is left as
/// that request left it.
pub struct Combiner<S> {
    inner: Mutex<Inner<S>>,
    ring: Ring<Job<S>>,
    stamps: SeqAllocator,
    /// Rung after every publish and after every unlock; see the type docs.
    doorbell: AtomicUsize,
    rounds: AtomicU64,
}

impl<S: Send> Combiner<S> {
    /// `capacity` (a power of two, at least 2) bounds the requests queued
    /// without taking the lock.
    pub fn new(resource: S, capacity: usize) -> Result<Self, CapacityError> {
        Ok(Self {
            inner: Mutex::new(Inner { resource, queue: Heap::new() }),
            ring: Ring::with_capacity(capacity)?,
            stamps: SeqAllocator::new(),
            doorbell: AtomicUsize::new(0),
            rounds: AtomicU64::new(0),
        })
    }

    /// Runs `request` on the resource and returns its result; blocks until
    /// it has run (possibly on another thread, possibly serving others).
    pub fn execute<R, F>(&self, class: Class, request: F) -> R
    where
        F: FnOnce(&mut S) -> R + Send + 'static,
        R: Send + 'static,
    {
        self.submit(class, request).wait()
    }

    /// Queues `request` without waiting for it, so one thread can have
    /// several requests in flight; they run in submission order (unless a
    /// later one is of a higher class). If the ring is full, this serves the
    /// queue (or lets whoever is serving it) until there is room. Dropping
    /// the ticket does not cancel the request.
    pub fn submit<R, F>(&self, class: Class, request: F) -> Ticket<'_, S, R>
    where
        F: FnOnce(&mut S) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (publisher, rx) = completion::oneshot();
        let task: Task<S> = Box::new(move |resource: &mut S| {
            publisher.publish(panic::catch_unwind(AssertUnwindSafe(|| request(resource))));
        });
        let mut job = Job { key: (class as u8, self.stamps.next()), task };
        // Every request goes through the ring, never around it: a request
        // run straight from here could overtake one of this thread's earlier
        // requests still queued behind a producer that is mid-push.
        loop {
            match self.ring.try_push(job) {
                Ok(()) => break,
                Err(back) => job = back,
            }
            if let Some(inner) = self.try_lock() {
                self.combine(inner);
                match self.ring.try_push(job) {
                    Ok(()) => break,
                    Err(back) => job = back,
                }
            }
            // Still full: the combiner is draining, or the front slot's
            // producer is between claiming and publishing it. Neither waits
            // for anyone, so yielding to them makes progress.
            thread::yield_now();
        }
        // Ordered after the publish above and before the caller's
        // `try_lock` in `wait`: see `work_left_behind`.
        self.doorbell.fetch_add(1, Ordering::AcqRel);
        Ticket { combiner: self, rx }
    }

    /// Combining rounds so far: each drains the ring and runs what it got
    /// in priority order. Requests / rounds is the batching achieved.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Runs whatever is still queued, then hands the resource back.
    pub fn into_inner(self) -> S {
        let mut inner = self.lock();
        self.serve(&mut inner);
        drop(inner);
        self.inner.into_inner().unwrap_or_else(PoisonError::into_inner).resource
    }

    fn lock(&self) -> MutexGuard<'_, Inner<S>> {
        // Requests run under catch_unwind, so a poisoned lock can only come
        // from a failed internal assertion; the state is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, Inner<S>>> {
        match self.inner.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Serves until no request is left behind, then returns the lock.
    fn combine<'a>(&'a self, mut inner: MutexGuard<'a, Inner<S>>) {
        loop {
            self.serve(&mut inner);
            drop(inner);
            if !self.work_left_behind() {
                return;
            }
            match self.try_lock() {
                Some(guard) => inner = guard,
                // Whoever holds it now runs this same check after unlocking.
                None => return,
            }
        }
    }

    /// Called after unlocking. A producer that published while we held the
    /// lock may have failed its `try_lock` and parked. Both sides ring the
    /// doorbell (a read-modify-write, so the two rings are ordered): if the
    /// producer rang first, our ring synchronises with it and the ring check
    /// below sees its request; if we rang first, its ring synchronises with
    /// ours, so its `try_lock` saw the lock free (or a later holder, who
    /// runs this check in turn).
    fn work_left_behind(&self) -> bool {
        // The planted bug: leave without looking back.
        if cfg!(loom_planted_bug = "lost_wakeup") {
            return false;
        }
        self.doorbell.fetch_add(1, Ordering::AcqRel);
        self.ring.front_is_ready()
    }

    fn serve(&self, inner: &mut Inner<S>) {
        let Inner { resource, queue } = inner;
        loop {
            while let Some(job) = self.ring.try_pop() {
                queue.push(job.key, job.task);
            }
            if queue.is_empty() {
                return;
            }
            self.rounds.fetch_add(1, Ordering::Relaxed);
            while let Some((_, task)) = queue.pop() {
                task(resource);
            }
        }
    }
}

impl<S> core::fmt::Debug for Combiner<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Combiner")
            .field("capacity", &self.ring.capacity())
            .field("rounds", &self.rounds.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A queued request's result, to be collected on the thread that queued it.
#[must_use = "a ticket's result is only seen through wait()"]
pub struct Ticket<'a, S, R> {
    combiner: &'a Combiner<S>,
    rx: Receiver<std::thread::Result<R>>,
}

impl<S: Send, R> Ticket<'_, S, R> {
    /// The request's result; combines if no one else is, else parks until
    /// the combiner has run it. Re-raises a panic of the request.
    pub fn wait(self) -> R {
        let Self { combiner, mut rx } = self;
        let outcome = match rx.try_take() {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => {
                if let Some(inner) = combiner.try_lock() {
                    combiner.combine(inner);
                }
                rx.wait()
            }
            Err(closed) => Err(closed),
        };
        match outcome {
            Ok(Ok(value)) => value,
            Ok(Err(payload)) => panic::resume_unwind(payload),
            // The publisher lives in the queued task, which is dropped
            // unrun only with the combiner, and this ticket borrows it.
            Err(Closed) => unreachable!("a queued request was dropped without running"),
        }
    }
}

impl<S, R> core::fmt::Debug for Ticket<'_, S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ticket").finish_non_exhaustive()
    }
}
