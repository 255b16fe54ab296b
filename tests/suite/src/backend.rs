//! What a store backend must offer for the suite to certify it: both stores,
//! their inspection and control surfaces, and a way to read its errors as the
//! reference error type so results can be compared across backends. The
//! control surface may be a stub that always fails, for a backend without
//! the test machinery (see [`Backend::supports_testing`]).

pub use gossip_persistence::AsStoreError;
use gossip_persistence::{
    BackendError, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink,
    InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
};

/// A done-ledger the suite can drive end to end.
pub trait SuiteLedger:
    DoneLedger<Error = Self::E> + DoneLedgerInspect + StoreControl<ControlError = Self::E> + Clone + Send + Sync + 'static
{
    /// The store's one error type, for writes, reads and controls alike.
    type E: BackendError;
}

impl<T> SuiteLedger for T
where
    T: DoneLedger
        + DoneLedgerInspect
        + StoreControl<ControlError = <T as DoneLedger>::Error>
        + Clone
        + Send
        + Sync
        + 'static,
{
    type E = <T as DoneLedger>::Error;
}

/// A findings sink the suite can drive end to end.
pub trait SuiteSink:
    FindingsSink<Error = Self::E>
    + FindingsInspect
    + FindingsConformanceProbe<Error = Self::E>
    + StoreControl<ControlError = Self::E>
    + Clone
    + Send
    + Sync
    + 'static
{
    /// The store's one error type, for writes, reads and controls alike.
    type E: BackendError;
}

impl<T> SuiteSink for T
where
    T: FindingsSink
        + FindingsInspect
        + FindingsConformanceProbe<Error = <T as FindingsSink>::Error>
        + StoreControl<ControlError = <T as FindingsSink>::Error>
        + Clone
        + Send
        + Sync
        + 'static,
{
    type E = <T as FindingsSink>::Error;
}

/// A factory of fresh, empty stores (each check starts from nothing).
pub trait Backend: Send + Sync {
    /// The backend's done-ledger.
    type Ledger: SuiteLedger;
    /// The backend's findings sink.
    type Sink: SuiteSink;

    /// Short name for reports, e.g. "native" or "component".
    fn name(&self) -> &str;
    /// A fresh, empty ledger in auto-complete mode.
    fn new_ledger(&self) -> anyhow::Result<Self::Ledger>;
    /// A fresh, empty sink in auto-complete mode.
    fn new_sink(&self) -> anyhow::Result<Self::Sink>;

    /// Whether its stores implement the test machinery for real: completion
    /// modes, releases, pending ids and fault injection through
    /// [`StoreControl`]. A backend that only offers the worker-facing stores
    /// (say a component exporting `world store` without `testing`) returns
    /// false and may fail every control call; the conformance suite then
    /// skips the checks that need them (reported as skipped, never failed)
    /// and the simulation refuses to run (see [`crate::sim::require_testing`]).
    fn supports_testing(&self) -> bool {
        true
    }

    /// A fresh ledger small enough to fill in a check (tens of megabytes:
    /// e.g. a component under a tight memory cap), for the capacity check;
    /// `None` (the default) when the backend cannot bound a store, and the
    /// check is then reported as skipped.
    fn new_bounded_ledger(&self) -> Option<anyhow::Result<Self::Ledger>> {
        None
    }

    /// Why the suite should stop calling this backend, once it has stopped
    /// answering (e.g. a component call or write that ran past its
    /// deadline): every later check is then reported as failed and not run,
    /// so certifying a backend that hangs ends in bounded time. `None` (the
    /// default) while it answers.
    fn unresponsive(&self) -> Option<String> {
        None
    }
}

/// The reference stores of this workspace.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeBackend;

impl Backend for NativeBackend {
    type Ledger = InMemoryDoneLedger;
    type Sink = InMemoryFindingsSink;

    fn name(&self) -> &str {
        "native"
    }

    fn new_ledger(&self) -> anyhow::Result<InMemoryDoneLedger> {
        Ok(InMemoryDoneLedger::new())
    }

    fn new_sink(&self) -> anyhow::Result<InMemoryFindingsSink> {
        Ok(InMemoryFindingsSink::new())
    }
}
