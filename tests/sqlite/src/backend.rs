//! SQLite as a suite backend: every store is a fresh in-memory database.

use gossip_suite::Backend;

use crate::done_ledger::SqliteDoneLedger;
use crate::findings::SqliteFindingsSink;

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
