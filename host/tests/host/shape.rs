//! What the bundled component is: a self-contained, capability-free store.

use crate::support::runtime;

#[test]
fn component_imports_nothing() {
    assert_eq!(runtime().imports(), Vec::<String>::new());
}

#[test]
fn component_exports_the_persistence_world() {
    let mut exports = runtime().exports();
    exports.sort();
    assert_eq!(
        exports,
        [
            "gossip:persistence/control@0.1.0",
            "gossip:persistence/done-ledger@0.1.0",
            "gossip:persistence/findings@0.1.0",
            "gossip:persistence/types@0.1.0",
        ]
    );
}

#[test]
fn the_published_copy_is_the_bundled_component() {
    let on_disk = std::fs::read(gossip_host::BUNDLED_COMPONENT_PATH).expect("the build script publishes the component");
    assert_eq!(on_disk, gossip_host::BUNDLED_COMPONENT);
}

#[test]
fn a_published_copy_loads_from_its_path() {
    let runtime = gossip_host::ComponentRuntime::from_file(gossip_host::BUNDLED_COMPONENT_PATH, Default::default())
        .expect("loads from disk");
    assert_eq!(runtime.name(), "gossip_persistence.wasm");
    assert!(runtime.imports().is_empty());
}
