//! A SQLite peer of the native stores: the done-ledger and findings traits
//! over an in-memory database (`rusqlite`, bundled SQLite), certified by the
//! same conformance suite and simulation as the native stores and the wasm
//! component.
//!
//! Validation and in-batch deduplication reuse the contract library; what
//! is durable lives in SQL: the done-ledger's lattice join is an upsert,
//! findings and occurrences are insert-or-compare rows, and observations an
//! upsert that merges provenance. Each write is one transaction, rolled back
//! on any error. Pending writes, releases and fault injection come from the
//! shared store core (`gossip_persistence::store`), exactly as the native
//! stores get them.
//!
//! The crate depends on the contract crate alone, as a third-party backend
//! would; the suite's `Backend` adapter lives with its tests
//! (`tests/common/mod.rs`).
#![warn(missing_docs)]

mod control;
mod done_ledger;
mod encoding;
mod error;
mod findings;
mod handle;
mod schema;

pub use done_ledger::DoneLedgerSql;
pub use done_ledger::SqliteDoneLedger;
#[doc(hidden)]
pub use done_ledger::{LedgerDb, PlantedSqlBug};
pub use error::SqlitePersistenceError;
pub use findings::SqliteFindingsSink;
pub use findings::{FindingsPayload, FindingsSql};
pub use handle::{SqliteDoneLedgerHandle, SqliteFindingsHandle};
