//! The `gossip-host` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use gossip_suite::conformance::{CheckOutcome, ConformanceReport, printable, run_conformance};
use gossip_suite::sim::sweep::SimStore;
use gossip_suite::{Backend, NativeBackend};

use crate::ComponentBackend;
use gossip_host::{ComponentRuntime, DEFAULT_MEMORY_LIMIT, RuntimeConfig};

/// The parsed command line: one subcommand.
#[derive(Debug, Parser)]
#[command(name = "gossip-host", version, about = "Runs and certifies gossip:persistence wasm components")]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; each runs to an exit code (see [`run`]).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the conformance suite against a component (default: the bundled guest).
    Check(CheckArgs),
    /// Runs seeds of the deterministic simulation (default: the bundled guest).
    Sim(crate::sim_cli::SimArgs),
}

/// `gossip_host::DEFAULT_CALL_TIMEOUT` as the command line spells it (a
/// test keeps the two equal).
pub const DEFAULT_CALL_TIMEOUT_ARG: &str = "10s";
/// `gossip_host::DEFAULT_WRITE_TIMEOUT` as the command line spells it.
pub const DEFAULT_WRITE_TIMEOUT_ARG: &str = "30s";

/// The options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A component file; without one, the component built from this workspace.
    pub component: Option<PathBuf>,
    /// Print one JSON object instead of the table (for CI).
    #[arg(long)]
    pub json: bool,
    /// Also run the suite against the native stores, for comparison.
    #[arg(long)]
    pub native: bool,
    /// Stormy simulation seeds per store run after the conformance suite (0 skips them).
    #[arg(long, value_name = "SEEDS", default_value_t = 4)]
    pub sim_seeds: u64,
    /// Safety-phase ops per simulation seed.
    #[arg(long, value_name = "OPS", default_value_t = 200)]
    pub sim_ops: usize,
    /// Guest memory cap per store instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_LIMIT >> 20)]
    pub memory_limit_mib: usize,
    /// How long one call into the component may run (e.g. `10s`, `500ms`);
    /// a call past it is interrupted and fails its check.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = DEFAULT_CALL_TIMEOUT_ARG)]
    pub call_timeout: Duration,
    /// How long a write may stay pending once waited on (after the releases
    /// a check makes); a write past it fails its check.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration,
          default_value = DEFAULT_WRITE_TIMEOUT_ARG)]
    pub write_timeout: Duration,
    /// Also write the results as JUnit XML (one testcase per check) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Certify a live PostgreSQL database instead of a component (a
    /// `postgresql://` URL or a `key=value` string): every store in a fresh
    /// schema, all dropped at the end.
    #[arg(long, value_name = "URL", conflicts_with = "component")]
    pub postgres: Option<String>,
}

/// Exit codes: 0 all checks passed, 1 a check failed, 2 the component could
/// not be loaded (or the `--postgres` server could not be reached).
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Sim(args) => crate::sim_cli::run(&args),
    }
}

fn load(args: &CheckArgs) -> Result<ComponentRuntime, String> {
    let config = RuntimeConfig {
        memory_limit: args.memory_limit_mib.saturating_mul(1 << 20),
        call_timeout: args.call_timeout,
        write_timeout: args.write_timeout,
        ..RuntimeConfig::default()
    };
    let loaded = match &args.component {
        Some(path) => ComponentRuntime::from_file(path, config),
        None => ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, config),
    };
    loaded.map_err(|e| e.to_string())
}

fn check(args: &CheckArgs) -> ExitCode {
    if let Some(url) = &args.postgres {
        return crate::postgres::check(args, url);
    }
    let runtime = match load(args) {
        Ok(runtime) => runtime,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut report = ConformanceReport::default();
    if args.native {
        certify(args, &NativeBackend, " --native", &mut report);
    }
    let replay = args.component.as_ref().map_or_else(String::new, |p| format!(" --component {}", p.display()));
    certify(args, &ComponentBackend::new(runtime.clone()), &replay, &mut report);
    finish(args, runtime.name(), &report)
}

/// Writes the report (table or JSON, and JUnit when asked) and turns it into
/// the exit code.
pub(crate) fn finish(args: &CheckArgs, name: &str, report: &ConformanceReport) -> ExitCode {
    if let Some(path) = &args.junit
        && let Err(error) = crate::junit::write(path, name, report)
    {
        eprintln!("error: cannot write the JUnit report {}: {error}", path.display());
        return ExitCode::from(2);
    }
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. piped into `head`) must not turn into a panic.
    let _ = if args.json { writeln!(out, "{}", to_json(name, report)) } else { writeln!(out, "{report}") };
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "error: {} of {} conformance checks failed against {}; first failure: {}",
            report.failed_count(),
            report.outcomes.len(),
            printable(name),
            report
                .failures()
                .next()
                .map_or_else(|| "no checks ran".to_owned(), |o| printable(&format!("{}: {}", o.id(), o.detail))),
        );
        ExitCode::FAILURE
    }
}

/// The conformance suite, then a short simulation of each store, on `backend`.
pub(crate) fn certify<B: Backend>(args: &CheckArgs, backend: &B, replay: &str, report: &mut ConformanceReport) {
    report.extend(run_conformance(backend));
    if args.sim_seeds > 0 {
        for store in [SimStore::DoneLedger, SimStore::Findings] {
            let outcome = match backend.unresponsive() {
                Some(reason) => CheckOutcome::not_run("simulation", store.name(), backend.name(), &reason),
                None => crate::sim_cli::check_outcome(backend, replay, store, args.sim_seeds, args.sim_ops),
            };
            report.outcomes.push(outcome);
        }
    }
}

/// The report as one JSON object: `passed`, counts, and one entry per check.
pub fn to_json(component: &str, report: &ConformanceReport) -> serde_json::Value {
    let checks: Vec<serde_json::Value> = report
        .outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "group": o.group,
                "name": o.name,
                "backend": o.backend,
                "passed": o.passed(),
                "status": o.status.as_str(),
                "detail": o.detail,
                "elapsed_ms": o.elapsed.as_secs_f64() * 1e3,
            })
        })
        .collect();
    serde_json::json!({
        "component": component,
        "passed": report.all_passed(),
        "total": report.outcomes.len(),
        "failed": report.failed_count(),
        "skipped": report.skipped_count(),
        "host_peak_rss_bytes": peak_rss_bytes(),
        "checks": checks,
    })
}

/// This process's peak resident memory (Linux `VmHWM`), for the report:
/// whatever a component answers, the host must stay within its guest
/// memory cap plus the contract-sized replies it lifts.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}
