//! The combiner with std threads: ordering within a round, the full-ring
//! fallback, panics, and a many-thread stress run.
#![cfg(not(loom))]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gossip_exec::{CapacityError, Class, Combiner};

#[derive(Default)]
struct Log {
    /// (round, class, thread, index) of every executed request.
    entries: Vec<(u64, Class, usize, usize)>,
}

#[test]
fn rejects_a_bad_capacity() {
    assert_eq!(Combiner::new((), 3).unwrap_err(), CapacityError::Invalid(3));
}

#[test]
fn queued_requests_run_control_first_then_fifo_in_one_round() {
    let combiner = Combiner::new(Vec::new(), 8).unwrap();
    let tickets: Vec<_> =
        [(Class::Data, 0), (Class::Data, 1), (Class::Control, 2), (Class::Data, 3), (Class::Control, 4)]
            .into_iter()
            .map(|(class, id)| {
                combiner.submit(class, move |log: &mut Vec<usize>| {
                    log.push(id);
                    log.len()
                })
            })
            .collect();
    // Nothing has run yet: submitting only queues.
    assert_eq!(combiner.rounds(), 0);
    let positions: Vec<usize> = tickets.into_iter().map(|t| t.wait()).collect();
    assert_eq!(combiner.rounds(), 1, "the first wait served the whole queue in one round");
    assert_eq!(positions, vec![3, 4, 1, 5, 2]);
    assert_eq!(combiner.into_inner(), vec![2, 4, 0, 1, 3]);
}

#[test]
fn a_full_ring_is_served_to_make_room() {
    let combiner = Combiner::new(Vec::new(), 2).unwrap();
    let first = combiner.submit(Class::Data, |log: &mut Vec<u8>| log.push(1));
    let second = combiner.submit(Class::Data, |log: &mut Vec<u8>| log.push(2));
    assert_eq!(combiner.rounds(), 0);
    // The ring holds two: the third submission serves them to make room,
    // and is itself queued behind them.
    let third = combiner.submit(Class::Control, |log: &mut Vec<u8>| log.push(3));
    assert_eq!(combiner.rounds(), 1);
    first.wait();
    second.wait();
    assert_eq!(combiner.rounds(), 1, "their results were already published");
    third.wait();
    assert_eq!(combiner.rounds(), 2);
    assert_eq!(combiner.into_inner(), vec![1, 2, 3], "a control request does not overtake a served round");
}

#[test]
fn one_threads_pipelined_requests_run_in_order_past_a_full_ring() {
    let combiner = Combiner::new(Vec::new(), 2).unwrap();
    let tickets: Vec<_> =
        (0..9u32).map(|i| combiner.submit(Class::Data, move |log: &mut Vec<u32>| log.push(i))).collect();
    for t in tickets {
        t.wait();
    }
    assert_eq!(combiner.into_inner(), (0..9).collect::<Vec<_>>());
}

#[test]
fn dropped_tickets_still_run() {
    let combiner = Combiner::new(0u32, 4).unwrap();
    drop(combiner.submit(Class::Data, |n: &mut u32| *n += 1));
    assert_eq!(combiner.execute(Class::Data, |n: &mut u32| *n), 1);
    drop(combiner.submit(Class::Data, |n: &mut u32| *n += 10));
    assert_eq!(combiner.into_inner(), 11);
}

#[test]
fn a_panicking_request_panics_its_caller_only() {
    let combiner = Arc::new(Combiner::new(0u32, 4).unwrap());
    let c = Arc::clone(&combiner);
    let caught = std::thread::spawn(move || c.execute(Class::Data, |_: &mut u32| -> u32 { panic!("boom") }))
        .join()
        .expect_err("the caller sees the request's panic");
    assert_eq!(caught.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(
        combiner.execute(Class::Data, |n: &mut u32| {
            *n += 1;
            *n
        }),
        1
    );
}

#[test]
fn many_threads_every_request_runs_once_in_order() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2_000;
    for capacity in [2, 64] {
        let combiner = Arc::new(Combiner::new(Log::default(), capacity).unwrap());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let combiner = Arc::clone(&combiner);
                let in_flight = Arc::clone(&in_flight);
                std::thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        let class = if i % 7 == 0 { Class::Control } else { Class::Data };
                        let c = Arc::clone(&combiner);
                        let in_flight = Arc::clone(&in_flight);
                        let position = combiner.execute(class, move |log: &mut Log| {
                            // The resource is only ever used by one thread.
                            assert_eq!(in_flight.fetch_add(1, Ordering::SeqCst), 0);
                            log.entries.push((c.rounds(), class, t, i));
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            log.entries.len()
                        });
                        assert!(position >= 1);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let rounds = combiner.rounds();
        let log = Arc::into_inner(combiner).unwrap().into_inner();
        assert_eq!(log.entries.len(), THREADS * PER_THREAD, "capacity {capacity}");

        let mut next = [0usize; THREADS];
        let mut seen_data_in_round: HashMap<u64, bool> = HashMap::new();
        for &(round, class, t, i) in &log.entries {
            // Exactly once and in each thread's own order.
            assert_eq!(i, next[t], "thread {t} request {i} out of order or duplicated");
            next[t] += 1;
            let data_seen = seen_data_in_round.entry(round).or_default();
            match class {
                Class::Control => assert!(!*data_seen, "control after data in round {round}"),
                Class::Data => *data_seen = true,
            }
        }
        assert!(next.iter().all(|&n| n == PER_THREAD));
        assert!(rounds >= 1 && rounds as usize <= THREADS * PER_THREAD);
        eprintln!("capacity {capacity}: {} requests in {rounds} rounds", THREADS * PER_THREAD);
    }
}
