//! The `gossip:persistence` WIT world, exported by this crate when it is
//! built for `wasm32` with the `component` feature: `world store` (the
//! worker-facing stores), or with `testing` as well, `world testable-store`
//! (the stores plus the `testing` interface the conformance and simulation
//! suites drive). The only module that knows about wit-bindgen: the
//! resources below wrap the native in-memory stores, and `convert` turns WIT
//! values into domain types (validating everything, never panicking) and
//! back.

mod convert;
mod errors;
mod ledger;
mod sink;
#[cfg(feature = "testing")]
mod testing;

/// The generated bindings and the export glue: the crate's only unsafe code.
mod bindings {
    #![allow(unsafe_code)]

    // One world per build: a store built for workers must not even carry
    // the test machinery, since anything exported can be called.
    #[cfg(not(feature = "testing"))]
    wit_bindgen::generate!({
        world: "store",
        path: "../wit",
    });

    #[cfg(feature = "testing")]
    wit_bindgen::generate!({
        world: "testable-store",
        path: "../wit",
    });

    use super::Component;

    export!(Component);
}

use bindings::exports::gossip::persistence as wit;

struct Component;

impl wit::done_ledger::Guest for Component {
    type DoneLedger = ledger::Ledger;
    type DoneWrite = ledger::LedgerWrite;
}

impl wit::findings::Guest for Component {
    type FindingsSink = sink::Sink;
    type FindingsWrite = sink::SinkWrite;
}
