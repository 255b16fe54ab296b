//! A durable PostgreSQL backend for the gossip persistence traits: the
//! done-ledger and the findings sink on PostgreSQL tables, certified by the
//! same conformance suite and simulation as the in-memory stores.
//!
//! ```no_run
//! use gossip_postgres::{PgOptions, PostgresStores};
//!
//! # fn main() -> Result<(), gossip_postgres::PgError> {
//! let url = "postgresql:///postgres?host=/tmp/gossip-pg&user=postgres";
//! let (ledger, sink) = PostgresStores::connect(url, &PgOptions::default())?;
//! # let _ = (ledger, sink);
//! # Ok(())
//! # }
//! ```
//!
//! - The schema is created by embedded, versioned migrations
//!   (`migrations/`, [`MIGRATIONS`]) when a store first connects.
//! - A done-ledger batch is one `INSERT … SELECT FROM UNNEST(arrays) ON
//!   CONFLICT DO UPDATE` whose update is the lattice join with the contract's
//!   tie-breaks: one statement, one round trip.
//! - A findings batch is one REPEATABLE READ transaction: one read of the
//!   durable rows it touches, the in-memory sink's checks in its order, one
//!   statement writing all three layers. Serialization failures and
//!   deadlocks are retried from scratch.
//! - Pending writes, releases and fault injection come from the shared store
//!   core (`gossip_persistence::store`), exactly as the in-memory stores get
//!   them. Reads see only durable rows.
//!
//! The client is the synchronous `postgres` crate and the pool r2d2: the
//! traits are synchronous, so an async client would only add a runtime to
//! block on. The design is in `docs/postgres.md`.
#![warn(missing_docs)]

mod control;
mod done_ledger;
mod encoding;
mod error;
mod findings;
mod migrations;
mod options;
mod pool;

use std::sync::Arc;

pub use done_ledger::{DoneLedgerPg, PgDoneLedger, PgDoneLedgerHandle};
pub use error::PgError;
pub use findings::{FindingsPayload, FindingsPg, PgFindingsHandle, PgFindingsSink};
pub use migrations::{MIGRATIONS, Migration};
pub use options::PgOptions;
pub use pool::PgPool;
/// The client crate, for callers that need their own connection (tests, operators).
pub use postgres;
use postgres::NoTls;

/// One schema of one PostgreSQL database, connected: a pool from which any
/// number of ledgers and sinks are made. Each store made from it is a
/// separate store (own operation ids, pending writes and armed faults) over
/// the same rows, as separate workers would be. Clones share the pool.
#[derive(Clone)]
pub struct PgDatabase {
    db: Arc<pool::PgPool>,
    schema: String,
    auto_complete: bool,
}

impl PgDatabase {
    /// Connects to `url` (a `postgresql://` URL or a `key=value` string),
    /// creates `options.schema` and its tables if missing, and opens the pool.
    /// Fails at once, with [`PgError::Connect`], if the server cannot be reached.
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, PgError> {
        let config = pool::config(url, options)?;
        let mut client = config.connect(NoTls).map_err(PgError::Connect)?;
        migrations::migrate(&mut client, &options.schema)?;
        Ok(Self {
            db: pool::PgPool::new(config, options),
            schema: options.schema.clone(),
            auto_complete: options.auto_complete,
        })
    }

    /// A new done-ledger over this schema.
    pub fn done_ledger(&self) -> PgDoneLedger {
        PgDoneLedger::new(Arc::clone(&self.db), self.auto_complete)
    }

    /// A new findings sink over this schema.
    pub fn findings_sink(&self) -> PgFindingsSink {
        PgFindingsSink::new(Arc::clone(&self.db), self.auto_complete)
    }

    /// The schema the stores' tables are in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Round trips to the server through this pool so far.
    pub fn round_trips(&self) -> u64 {
        self.db.round_trips()
    }

    /// Batches run again so far because concurrent writers made the server
    /// roll them back (serialization failures, deadlocks).
    pub fn retries(&self) -> u64 {
        self.db.retries()
    }

    /// Drops the schema and every row in it (for throwaway test schemas).
    /// Stores made from this database fail from then on.
    pub fn drop_schema(&self) -> Result<(), PgError> {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        self.db.with(|session| session.simple(&sql).map_err(PgError::from_driver))
    }
}

/// The entry point a host uses to serve both stores from PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub struct PostgresStores;

impl PostgresStores {
    /// A done-ledger and a findings sink over `options.schema` of the
    /// database at `url`, sharing one pool (see [`PgDatabase::connect`]).
    pub fn connect(url: &str, options: &PgOptions) -> Result<(PgDoneLedger, PgFindingsSink), PgError> {
        let database = PgDatabase::connect(url, options)?;
        Ok((database.done_ledger(), database.findings_sink()))
    }
}
