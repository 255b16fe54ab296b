//! The connection pool: r2d2 over `postgres` clients, each pooled
//! connection carrying its own prepared statements, and a count of the
//! round trips every store call makes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};

use crate::error::PgError;
use crate::options::PgOptions;

/// One pooled connection and the statements prepared on it (a statement
/// belongs to the server session that prepared it).
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    broken: bool,
}

/// Opens connections with the session settings of one set of stores.
pub(crate) struct Manager {
    config: Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        commit_durably(&mut client)?;
        Ok(PgConn { client, statements: HashMap::new(), broken: false })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// A write's receipt is handed out once its COMMIT returns, so the commit
/// must not return before its WAL is flushed. A server (or a role, or a
/// database) may set `synchronous_commit = off` for every session, and then
/// a crash of the server loses commits it has already reported: raise
/// exactly that setting to `local` (flushed here, whatever standbys do).
/// Every other setting (`local`, `on`, `remote_write`, `remote_apply`)
/// already waits for the local flush and is kept as the operator chose it.
/// One round trip: the server compares and sets.
fn commit_durably(client: &mut Client) -> Result<(), postgres::Error> {
    client.batch_execute(
        "SELECT set_config('synchronous_commit', 'local', false) WHERE current_setting('synchronous_commit') = 'off'",
    )
}

/// The connection settings every session of one set of stores gets: the
/// schema as its search path, the timeouts, the application name.
pub(crate) fn config(url: &str, options: &PgOptions) -> Result<Config, PgError> {
    options.validate()?;
    let mut config: Config = url.parse().map_err(PgError::Connect)?;
    if let Some(database) = &options.database {
        config.dbname(database);
    }
    let mut settings = format!("-c search_path={}", options.schema);
    if let Some(timeout) = options.statement_timeout {
        settings.push_str(&format!(" -c statement_timeout={}", timeout.as_millis().max(1)));
    }
    config.options(&settings);
    config.application_name(&options.application_name);
    config.connect_timeout(options.connect_timeout);
    Ok(config)
}

/// A pool, and the round trips made through it. Opaque: named only as the
/// stores' durable state (`StoreBackend::Durable`).
pub struct PgPool {
    pool: r2d2::Pool<Manager>,
    round_trips: AtomicU64,
    retries: AtomicU64,
    max_attempts: u32,
}

impl PgPool {
    /// A pool that opens connections on demand: the caller has already
    /// connected once (the migrations), so an unreachable server was
    /// reported there, at once, rather than after r2d2's retries.
    pub(crate) fn new(config: Config, options: &PgOptions) -> Arc<Self> {
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(0))
            // A checkout costs no round trip; a connection found dead when
            // used is dropped instead of returned (`PgConn::broken`).
            .test_on_check_out(false)
            .connection_timeout(options.connect_timeout.max(Duration::from_millis(1)))
            .build_unchecked(Manager { config });
        Arc::new(Self {
            pool,
            round_trips: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            max_attempts: options.max_attempts,
        })
    }

    /// Round trips to the server so far (each statement, prepare, BEGIN and COMMIT is one).
    pub(crate) fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Batches run again because a concurrent writer made the server roll them back.
    pub(crate) fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    fn trip(&self) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f` on a pooled connection. A connection that failed in a way
    /// that leaves it unusable is marked broken, so the pool drops it.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Session<'_>) -> Result<T, PgError>) -> Result<T, PgError> {
        let mut conn = self.pool.get()?;
        let mut session = Session { conn: &mut conn, db: self };
        let result = f(&mut session);
        if result.as_ref().is_err_and(PgError::breaks_connection) {
            conn.broken = true;
        }
        result
    }

    /// Runs `f` until it succeeds, fails for a reason other than a
    /// concurrent writer, or has been tried `max_attempts` times. `f` must
    /// be a whole statement or transaction, so a retry starts from scratch.
    pub(crate) fn with_retry<T>(
        &self,
        mut f: impl FnMut(&mut Session<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, PgError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.with(|session| Ok(f(session)))?;
            match outcome {
                Ok(value) => return Ok(value),
                Err(error) if crate::error::classify(&error) == crate::error::Class::Retry => {
                    if attempt >= self.max_attempts {
                        return Err(PgError::Contention { attempts: attempt, source: error });
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    backoff(attempt);
                }
                // `Session` has already marked a dead connection broken.
                Err(error) => return Err(PgError::from_driver(error)),
            }
        }
    }
}

/// Spreads retries out so colliding writers do not collide again in step:
/// a growing delay with a per-thread offset.
fn backoff(attempt: u32) {
    let jitter = {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::thread::current().id()) % 500
    };
    let micros = 200 * u64::from(attempt.min(20)) + jitter;
    std::thread::sleep(Duration::from_micros(micros));
}

/// A checked-out connection, counting its round trips.
pub(crate) struct Session<'a> {
    conn: &'a mut PgConn,
    db: &'a PgPool,
}

impl Session<'_> {
    /// The statement for `sql`, prepared on this connection the first time.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.conn.statements.get(sql) {
            return Ok(statement.clone());
        }
        self.db.trip();
        let statement = self.conn.client.prepare(sql)?;
        self.conn.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a prepared statement and returns its rows: one round trip.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.db.trip();
        let result = self.conn.client.query(&statement, params);
        self.mark(result)
    }

    /// Runs a prepared statement and returns the rows it changed: one round trip.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.db.trip();
        let result = self.conn.client.execute(&statement, params);
        self.mark(result)
    }

    /// Runs SQL without parameters (transaction control): one round trip.
    pub(crate) fn simple(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.db.trip();
        let result = self.conn.client.batch_execute(sql);
        self.mark(result)
    }

    /// Runs `f` inside `begin` … `COMMIT`. A driver error, or a refusal
    /// (`Ok(Err(_))`: the batch broke a contract rule), rolls back.
    pub(crate) fn transaction<T, E>(
        &mut self,
        begin: &str,
        f: impl FnOnce(&mut Self) -> Result<Result<T, E>, postgres::Error>,
    ) -> Result<Result<T, E>, postgres::Error> {
        self.simple(begin)?;
        match f(self) {
            Ok(Ok(value)) => {
                self.simple("COMMIT")?;
                Ok(Ok(value))
            }
            Ok(Err(refusal)) => {
                self.simple("ROLLBACK")?;
                Ok(Err(refusal))
            }
            Err(error) => {
                // On a live connection the aborted transaction must end
                // before the connection is reused; on a dead one there is
                // nothing to end.
                if !self.conn.client.is_closed() && self.simple("ROLLBACK").is_err() {
                    self.conn.broken = true;
                }
                Err(error)
            }
        }
    }

    fn mark<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T, postgres::Error> {
        if let Err(error) = &result
            && crate::error::classify(error) == crate::error::Class::Lost
        {
            self.conn.broken = true;
        }
        result
    }
}
