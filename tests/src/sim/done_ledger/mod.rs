//! The done-ledger simulation, after the reference's: seeded ops, injected
//! faults, invariants I1–I10 and a sequencing oracle.

pub mod events;
pub mod harness;
pub mod invariants;
pub mod ops;
pub mod oracle;

pub use events::{DoneLedgerSimEvent, DoneLedgerSimEventKind};
pub use harness::{DoneLedgerSim, DoneLedgerSimReport, RecordSpec};
pub use invariants::{DoneLedgerInvariantChecker, DoneLedgerInvariantViolation};
pub use ops::DoneLedgerSimOp;
pub use oracle::DoneLedgerOracle;
