//! Differential tests against the extracted Coq models: the status lattice
//! (`proofs/StatusLattice.v`), the record merge (`proofs/RecordMerge.v`) and
//! the fault-injection countdown (`proofs/Countdown.v`), extracted to OCaml by
//! `proofs/extraction/Extract.v` and run by `proofs/extraction/driver.ml`.
//!
//! Every test sends seeded random operation sequences to the compiled driver
//! and to the production code and compares every answer. The driver is built
//! by `scripts/extraction.sh`, which points `GOSSIP_EXTRACTED_DRIVER` at it
//! (default: `target/extraction/driver`). Without a driver the tests print
//! why and pass, unless `GOSSIP_REQUIRE_EXTRACTION=1`, when they fail.
//! `GOSSIP_EXTRACTION_SEED` and `GOSSIP_EXTRACTION_SEQUENCES` override the
//! seed and the number of sequences per model.
//!
//! The models' `nat` is Peano (no hand-written OCaml realizer stands in for
//! it, see Extract.v), so nat-typed fields are drawn from small ranges; run
//! and shard (Coq `Z`, binary) cover the whole i64 range.

mod common;

use common::{code, key, provenance};
use gossip_persistence::done_ledger::{DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::store::Countdown;

#[path = "support/extracted_driver.rs"]
mod extracted_driver;

use extracted_driver::{Rng, Step, check, differential, driver, sequences};
// ------------------------------------------------------------------ status lattice

#[test]
fn status_merge_and_from_rank_match_the_extracted_model() {
    let mut steps = Vec::new();
    for a in DoneLedgerStatus::ALL {
        for b in DoneLedgerStatus::ALL {
            steps.push(Step {
                command: format!("status_merge {} {}", a.rank(), b.rank()),
                rust: a.merge(b).rank().to_string(),
            });
        }
    }
    for rank in 0..=u8::MAX {
        steps.push(Step {
            command: format!("from_rank {rank}"),
            rust: DoneLedgerStatus::from_rank(rank).map_or("none".to_owned(), |s| s.rank().to_string()),
        });
    }
    check("status lattice", &[steps]);
}

// ------------------------------------------------------------------ record merge

/// run and shard as raw u64s, read as i64 by the merge: the sign boundary,
/// both extremes and their neighbours.
const IDS: [u64; 8] = [0, 1, 2, u64::MAX, 1 << 63, (1 << 63) - 1, (1 << 63) + 1, 0x0123_4567_89ab_cdef];
/// Codes that tie on prefixes and differ in case and length.
const CODES: [&str; 8] = ["a", "b", "ab", "aa", "B", "a b", "timeout", "x/y:z.1"];

/// A valid record (the precondition of every RecordMerge theorem), drawing
/// its provenance from `pool` most of the time so whole-tuple ties are common.
fn random_record(rng: &mut Rng, statuses: &[DoneLedgerStatus], pool: &[[u64; 5]]) -> DoneLedgerRecord {
    let status = if rng.chance(80) { rng.pick(statuses) } else { rng.pick(&DoneLedgerStatus::ALL) };
    let [finished, started, fence, run, shard] = if rng.chance(70) {
        rng.pick(pool)
    } else {
        [rng.below(4), rng.below(4), rng.below(3), rng.pick(&IDS), rng.pick(&IDS)]
    };
    let (count, err) = match status {
        DoneLedgerStatus::ScannedClean => (0, None),
        DoneLedgerStatus::ScannedWithFindings => (1 + rng.below(4) as u32, None),
        _ => (rng.below(5) as u32, Some(rng.pick(&CODES))),
    };
    DoneLedgerRecord::try_new(
        key(1, 2, 3),
        status,
        rng.below(7),
        count,
        provenance(run, shard, fence, started, finished),
        err.map(code),
    )
    .expect("a valid record")
}

/// The driver's record token: rank,bytes,count,finished,started,fence,run,shard,code.
fn token(r: &DoneLedgerRecord) -> String {
    let p = r.provenance();
    let code = r
        .error_code()
        .map_or("-".to_owned(), |c| format!("x{}", c.as_str().bytes().map(|b| format!("{b:02x}")).collect::<String>()));
    format!(
        "{},{},{},{},{},{},{},{},{code}",
        r.status().rank(),
        r.bytes_scanned(),
        r.findings_count(),
        p.finished_at().as_raw(),
        p.started_at().as_raw(),
        p.fence_epoch().as_raw(),
        p.run_id().as_raw() as i64,
        p.shard_id().as_raw() as i64,
    )
}

fn merged(existing: &DoneLedgerRecord, incoming: &DoneLedgerRecord) -> (DoneLedgerRecord, String) {
    match existing.merge(incoming) {
        Ok(m) => {
            let t = token(&m);
            (m, t)
        }
        // Valid inputs with one key never fail; if they do, the answer differs.
        Err(e) => (existing.clone(), format!("error: {e}")),
    }
}

fn record_merge_sequences(count: usize) -> Vec<Vec<Step>> {
    let mut rng = Rng::new(1);
    (0..count)
        .map(|_| {
            let statuses = [rng.pick(&DoneLedgerStatus::ALL), rng.pick(&DoneLedgerStatus::ALL)];
            let pool: Vec<[u64; 5]> =
                (0..2).map(|_| [rng.below(4), rng.below(4), rng.below(3), rng.pick(&IDS), rng.pick(&IDS)]).collect();
            let mut steps = Vec::new();
            // One independent merge, then a fold in both operand orders.
            let (a, b) = (random_record(&mut rng, &statuses, &pool), random_record(&mut rng, &statuses, &pool));
            steps.push(Step { command: format!("merge {} {}", token(&a), token(&b)), rust: merged(&a, &b).1 });
            let mut acc = random_record(&mut rng, &statuses, &pool);
            steps.push(Step { command: format!("rec_set {}", token(&acc)), rust: "ok".to_owned() });
            for _ in 0..1 + rng.below(16) {
                let r = random_record(&mut rng, &statuses, &pool);
                let (command, (next, rust)) = if rng.chance(50) {
                    (format!("rec_merge {}", token(&r)), merged(&acc, &r))
                } else {
                    (format!("rec_merge_rev {}", token(&r)), merged(&r, &acc))
                };
                steps.push(Step { command, rust });
                acc = next;
            }
            steps
        })
        .collect()
}

#[test]
fn record_merge_matches_the_extracted_model() {
    check("record merge", &record_merge_sequences(sequences()));
}

// ------------------------------------------------------------------ countdown

/// What the countdown differential needs of a counter, so a test-local
/// mutant can stand in for the production one.
trait Counter: Default {
    fn arm(&mut self, count: usize);
    fn try_take(&mut self) -> bool;
    fn remaining(&self) -> usize;
}

impl Counter for Countdown {
    fn arm(&mut self, count: usize) {
        Countdown::arm(self, count);
    }
    fn try_take(&mut self) -> bool {
        Countdown::try_take(self)
    }
    fn remaining(&self) -> usize {
        Countdown::remaining(*self)
    }
}

fn countdown_sequences<C: Counter>(count: usize) -> Vec<Vec<Step>> {
    let mut rng = Rng::new(2);
    (0..count)
        .map(|_| {
            let mut c = C::default();
            let mut steps = vec![Step { command: "cd_init".to_owned(), rust: "ok".to_owned() }];
            let take_percent = 30 + rng.below(50);
            for _ in 0..rng.below(40) {
                if rng.chance(take_percent) {
                    let fired = c.try_take();
                    steps.push(Step { command: "cd_take".to_owned(), rust: format!("{fired} {}", c.remaining()) });
                } else {
                    let m = rng.below(5) as usize;
                    c.arm(m);
                    steps.push(Step { command: format!("cd_arm {m}"), rust: c.remaining().to_string() });
                }
            }
            steps
        })
        .collect()
}

#[test]
fn countdown_matches_the_extracted_model() {
    check("countdown", &countdown_sequences::<Countdown>(sequences()));
}

/// The production countdown is outside the files the planted-bug builds may
/// touch, so this shows the countdown comparison can fail: a counter whose
/// last firing is lost (a `checked_sub(2)`-style slip) must be reported.
#[derive(Default)]
struct LosesLastFiring(usize);

impl Counter for LosesLastFiring {
    fn arm(&mut self, count: usize) {
        self.0 = self.0.saturating_add(count);
    }
    fn try_take(&mut self) -> bool {
        match self.0 {
            0 | 1 => {
                self.0 = 0;
                false
            }
            n => {
                self.0 = n - 1;
                true
            }
        }
    }
    fn remaining(&self) -> usize {
        self.0
    }
}

#[test]
fn a_divergent_countdown_is_caught() {
    let Some(_) = driver() else { return };
    let divergence = differential("countdown (mutant)", &countdown_sequences::<LosesLastFiring>(sequences()))
        .expect_err("a countdown that loses its last firing must diverge from the model");
    println!("mutant countdown caught: {}", divergence.lines().take(4).collect::<Vec<_>>().join(" | "));
}
