//! A live PostgreSQL database as a suite backend: `check --postgres URL`
//! certifies it (conformance suite and a short simulation), `sim --postgres
//! URL` simulates it.
//!
//! Every store the suite asks for is alone in a schema of its own
//! (`gossip_cli_<pid>_<time>_<n>`), so each check and each seed starts
//! empty and nothing the certification writes touches the database's other
//! schemas; the schemas are dropped when the backend is. The URL is never
//! printed (it may hold a password): replay lines say `--postgres <URL>`.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use gossip_postgres::postgres::{Client, NoTls};
use gossip_postgres::{PgDatabase, PgDoneLedger, PgError, PgFindingsSink, PgOptions};
use gossip_suite::conformance::{ConformanceReport, printable};
use gossip_suite::{Backend, NativeBackend};

use crate::cli::{CheckArgs, certify, finish};

/// How a replay line names the database, without printing the URL.
pub const REPLAY: &str = " --postgres <URL>";

/// The PostgreSQL stores of one database, each in a fresh schema.
pub struct PostgresBackend {
    url: String,
    prefix: String,
    next: AtomicU64,
    schemas: Mutex<Vec<String>>,
}

impl PostgresBackend {
    /// A backend over the database at `url`; fails at once if the server
    /// cannot be reached.
    pub fn connect(url: &str) -> Result<Self, PgError> {
        Client::connect(url, NoTls).map_err(PgError::Connect)?;
        let started = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        Ok(Self {
            url: url.to_owned(),
            prefix: format!("gossip_cli_{}_{started}", std::process::id()),
            next: AtomicU64::new(0),
            schemas: Mutex::new(Vec::new()),
        })
    }

    fn fresh(&self) -> Result<PgDatabase, PgError> {
        let schema = format!("{}_{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed));
        // Recorded before it exists, so a half-made schema is dropped too.
        self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(schema.clone());
        let options = PgOptions { application_name: "gossip-host".to_owned(), ..PgOptions::with_schema(schema) };
        PgDatabase::connect(&self.url, &options)
    }

    /// Drops every schema this backend made; the stores made in them fail
    /// from then on.
    pub fn drop_schemas(&self) -> anyhow::Result<()> {
        let schemas = std::mem::take(&mut *self.schemas.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if schemas.is_empty() {
            return Ok(());
        }
        let mut client = Client::connect(&self.url, NoTls)?;
        for chunk in schemas.chunks(100) {
            let names: Vec<String> = chunk.iter().map(|s| format!("\"{s}\"")).collect();
            client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", names.join(", ")))?;
        }
        Ok(())
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        if let Err(error) = self.drop_schemas() {
            eprintln!("warning: could not drop the schemas this run made ({}_*): {error}", self.prefix);
        }
    }
}

impl Backend for PostgresBackend {
    type Ledger = PgDoneLedger;
    type Sink = PgFindingsSink;

    fn name(&self) -> &str {
        "postgres"
    }

    fn new_ledger(&self) -> anyhow::Result<PgDoneLedger> {
        Ok(self.fresh()?.done_ledger())
    }

    fn new_sink(&self) -> anyhow::Result<PgFindingsSink> {
        Ok(self.fresh()?.findings_sink())
    }
}

fn connect(url: &str) -> Result<PostgresBackend, ExitCode> {
    PostgresBackend::connect(url).map_err(|e| {
        eprintln!("error: cannot reach the PostgreSQL server: {}", printable(&e.to_string()));
        ExitCode::from(2)
    })
}

/// `check --postgres URL`: exit 0 all passed, 1 a check failed, 2 the
/// server could not be reached.
pub(crate) fn check(args: &CheckArgs, url: &str) -> ExitCode {
    let backend = match connect(url) {
        Ok(backend) => backend,
        Err(code) => return code,
    };
    let mut report = ConformanceReport::default();
    if args.native {
        certify(args, &NativeBackend, " --native", &mut report);
    }
    certify(args, &backend, REPLAY, &mut report);
    drop(backend);
    finish(args, "postgres", &report)
}

/// `sim --postgres URL`.
pub(crate) fn sim(args: &crate::sim_cli::SimArgs, url: &str) -> ExitCode {
    match connect(url) {
        Ok(backend) => crate::sim_cli::sweep(args, &backend),
        Err(code) => code,
    }
}
