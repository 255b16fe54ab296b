//! An example scanning worker that keeps its state in a `gossip:persistence`
//! store it imports: for each object version it records the findings
//! (finding → occurrence → observation), then marks the version done, and it
//! skips versions the ledger already has as done.
//!
//! The planning ([`plan`]) is plain Rust over `gossip-persistence`'s types,
//! so ids and validation are the store crate's own. Built for `wasm32` the
//! crate is a component exporting `gossip:scanning-worker/scanner` and
//! importing the store's interfaces (`wit/worker.wit`); `gossip-host`'s build
//! script plugs the in-memory store component into it.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]
#![cfg_attr(target_arch = "wasm32", deny(unsafe_code))]

#[cfg(target_arch = "wasm32")]
mod component;
pub mod plan;
