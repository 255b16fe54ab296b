//! The deterministic simulation of both stores: one seeded PRNG drives
//! random operations and injected faults through the store and control
//! traits, and independent checkers and an oracle validate every step. One
//! engine ([`engine::Sim`]) runs the schedules, the shared control ops and
//! the write pipeline; each store plugs in its own ops, oracle and checks
//! ([`engine::StorePlugin`]). It is written once and runs on any
//! [`Backend`](crate::Backend) that supports
//! testing: it drives delays, releases and injected faults, so every entry
//! point that takes a backend (`DoneLedgerSim::from_backend`,
//! `FindingsSim::from_backend`, `SimRunSpec::run_seed` and `sweep`) refuses a
//! backend whose [`supports_testing`](crate::Backend::supports_testing) is
//! false with [`TestingUnsupported`]; call [`require_testing`] to ask first.

pub mod context;
pub mod coverage;
pub mod done_ledger;
pub mod engine;
pub mod events;
pub mod fast_hash;
pub mod findings;
pub mod ops;
pub mod pending;
pub mod report;
pub mod swarm;
pub mod sweep;
mod tally;

pub use context::{FaultConfig, FaultLevel, FaultModel, PPM_MAX, SimContext, should_inject};
pub use coverage::Coverage;
pub use engine::{Sim, StorePlugin};
pub use events::{SimEvent, SimEventKind};
pub use ops::SimOp;
pub use report::{EventKind, EventLog, LogEntry, SimReport, missing_kinds};
pub use swarm::{Completion, ReleaseMix, SimOptions};
pub use tally::FaultDebt;

use crate::backend::Backend;

/// A simulation was asked to run on a backend without the test machinery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the simulation needs the testing interface (delays, releases, fault injection), which backend {backend:?} does \
     not export"
)]
pub struct TestingUnsupported {
    /// The backend's name.
    pub backend: String,
}

/// `Ok` when `backend` supports testing, so a simulation can run on it.
pub fn require_testing<B: Backend>(backend: &B) -> Result<(), TestingUnsupported> {
    if backend.supports_testing() { Ok(()) } else { Err(TestingUnsupported { backend: backend.name().to_owned() }) }
}

/// A simulation that executes one operation at a time, for composition with
/// other simulations (one step of each, interleaved by a shared scheduler).
pub trait PersistenceSim {
    /// What a step executes.
    type Op;
    /// What a step observes.
    type Event;
    /// What a step's checks report.
    type Violation;

    /// Executes `op` and checks its outcome.
    fn step(&mut self, op: Self::Op) -> (Self::Event, Vec<Self::Violation>);
}
