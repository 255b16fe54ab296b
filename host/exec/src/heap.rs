//! An array binary min-heap: the structure `proofs/Heap.v` models.
//!
//! `push` appends and sifts up; `pop` swaps the root with the last entry,
//! removes it and sifts down from the root, descending to the right child
//! only when it is strictly smaller than the left (`min_child` in the
//! proof). Entries are ordered by key alone.

/// A binary min-heap of `(key, value)` entries ordered by key.
#[derive(Debug, Clone)]
pub struct Heap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K: Ord, V> Default for Heap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord, V> Heap<K, V> {
    /// An empty heap.
    pub const fn new() -> Self {
        Self { entries: Vec::new() }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry with the smallest key, without removing it.
    pub fn peek(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// Adds an entry, keeping heap order.
    pub fn push(&mut self, key: K, value: V) {
        // The planted bug: the fourth entry is lost. Only four requests
        // queued in one combining round reach it: more callers than the
        // loom models run.
        if cfg!(shuttle_planted_bug = "fourth_entry_lost") && self.entries.len() == 3 {
            return;
        }
        self.entries.push((key, value));
        self.sift_up(self.entries.len() - 1);
        self.check();
    }

    /// Removes an entry with the smallest key.
    pub fn pop(&mut self) -> Option<(K, V)> {
        let last = self.entries.len().checked_sub(1)?;
        // The planted bug for the extracted-model differential
        // (scripts/extraction.sh): no swap, so `pop` removes the last entry,
        // which leaves a valid heap; only the popped key shows it.
        #[cfg(model_planted_bug = "heap_pop_without_swap")]
        let last = 0;
        self.entries.swap(0, last);
        let top = self.entries.pop();
        self.sift_down(0);
        self.check();
        top
    }

    /// The heap property: no entry's key is smaller than its parent's.
    pub fn is_heap(&self) -> bool {
        (1..self.entries.len()).all(|i| self.entries[(i - 1) / 2].0 <= self.entries[i].0)
    }

    /// Checked in debug builds and under loom (which runs optimised), so
    /// the model checker sees the invariant after every push and pop.
    fn check(&self) {
        if cfg!(any(debug_assertions, loom)) {
            assert!(self.is_heap(), "heap invariant broken");
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.entries[i].0 < self.entries[parent].0 {
                self.entries.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let len = self.entries.len();
        loop {
            let left = 2 * i + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.entries[right].0 < self.entries[left].0 { right } else { left };
            if self.entries[child].0 < self.entries[i].0 {
                self.entries.swap(i, child);
                i = child;
            } else {
                break;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn drain<K: Ord, V>(heap: &mut Heap<K, V>) -> Vec<K> {
        core::iter::from_fn(|| heap.pop().map(|(k, _)| k)).collect()
    }

    #[test]
    fn empty_heap_pops_nothing() {
        let mut heap: Heap<u8, ()> = Heap::new();
        assert!(heap.is_empty());
        assert!(heap.pop().is_none());
        assert!(heap.peek().is_none());
    }

    #[test]
    fn pops_in_key_order_with_values_attached() {
        let mut heap = Heap::new();
        for k in [5u32, 1, 9, 3, 7, 2, 8] {
            heap.push(k, k * 10);
        }
        assert_eq!(heap.len(), 7);
        assert_eq!(heap.peek(), Some((&1, &10)));
        let mut out = Vec::new();
        while let Some((k, v)) = heap.pop() {
            assert_eq!(v, k * 10);
            assert!(heap.is_heap());
            out.push(k);
        }
        assert_eq!(out, vec![1, 2, 3, 5, 7, 8, 9]);
    }

    #[test]
    fn class_then_stamp_keys_serve_control_first_fifo_within_class() {
        let mut heap = Heap::new();
        let keys = [(1u8, 0u64), (1, 1), (0, 2), (1, 3), (0, 4)];
        for k in keys {
            heap.push(k, ());
        }
        assert_eq!(drain(&mut heap), vec![(0, 2), (0, 4), (1, 0), (1, 1), (1, 3)]);
    }

    #[test]
    fn interleaved_pushes_and_pops_match_a_sorted_model() {
        // A deterministic pseudo-random walk, checked against a sorted Vec.
        let mut heap = Heap::new();
        let mut model: Vec<u64> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..5_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                let got = heap.pop().map(|(k, _)| k);
                model.sort_unstable();
                let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                assert_eq!(got, want, "step {step}");
            } else {
                let key = (x % 64, step);
                heap.push(key.0 * 10_000 + key.1, ());
                model.push(key.0 * 10_000 + key.1);
            }
            assert!(heap.is_heap());
            assert_eq!(heap.len(), model.len());
        }
    }

    #[test]
    fn is_heap_detects_a_broken_order() {
        let heap = Heap { entries: vec![(1, ()), (0, ())] };
        assert!(!heap.is_heap());
    }
}
