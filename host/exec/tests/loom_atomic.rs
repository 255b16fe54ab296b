//! loom: the atomic primitives of `gossip-exec` — request stamps, the
//! completion cell's publication, and the ring's slot-sequence CAS.
#![cfg(loom)]

#[path = "../../../guest/stores/tests/support/loom_model.rs"]
mod loom_model;

use std::sync::Arc;

use gossip_exec::sync::thread;
use gossip_exec::{Closed, Ring, SeqAllocator, oneshot};
use loom_model::explore;

// Shared structures travel in a std `Arc` (scaffolding, not under test);
// the completion cell's own `Arc` is production code and loom's.

#[test]
fn stamps_are_unique_across_threads() {
    explore("stamps_are_unique_across_threads", 3, || {
        let seq = Arc::new(SeqAllocator::new());
        let others: Vec<_> = (0..2)
            .map(|_| {
                let seq = Arc::clone(&seq);
                thread::spawn(move || seq.next())
            })
            .collect();
        let mut stamps = vec![seq.next()];
        stamps.extend(others.into_iter().map(|t| t.join().unwrap()));
        stamps.sort_unstable();
        assert_eq!(stamps, vec![0, 1, 2], "every stamp handed out exactly once");
        assert_eq!(seq.next(), 3);
    });
}

/// The value written before the `Release` store of READY is what the waiter
/// reads after its `Acquire` load, whether it finds it at once or parks.
/// (The waiter is a spawned thread, not the model's main thread: loom only
/// explores a race once both sides have been scheduled.)
fn completion_round_trip() {
    let waiter = thread::spawn(|| {
        let (publisher, receiver) = oneshot();
        let worker = thread::spawn(move || publisher.publish(vec![7u32, 8]));
        assert_eq!(receiver.wait(), Ok(vec![7, 8]));
        worker.join().unwrap();
    });
    waiter.join().unwrap();
}

#[test]
fn completion_publishes_to_the_waiter() {
    explore("completion_publishes_to_the_waiter", 3, completion_round_trip);
}

#[test]
fn completion_polled_then_waited() {
    explore("completion_polled_then_waited", 3, || {
        let waiter = thread::spawn(|| {
            let (publisher, mut receiver) = oneshot();
            let worker = thread::spawn(move || publisher.publish(String::from("receipt")));
            match receiver.try_take() {
                Ok(Some(value)) => assert_eq!(value, "receipt"),
                Ok(None) => assert_eq!(receiver.wait().as_deref(), Ok("receipt")),
                Err(Closed) => panic!("closed although published"),
            }
            worker.join().unwrap();
        });
        waiter.join().unwrap();
    });
}

#[test]
fn completion_closed_wakes_the_waiter() {
    explore("completion_closed_wakes_the_waiter", 3, || {
        let waiter = thread::spawn(|| {
            let (publisher, receiver) = oneshot::<u32>();
            let worker = thread::spawn(move || drop(publisher));
            assert_eq!(receiver.wait(), Err(Closed));
            worker.join().unwrap();
        });
        waiter.join().unwrap();
    });
}

#[test]
fn ring_slot_publication_is_release_acquire() {
    explore("ring_slot_publication_is_release_acquire", 3, || {
        let ring = Arc::new(Ring::with_capacity(2).unwrap());
        let producer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || ring.try_push(String::from("job")).unwrap())
        };
        // Whatever the consumer sees, it sees whole.
        let consumer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || ring.try_pop())
        };
        producer.join().unwrap();
        let item = consumer.join().unwrap().or_else(|| ring.try_pop());
        assert_eq!(item.as_deref(), Some("job"));
        assert_eq!(ring.try_pop(), None);
    });
}

#[test]
fn ring_tail_cas_gives_each_position_one_producer() {
    explore("ring_tail_cas_gives_each_position_one_producer", 3, || {
        let ring = Arc::new(Ring::with_capacity(2).unwrap());
        let producers: Vec<_> = [1u8, 2]
            .into_iter()
            .map(|v| {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.try_push(v))
            })
            .collect();
        for p in producers {
            assert_eq!(p.join().unwrap(), Ok(()), "two pushes fit a ring of two");
        }
        let mut got = vec![ring.try_pop().unwrap(), ring.try_pop().unwrap()];
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
        assert_eq!(ring.try_pop(), None);
    });
}

/// Planted bug `relaxed_publish`: the completion cell's READY store is
/// `Relaxed`, so a waiter that sees READY reads a value it is not ordered
/// after.
#[cfg(loom_planted_bug = "relaxed_publish")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_relaxed_publish_in_completion_is_caught() {
    loom_model::expect_caught(
        "planted_relaxed_publish_in_completion_is_caught",
        3,
        &["Causality violation"],
        completion_round_trip,
    );
}
