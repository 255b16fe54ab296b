//! `gossip-host check --postgres URL` and `sim --postgres URL`, run as
//! processes against a live PostgreSQL server: the one of
//! `GOSSIP_POSTGRES_URL`, else a throwaway cluster (the PostgreSQL crate's
//! test support, shared). Without a server the tests print why and pass as
//! skipped, unless `GOSSIP_POSTGRES_REQUIRED=1`.

#[path = "../../postgres/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

fn gossip_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gossip-host")).args(args).output().expect("gossip-host runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `url` pointed at database `name`: a later `dbname` overrides the URL's.
fn with_database(url: &str, name: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}dbname={name}")
    } else {
        format!("{url} dbname={name}")
    }
}

/// The schemas a `gossip-host` run left behind in the test database.
fn leftover_schemas(db: &common::TestDb) -> i64 {
    let row = db
        .client()
        .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'gossip_cli_%'", &[])
        .expect("the catalog reads");
    row.get(0)
}

#[test]
fn check_postgres_certifies_a_live_database_and_cleans_up() {
    let Some(db) = common::test_db("cli_check") else { return };
    let url = with_database(db.url, &db.name);
    let out = gossip_host(&["check", "--postgres", &url, "--json", "--sim-seeds", "2", "--sim-ops", "100"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(!stdout.contains(&url) && !text(&out.stderr).contains(&url), "the URL was printed");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!((report["component"].as_str(), report["passed"].as_bool()), (Some("postgres"), Some(true)));
    let checks = report["checks"].as_array().expect("checks");
    assert!(checks.len() > 40, "the whole suite ran: {} checks", checks.len());
    assert!(checks.iter().all(|c| c["backend"] == "postgres"), "{checks:?}");
    let passed = checks.iter().filter(|c| c["status"] == "passed").count();
    assert!(passed > 40, "only {passed} checks passed");
    for store in ["done-ledger", "findings"] {
        let row = checks.iter().find(|c| c["group"] == "simulation" && c["name"] == store).expect("a simulation row");
        assert_eq!(row["status"], "passed", "{row}");
    }
    assert_eq!(leftover_schemas(&db), 0, "the run left its schemas behind");
}

#[test]
fn sim_postgres_simulates_a_live_database() {
    let Some(db) = common::test_db("cli_sim") else { return };
    let url = with_database(db.url, &db.name);
    let out = gossip_host(&["sim", "--postgres", &url, "--store", "findings", "--seeds", "2", "--ops", "100"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{}", text(&out.stderr));
    assert!(stdout.contains("sim findings") && stdout.contains("on postgres: 2 seeds"), "{stdout}");
    assert!(stdout.contains("violations: 0 (0 failing seeds)"), "{stdout}");
    assert_eq!(leftover_schemas(&db), 0, "the run left its schemas behind");
}

#[test]
fn an_unreachable_server_exits_2_without_printing_the_url() {
    // A socket directory that does not exist: refused at once, no network.
    let url = "postgresql:///postgres?host=/nonexistent/gossip-no-server&user=nobody&password=hunter2";
    for command in [&["check", "--postgres", url][..], &["sim", "--postgres", url, "--seeds", "1"][..]] {
        let out = gossip_host(command);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot reach the PostgreSQL server"), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("hunter2"), "the password was printed: {}", text(&out.stderr));
    }
}
