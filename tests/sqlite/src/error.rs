//! The SQLite stores' error type.

use gossip_persistence::{AsStoreError, PersistenceInputError, StoreError};
use thiserror::Error;

/// Everything a SQLite-backed store can report.
#[derive(Debug, Error)]
pub enum SqlitePersistenceError {
    /// The contract's own error, exactly as the native store reports it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// SQLite itself failed, or a stored row no longer decodes; the batch
    /// being applied (if any) was rolled back.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<PersistenceInputError> for SqlitePersistenceError {
    fn from(error: PersistenceInputError) -> Self {
        Self::Store(error.into())
    }
}

impl AsStoreError for SqlitePersistenceError {
    fn as_store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(error) => Some(error),
            Self::Sqlite(_) => None,
        }
    }
}
