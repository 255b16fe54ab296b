//! Differential tests against the extracted Coq models of the bounded ring
//! (`proofs/RingBuf.v`) and the binary heap (`proofs/Heap.v`), extracted to
//! OCaml by `proofs/extraction/Extract.v` and run by
//! `proofs/extraction/driver.ml`.
//!
//! Every test sends seeded random operation sequences to the compiled driver
//! and to the production code, driven single-threaded through its public API,
//! and compares every answer. The driver is built by `scripts/extraction.sh`,
//! which points `GOSSIP_EXTRACTED_DRIVER` at it (default:
//! `target/extraction/driver`). Without a driver the tests print why and
//! pass, unless `GOSSIP_REQUIRE_EXTRACTION=1`, when they fail.
//! `GOSSIP_EXTRACTION_SEED` and `GOSSIP_EXTRACTION_SEQUENCES` override the
//! seed and the number of sequences per model.
//!
//! What the production API cannot express: the model ring takes any positive
//! capacity, [`Ring::with_capacity`] only powers of two >= 2 (so those are the
//! capacities compared), and the ring's `front_is_ready` has no model
//! counterpart. The model heap holds bare nat keys; the production heap holds
//! (key, value) entries, so what is compared is the popped key, the length
//! and the minimum after every operation (with duplicate keys, which of the
//! equal entries comes out is not observable in the model).

use gossip_exec::{Heap, Ring};

#[path = "../../../guest/stores/tests/support/extracted_driver.rs"]
mod extracted_driver;

use extracted_driver::{Rng, Step, check, sequences};
// ------------------------------------------------------------------ ring

fn ring_sequences(count: usize) -> Vec<Vec<Step>> {
    let mut rng = Rng::new(3);
    (0..count)
        .map(|_| {
            let capacity = rng.pick(&[2usize, 4, 8, 16]);
            let ring = Ring::with_capacity(capacity).expect("a power of two");
            let mut steps = vec![Step { command: format!("ring_init {capacity}"), rust: "ok".to_owned() }];
            // Each sequence leans to pushes or to pops, so both full and
            // empty rings and many laps are reached.
            let push_percent = 30 + rng.below(45);
            for value in 0..rng.below(6 * capacity as u64 + 10) {
                if rng.chance(push_percent) {
                    let rust = match ring.try_push(value) {
                        Ok(()) => "ok".to_owned(),
                        Err(back) if back == value => "full".to_owned(),
                        Err(back) => format!("full, but handed back {back} instead of {value}"),
                    };
                    steps.push(Step { command: format!("ring_push {value}"), rust });
                } else {
                    let rust = ring.try_pop().map_or("empty".to_owned(), |v| v.to_string());
                    steps.push(Step { command: "ring_pop".to_owned(), rust });
                }
            }
            steps
        })
        .collect()
}

#[test]
fn ring_push_pop_match_the_extracted_model() {
    check("ring", &ring_sequences(sequences()));
}

// ------------------------------------------------------------------ heap

fn heap_summary(heap: &Heap<u64, usize>) -> String {
    format!("len={} min={}", heap.len(), heap.peek().map_or("-".to_owned(), |(k, _)| k.to_string()))
}

fn heap_sequences(count: usize) -> Vec<Vec<Step>> {
    let mut rng = Rng::new(4);
    (0..count)
        .map(|_| {
            let mut heap = Heap::new();
            let mut steps = vec![Step { command: "heap_init".to_owned(), rust: "ok".to_owned() }];
            let push_percent = 40 + rng.below(40);
            let keys = 1 + rng.below(30); // few distinct keys: many duplicates
            for id in 0..rng.below(60) as usize {
                if rng.chance(push_percent) {
                    let key = rng.below(keys);
                    heap.push(key, id);
                    steps.push(Step { command: format!("heap_push {key}"), rust: heap_summary(&heap) });
                } else {
                    let popped = heap.pop().map_or("empty".to_owned(), |(k, _)| k.to_string());
                    steps.push(Step {
                        command: "heap_pop".to_owned(),
                        rust: format!("{popped} {}", heap_summary(&heap)),
                    });
                }
            }
            steps
        })
        .collect()
}

#[test]
fn heap_push_pop_match_the_extracted_model() {
    check("heap", &heap_sequences(sequences()));
}
