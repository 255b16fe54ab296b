//! The one conformance suite, unchanged, against the PostgreSQL backend.

mod common;

use gossip_suite::NativeBackend;
use gossip_suite::conformance::{REFERENCE_GROUPS, check_list, run_conformance};

#[test]
fn postgres_backend_passes_every_check() {
    let Some(db) = common::test_db("conformance") else { return };
    let report = run_conformance(&db.backend());
    assert!(report.all_passed(), "postgres backend failed conformance:\n{report}");
    assert_eq!(report.outcomes.len(), check_list().len());
    for (group, count) in REFERENCE_GROUPS {
        assert_eq!(report.count_in(group), count, "reference group {group}");
    }
    assert!(report.outcomes.iter().all(|o| o.backend == "postgres"));
    let native: Vec<String> = run_conformance(&NativeBackend).outcomes.iter().map(|o| o.id()).collect();
    let postgres: Vec<String> = report.outcomes.iter().map(|o| o.id()).collect();
    assert_eq!(native, postgres, "both backends must run exactly the same checks");
    println!("{report}");
}
