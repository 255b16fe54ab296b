//! One suite, many backends: the conformance checks and the deterministic
//! simulation are written once against the store traits and run against the
//! native stores, the wasm component, and any third-party component.

pub mod backend;
pub mod conformance;
pub mod sim;

pub use backend::{AsStoreError, Backend, NativeBackend, SuiteLedger, SuiteSink};
