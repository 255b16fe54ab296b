//! A one-shot cell that carries one result from the thread that computed it
//! to the thread that asked for it.
//!
//! The value is written into an `UnsafeCell` and published by a `Release`
//! swap of the state; the receiver takes it after an `Acquire` load. A
//! receiver with nothing to take announces that it is going to sleep
//! (EMPTY → WAITING, by CAS) and parks, never spins; the publisher unparks
//! it only if its swap replaced WAITING, so a result that is ready before
//! anyone waits costs no wake-up at all.

use core::marker::PhantomData;

use crate::sync::{Arc, AtomicU8, Ordering, Thread, UnsafeCell, thread};

const EMPTY: u8 = 0;
/// Polls a waiter makes, yielding between them, before it parks.
#[cfg(not(loom))]
const SPIN_BEFORE_PARK: u32 = 16;

/// The receiver is parked, or about to park, and needs an unpark.
const WAITING: u8 = 1;
const READY: u8 = 2;
/// The publisher was dropped without publishing.
const CLOSED: u8 = 3;

/// The `Release` that hands the value to the receiver. The planted bug
/// downgrades it so the loom harness can show it is needed.
#[cfg(not(loom_planted_bug = "relaxed_publish"))]
const PUBLISH: Ordering = Ordering::Release;
#[cfg(loom_planted_bug = "relaxed_publish")]
const PUBLISH: Ordering = Ordering::Relaxed;

struct Cell<T> {
    state: AtomicU8,
    value: UnsafeCell<Option<T>>,
    /// The thread that created the pair, the only one that can wait on it
    /// (the receiver is not `Send`).
    waiter: Thread,
}

// SAFETY: the value is written only by the single `Publisher` before it
// stores READY and read only by the single `Receiver` after it loads READY,
// so sharing the cell just moves one `T` between two threads.
unsafe impl<T: Send> Send for Cell<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Cell<T> {}

/// The sending half; consumed by [`publish`](Self::publish). Dropping it
/// unpublished closes the cell, so the receiver never waits forever.
pub struct Publisher<T> {
    cell: Option<Arc<Cell<T>>>,
}

/// The receiving half. Not `Send`: only the creating thread is unparked.
pub struct Receiver<T> {
    cell: Arc<Cell<T>>,
    _not_send: PhantomData<*const ()>,
}

/// A fresh cell whose receiver belongs to the calling thread.
pub fn oneshot<T>() -> (Publisher<T>, Receiver<T>) {
    let cell = Arc::new(Cell { state: AtomicU8::new(EMPTY), value: UnsafeCell::new(None), waiter: thread::current() });
    (Publisher { cell: Some(Arc::clone(&cell)) }, Receiver { cell, _not_send: PhantomData })
}

impl<T> Publisher<T> {
    /// Hands `value` to the receiver and wakes it if it parked.
    pub fn publish(mut self, value: T) {
        let Some(cell) = self.cell.take() else { return };
        // SAFETY: this publisher is the cell's only writer (it is consumed
        // here and never cloned), and the receiver reads only after seeing
        // READY, which is stored after this write.
        cell.value.with_mut(|p| unsafe { *p = Some(value) });
        cell.finish(READY, PUBLISH);
    }
}

impl<T> Drop for Publisher<T> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.finish(CLOSED, Ordering::Release);
        }
    }
}

impl<T> Cell<T> {
    /// The final transition. A receiver that registered WAITING before this
    /// swap is unparked; one that had not will see the new state when its
    /// EMPTY → WAITING CAS fails, so no wake-up is lost.
    fn finish(&self, state: u8, order: Ordering) {
        if self.state.swap(state, order) == WAITING {
            self.waiter.unpark();
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it has been published, `Ok(None)` if not yet, without
    /// blocking; `Err(Closed)` once nothing more can come.
    pub fn try_take(&mut self) -> Result<Option<T>, Closed> {
        match self.cell.state.load(Ordering::Acquire) {
            EMPTY | WAITING => Ok(None),
            // SAFETY: READY was stored (and acquired) after the publisher's
            // only write, and `&mut self` makes this the only reader.
            READY => self.cell.value.with_mut(|p| unsafe { (*p).take() }).map(Some).ok_or(Closed),
            _ => Err(Closed),
        }
    }

    /// Blocks (parks) until the value is published; `Err(Closed)` if the
    /// publisher was dropped without publishing or the value was taken.
    pub fn wait(mut self) -> Result<T, Closed> {
        // A combined request usually finishes within a few microseconds,
        // well under the cost of a park/unpark round trip, so poll briefly
        // (yielding the core to the combiner) before registering to sleep.
        // loom explores the parking protocol below; a spin would only add
        // states to it, so the model builds without this phase.
        #[cfg(not(loom))]
        for _ in 0..SPIN_BEFORE_PARK {
            if let Some(value) = self.try_take()? {
                return Ok(value);
            }
            thread::yield_now();
        }
        loop {
            if let Some(value) = self.try_take()? {
                return Ok(value);
            }
            // Register before sleeping. A CAS that finds neither EMPTY nor
            // WAITING found the final state, which the next try_take reads.
            match self.cell.state.compare_exchange(EMPTY, WAITING, Ordering::Relaxed, Ordering::Relaxed) {
                // A token left by an earlier unpark may end this park at
                // once; the loop re-checks.
                Ok(_) | Err(WAITING) => thread::park(),
                Err(_) => {}
            }
        }
    }
}

/// The publisher went away without publishing, or the value was already taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the completion was closed without a value")]
pub struct Closed;

impl<T> core::fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl<T> core::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver").field("state", &self.cell.state.load(Ordering::Relaxed)).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn publish_then_take_on_one_thread() {
        let (tx, mut rx) = oneshot();
        assert_eq!(rx.try_take(), Ok(None));
        tx.publish(7);
        assert_eq!(rx.try_take(), Ok(Some(7)));
    }

    #[test]
    fn wait_returns_a_value_published_before_it() {
        let (tx, rx) = oneshot();
        tx.publish(String::from("done"));
        assert_eq!(rx.wait().unwrap(), "done");
    }

    #[test]
    fn waiter_blocks_until_another_thread_publishes() {
        let (tx, rx) = oneshot();
        let publisher = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.publish(vec![1, 2, 3]);
        });
        assert_eq!(rx.wait().unwrap(), vec![1, 2, 3]);
        publisher.join().unwrap();
    }

    #[test]
    fn dropping_the_publisher_closes_the_cell() {
        let (tx, rx) = oneshot::<u32>();
        std::thread::spawn(move || drop(tx)).join().unwrap();
        assert_eq!(rx.wait(), Err(Closed));
    }

    #[test]
    fn a_value_taken_by_try_take_is_not_waited_for_again() {
        let (tx, mut rx) = oneshot();
        tx.publish(1);
        assert_eq!(rx.try_take(), Ok(Some(1)));
        assert_eq!(rx.wait(), Err(Closed));
    }

    #[test]
    fn unread_values_are_dropped_with_the_cell() {
        let token = std::sync::Arc::new(());
        let (tx, rx) = oneshot();
        tx.publish(std::sync::Arc::clone(&token));
        drop(rx);
        assert_eq!(std::sync::Arc::strong_count(&token), 1);
    }

    #[test]
    fn many_round_trips_between_two_threads() {
        for i in 0..2_000u32 {
            let (tx, rx) = oneshot();
            let t = std::thread::spawn(move || tx.publish(i));
            assert_eq!(rx.wait(), Ok(i));
            t.join().unwrap();
        }
    }
}
