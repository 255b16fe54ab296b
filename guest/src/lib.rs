//! Persistence for gossip workers: the contract types, the `DoneLedger` and
//! `FindingsSink` traits, and in-memory stores with the reference semantics.
//!
//! The same crate builds natively and, for `wasm32` with the `component`
//! feature, as a WebAssembly component exporting the `gossip:persistence`
//! WIT world `store`; with `testing` as well, `testable-store`, which adds
//! the test machinery (completion modes, releases, fault injection).
// The component build's generated bindings need unsafe code, so there the
// crate denies it and the one binding module opts out.
#![cfg_attr(not(all(target_arch = "wasm32", feature = "component")), forbid(unsafe_code))]
#![cfg_attr(all(target_arch = "wasm32", feature = "component"), deny(unsafe_code))]

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod component;

pub mod contract;
pub mod control;
pub mod done_ledger;
pub mod findings;
mod hash;
pub mod identity;
pub mod input_error;
pub mod location;
pub mod store;
pub mod sync;
pub mod write_context;

pub use contract::{
    AsStoreError, BackendError, CommitHandle, CommitReceipt, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe,
    FindingsInspect, FindingsSink, ReadyCommitHandle,
};
pub use control::{CompletionOrder, PendingWriteId, StoreControl, TrackedHandle};
pub use input_error::{
    MAX_PAGE_SIZE, PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE, check_batch_size, check_read_size,
};
pub use location::{ConnectorInputError, Location};
pub use store::{
    InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle, InMemoryFindingsSink, StoreError, StoreKind,
};
pub use write_context::WriteContext;
