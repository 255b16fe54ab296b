//! The one conformance suite, against the native stores and the component.

use gossip_cli::ComponentBackend;
use gossip_suite::NativeBackend;
use gossip_suite::conformance::{ConformanceReport, REFERENCE_GROUPS, run_conformance};

use crate::support::runtime;

fn assert_all_passed(report: &ConformanceReport) {
    assert!(report.all_passed(), "conformance failures:\n{report}");
    for (group, count) in REFERENCE_GROUPS {
        assert_eq!(report.count_in(group), count, "reference group {group} must run {count} checks");
    }
}

#[test]
fn native_stores_pass_the_suite() {
    assert_all_passed(&run_conformance(&NativeBackend));
}

#[test]
fn component_passes_the_same_suite() {
    let report = run_conformance(&ComponentBackend::new(runtime().clone()));
    assert_all_passed(&report);
    assert!(report.outcomes.iter().all(|o| o.backend == "component"));
    // Unlike native, a component can be bounded: nothing is skipped.
    assert_eq!(report.skipped_count(), 0, "{report}");
    assert!(report.outcome("capacity", "done-ledger-fill").is_some_and(|o| o.passed()));
    let native: Vec<String> = run_conformance(&NativeBackend).outcomes.iter().map(|o| o.id()).collect();
    let component: Vec<String> = report.outcomes.iter().map(|o| o.id()).collect();
    assert_eq!(native, component, "both backends must run exactly the same checks");
}

#[test]
fn broken_component_fails_the_suite() {
    let report = run_conformance(&ComponentBackend::new(crate::support::broken_runtime().clone()));
    assert!(!report.all_passed());
    let failure = report.outcome("done-ledger", "idempotent").expect("check ran");
    assert!(failure.failed());
    assert!(failure.detail.contains("trapped in `batch-upsert`"), "{}", failure.detail);
}
