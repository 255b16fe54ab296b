//! The host's integration tests, one binary so the component is compiled
//! once per test process (`support::runtime`).

mod boundary;
mod cli;
mod concurrency;
mod conformance;
mod cross_thread;
mod differential;
mod node_scenario;
mod shape;
mod support;
mod traps;
mod worker;
