//! The SQLite stores as a suite backend: every store is a fresh in-memory
//! database. (The crate itself depends only on the contract crate, so the
//! adapter to `gossip_suite::Backend` lives here, with the tests.)

use gossip_sqlite::{SqliteDoneLedger, SqliteFindingsSink};
use gossip_suite::Backend;

#[derive(Clone, Copy, Debug, Default)]
pub struct SqliteBackend;

impl Backend for SqliteBackend {
    type Ledger = SqliteDoneLedger;
    type Sink = SqliteFindingsSink;

    fn name(&self) -> &str {
        "sqlite"
    }

    fn new_ledger(&self) -> anyhow::Result<SqliteDoneLedger> {
        Ok(SqliteDoneLedger::open()?)
    }

    fn new_sink(&self) -> anyhow::Result<SqliteFindingsSink> {
        Ok(SqliteFindingsSink::open()?)
    }
}
