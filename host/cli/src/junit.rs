//! `check --junit FILE`: the certification as JUnit XML, one testcase per
//! check (classname `<backend>.<group>`), failed and skipped checks with
//! their messages, so a backend author's CI shows it check by check.

use std::path::Path;

use gossip_suite::conformance::{CheckStatus, ConformanceReport, printable};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// The report as JUnit XML: one `testsuite` per backend.
pub fn render(component: &str, report: &ConformanceReport) -> Result<String, quick_junit::SerializeError> {
    let mut junit = Report::new(format!("gossip-host check {}", printable(component)));
    let mut backends: Vec<&str> = report.outcomes.iter().map(|o| o.backend.as_str()).collect();
    backends.dedup();
    for backend in backends {
        let mut suite = TestSuite::new(printable(backend));
        for outcome in report.outcomes.iter().filter(|o| o.backend == backend) {
            // Messages come from the component under test: printable only.
            let detail = printable(&outcome.detail);
            let status = match &outcome.status {
                CheckStatus::Passed => TestCaseStatus::success(),
                CheckStatus::Failed => {
                    let mut failed = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    failed.set_message(detail.clone()).set_description(detail);
                    failed
                }
                CheckStatus::Skipped { reason } => {
                    let mut skipped = TestCaseStatus::skipped();
                    skipped.set_message(printable(reason));
                    skipped
                }
            };
            let mut case = TestCase::new(outcome.id(), status);
            case.set_classname(format!("{}.{}", printable(backend), outcome.group)).set_time(outcome.elapsed);
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string()
}

/// Writes [`render`]'s XML to `path`.
pub fn write(path: &Path, component: &str, report: &ConformanceReport) -> std::io::Result<()> {
    let xml = render(component, report).map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}
