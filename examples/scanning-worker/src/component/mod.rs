//! The component face of the worker: the `scanning-worker` world's bindings
//! and the exported `worker` resource. Only built for `wasm32`.
#![allow(unsafe_code)] // the generated bindings are the only unsafe code

mod convert;
mod worker;

wit_bindgen::generate!({
    world: "gossip:scanning-worker/scanning-worker@0.1.0",
    // The store's package first: the worker's WIT refers to it.
    path: ["../../wit", "wit"],
    with: {
        // The store's records, receipts and errors are the store crate's
        // Rust types (its `wit-types` feature), so the store crate's
        // conversions apply to them as they are.
        "gossip:persistence/types@0.2.0": gossip_persistence::wit::types,
    },
    // The imported store interfaces (`gossip:persistence/store-user`) come
    // from another package: bind them here.
    generate_all,
});

struct Component;

impl exports::gossip::scanning_worker::scanner::Guest for Component {
    type Worker = worker::ScanningWorker;
}

export!(Component);
