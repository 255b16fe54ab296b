//! `gossip-host sim`: seed sweeps of the deterministic simulation against
//! the bundled component, a component file, or the native stores.
//!
//! Every run is a function of its seed and the options, so a failing seed
//! is reported with the exact command that replays it (`--seed S`, plus the
//! seed's swarm options line, which the seed alone draws again anyway).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use gossip_suite::conformance::{CheckOutcome, CheckStatus, NEEDS_TESTING, printable};
use gossip_suite::sim::coverage::shortfalls;
use gossip_suite::sim::sweep::{
    DEFAULT_LIVENESS_OPS, SeedOutcome, SimMode, SimRunSpec, SimStore, default_threads, run_parallel,
};
use gossip_suite::sim::{Coverage, FaultLevel, FaultModel, SimOptions};
use gossip_suite::{Backend, NativeBackend};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ComponentBackend;
use gossip_host::{ComponentRuntime, RuntimeConfig};

/// The options of `sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The store to simulate: done-ledger or findings.
    #[arg(long, default_value = "done-ledger")]
    pub store: SimStore,
    /// Fault level: sunny, stormy or radioactive.
    #[arg(long, default_value = "stormy")]
    pub level: FaultLevel,
    /// How faults are armed: bounded (outstanding faults stay under a cap
    /// drawn per seed) or reference (the reference design's unbounded debt).
    #[arg(long, default_value = "bounded")]
    pub fault_model: FaultModel,
    /// Run every seed with this options line (as a run prints it) instead
    /// of the options each seed draws.
    #[arg(long, value_name = "LINE")]
    pub options: Option<SimOptions>,
    /// Fail (exit 1) when the sweep falls short of the coverage minimums:
    /// a quarter of the submitted upserts commit, every event kind occurs.
    #[arg(long)]
    pub check_coverage: bool,
    /// How many seeds to run (from --first-seed).
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// Safety-phase ops per seed.
    #[arg(long, default_value_t = 500)]
    pub ops: usize,
    /// Fault-free liveness-phase ops per seed, after draining.
    #[arg(long, default_value_t = DEFAULT_LIVENESS_OPS)]
    pub liveness_ops: usize,
    /// Run the swizzle-clog scenario with this many batches instead of --ops.
    #[arg(long, value_name = "BATCHES")]
    pub swizzle_clog: Option<usize>,
    /// Run exactly this seed (replays a reported failure).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The first seed of a sweep.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// A component file; without one (and without --native), the bundled component.
    #[arg(long, conflicts_with = "native")]
    pub component: Option<PathBuf>,
    /// Simulate the native stores instead of a component.
    #[arg(long)]
    pub native: bool,
    /// Simulate the PostgreSQL stores of a live database (a `postgresql://`
    /// URL or a `key=value` string), each in a fresh schema dropped at the end.
    #[arg(long, value_name = "URL", conflicts_with_all = ["component", "native"])]
    pub postgres: Option<String>,
    /// Print every seed's event log (best with --seed).
    #[arg(long)]
    pub log: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl SimArgs {
    fn spec(&self) -> SimRunSpec {
        let mode = match self.swizzle_clog {
            Some(batches) => SimMode::SwizzleClog { batches },
            None => SimMode::Run { safety_ops: self.ops, liveness_ops: self.liveness_ops },
        };
        let (level, model) = self.options.map_or((self.level, self.fault_model), |o| (o.level, o.model));
        SimRunSpec { store: self.store, level, model, mode, options: self.options }
    }

    fn seeds(&self) -> Vec<u64> {
        match self.seed {
            Some(seed) => vec![seed],
            None => (self.first_seed..self.first_seed.saturating_add(self.seeds)).collect(),
        }
    }

    /// The backend options, as they must be repeated to replay a seed.
    fn backend_options(&self) -> String {
        if self.postgres.is_some() {
            return crate::postgres::REPLAY.to_owned();
        }
        match (&self.component, self.native) {
            (_, true) => " --native".to_owned(),
            (Some(path), false) => format!(" --component {}", path.display()),
            (None, false) => String::new(),
        }
    }
}

/// Exit codes: 0 no violation, 1 a seed failed, 2 the component could not
/// be loaded (or the `--postgres` server could not be reached).
pub fn run(args: &SimArgs) -> ExitCode {
    if let Some(url) = &args.postgres {
        return crate::postgres::sim(args, url);
    }
    if args.native {
        return sweep(args, &NativeBackend);
    }
    let loaded = match &args.component {
        Some(path) => ComponentRuntime::from_file(path, RuntimeConfig::default()),
        None => ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, RuntimeConfig::default()),
    };
    match loaded {
        Ok(runtime) => sweep(args, &ComponentBackend::new(runtime)),
        Err(e) => {
            eprintln!("error: {}", printable(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

pub(crate) fn sweep<B: Backend>(args: &SimArgs, backend: &B) -> ExitCode {
    let spec = args.spec();
    let seeds = args.seeds();
    let progress = ProgressBar::new(seeds.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {elapsed_precise} eta {eta}") {
        progress.set_style(style);
    }
    let started = Instant::now();
    let threads = args.threads.unwrap_or_else(default_threads).max(1);
    let results = run_parallel(&seeds, threads, |seed| spec.run_seed(backend, seed, args.log), &|_| progress.inc(1));
    progress.finish_and_clear();
    let elapsed = started.elapsed();

    let mut ops = 0;
    let mut violations = 0;
    let mut coverage = Coverage::default();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures: Vec<(u64, SimOptions, String, Option<Vec<String>>)> = Vec::new();
    for (seed, result) in results {
        match result {
            Ok(SeedOutcome { ops: n, violations: v, counts: c, failure, log, coverage: cov, options, .. }) => {
                ops += n;
                violations += v;
                coverage += cov;
                for (kind, k) in c {
                    *counts.entry(kind).or_default() += k;
                }
                if let (true, Some(lines)) = (args.log, &log) {
                    println!("--- seed {seed} ---");
                    lines.iter().for_each(|l| println!("{}", printable(l)));
                }
                if let Some(message) = failure {
                    failures.push((seed, options, message, log));
                }
            }
            Err(message) => failures.push((seed, spec.seed_options(seed), message, None)),
        }
    }

    let mut out = std::io::stdout().lock();
    let rate = ops as f64 / elapsed.as_secs_f64().max(1e-9);
    // A closed stdout (e.g. piped into `head`) must not turn into a panic.
    let _ = writeln!(
        out,
        "sim {} {} on {}: {} seeds, {ops} ops in {elapsed:.2?} ({rate:.0} ops/s)",
        spec.store.name(),
        spec.level,
        backend.name(),
        seeds.len()
    );
    let _ = writeln!(out, "events:");
    for (kind, n) in &counts {
        let _ = writeln!(out, "  {kind:<24} {n}");
    }
    let _ = writeln!(out, "coverage:");
    let _ = writeln!(out, "  upserts committed        {}", coverage.upserts_committed);
    let _ = writeln!(out, "  upserts submitted        {}", coverage.upserts_submitted);
    let _ = writeln!(out, "  upserts submit-failed    {}", coverage.upserts_submit_failed);
    let _ = writeln!(out, "  upserts commit-failed    {}", coverage.upserts_commit_failed);
    let _ = writeln!(out, "  releases applied         {}", coverage.releases_applied);
    let _ = writeln!(out, "  releases failed          {}", coverage.releases_failed);
    let _ = writeln!(out, "  keys touched             {}", coverage.keys_touched);
    let _ = writeln!(out, "  merges changed           {}", coverage.merges_changed);
    let _ = writeln!(out, "  merges tied              {}", coverage.merges_tied);
    let _ = writeln!(out, "  conflicts                {}", coverage.conflicts);
    let _ = writeln!(out, "  orphans                  {}", coverage.orphans);
    let _ = writeln!(out, "  event kinds seen         {}/{}", counts.len(), spec.store.kind_names().len());
    let _ = writeln!(out, "violations: {violations} ({} failing seeds)", failures.len());
    let short = if args.check_coverage {
        let missing: Vec<&str> = spec
            .store
            .expected_kind_names(spec.level)
            .into_iter()
            .filter(|k| counts.get(k).copied().unwrap_or(0) == 0)
            .collect();
        shortfalls(&coverage, &missing)
    } else {
        Vec::new()
    };
    for s in &short {
        let _ = writeln!(out, "coverage short: {s}");
    }
    if failures.is_empty() {
        return if short.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    for (seed, options, message, _) in &failures {
        let _ = writeln!(out, "\nseed {seed} FAILED: {}", printable(message));
        let _ = writeln!(
            out,
            "  replay: gossip-host sim {} --seed {seed} --options '{options}'{} --log",
            spec.options(),
            args.backend_options()
        );
    }
    if let Some((seed, _, _, Some(lines))) = failures.first() {
        let _ = writeln!(out, "\nlast steps of seed {seed}:");
        for line in lines.iter().rev().take(20).rev() {
            let _ = writeln!(out, "  {}", printable(line));
        }
    }
    ExitCode::FAILURE
}

/// One `check` row: `seeds` stormy seeds of `ops` ops on `store`, through
/// the same sweep as `gossip-host sim` (so a failure names its replay).
/// `replay_backend` is how `sim` selects the same backend (`--native`,
/// `--component PATH`, or nothing for the bundled component), so the replay
/// line of a failure runs what failed.
pub(crate) fn check_outcome<B: Backend>(
    backend: &B,
    replay_backend: &str,
    store: SimStore,
    seeds: u64,
    ops: usize,
) -> CheckOutcome {
    let mode = SimMode::Run { safety_ops: ops, liveness_ops: DEFAULT_LIVENESS_OPS };
    let spec = SimRunSpec::new(store, FaultLevel::Stormy, mode);
    if !backend.supports_testing() {
        return CheckOutcome {
            group: "simulation",
            name: store.name(),
            backend: backend.name().to_owned(),
            status: CheckStatus::Skipped { reason: NEEDS_TESTING.to_owned() },
            detail: NEEDS_TESTING.to_owned(),
            elapsed: std::time::Duration::ZERO,
        };
    }
    let seed_list: Vec<u64> = (0..seeds).collect();
    let started = Instant::now();
    let results = spec.sweep(backend, &seed_list, default_threads().max(1), &|_| {});
    let mut ops_run = 0;
    let mut failure = None;
    for (seed, result) in results {
        let message = match result {
            Ok(outcome) => {
                ops_run += outcome.ops;
                outcome.failure.or_else(|| {
                    (outcome.violations > 0).then(|| format!("{} invariant violations", outcome.violations))
                })
            }
            Err(message) => Some(message),
        };
        if let (None, Some(message)) = (&failure, message) {
            failure = Some(format!(
                "seed {seed}: {message} (replay: gossip-host sim {}{replay_backend} --seed {seed} --options '{}' --log)",
                spec.options(),
                spec.seed_options(seed)
            ));
        }
    }
    CheckOutcome {
        group: "simulation",
        name: store.name(),
        backend: backend.name().to_owned(),
        status: if failure.is_none() { CheckStatus::Passed } else { CheckStatus::Failed },
        detail: failure.unwrap_or_else(|| format!("{seeds} {} seeds, {ops_run} ops, no violation", spec.level)),
        elapsed: started.elapsed(),
    }
}
