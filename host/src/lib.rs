//! A wasmtime host for `gossip:persistence` components.
//!
//! [`ComponentRuntime`] compiles a component once and pre-instantiates it;
//! [`ComponentDoneLedger`] and [`ComponentFindingsSink`] implement the same
//! traits as the native stores, each over its own instance, so one
//! conformance suite ([`ComponentBackend`]) certifies native and wasm alike.
//!
//! Guest memory is capped per instance ([`DEFAULT_MEMORY_LIMIT`], configurable
//! through [`RuntimeConfig`]). A guest trap never takes the host down: the
//! trapped call returns [`ComponentStoreError::Trap`] and the store serves on
//! through a fresh (empty) instance.

/// Host bindings of the `gossip:persistence/persistence` world (`../wit`).
pub mod bindings {
    wasmtime::component::bindgen!({
        world: "persistence",
        path: "../wit",
    });
}

mod backend;
pub mod cli;
mod control;
mod convert;
mod error;
mod ledger;
mod lower;
mod runtime;
mod shared;
pub mod sim_cli;
mod sink;
pub mod worker;

pub use backend::ComponentBackend;
pub use convert::done_record as to_wit_done_record;
pub use error::{BoundaryError, ComponentStoreError, FieldError};
pub use ledger::{ComponentDoneLedger, ComponentDoneLedgerHandle};
pub use runtime::{ComponentRuntime, DEFAULT_MEMORY_LIMIT, HostState, Instance, LoadError, RuntimeConfig};
pub use sink::{ComponentFindingsHandle, ComponentFindingsSink};

/// The component built from this workspace's guest (`gossip-persistence`).
pub const BUNDLED_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gossip_persistence.wasm"));

/// A copy of [`BUNDLED_COMPONENT`] on disk, for other hosts
/// (`<target>/components/gossip_persistence.wasm`).
pub const BUNDLED_COMPONENT_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_PERSISTENCE");

/// The deliberately broken test fixture (`host/fixtures/broken-guest`):
/// reads answer like an empty store, every write traps.
pub const BROKEN_FIXTURE_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_BROKEN_GUEST");
