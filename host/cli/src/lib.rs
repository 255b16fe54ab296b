//! The `gossip-host` command line: `check` certifies a `gossip:persistence`
//! component with the conformance suite and a short simulation; `sim` runs
//! seeds of the deterministic simulation against a component or the native
//! stores. The one crate that joins the wasmtime embedding (`gossip-host`)
//! and the suite (`gossip-suite`): neither depends on the other.
#![warn(missing_docs)]

mod backend;
pub mod cli;
pub mod junit;
pub mod postgres;
pub mod sim_cli;

pub use backend::{BOUNDED_MEMORY, ComponentBackend};
