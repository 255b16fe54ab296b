//! Dropping a handle without waiting must not leave its outcome in the store
//! forever (the upstream keeps it; this crate discards it). The store exposes
//! no count of retained outcomes, so the test measures live heap bytes with a
//! counting allocator: after a warm-up round has grown every internal table,
//! further rounds of abandoned writes must not grow the heap.
//!
//! This binary holds a single test so no other test allocates concurrently.

use gossip_persistence::{
    CompletionOrder, DoneLedger, FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, live_bytes};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const WRITES: usize = 5_000;
/// A retained outcome costs a map slot plus its receipt (well over 40 bytes);
/// anything below this per abandoned write is table slack, not retention.
const MAX_GROWTH_PER_WRITE: isize = 8;

/// Live-heap growth over `rounds()` after one warm-up call.
fn growth_after_warm_up(mut round: impl FnMut()) -> isize {
    round();
    let before = live_bytes();
    for _ in 0..3 {
        round();
    }
    live_bytes() - before
}

#[test]
fn abandoned_handles_leave_nothing_behind() {
    let ledger = InMemoryDoneLedger::with_auto_complete(false);
    let delayed_then_released = growth_after_warm_up(|| {
        for _ in 0..WRITES {
            drop(ledger.batch_upsert(&[]).expect("accepted"));
        }
        assert_eq!(ledger.pending_count().expect("count"), WRITES);
        assert_eq!(ledger.release_all(CompletionOrder::OldestFirst).expect("release"), WRITES);
        assert_eq!(ledger.pending_count().expect("count"), 0);
        assert!(ledger.pending_ids().expect("ids").is_empty());
    });

    let released_one_by_one = growth_after_warm_up(|| {
        for _ in 0..WRITES {
            drop(ledger.batch_upsert(&[]).expect("accepted"));
        }
        while ledger.release_next(CompletionOrder::NewestFirst).expect("release").is_some() {}
        assert_eq!(ledger.pending_count().expect("count"), 0);
    });

    let sink = InMemoryFindingsSink::new();
    let auto_completed = growth_after_warm_up(|| {
        for _ in 0..WRITES {
            drop(sink.upsert_batch(Default::default()).expect("accepted"));
        }
    });

    let limit = MAX_GROWTH_PER_WRITE * WRITES as isize * 3;
    for (path, growth) in [
        ("delayed, release_all", delayed_then_released),
        ("delayed, release_next", released_one_by_one),
        ("auto-completed", auto_completed),
    ] {
        assert!(growth < limit, "{path}: heap grew by {growth} bytes over {} abandoned writes", WRITES * 3);
    }
}
