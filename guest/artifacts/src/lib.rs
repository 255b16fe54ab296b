//! Every wasm component this workspace builds, for hosts, tests and benches.
//!
//! The build script compiles the guests for `wasm32-unknown-unknown` in
//! nested cargo builds and encodes them as components; this crate only says
//! where they are (and embeds the two a host runs without a file). Keeping
//! the build here, and not in the embedding library, lets `gossip-host`
//! stay a plain library: it runs whatever component it is given.
#![warn(missing_docs)]

/// The in-memory store component (`guest/stores` with `component,testing`):
/// exports `world in-memory-store` (the stores, `testing` and `hash-seed`).
pub const STORE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/gossip_persistence.wasm"));

/// A copy of [`STORE`] on disk (`<target>/components/gossip_persistence.wasm`).
pub const STORE_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_PERSISTENCE");

/// The same store built without the testing interface: a component that
/// exports only the worker-facing `store` world, as a third-party backend
/// might (`check` skips the checks that need the test machinery).
pub const STORE_ONLY_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_PERSISTENCE_STORE_ONLY");

/// The deliberately broken test fixture (`guest/fixtures/broken-guest`):
/// reads answer like an empty store, every write traps.
pub const BROKEN_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_BROKEN_GUEST");

/// The example scanning worker alone, importing the store's interfaces
/// (`<target>/components/gossip_scanning_worker.wasm`).
pub const WORKER_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_SCANNING_WORKER");

/// The scanning worker with the store plugged in: one component that imports
/// nothing.
pub const PLUGGED_WORKER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scanning_worker_with_store.wasm"));

/// A copy of [`PLUGGED_WORKER`] on disk
/// (`<target>/components/scanning_worker_with_store.wasm`).
pub const PLUGGED_WORKER_PATH: &str = env!("GOSSIP_COMPONENT_SCANNING_WORKER_WITH_STORE");

/// The hostile fixtures (`guest/fixtures/hostile-guest`), one component per
/// misbehaviour: `(mode, path)`. See that crate's docs for what each does.
pub const HOSTILE: [(&str, &str); 8] = [
    ("spin-read", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_SPIN_READ")),
    ("spin-submit", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_SPIN_SUBMIT")),
    ("never-done", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_NEVER_DONE")),
    ("grow-memory", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_GROW_MEMORY")),
    ("huge-lists", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_HUGE_LISTS")),
    ("short-lists", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_SHORT_LISTS")),
    ("lying", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_LYING")),
    ("trap-drop", env!("GOSSIP_COMPONENT_GOSSIP_HOSTILE_TRAP_DROP")),
];

/// The hostile fixture with misbehaviour `mode`, if there is one.
pub fn hostile(mode: &str) -> Option<&'static str> {
    HOSTILE.iter().find(|(m, _)| *m == mode).map(|(_, path)| *path)
}
