//! The `gossip:persistence` WIT world, exported by this crate when it is
//! built for `wasm32`. The only module that knows about wit-bindgen: the
//! resources below wrap the native in-memory stores, and `convert` turns
//! WIT values into domain types (validating everything, never panicking)
//! and back.
#![allow(unsafe_code)] // the generated bindings are the only unsafe code

mod control;
mod convert;
mod errors;
mod ledger;
mod sink;

wit_bindgen::generate!({
    world: "persistence",
    path: "../wit",
});

use exports::gossip::persistence::{control as wit_control, done_ledger as wit_ledger, findings as wit_findings};

struct Component;

impl wit_control::Guest for Component {
    type Controller = control::Controller;
}

impl wit_ledger::Guest for Component {
    type DoneLedger = ledger::Ledger;
    type DoneWrite = ledger::LedgerWrite;
}

impl wit_findings::Guest for Component {
    type FindingsSink = sink::Sink;
    type FindingsWrite = sink::SinkWrite;
}

export!(Component);
