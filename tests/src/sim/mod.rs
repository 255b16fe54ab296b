//! The deterministic simulation of both stores: one seeded PRNG drives
//! random operations and injected faults through the store and control
//! traits, and independent checkers and an oracle validate every step. It is
//! written once and runs on any [`Backend`](crate::Backend).

pub mod context;
pub mod done_ledger;
mod driver;
pub mod fast_hash;
pub mod findings;
pub mod pending;
pub mod report;
pub mod sweep;

pub use context::{FaultConfig, FaultLevel, PPM_MAX, SimContext, should_inject};
pub use report::{EventKind, EventLog, LogEntry, SimReport, missing_kinds};

/// A simulation that executes one operation at a time, for composition with
/// other simulations (one step of each, interleaved by a shared scheduler).
pub trait PersistenceSim {
    type Op;
    type Event;
    type Violation;

    fn step(&mut self, op: Self::Op) -> (Self::Event, Vec<Self::Violation>);
}
