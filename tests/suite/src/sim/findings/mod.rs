//! The findings sink's plug-in for the simulation engine (the upstream has
//! no findings simulation): seeded batches over a fixed cast of findings,
//! occurrences and observation slots, mixing new and replayed rows, orphans,
//! conflicting contents and invalid batches, under the same faults and
//! release orders as the done-ledger.

pub mod events;
pub mod harness;
pub mod invariants;
pub mod ops;
pub mod oracle;
pub mod rows;
pub mod universe;

pub use events::{
    FindingsCommit, FindingsOutcome, FindingsSimEvent, FindingsSimEventKind, FindingsStoreKind, Rejection,
};
pub use harness::{FindingsDraw, FindingsPlugin, FindingsSim, FindingsSimReport, UpsertDraw};
pub use invariants::{FindingsInvariantChecker, FindingsInvariantViolation};
pub use ops::{FindingsSimOp, FindingsStoreOp};
pub use oracle::{FindingsOracle, Prediction};
pub use rows::{Layer, Row, RowKey};
pub use universe::{BatchShape, BatchSpec, ConflictLayer, Pick, Sighting, SimBatch, Universe};
