//! The host's integration tests, one binary so the component is compiled
//! once per test process (`support::runtime`).

mod boundary;
mod concurrency;
mod conformance;
mod cross_thread;
mod deadlines;
mod differential;
mod no_data_loss;
mod node_scenario;
mod served;
mod shape;
mod support;
mod traps;
mod worker;
