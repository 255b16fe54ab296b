//! Persistence for gossip workers: the contract types, the `DoneLedger` and
//! `FindingsSink` traits, and in-memory stores with the reference semantics.
//!
//! The same crate builds natively and, for `wasm32` with the `component`
//! feature, as a WebAssembly component exporting the `gossip:persistence`
//! WIT world `store`; with `testing` as well, `testable-store`, which adds
//! the test machinery (completion modes, releases, fault injection).
//! For `wasm32` with `wit-types` (which `component` implies), `wit` holds
//! the WIT `types` interface's Rust types and the conversions to them, for
//! a worker component linking this crate to reuse.
// Generated bindings need unsafe code, so in a wasm build with them the
// crate denies it and the binding modules opt out.
#![cfg_attr(not(all(target_arch = "wasm32", feature = "wit-types")), forbid(unsafe_code))]
#![cfg_attr(all(target_arch = "wasm32", feature = "wit-types"), deny(unsafe_code))]
#![warn(missing_docs)]

#[cfg(all(target_arch = "wasm32", feature = "wit-types"))]
mod component;
#[cfg(all(target_arch = "wasm32", feature = "wit-types"))]
pub use component::wit;

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
pub use hash::set_hash_seed;
pub use input_error::{
    FieldError, MAX_PAGE_SIZE, PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE, check_batch_size, check_read_size,
};
pub use location::{ConnectorInputError, Location};
pub use store::{
    InMemoryDoneLedger, InMemoryDoneLedgerHandle, InMemoryFindingsHandle, InMemoryFindingsSink, StoreError, StoreKind,
};
pub use write_context::WriteContext;
