//! A bounded lock-free multi-producer multi-consumer ring of requests.
//!
//! Each slot carries a sequence number saying whose turn it is (D. Vyukov's
//! bounded queue): a slot at position `pos` is free for the producer of
//! `pos` when `seq == pos`, holds that producer's value when
//! `seq == pos + 1`, and becomes free for the next lap (`pos + capacity`)
//! once the consumer stores `seq = pos + capacity`. Producers claim a
//! position by CAS on `tail`, consumers by CAS on `head`; the slot's value
//! is published by a `Release` store of its sequence and taken after an
//! `Acquire` load of it.
//!
//! Relation to `proofs/RingBuf.v` ({cap, head, tail, size} with FIFO):
//! `head mod cap`, `tail mod cap` and `tail - head` here are that model's
//! head, tail and size; the monotonic positions and slot sequences are what
//! lets producers and consumers agree on them without a lock.

use core::mem::MaybeUninit;

use thiserror::Error;

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// The `Release` store that hands a slot's value to the consumer. The
/// planted bug downgrades it so the loom harness can show it is needed.
#[cfg(not(loom_planted_bug = "relaxed_publish"))]
const PUBLISH: Ordering = Ordering::Release;
#[cfg(loom_planted_bug = "relaxed_publish")]
const PUBLISH: Ordering = Ordering::Relaxed;

/// Why a ring could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum CapacityError {
    /// With one slot, "free for position p" and "filled at position p - 1"
    /// would be the same sequence number.
    #[error("ring capacity {0} must be a power of two and at least 2")]
    Invalid(usize),
}

struct Slot<T> {
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer, multi-consumer FIFO of `T`s.
pub struct Ring<T> {
    slots: Box<[Slot<T>]>,
    mask: usize,
    /// Next position to consume.
    head: AtomicUsize,
    /// Next position to produce.
    tail: AtomicUsize,
}

// SAFETY: a value moves from exactly one producer to exactly one consumer
// (each position is claimed by one CAS winner on each side), and the slot
// sequence protocol orders the two accesses, so sharing the ring only ever
// moves `T`s between threads.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above; `&Ring` gives no access to a `T` other than by moving it.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// An empty ring of `capacity` slots (a power of two, at least 2).
    pub fn with_capacity(capacity: usize) -> Result<Self, CapacityError> {
        if capacity < 2 || !capacity.is_power_of_two() {
            return Err(CapacityError::Invalid(capacity));
        }
        let slots = (0..capacity)
            .map(|pos| Slot { seq: AtomicUsize::new(pos), value: UnsafeCell::new(MaybeUninit::uninit()) })
            .collect();
        Ok(Self { slots, mask: capacity - 1, head: AtomicUsize::new(0), tail: AtomicUsize::new(0) })
    }

    /// How many items it holds at most.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & self.mask]
    }

    /// Appends `value`, or hands it back when the ring is full. Never
    /// blocks: a retry happens only when another producer won the position.
    pub fn try_push(&self, value: T) -> Result<(), T> {
        let mut pos = self.tail.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(pos);
            // Acquire pairs with the consumer's release of the previous lap,
            // so our write below cannot overlap its read.
            let seq = slot.seq.load(Ordering::Acquire);
            match seq.wrapping_sub(pos) as isize {
                0 => match self.claim_tail(pos) {
                    Ok(()) => {
                        // SAFETY: winning the CAS for `pos` makes this thread
                        // the slot's only writer until it publishes, and the
                        // consumer of the previous lap finished reading before
                        // releasing `seq == pos` (acquired above).
                        slot.value.with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                        slot.seq.store(pos.wrapping_add(1), PUBLISH);
                        return Ok(());
                    }
                    Err(current) => pos = current,
                },
                // The slot still holds the value from one lap ago: full.
                d if d < 0 => return Err(value),
                // Another producer already filled `pos`; the Acquire above
                // makes its tail update visible to this reload.
                _ => pos = self.tail.load(Ordering::Relaxed),
            }
        }
    }

    fn claim_tail(&self, pos: usize) -> Result<(), usize> {
        #[cfg(not(loom_planted_bug = "racy_claim"))]
        {
            self.tail.compare_exchange(pos, pos.wrapping_add(1), Ordering::Relaxed, Ordering::Relaxed).map(drop)
        }
        // The planted bug: a load-then-store claim lets two producers take
        // the same position.
        #[cfg(loom_planted_bug = "racy_claim")]
        {
            self.tail.store(pos.wrapping_add(1), Ordering::Relaxed);
            Ok(())
        }
    }

    /// Removes the oldest value, or `None` when the front slot holds none
    /// yet (empty, or its producer has claimed but not yet published it).
    pub fn try_pop(&self) -> Option<T> {
        let mut pos = self.head.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(pos);
            // Acquire pairs with the producer's publishing store.
            let seq = slot.seq.load(Ordering::Acquire);
            match seq.wrapping_sub(pos.wrapping_add(1)) as isize {
                0 => match self.head.compare_exchange(pos, pos.wrapping_add(1), Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => {
                        // SAFETY: `seq == pos + 1` (acquired) means the
                        // producer of `pos` wrote an initialised value and
                        // published it; winning the CAS makes this thread its
                        // only reader, and no producer writes the slot again
                        // until the release below.
                        let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                        let next_lap = pos.wrapping_add(self.capacity());
                        // The planted bug for the extracted-model differential
                        // (scripts/extraction.sh): the next lap one position short.
                        #[cfg(model_planted_bug = "ring_wrap_off_by_one")]
                        let next_lap = next_lap - 1;
                        slot.seq.store(next_lap, Ordering::Release);
                        return Some(value);
                    }
                    Err(current) => pos = current,
                },
                d if d < 0 => return None,
                // Another consumer already took `pos`.
                _ => pos = self.head.load(Ordering::Relaxed),
            }
        }
    }

    /// Whether the front slot holds a published value right now. A hint
    /// for whoever decides to drain next: the answer may be stale by the
    /// time it is acted on, which callers must tolerate.
    pub fn front_is_ready(&self) -> bool {
        let pos = self.head.load(Ordering::Relaxed);
        self.slot(pos).seq.load(Ordering::Acquire) == pos.wrapping_add(1)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no push is in flight, so every claimed slot is
        // published and popping frees exactly the values left behind.
        while self.try_pop().is_some() {}
    }
}

impl<T> core::fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring").field("capacity", &self.capacity()).finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn rejects_capacities_that_are_not_powers_of_two_at_least_two() {
        for bad in [0, 1, 3, 6, 12] {
            assert_eq!(Ring::<u8>::with_capacity(bad).unwrap_err(), CapacityError::Invalid(bad));
        }
        for good in [2, 4, 64] {
            assert_eq!(Ring::<u8>::with_capacity(good).unwrap().capacity(), good);
        }
    }

    #[test]
    fn fifo_full_and_empty_across_laps() {
        let ring = Ring::with_capacity(4).unwrap();
        assert_eq!(ring.try_pop(), None);
        assert!(!ring.front_is_ready());
        for lap in 0..5 {
            for i in 0..4 {
                ring.try_push(lap * 10 + i).unwrap();
            }
            assert_eq!(ring.try_push(99), Err(99), "a full ring hands the value back");
            assert!(ring.front_is_ready());
            for i in 0..4 {
                assert_eq!(ring.try_pop(), Some(lap * 10 + i));
            }
            assert_eq!(ring.try_pop(), None);
        }
    }

    #[test]
    fn interleaved_push_pop_keeps_order() {
        let ring = Ring::with_capacity(2).unwrap();
        let mut expected = 0;
        for v in 0..100 {
            ring.try_push(v).unwrap();
            if v % 2 == 1 {
                assert_eq!(ring.try_pop(), Some(expected));
                assert_eq!(ring.try_pop(), Some(expected + 1));
                expected += 2;
            }
        }
    }

    #[test]
    fn drop_releases_values_left_in_the_ring() {
        let token = Arc::new(());
        let ring = Ring::with_capacity(4).unwrap();
        ring.try_push(Arc::clone(&token)).unwrap();
        ring.try_push(Arc::clone(&token)).unwrap();
        assert_eq!(Arc::strong_count(&token), 3);
        drop(ring);
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[test]
    fn producers_and_consumers_move_every_item_exactly_once() {
        const PRODUCERS: usize = 4;
        const PER: usize = 10_000;
        let ring = Arc::new(Ring::with_capacity(8).unwrap());
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let ring = Arc::clone(&ring);
                std::thread::spawn(move || {
                    for i in 0..PER {
                        let mut item = (p, i);
                        while let Err(back) = ring.try_push(item) {
                            item = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let ring = Arc::clone(&ring);
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut last = [None::<usize>; PRODUCERS];
                    while got.len() < PRODUCERS * PER / 2 {
                        match ring.try_pop() {
                            Some((p, i)) => {
                                // Per consumer, one producer's items arrive in order.
                                assert!(last[p].is_none_or(|l| l < i), "producer {p} out of order");
                                last[p] = Some(i);
                                got.push((p, i));
                            }
                            None => std::thread::yield_now(),
                        }
                    }
                    got
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<_> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
        all.sort_unstable();
        let expected: Vec<_> = (0..PRODUCERS).flat_map(|p| (0..PER).map(move |i| (p, i))).collect();
        assert_eq!(all, expected);
        assert_eq!(ring.try_pop(), None);
    }
}
