//! The findings-sink simulation (the upstream has none): seeded batches over
//! a fixed cast of findings, occurrences and observation slots, mixing new
//! and replayed rows, orphans, conflicting contents and invalid batches,
//! under the same faults and release orders as the done-ledger simulation.

pub mod events;
pub mod harness;
pub mod invariants;
pub mod ops;
pub mod oracle;
pub mod rows;
pub mod universe;

pub use events::{FindingsSimEvent, FindingsSimEventKind, Rejection};
pub use harness::{FindingsSim, FindingsSimReport};
pub use invariants::{FindingsInvariantChecker, FindingsInvariantViolation};
pub use ops::FindingsSimOp;
pub use oracle::{FindingsOracle, Prediction};
pub use rows::{Layer, Row, RowKey};
pub use universe::{BatchShape, BatchSpec, ConflictLayer, Pick, Sighting, SimBatch, Universe};
