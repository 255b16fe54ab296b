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
    let out = check(&[gossip_host::BROKEN_FIXTURE_PATH]);
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
    assert!(stdout.contains("replay: gossip-host sim --store done-ledger"), "{stdout}");
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
