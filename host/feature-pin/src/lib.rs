//! Nothing to call: this crate exists for its `Cargo.toml`, which pins the
//! features of wasmtime's dependencies to the workspace's (see there).
#![no_std]
