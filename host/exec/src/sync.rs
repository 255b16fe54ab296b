//! The one place this crate takes its concurrency primitives from: loom's
//! model-checked types under `--cfg loom`, shuttle's scheduled ones under
//! `--cfg shuttle`, std's otherwise. Every atomic,
//! lock, cell and thread operation of the crate goes through here, so the
//! loom harnesses check the production code itself.

#[cfg(loom)]
pub use loom::cell::UnsafeCell;
#[cfg(loom)]
pub use loom::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub use loom::sync::{Arc, Mutex, MutexGuard};
#[cfg(loom)]
pub use loom::thread::{self, Thread};

#[cfg(all(shuttle, not(loom)))]
pub use shuttle::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
#[cfg(all(shuttle, not(loom)))]
pub use shuttle::sync::{Arc, Mutex, MutexGuard};
#[cfg(all(shuttle, not(loom)))]
pub use shuttle::thread::{self, Thread};

#[cfg(not(any(loom, shuttle)))]
pub use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(any(loom, shuttle)))]
pub use std::sync::{Arc, Mutex, MutexGuard};
#[cfg(not(any(loom, shuttle)))]
pub use std::thread::{self, Thread};

/// std's `UnsafeCell` behind loom's closure-based API, so production code
/// is written once for both; loom's version records every access.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared pointer to the value (loom's API shape).
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a mutable pointer to the value (loom's API shape).
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
