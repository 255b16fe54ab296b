//! loom: the priority heap as the executor uses it — requests from several
//! threads meet in the `Combiner`'s ring, are drained into its heap and run
//! control-first, FIFO within a class. The heap asserts its invariant after
//! every push and pop under loom (`Heap::check`).
#![cfg(loom)]

#[path = "../../../guest/stores/tests/support/loom_model.rs"]
mod loom_model;

use std::sync::Arc;

use gossip_exec::sync::thread;
use gossip_exec::{Class, Combiner};
use loom_model::explore;

// The combiner is shared through a std `Arc`: it is scaffolding here (the
// host shares it the same way), and loom's `Arc` would add every clone and
// drop to the interleavings without exercising the combiner further.

/// (round, class, request id) of every executed request, in run order.
type Log = Vec<(u64, Class, u32)>;
type Shared = Arc<Combiner<Log>>;

fn log_request(combiner: &Shared, class: Class, id: u32) -> impl FnOnce(&mut Log) -> usize + Send + 'static {
    let c = Arc::clone(combiner);
    move |log: &mut Log| {
        log.push((c.rounds(), class, id));
        log.len()
    }
}

fn spawn_caller(combiner: &Shared, class: Class, id: u32) -> thread::JoinHandle<usize> {
    let combiner = Arc::clone(combiner);
    thread::spawn(move || {
        let request = log_request(&combiner, class, id);
        combiner.execute(class, request)
    })
}

/// Every request ran exactly once, and within each round no control
/// request ran after a data request.
fn check_log(log: &Log, ids: &[u32]) {
    let mut ran: Vec<u32> = log.iter().map(|&(_, _, id)| id).collect();
    ran.sort_unstable();
    assert_eq!(ran, ids, "a request was lost or ran twice");
    for (i, &(round, class, id)) in log.iter().enumerate() {
        if class == Class::Control {
            let data_before = log[..i].iter().any(|&(r, c, _)| r == round && c == Class::Data);
            assert!(!data_before, "control request {id} ran after a data request of round {round}");
        }
    }
}

fn finish(combiner: Shared) -> Log {
    let Ok(combiner) = Arc::try_unwrap(combiner) else { panic!("a request still holds the combiner") };
    combiner.into_inner()
}

fn concurrent_callers(classes: &'static [Class]) {
    let combiner: Shared = Arc::new(Combiner::new(Vec::new(), 2).unwrap());
    let callers: Vec<_> = (0u32..).zip(classes).map(|(id, &class)| spawn_caller(&combiner, class, id)).collect();
    let positions: Vec<usize> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    let log = finish(combiner);
    check_log(&log, &(0..classes.len() as u32).collect::<Vec<_>>());
    for (id, position) in (0u32..).zip(positions) {
        assert_eq!(log[position - 1].2, id, "request {id} got another request's result");
    }
}

#[test]
fn two_callers_each_request_runs_once() {
    explore("two_callers_each_request_runs_once", 3, || concurrent_callers(&[Class::Data, Class::Data]));
}

#[test]
fn three_callers_control_first_each_once() {
    explore("three_callers_control_first_each_once", 2, || {
        concurrent_callers(&[Class::Data, Class::Control, Class::Data]);
    });
}

#[test]
fn queued_tickets_keep_fifo_against_a_control_caller() {
    explore("queued_tickets_keep_fifo_against_a_control_caller", 3, || {
        let combiner: Shared = Arc::new(Combiner::new(Vec::new(), 2).unwrap());
        let pipelined = {
            let combiner = Arc::clone(&combiner);
            thread::spawn(move || {
                let first = combiner.submit(Class::Data, log_request(&combiner, Class::Data, 0));
                let second = combiner.submit(Class::Data, log_request(&combiner, Class::Data, 1));
                (first.wait(), second.wait())
            })
        };
        let control = spawn_caller(&combiner, Class::Control, 2);
        let (first, second) = pipelined.join().unwrap();
        control.join().unwrap();
        assert!(first < second, "one thread's data requests ran out of order");
        check_log(&finish(combiner), &[0, 1, 2]);
    });
}

/// Planted bug `lost_wakeup`: the combiner leaves without re-checking the
/// ring, so a request queued while it held the lock is never run and its
/// caller sleeps forever.
#[cfg(loom_planted_bug = "lost_wakeup")]
#[test]
#[should_panic(expected = "planted bug caught")]
fn planted_lost_wakeup_is_caught() {
    loom_model::expect_caught("planted_lost_wakeup_is_caught", 3, &["deadlock"], || {
        concurrent_callers(&[Class::Data, Class::Data]);
    });
}
