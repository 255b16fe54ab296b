//! Empty: it makes the `[build-dependencies]` part of the build, so their
//! features unify with those of wasmtime's build scripts and proc-macros.
fn main() {}
