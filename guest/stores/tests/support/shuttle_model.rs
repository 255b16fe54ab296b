//! The shuttle runner shared by the shuttle harnesses: every harness runs
//! under the random scheduler and the PCT scheduler (depth 3), each for a
//! fixed iteration budget, from a seed printed before the run. On a failure
//! shuttle prints the failing schedule, which `shuttle::replay` replays
//! exactly; the seed replays the whole search.

use shuttle::scheduler::{PctScheduler, RandomScheduler};
use shuttle::{Config, Runner};

/// Iterations per scheduler (`SHUTTLE_ITERATIONS` overrides).
const ITERATIONS: usize = 5_000;
/// PCT's bug depth: the number of ordering constraints it aims to hit.
const PCT_DEPTH: usize = 3;

fn iterations() -> usize {
    std::env::var("SHUTTLE_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(ITERATIONS)
}

fn seed() -> u64 {
    std::env::var("SHUTTLE_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_600d)
}

/// Runs `model` under both schedulers; panics (with shuttle's replayable
/// schedule printed) on the first failing execution.
pub fn explore<F>(name: &str, model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let (iterations, seed) = (iterations(), seed());
    println!("shuttle {name}: SHUTTLE_SEED={seed}, {iterations} schedules per scheduler");
    // Counted outside the model (std atomics are invisible to shuttle), so
    // the log shows how many executions really ran.
    let runs = Arc::new(AtomicUsize::new(0));
    let model = Arc::new(model);
    let counted = |runs: &Arc<AtomicUsize>, model: &Arc<F>| {
        let (runs, model) = (Arc::clone(runs), Arc::clone(model));
        move || {
            runs.fetch_add(1, Ordering::Relaxed);
            model();
        }
    };
    let started = std::time::Instant::now();
    let random = RandomScheduler::new_from_seed(seed, iterations);
    Runner::new(random, Config::new()).run(counted(&runs, &model));
    let random_runs = runs.swap(0, Ordering::Relaxed);
    let pct = PctScheduler::new_from_seed(seed, PCT_DEPTH, iterations);
    Runner::new(pct, Config::new()).run(counted(&runs, &model));
    let pct_runs = runs.load(Ordering::Relaxed);
    println!(
        "shuttle {name}: {random_runs} random + {pct_runs} PCT(depth {PCT_DEPTH}) executions passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
