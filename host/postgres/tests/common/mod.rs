//! Test support for the PostgreSQL backend: a server to test against, a
//! database of its own for each test, and the stores as a suite `Backend`
//! (every store in a fresh schema of that database).
//!
//! The server is `GOSSIP_POSTGRES_URL` when set. Otherwise a throwaway
//! cluster is started with `scripts/postgres.sh start --watch <this
//! process>` (the same recipe a developer uses), which stops it and deletes
//! it once this test process exits. When no server can be had, tests print
//! why and skip, unless `GOSSIP_POSTGRES_REQUIRED=1`, when they fail.
#![allow(dead_code)]

pub mod faults;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use gossip_postgres::postgres::{self, NoTls};
use gossip_postgres::{PgDatabase, PgDoneLedger, PgFindingsSink, PgOptions};
use gossip_suite::Backend;

/// The server every test of this process uses, and its cluster directory
/// when the server is a throwaway cluster this machine runs.
struct Server {
    url: String,
    dir: Option<PathBuf>,
}

fn server() -> Result<&'static Server, &'static str> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER.get_or_init(find_or_start_server).as_ref().map_err(String::as_str)
}

/// The server every test of this process uses, or why there is none.
pub fn server_url() -> Result<&'static str, &'static str> {
    server().map(|s| s.url.as_str())
}

/// The directory of the server's cluster, when it is one `scripts/postgres.sh`
/// started (here, or by the caller, who then exports `GOSSIP_POSTGRES_DIR`):
/// only such a server may be crashed by a test.
pub fn cluster_dir() -> Option<&'static Path> {
    server().ok()?.dir.as_deref()
}

fn find_or_start_server() -> Result<Server, String> {
    if let Ok(url) = std::env::var("GOSSIP_POSTGRES_URL")
        && !url.is_empty()
    {
        let dir = std::env::var_os("GOSSIP_POSTGRES_DIR").filter(|d| !d.is_empty()).map(PathBuf::from);
        return Ok(Server { url, dir });
    }
    let out = Command::new("bash")
        .arg(script())
        .args(["start", "--watch", &std::process::id().to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    if !out.status.success() {
        return Err(format!(
            "GOSSIP_POSTGRES_URL is unset and {} could not start a cluster: {}",
            script().display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let exported = |name: &str| {
        stdout.lines().find_map(|line| {
            line.strip_prefix("export ")?.strip_prefix(name)?.strip_prefix("='")?.strip_suffix('\'').map(str::to_owned)
        })
    };
    let url = exported("GOSSIP_POSTGRES_URL").ok_or_else(|| format!("scripts/postgres.sh printed no URL: {stdout}"))?;
    Ok(Server { url, dir: exported("GOSSIP_POSTGRES_DIR").map(PathBuf::from) })
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

/// Crashes the server of the cluster in `dir` (an immediate shutdown: every
/// session cut, no checkpoint) and starts it again, which replays its WAL.
pub fn crash_and_restart(dir: &Path) {
    let out = Command::new("bash").arg(script()).arg("crash").arg(dir).output().expect("run scripts/postgres.sh");
    assert!(out.status.success(), "crash and restart failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A database of its own for one test, dropped (with every connection to
/// it) when the value is.
pub struct TestDb {
    pub url: &'static str,
    pub name: String,
    schemas: AtomicU64,
}

impl TestDb {
    /// The options that put stores in this database, in schema `schema`.
    pub fn options(&self, schema: &str) -> PgOptions {
        PgOptions {
            database: Some(self.name.clone()),
            application_name: format!("gossip-test-{}", self.name),
            ..PgOptions::with_schema(schema)
        }
    }

    /// A fresh schema of this database, connected.
    pub fn fresh(&self) -> PgDatabase {
        let n = self.schemas.fetch_add(1, Ordering::Relaxed);
        PgDatabase::connect(self.url, &self.options(&format!("s{n}"))).expect("a fresh schema connects")
    }

    /// A client on this database, for the tests' own SQL.
    pub fn client(&self) -> postgres::Client {
        let mut config: postgres::Config = self.url.parse().expect("the server URL parses");
        config.dbname(&self.name);
        config.connect(NoTls).expect("the test database accepts connections")
    }

    /// The suite backend over this database.
    pub fn backend(&self) -> PgBackend<'_> {
        PgBackend { db: self }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(self.url, NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// A database for the test `name`, or `None` (after saying why) when no
/// server can be had and none is required.
pub fn test_db(name: &str) -> Option<TestDb> {
    let url = match server_url() {
        Ok(url) => url,
        Err(why) => {
            assert!(std::env::var("GOSSIP_POSTGRES_REQUIRED").is_err(), "PostgreSQL is required: {why}");
            println!("skipping {name}: no PostgreSQL server ({why})");
            eprintln!("skipping {name}: no PostgreSQL server ({why})");
            return None;
        }
    };
    let name = format!("gossip_{}_{}", std::process::id(), name);
    let mut admin = postgres::Client::connect(url, NoTls).unwrap_or_else(|e| panic!("{url}: {e}"));
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).expect("drop a stale database");
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create the test database");
    Some(TestDb { url, name, schemas: AtomicU64::new(0) })
}

/// The PostgreSQL stores as a suite backend: every store it makes is alone
/// in a fresh schema, so each check and each simulation starts empty.
#[derive(Clone, Copy)]
pub struct PgBackend<'a> {
    db: &'a TestDb,
}

impl Backend for PgBackend<'_> {
    type Ledger = PgDoneLedger;
    type Sink = PgFindingsSink;

    fn name(&self) -> &str {
        "postgres"
    }

    fn new_ledger(&self) -> anyhow::Result<PgDoneLedger> {
        Ok(self.db.fresh().done_ledger())
    }

    fn new_sink(&self) -> anyhow::Result<PgFindingsSink> {
        Ok(self.db.fresh().findings_sink())
    }
}
