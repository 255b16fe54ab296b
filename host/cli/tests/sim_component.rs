//! The simulation through the wasm component: smoke runs and sweeps of both
//! stores, and the differential check that one seed gives the same event
//! log and the same final state on the native stores and on the component.

use std::sync::OnceLock;
use std::time::Instant;

use gossip_cli::ComponentBackend;
use gossip_host::ComponentRuntime;
use gossip_persistence::{DoneLedgerInspect, FindingsInspect};
use gossip_suite::sim::done_ledger::{DoneLedgerSim, DoneLedgerSimEventKind, DoneLedgerSimReport};
use gossip_suite::sim::findings::{FindingsSim, FindingsSimEventKind, FindingsSimReport};
use gossip_suite::sim::sweep::{SweepSummary, run_seed_sweep};
use gossip_suite::sim::{EventKind, FaultLevel};
use gossip_suite::{Backend, NativeBackend};

/// Stormy sweeps through the component use fewer seeds than the native
/// ones (100): each op crosses the wasm boundary several times, and the
/// host glue is unoptimized in the dev profile. `gossip-host sim` runs
/// the full sweeps.
const STORMY_SEEDS: u64 = 25;

/// The bundled component, compiled once for this test binary.
fn component() -> &'static ComponentBackend {
    static BACKEND: OnceLock<ComponentBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        ComponentBackend::new(
            ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, gossip_host::RuntimeConfig::default())
                .expect("the bundled component loads"),
        )
    })
}

fn ledger_sim(seed: u64, level: FaultLevel) -> anyhow::Result<DoneLedgerSim<<ComponentBackend as Backend>::Ledger>> {
    DoneLedgerSim::from_backend(component(), seed, level)
}

fn sink_sim(seed: u64, level: FaultLevel) -> anyhow::Result<FindingsSim<<ComponentBackend as Backend>::Sink>> {
    FindingsSim::from_backend(component(), seed, level)
}

fn assert_sweep_clean<K: EventKind>(name: &str, summary: &SweepSummary<K>) {
    assert!(summary.failures.is_empty(), "{name}: {summary}");
    assert_eq!(summary.violations, 0, "{name}: {summary}");
    eprintln!(
        "{name}: {} seeds, {} ops in {:.2?} ({:.0} ops/s)",
        summary.seeds,
        summary.ops,
        summary.elapsed,
        summary.ops_per_sec()
    );
}

// ---- done-ledger ----

#[test]
fn component_done_ledger_sunny_day() {
    let report = ledger_sim(0, FaultLevel::SunnyDay).unwrap().run(200, 0);
    assert!(report.is_clean(), "{}", report.failure().unwrap_or_default());
}

#[test]
fn component_done_ledger_radioactive_smoke() {
    let summary = run_seed_sweep(0..5, |seed| Ok(ledger_sim(seed, FaultLevel::Radioactive)?.run(200, 0)));
    assert_sweep_clean("done-ledger radioactive smoke", &summary);
}

#[test]
fn component_done_ledger_stormy_sweep() {
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| Ok(ledger_sim(seed, FaultLevel::Stormy)?.run(500, 0)));
    assert_sweep_clean("done-ledger stormy sweep", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<DoneLedgerSimEventKind>::new(), "{summary}");
}

#[test]
fn component_done_ledger_swizzle_clog_sweep() {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..100, |seed| Ok(ledger_sim(seed, level)?.run_swizzle_clog(10)));
        assert_sweep_clean(&format!("done-ledger swizzle-clog {level}"), &summary);
    }
}

// ---- findings ----

#[test]
fn component_findings_sunny_day() {
    let report = sink_sim(0, FaultLevel::SunnyDay).unwrap().run(200, 0);
    assert!(report.is_clean(), "{}", report.failure().unwrap_or_default());
}

#[test]
fn component_findings_radioactive_smoke() {
    let summary = run_seed_sweep(0..5, |seed| Ok(sink_sim(seed, FaultLevel::Radioactive)?.run(200, 0)));
    assert_sweep_clean("findings radioactive smoke", &summary);
}

#[test]
fn component_findings_stormy_sweep() {
    let summary = run_seed_sweep(0..STORMY_SEEDS, |seed| Ok(sink_sim(seed, FaultLevel::Stormy)?.run(500, 0)));
    assert_sweep_clean("findings stormy sweep", &summary);
    assert_eq!(summary.missing_kinds(), Vec::<FindingsSimEventKind>::new(), "{summary}");
}

#[test]
fn component_findings_swizzle_clog_sweep() {
    for level in [FaultLevel::SunnyDay, FaultLevel::Stormy] {
        let summary = run_seed_sweep(0..100, |seed| Ok(sink_sim(seed, level)?.run_swizzle_clog(10)));
        assert_sweep_clean(&format!("findings swizzle-clog {level}"), &summary);
    }
}

// ---- differential: native vs component ----

const DIFF_CASES: [(u64, FaultLevel); 4] =
    [(0, FaultLevel::SunnyDay), (7, FaultLevel::Stormy), (42, FaultLevel::Stormy), (3, FaultLevel::Radioactive)];

fn first_ledger_difference(native: &DoneLedgerSimReport, component: &DoneLedgerSimReport) -> String {
    match native.log.first_difference(&component.log) {
        Some((i, a, b)) => format!("entry {i}:\n  native:    {a:?}\n  component: {b:?}"),
        None => "logs equal, reports differ".to_owned(),
    }
}

fn first_sink_difference(native: &FindingsSimReport, component: &FindingsSimReport) -> String {
    match native.log.first_difference(&component.log) {
        Some((i, a, b)) => format!("entry {i}:\n  native:    {a:?}\n  component: {b:?}"),
        None => "logs equal, reports differ".to_owned(),
    }
}

#[test]
fn done_ledger_native_and_component_agree_step_for_step() {
    for (seed, level) in DIFF_CASES {
        let (native_ledger, component_ledger) =
            (NativeBackend.new_ledger().unwrap(), component().new_ledger().unwrap());
        let started = Instant::now();
        let native = DoneLedgerSim::new(seed, level, native_ledger.clone()).run(300, 50);
        let native_time = started.elapsed();
        let started = Instant::now();
        let wasm = DoneLedgerSim::new(seed, level, component_ledger.clone()).run(300, 50);
        let wasm_time = started.elapsed();
        assert!(native.is_clean(), "{}", native.failure().unwrap_or_default());
        assert!(native == wasm, "seed {seed} {level}: {}", first_ledger_difference(&native, &wasm));
        let (a, b) = (native_ledger.snapshot().unwrap(), component_ledger.snapshot().unwrap());
        assert!(!a.is_empty());
        assert_eq!(a, b, "seed {seed} {level}: final snapshots differ");
        let (c, d) = (
            DoneLedgerSim::new(seed, level, NativeBackend.new_ledger().unwrap()).run_swizzle_clog(10),
            ledger_sim(seed, level).unwrap().run_swizzle_clog(10),
        );
        assert!(c == d, "swizzle seed {seed} {level}: {}", first_ledger_difference(&c, &d));
        eprintln!(
            "done-ledger seed {seed} {level}: {} ops, native {native_time:.2?}, component {wasm_time:.2?}",
            native.ops_executed
        );
    }
}

#[test]
fn findings_native_and_component_agree_step_for_step() {
    for (seed, level) in DIFF_CASES {
        let (native_sink, component_sink) = (NativeBackend.new_sink().unwrap(), component().new_sink().unwrap());
        let started = Instant::now();
        let native = FindingsSim::new(seed, level, native_sink.clone()).run(300, 50);
        let native_time = started.elapsed();
        let started = Instant::now();
        let wasm = FindingsSim::new(seed, level, component_sink.clone()).run(300, 50);
        let wasm_time = started.elapsed();
        assert!(native.is_clean(), "{}", native.failure().unwrap_or_default());
        assert!(native == wasm, "seed {seed} {level}: {}", first_sink_difference(&native, &wasm));
        assert_eq!(native_sink.findings_snapshot().unwrap(), component_sink.findings_snapshot().unwrap());
        assert_eq!(native_sink.occurrences_snapshot().unwrap(), component_sink.occurrences_snapshot().unwrap());
        let observations = native_sink.observations_snapshot().unwrap();
        assert!(!observations.is_empty());
        assert_eq!(observations, component_sink.observations_snapshot().unwrap());
        let (c, d) = (
            FindingsSim::new(seed, level, NativeBackend.new_sink().unwrap()).run_swizzle_clog(10),
            sink_sim(seed, level).unwrap().run_swizzle_clog(10),
        );
        assert!(c == d, "swizzle seed {seed} {level}: {}", first_sink_difference(&c, &d));
        eprintln!(
            "findings seed {seed} {level}: {} ops, native {native_time:.2?}, component {wasm_time:.2?}",
            native.ops_executed
        );
    }
}

// ---- the `sim` subcommand ----

fn sim_cli(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gossip-host")).arg("sim").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The output without its timing line, which is the only part allowed to vary.
fn without_timing(stdout: &str) -> String {
    stdout.lines().filter(|l| !l.starts_with("sim ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn sim_cli_replays_a_seed_bit_for_bit() {
    for store in ["done-ledger", "findings"] {
        let args = ["--store", store, "--level", "stormy", "--ops", "120", "--seed", "9", "--log"];
        let (code, first) = sim_cli(&args);
        assert_eq!(code, 0, "{first}");
        assert!(first.contains("--- seed 9 ---") && first.contains("violations: 0"), "{first}");
        assert!(first.lines().filter(|l| l.contains(" => ")).count() >= 120, "{first}");
        // The seed's options line comes first, and replays the run by itself.
        let line = first.lines().find_map(|l| l.trim().strip_prefix("# options ")).expect("an options line");
        let (_, from_line) = sim_cli(&[&args[..], &["--options", line]].concat());
        assert_eq!(without_timing(&first), without_timing(&from_line), "the options line replays differently");
        assert!(first.contains("upserts committed"), "{first}");
        let (_, second) = sim_cli(&args);
        assert_eq!(without_timing(&first), without_timing(&second));
        let (_, native) = sim_cli(&[&args[..], &["--native"]].concat());
        assert_eq!(without_timing(&first), without_timing(&native), "component and native logs differ");
    }
}

#[test]
fn sim_cli_reports_failing_seeds_with_their_replay_command() {
    let (code, out) = sim_cli(&["--component", gossip_artifacts::BROKEN_PATH, "--seeds", "2", "--ops", "30"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seed 0 FAILED: "), "{out}");
    assert!(out.contains("I0 Backend: batch_upsert failed"), "{out}");
    let options =
        gossip_suite::sim::SimOptions::for_seed(0, FaultLevel::Stormy, gossip_suite::sim::FaultModel::Bounded);
    let replay = format!(
        "replay: gossip-host sim --store done-ledger --level stormy --ops 30 --liveness-ops 200 --seed 0 --options \
         '{options}' --component {} --log",
        gossip_artifacts::BROKEN_PATH
    );
    assert!(out.contains(&replay), "{out}");
    let (code, _) = sim_cli(&["--component", "/nonexistent/component.wasm"]);
    assert_eq!(code, 2);
}
