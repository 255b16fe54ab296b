//! The deterministic simulation (filled in by the simulation work).
