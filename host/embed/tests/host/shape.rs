//! What the bundled component is: a self-contained, capability-free store.

use crate::support::runtime;

#[test]
fn component_imports_nothing() {
    assert_eq!(runtime().imports(), Vec::<String>::new());
}

#[test]
fn component_exports_the_testable_store_world() {
    let mut exports = runtime().exports();
    exports.sort();
    assert_eq!(
        exports,
        [
            "gossip:persistence/done-ledger@0.2.0",
            "gossip:persistence/findings@0.2.0",
            "gossip:persistence/hash-seed@0.2.0",
            "gossip:persistence/testing@0.2.0",
            "gossip:persistence/types@0.2.0",
        ]
    );
    assert!(runtime().has_testing());
}

#[test]
fn the_store_only_fixture_exports_the_worker_facing_world_and_no_testing() {
    let runtime =
        gossip_host::ComponentRuntime::from_file(gossip_artifacts::STORE_ONLY_PATH, Default::default()).expect("loads");
    let mut exports = runtime.exports();
    exports.sort();
    assert_eq!(
        exports,
        [
            "gossip:persistence/done-ledger@0.2.0",
            "gossip:persistence/findings@0.2.0",
            "gossip:persistence/hash-seed@0.2.0",
            "gossip:persistence/types@0.2.0",
        ]
    );
    assert!(runtime.imports().is_empty());
    assert!(!runtime.has_testing());
}

#[test]
fn the_published_copy_is_the_bundled_component() {
    let on_disk = std::fs::read(gossip_artifacts::STORE_PATH).expect("the build script publishes the component");
    assert_eq!(on_disk, gossip_artifacts::STORE);
}

#[test]
fn a_published_copy_loads_from_its_path() {
    let runtime = gossip_host::ComponentRuntime::from_file(gossip_artifacts::STORE_PATH, Default::default())
        .expect("loads from disk");
    assert_eq!(runtime.name(), "gossip_persistence.wasm");
    assert!(runtime.imports().is_empty());
}
