//! A wasmtime host for `gossip:persistence` components.
//!
//! [`ComponentRuntime`] compiles a component once and pre-instantiates it;
//! [`ComponentDoneLedger`] and [`ComponentFindingsSink`] implement the same
//! traits as the native stores, each over its own instance, so one
//! conformance suite ([`ComponentBackend`]) certifies native and wasm alike.
//!
//! Guest memory is capped per instance ([`DEFAULT_MEMORY_LIMIT`], configurable
//! through [`RuntimeConfig`]); sizes are checked on the host before anything
//! is lowered, and a store that cannot hold a write says so
//! (`StoreError::CapacityExceeded`) with its state unchanged. A guest trap
//! never takes the host down and never makes a store forget silently: the
//! trapped call returns [`ComponentStoreError::Trap`], and later calls report
//! `StoreError::StateLost` until the store is reset, or, with
//! [`Recovery::Journal`], the acknowledged writes are rebuilt into a fresh
//! instance.

/// Host bindings of the `gossip:persistence/testable-store` world (`../wit`).
/// The host loads each exported interface on its own ([`Api`]), so a
/// component exporting only the worker-facing `store` world loads too.
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "testable-store",
        path: "../wit",
    });
}

mod control;
mod convert;
mod error;
mod ledger;
mod lower;
mod paging;
mod runtime;
mod shared;
mod sink;
pub mod worker;

pub use convert::done_record as to_wit_done_record;
pub use error::{BoundaryError, ComponentStoreError, FieldError};
pub use ledger::{ComponentDoneLedger, ComponentDoneLedgerHandle};
pub use runtime::{
    Api, ComponentRuntime, DEFAULT_MEMORY_LIMIT, HostState, Instance, LoadError, Recovery, RuntimeConfig,
};
pub use sink::{ComponentFindingsHandle, ComponentFindingsSink};

/// The component built from this workspace's guest (`gossip-persistence`).
pub const BUNDLED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gossip_persistence.wasm"));

/// A copy of [`BUNDLED_COMPONENT`] on disk, for other hosts
/// (`<target>/components/gossip_persistence.wasm`).
pub const BUNDLED_COMPONENT_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_PERSISTENCE");

/// The deliberately broken test fixture (`host/fixtures/broken-guest`):
/// reads answer like an empty store, every write traps.
pub const BROKEN_FIXTURE_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_BROKEN_GUEST");

/// The same store built without the testing interface: a component that
/// exports only the worker-facing `store` world, as a third-party backend
/// might (`check` skips the checks that need the test machinery).
pub const STORE_ONLY_FIXTURE_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_PERSISTENCE_STORE_ONLY");
