//! The one place production concurrency code takes its primitives from:
//! loom's model-checked types under `--cfg loom`, shuttle's scheduled ones
//! under `--cfg shuttle`, std's otherwise.

#[cfg(loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard, atomic};
#[cfg(loom)]
pub use loom::thread;

#[cfg(all(shuttle, not(loom)))]
pub use shuttle::sync::{Arc, Condvar, Mutex, MutexGuard, atomic};
#[cfg(all(shuttle, not(loom)))]
pub use shuttle::thread;

#[cfg(not(any(loom, shuttle)))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, atomic};
#[cfg(not(any(loom, shuttle)))]
pub use std::thread;
