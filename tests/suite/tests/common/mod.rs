//! Helpers shared by the integration tests. Each test binary compiles all of
//! them and uses a part.
#![allow(dead_code)]

pub mod sim;
pub mod state_machine;
