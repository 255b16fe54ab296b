//! `gossip-host check`, run as a process.

use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gossip-host")).arg("check").args(args).output().expect("gossip-host runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_passes_on_the_bundled_component() {
    let out = check(&[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(
        stdout.contains("CHECK") && stdout.contains("BACKEND") && stdout.contains("RESULT") && stdout.contains("TIME")
    );
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn check_json_reports_every_check() {
    let out = check(&["--json", "--native"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["passed"], true);
    assert_eq!(report["failed"], 0);
    let checks = report["checks"].as_array().expect("checks array");
    assert_eq!(checks.len() as u64, report["total"].as_u64().expect("total"));
    assert!(checks.iter().any(|c| c["backend"] == "native"));
    assert!(checks.iter().any(|c| c["backend"] == "component"));
    // The short simulation runs after the suite: one row per store and backend.
    for backend in ["native", "component"] {
        for store in ["done-ledger", "findings"] {
            let row = checks
                .iter()
                .find(|c| c["group"] == "simulation" && c["name"] == store && c["backend"] == backend)
                .unwrap_or_else(|| panic!("no simulation/{store} row for {backend}"));
            assert_eq!(row["passed"], true, "{row}");
            assert!(row["detail"].as_str().is_some_and(|d| d.starts_with("4 stormy seeds")), "{row}");
        }
    }
}

#[test]
fn check_fails_on_the_broken_fixture() {
    let out = check(&[gossip_artifacts::BROKEN_PATH]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("conformance checks failed against gossip_broken_guest.wasm"), "{stderr}");
    assert!(stderr.contains("trapped"), "{stderr}");
    assert!(!stderr.contains("panicked"), "the host must not panic: {stderr}");
    // The simulation rows fail too, each naming the command that replays it.
    let stdout = text(&out.stdout);
    for store in ["done-ledger", "findings"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("simulation/{store} ")))
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(row.contains("FAIL"), "{row}");
    }
    // The replay line names the component that failed, not the bundled one.
    let replay = format!("--component {} --seed", gossip_artifacts::BROKEN_PATH);
    assert!(stdout.contains("replay: gossip-host sim --store done-ledger") && stdout.contains(&replay), "{stdout}");
}

#[test]
fn check_passes_a_worker_facing_only_component_and_skips_what_needs_testing() {
    let out = check(&["--json", gossip_artifacts::STORE_ONLY_PATH]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["failed"], 0);
    let checks = report["checks"].as_array().expect("checks array");
    let skipped: Vec<_> = checks.iter().filter(|c| c["status"] == "skipped").collect();
    let passed = checks.iter().filter(|c| c["status"] == "passed").count();
    assert!(!skipped.is_empty() && passed > skipped.len(), "{report}");
    assert_eq!(report["skipped"].as_u64(), Some(skipped.len() as u64));
    for row in &skipped {
        assert!(row["detail"].as_str().is_some_and(|d| d.contains("testing interface")), "{row}");
    }
    // Paging, limits and the worker-facing behaviour ran and passed.
    for group in ["paging", "limits", "done-ledger", "findings"] {
        assert!(checks.iter().any(|c| c["group"] == group && c["status"] == "passed"), "no {group} check ran");
    }
    assert!(skipped.iter().any(|c| c["group"] == "simulation"), "the simulation needs fault injection");
}

#[test]
fn a_component_cannot_write_control_characters_to_the_terminal() {
    // The file name reaches the table verbatim; so would a component's errors.
    let dir = std::env::temp_dir().join(format!("gossip-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let evil = dir.join("evil\u{1b}[2J\rALL PASSED.wasm");
    std::fs::copy(gossip_artifacts::BROKEN_PATH, &evil).expect("copy");
    let out = check(&[evil.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\r'), "raw control characters on stdout");
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r'), "raw control characters on stderr");
    assert!(stdout.contains("evil\\u{1b}[2J\\rALL PASSED.wasm"), "the name is shown escaped: {stdout}");
}

#[test]
fn check_reports_an_unloadable_component() {
    let out = check(&["/nonexistent/component.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read component"));

    let out = check(&[concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a valid component"), "{}", text(&out.stderr));
}
