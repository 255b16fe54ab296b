//! One suite, many backends: the conformance checks and the deterministic
//! simulation are written once against the store traits and run against the
//! native stores, the wasm component, and any third-party component.
#![warn(missing_docs)]

pub mod backend;
pub mod conformance;
// Documented by the simulation rewrite in progress.
#[allow(missing_docs)]
pub mod sim;

pub use backend::{AsStoreError, Backend, NativeBackend, SuiteLedger, SuiteSink};
