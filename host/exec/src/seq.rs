//! Request stamps: a shared counter handing out unique, increasing numbers.

use crate::sync::{AtomicU64, Ordering};

/// Hands out 0, 1, 2, … across threads, each value exactly once.
///
/// `Relaxed` suffices: uniqueness comes from the read-modify-write being
/// atomic, and no data is published through the counter. Stamps order
/// requests FIFO within a priority class; a 64-bit counter never wraps in
/// practice (2^64 requests).
#[derive(Debug, Default)]
pub struct SeqAllocator {
    next: AtomicU64,
}

impl SeqAllocator {
    /// An allocator whose first stamp is 0.
    pub fn new() -> Self {
        Self { next: AtomicU64::new(0) }
    }

    /// The next unused stamp.
    pub fn next(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    #[test]
    fn stamps_are_sequential_on_one_thread() {
        let seq = SeqAllocator::new();
        assert_eq!((0..5).map(|_| seq.next()).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn stamps_are_unique_and_dense_across_threads() {
        let seq = Arc::new(SeqAllocator::new());
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let seq = Arc::clone(&seq);
                std::thread::spawn(move || (0..1000).map(|_| seq.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        for w in workers {
            for stamp in w.join().unwrap() {
                assert!(all.insert(stamp), "stamp {stamp} handed out twice");
            }
        }
        assert_eq!(all, (0..4000).collect());
    }
}
