//! The PostgreSQL stores' error type, and how a driver error is classified.

use gossip_persistence::{AsStoreError, PersistenceInputError, StoreError};
use postgres::error::SqlState;
use thiserror::Error;

/// Everything a PostgreSQL-backed store can report. Whatever the variant, a
/// write that failed left no row behind: each batch is one statement or one
/// transaction, and PostgreSQL rolls back both on any error.
#[derive(Debug, Error)]
pub enum PgError {
    /// The contract's own error, exactly as the in-memory store reports it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server could not be reached or refused the connection (nothing is
    /// listening, authentication, an unknown database).
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] postgres::Error),
    /// No pooled connection became free, or none could be opened, in time.
    #[error("no PostgreSQL connection available: {0}")]
    Pool(#[from] r2d2::Error),
    /// The connection died during the call (server stopped, backend
    /// terminated): the statement or transaction did not commit, or its
    /// commit was not acknowledged. Resubmitting the batch is safe: both
    /// stores' writes are idempotent (`docs/contract.md §9.7`).
    #[error("PostgreSQL connection lost: {0}")]
    ConnectionLost(#[source] postgres::Error),
    /// The server cancelled the statement (`statement_timeout`, or a cancel
    /// request); its transaction was rolled back.
    #[error("PostgreSQL statement timed out or was cancelled: {0}")]
    Timeout(#[source] postgres::Error),
    /// Concurrent writers kept colliding (serialization failures or
    /// deadlocks) for every allowed attempt; nothing of this batch committed.
    #[error("PostgreSQL write gave up after {attempts} attempts on serialization failures: {source}")]
    Contention {
        /// How many times the batch was tried.
        attempts: u32,
        /// The last failure.
        #[source]
        source: postgres::Error,
    },
    /// Any other error the server or the driver reported.
    #[error("PostgreSQL: {0}")]
    Database(#[source] postgres::Error),
    /// A stored row does not decode into a contract record.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table the row came from.
        table: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The schema holds migrations this build does not know: a newer version
    /// of this crate created it.
    #[error("schema {schema} is at migration {found}, newer than this build's {known}")]
    SchemaTooNew {
        /// The schema in question.
        schema: String,
        /// The highest migration applied there.
        found: i32,
        /// The highest migration this build knows.
        known: i32,
    },
    /// The options cannot be used (say, a schema name that is not a plain identifier).
    #[error("invalid PostgreSQL options: {0}")]
    InvalidOptions(String),
}

impl From<PersistenceInputError> for PgError {
    fn from(error: PersistenceInputError) -> Self {
        Self::Store(error.into())
    }
}

impl AsStoreError for PgError {
    fn as_store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

/// How a driver error is to be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Rolled back by the server because of a concurrent writer: run the
    /// batch again from the start.
    Retry,
    /// The connection is gone; the pooled connection must not be reused.
    Lost,
    /// Cancelled by `statement_timeout`.
    Timeout,
    /// Anything else.
    Other,
}

pub(crate) fn classify(error: &postgres::Error) -> Class {
    if error.is_closed() {
        return Class::Lost;
    }
    match error.code() {
        Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED => {
            Class::Retry
        }
        Some(code) if *code == SqlState::QUERY_CANCELED => Class::Timeout,
        // Terminated backends and server shutdown (class 57P), and every
        // connection exception (class 08).
        Some(code) if code.code().starts_with("57P") || code.code().starts_with("08") => Class::Lost,
        Some(_) => Class::Other,
        // No SQLSTATE: the error happened on our side of the socket (I/O,
        // a closed stream), so the connection cannot be trusted.
        None if std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>()) => Class::Lost,
        None => Class::Other,
    }
}

impl PgError {
    /// The typed error for a driver error met while running a statement.
    pub(crate) fn from_driver(error: postgres::Error) -> Self {
        match classify(&error) {
            Class::Lost => Self::ConnectionLost(error),
            Class::Timeout => Self::Timeout(error),
            Class::Retry | Class::Other => Self::Database(error),
        }
    }

    /// Whether the connection this error came from must be thrown away.
    pub(crate) fn breaks_connection(&self) -> bool {
        matches!(self, Self::ConnectionLost(_))
    }

    /// Whether the failed write is worth resubmitting unchanged: the
    /// failure was about the connection or the server's load, not the batch.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Pool(_) | Self::ConnectionLost(_) | Self::Timeout(_) | Self::Contention { .. })
    }
}
