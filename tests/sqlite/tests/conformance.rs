//! The one conformance suite, unchanged, against the SQLite backend.

mod common;

use common::SqliteBackend;
use gossip_suite::NativeBackend;
use gossip_suite::conformance::{REFERENCE_GROUPS, check_list, run_conformance};

#[test]
fn sqlite_backend_passes_every_check() {
    let report = run_conformance(&SqliteBackend);
    assert!(report.all_passed(), "sqlite backend failed conformance:\n{report}");
    assert_eq!(report.outcomes.len(), check_list().len());
    for (group, count) in REFERENCE_GROUPS {
        assert_eq!(report.count_in(group), count, "reference group {group}");
    }
    assert!(report.outcomes.iter().all(|o| o.backend == "sqlite"));
    let native: Vec<String> = run_conformance(&NativeBackend).outcomes.iter().map(|o| o.id()).collect();
    let sqlite: Vec<String> = report.outcomes.iter().map(|o| o.id()).collect();
    assert_eq!(native, sqlite, "both backends must run exactly the same checks");
    println!("{report}");
}
