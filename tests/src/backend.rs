//! What a store backend must offer for the suite to certify it: both stores,
//! their inspection and control surfaces, and a way to read its errors as the
//! reference error type so results can be compared across backends.

use gossip_persistence::{
    DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, FindingsSink, InMemoryDoneLedger,
    InMemoryFindingsSink, InMemoryPersistenceError, StoreControl,
};

/// Reads a backend error as the reference store error, when it is one.
/// `None` means an infrastructure failure the reference has no variant for
/// (a trapped component, a lost connection), which no check ever expects.
pub trait AsStoreError {
    fn as_store_error(&self) -> Option<&InMemoryPersistenceError>;
}

impl AsStoreError for InMemoryPersistenceError {
    fn as_store_error(&self) -> Option<&InMemoryPersistenceError> {
        Some(self)
    }
}

/// A done-ledger the suite can drive end to end.
pub trait SuiteLedger:
    DoneLedger<Error = Self::E> + DoneLedgerInspect + StoreControl<ControlError = Self::E> + Clone + Send + Sync + 'static
{
    type E: AsStoreError + std::error::Error + Send + Sync + 'static;
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
    <T as DoneLedger>::Error: AsStoreError,
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
    type E: AsStoreError + std::error::Error + Send + Sync + 'static;
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
    <T as FindingsSink>::Error: AsStoreError,
{
    type E = <T as FindingsSink>::Error;
}

/// A factory of fresh, empty stores (each check starts from nothing).
pub trait Backend: Send + Sync {
    type Ledger: SuiteLedger;
    type Sink: SuiteSink;

    /// Short name for reports, e.g. "native" or "component".
    fn name(&self) -> &str;
    fn new_ledger(&self) -> anyhow::Result<Self::Ledger>;
    fn new_sink(&self) -> anyhow::Result<Self::Sink>;
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
