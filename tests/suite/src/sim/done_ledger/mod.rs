//! The done-ledger's plug-in for the simulation engine, after the
//! reference's harness: seeded records, invariants I1–I10 and a sequencing
//! oracle.

pub mod events;
pub mod harness;
pub mod invariants;
pub mod ops;
pub mod oracle;

pub use events::{DoneLedgerOutcome, DoneLedgerSimEvent, DoneLedgerSimEventKind, DoneLedgerStoreKind};
pub use harness::{DoneLedgerDraw, DoneLedgerPlugin, DoneLedgerSim, DoneLedgerSimReport, RecordSpec};
pub use invariants::{DoneLedgerInvariantChecker, DoneLedgerInvariantViolation};
pub use ops::{DoneLedgerSimOp, DoneLedgerStoreOp};
pub use oracle::DoneLedgerOracle;
