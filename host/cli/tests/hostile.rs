//! `gossip-host check` against components that misbehave on purpose
//! (`guest/fixtures/hostile-guest`): each run ends in bounded time with exit
//! status 1, names the cause in its failed rows, and keeps the host's memory
//! bounded; `--junit` writes a report CI systems read.

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

/// Guest memory cap for the runs below, in MiB.
const CAP_MIB: u64 = 128;

fn check(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out =
        Command::new(env!("CARGO_BIN_EXE_gossip-host")).arg("check").args(args).output().expect("gossip-host runs");
    (out, started.elapsed())
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// What each fixture's failed rows must name.
const CAUSES: [(&str, &[&str]); 8] = [
    ("spin-read", &["did not answer", "timed out"]),
    ("spin-submit", &["did not answer `batch-upsert`", "timed out"]),
    ("never-done", &["did not complete within", "timed out"]),
    ("grow-memory", &["cannot hold this operation"]),
    ("huge-lists", &["more than the contract allows", "wrong shape", "rows for"]),
    ("short-lists", &["rows for"]),
    ("lying", &["receipt"]),
    ("trap-drop", &["trapped in `drop write`"]),
];

#[test]
fn every_hostile_fixture_is_rejected_in_bounded_time_naming_its_cause() {
    let cap = CAP_MIB.to_string();
    let flags = ["--json", "--call-timeout", "1s", "--write-timeout", "1s", "--memory-limit-mib", &cap];
    let started = Instant::now();
    let runs: Vec<_> = thread::scope(|scope| {
        let baseline = scope.spawn(|| check(&flags));
        let hostile: Vec<_> = CAUSES
            .iter()
            .map(|(mode, causes)| {
                let path = gossip_artifacts::hostile(mode).expect("a fixture per mode");
                let flags = &flags;
                scope.spawn(move || (*mode, *causes, check(&[&flags[..], &[path]].concat())))
            })
            .collect();
        let mut runs = vec![("bundled", &[][..], baseline.join().expect("runs"))];
        runs.extend(hostile.into_iter().map(|h| h.join().expect("runs")));
        runs
    });
    let all = started.elapsed();

    let (_, _, (bundled, _)) = &runs[0];
    assert!(bundled.status.success(), "the bundled component passes under the same flags");
    let baseline_rss = json(bundled)["host_peak_rss_bytes"].as_u64().expect("peak RSS on Linux");

    for (mode, causes, (out, elapsed)) in &runs[1..] {
        assert_eq!(out.status.code(), Some(1), "{mode}: exit status; stderr: {}", String::from_utf8_lossy(&out.stderr));
        assert!(*elapsed < Duration::from_secs(45), "{mode} took {elapsed:?}");
        let report = json(out);
        let failed: Vec<&str> = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter(|c| c["status"] == "failed")
            .map(|c| c["detail"].as_str().expect("detail"))
            .collect();
        assert!(!failed.is_empty(), "{mode}: no failed row");
        for cause in *causes {
            assert!(failed.iter().any(|d| d.contains(cause)), "{mode}: no failed row names `{cause}`: {failed:#?}");
        }
        // Whatever it answers, the host holds at most the guest memory of the
        // instances a check keeps alive at once (two) beyond what an honest
        // component costs: replies are never lifted past the contract's size.
        let rss = report["host_peak_rss_bytes"].as_u64().expect("peak RSS");
        let bound = baseline_rss + 2 * (CAP_MIB << 20);
        assert!(rss <= bound, "{mode}: host peak RSS {} MiB over the bound {} MiB", rss >> 20, bound >> 20);
    }
    assert!(all < Duration::from_secs(60), "all fixtures together took {all:?}");
}

#[test]
fn a_component_that_stops_answering_fails_every_later_check_without_running_it() {
    let path = gossip_artifacts::hostile("spin-submit").expect("fixture");
    let (out, _) = check(&["--json", "--call-timeout", "300ms", path]);
    let report = json(&out);
    let checks = report["checks"].as_array().expect("checks");
    let first = checks.iter().position(|c| c["status"] == "failed").expect("a failure");
    assert!(checks[first]["detail"].as_str().expect("detail").contains("timed out"), "{}", checks[first]);
    for later in &checks[first + 1..] {
        let detail = later["detail"].as_str().expect("detail");
        assert!(
            later["status"] == "skipped" || detail.starts_with("not run: the component stopped answering"),
            "{later}"
        );
    }
}

#[test]
fn junit_has_one_testcase_per_check_with_failures_and_skips() {
    let dir = std::env::temp_dir().join(format!("gossip-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (component, expect_failures, expect_skips) in
        [(gossip_artifacts::BROKEN_PATH, true, false), (gossip_artifacts::STORE_ONLY_PATH, false, true)]
    {
        let file = dir.join("report.xml");
        let (out, _) = check(&["--json", "--junit", file.to_str().expect("utf-8 path"), component]);
        let report = json(&out);
        let xml = std::fs::read_to_string(&file).expect("the JUnit file is written");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
        assert_eq!(suites.len(), 1, "one suite per backend");
        let suite = suites[0];
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len() as u64, report["total"].as_u64().expect("total"), "one testcase per check");
        let attr = |name: &str| suite.attribute(name).and_then(|v| v.parse::<u64>().ok()).expect("numeric attribute");
        assert_eq!(attr("tests"), report["total"].as_u64().expect("total"));
        assert_eq!(attr("failures"), report["failed"].as_u64().expect("failed"));
        for case in &cases {
            assert!(case.attribute("name").is_some_and(|n| n.contains('/')), "name is group/check");
            assert!(case.attribute("classname").is_some() && case.attribute("time").is_some());
            for outcome in case.children().filter(|n| n.is_element()) {
                assert!(matches!(outcome.tag_name().name(), "failure" | "skipped"), "{:?}", outcome.tag_name());
                assert!(outcome.attribute("message").is_some_and(|m| !m.is_empty()), "a message says why");
            }
        }
        let count = |tag: &str| cases.iter().filter(|c| c.children().any(|n| n.has_tag_name(tag))).count();
        assert_eq!(count("failure") as u64, report["failed"].as_u64().expect("failed"));
        assert_eq!(count("skipped") as u64, report["skipped"].as_u64().expect("skipped"));
        assert_eq!(count("failure") > 0, expect_failures);
        assert_eq!(count("skipped") > 0, expect_skips);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_default_deadlines_are_spelled_the_same_on_the_command_line() {
    let parse = |s: &str| humantime::parse_duration(s).expect("parses");
    assert_eq!(parse(gossip_cli::cli::DEFAULT_CALL_TIMEOUT_ARG), gossip_host::DEFAULT_CALL_TIMEOUT);
    assert_eq!(parse(gossip_cli::cli::DEFAULT_WRITE_TIMEOUT_ARG), gossip_host::DEFAULT_WRITE_TIMEOUT);
}
