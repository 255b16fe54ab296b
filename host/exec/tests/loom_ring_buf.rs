//! loom: the request ring (`gossip_exec::Ring`), single- and
//! multi-producer, capacity 2, in every interleaving up to the bound.
//!
//! Pushes never retry (loom rejects spin loops): a push refused as full
//! hands its item back, and the checks account for it.
#![cfg(loom)]

#[path = "../../../guest/stores/tests/support/loom_model.rs"]
mod loom_model;

use std::sync::Arc;

use gossip_exec::Ring;
use gossip_exec::sync::thread;
use loom_model::explore;

// The ring is shared through a std `Arc`: scaffolding, whose clones and
// drops would only add interleavings that do not touch the ring.

/// Pushes `items` once each; returns the accepted ones, in order.
fn push_all(ring: &Ring<u32>, items: &[u32]) -> Vec<u32> {
    let mut accepted = Vec::new();
    for &item in items {
        match ring.try_push(item) {
            Ok(()) => accepted.push(item),
            Err(back) => assert_eq!(back, item, "a refused push hands its own item back"),
        }
    }
    accepted
}

/// Pops up to `tries` times; a front reported ready must pop.
fn pop_some(ring: &Ring<u32>, tries: usize) -> Vec<u32> {
    let mut got = Vec::new();
    for _ in 0..tries {
        let ready = ring.front_is_ready();
        match ring.try_pop() {
            Some(item) => got.push(item),
            None => assert!(!ready, "the only consumer saw a ready front it could not pop"),
        }
    }
    got
}

fn drain(ring: &Ring<u32>) -> Vec<u32> {
    core::iter::from_fn(|| ring.try_pop()).collect()
}

/// Each producer's accepted items appear in `popped` in its push order,
/// and `popped` holds exactly the accepted items.
fn check_delivery(popped: &[u32], accepted: &[Vec<u32>]) {
    for mine in accepted {
        let seen: Vec<u32> = popped.iter().copied().filter(|i| mine.contains(i)).collect();
        assert_eq!(&seen, mine, "one producer's items lost, duplicated or reordered");
    }
    let mut all: Vec<u32> = accepted.concat();
    all.sort_unstable();
    let mut got = popped.to_vec();
    got.sort_unstable();
    assert_eq!(got, all, "items lost or duplicated");
}

fn spsc() {
    let ring = Arc::new(Ring::with_capacity(2).unwrap());
    let producer = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || push_all(&ring, &[1, 2, 3]))
    };
    let consumer = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || pop_some(&ring, 2))
    };
    let accepted = producer.join().unwrap();
    let mut popped = consumer.join().unwrap();
    popped.extend(drain(&ring));
    assert_eq!(&accepted[..2], &[1, 2], "an empty ring of two takes two pushes");
    assert_eq!(popped, accepted, "FIFO");

    // Full and empty, now that nothing runs concurrently.
    assert_eq!(ring.try_pop(), None);
    assert_eq!(push_all(&ring, &[4, 5, 6]), vec![4, 5]);
    assert_eq!(drain(&ring), vec![4, 5]);
}

#[test]
fn spsc_fifo_full_and_empty() {
    explore("spsc_fifo_full_and_empty", 3, spsc);
}

fn producers(per_producer: &[&'static [u32]], pops: usize) {
    let ring = Arc::new(Ring::with_capacity(2).unwrap());
    let producers: Vec<_> = per_producer
        .iter()
        .map(|&items| {
            let ring = Arc::clone(&ring);
            thread::spawn(move || push_all(&ring, items))
        })
        .collect();
    let consumer = {
        let ring = Arc::clone(&ring);
        thread::spawn(move || pop_some(&ring, pops))
    };
    let accepted: Vec<Vec<u32>> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    let mut popped = consumer.join().unwrap();
    popped.extend(drain(&ring));
    check_delivery(&popped, &accepted);
}

fn two_producers_one_item_each() {
    producers(&[&[10], &[20]], 2);
}

#[test]
fn mpsc_two_producers_one_item_each() {
    explore("mpsc_two_producers_one_item_each", 3, two_producers_one_item_each);
}

#[test]
fn mpsc_two_producers_two_items_each() {
    explore("mpsc_two_producers_two_items_each", 3, || producers(&[&[10, 11], &[20, 21]], 2));
}

/// Planted bug `relaxed_publish`: the slot sequence that publishes a pushed
/// value is stored `Relaxed`, so the consumer reads an unordered write.
#[cfg(loom_planted_bug = "relaxed_publish")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_relaxed_publish_in_ring_is_caught() {
    loom_model::expect_caught("planted_relaxed_publish_in_ring_is_caught", 3, &["Causality violation"], spsc);
}

/// Planted bug `racy_claim`: producers claim a position with a load and a
/// store instead of a CAS, so two of them can fill the same slot.
#[cfg(loom_planted_bug = "racy_claim")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_racy_claim_is_caught() {
    loom_model::expect_caught(
        "planted_racy_claim_is_caught",
        3,
        &["Causality violation", "lost or duplicated"],
        two_producers_one_item_each,
    );
}
