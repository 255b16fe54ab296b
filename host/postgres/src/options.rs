//! What a caller chooses when connecting: where the tables live, pool size,
//! timeouts, retries.

use std::time::Duration;

use crate::error::PgError;

/// How to connect and where the stores' tables live. `Default` gives the
/// `gossip` schema of the URL's database, four pooled connections, a
/// five-second connect timeout and no statement timeout.
#[derive(Clone, Debug)]
pub struct PgOptions {
    /// The schema holding the tables; created (with its tables, by the
    /// embedded migrations) if missing. Stores of different schemas never
    /// see each other's rows, so each test can have its own. A plain
    /// identifier: ASCII letters, digits and `_`, not starting with a digit,
    /// at most 63 bytes.
    pub schema: String,
    /// Connect to this database instead of the URL's.
    pub database: Option<String>,
    /// Connections in the pool shared by one ledger and one sink (and their
    /// clones). A write holds one for its statement or transaction; reads
    /// take their own.
    pub pool_size: u32,
    /// How long opening a connection, or waiting for a pooled one, may take.
    pub connect_timeout: Duration,
    /// The server-side `statement_timeout` of every pooled connection
    /// (`None`: the server's default).
    pub statement_timeout: Option<Duration>,
    /// How often a batch is tried when concurrent writers make PostgreSQL
    /// roll it back (serialization failures and deadlocks, SQLSTATE 40001 and
    /// 40P01) before the write fails with `PgError::Contention`.
    pub max_attempts: u32,
    /// Whether writes apply at submission (`true`, what a worker wants) or
    /// wait for a release (the test machinery, `docs/contract.md §9.4`).
    pub auto_complete: bool,
    /// Reported to the server as `application_name`, so an operator (or a
    /// test) can find these connections in `pg_stat_activity`.
    pub application_name: String,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            schema: "gossip".to_owned(),
            database: None,
            pool_size: 4,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: None,
            max_attempts: 32,
            auto_complete: true,
            application_name: "gossip-postgres".to_owned(),
        }
    }
}

impl PgOptions {
    /// The default options with another schema.
    pub fn with_schema(schema: impl Into<String>) -> Self {
        Self { schema: schema.into(), ..Self::default() }
    }

    pub(crate) fn validate(&self) -> Result<(), PgError> {
        let plain = |name: &str| {
            !name.is_empty()
                && name.len() <= 63
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        };
        if !plain(&self.schema) {
            return Err(PgError::InvalidOptions(format!("schema {:?} is not a plain identifier", self.schema)));
        }
        if !self.application_name.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(PgError::InvalidOptions("application_name must be printable ASCII".to_owned()));
        }
        if self.pool_size == 0 || self.max_attempts == 0 {
            return Err(PgError::InvalidOptions("pool_size and max_attempts must be at least 1".to_owned()));
        }
        Ok(())
    }
}
