//! Fallible growth for the stores' tables and buffers.
//!
//! A store that runs out of memory must say so with a typed error and keep
//! its state, not abort: in a wasm guest an allocation failure is a trap
//! that takes every store of the instance with it. So every table and buffer
//! that grows with the caller's input is reserved with `try_reserve` before
//! anything is changed, and a refusal becomes `StoreError::CapacityExceeded`.

use core::hash::{BuildHasher, Hash};
use std::collections::{HashMap, TryReserveError};

use super::error::{StoreError, StoreKind};

/// The reservations of one store. Clones share the test hook, so the store
/// handle (which stages batches outside the lock) and the durable state
/// (which grows under it) see one armed fault.
#[derive(Clone, Debug)]
pub(crate) struct Reserver {
    store: StoreKind,
    #[cfg(all(feature = "test-support", not(loom)))]
    fault: std::sync::Arc<std::sync::Mutex<Option<usize>>>,
}

impl Reserver {
    pub(crate) fn new(store: StoreKind) -> Self {
        Self {
            store,
            #[cfg(all(feature = "test-support", not(loom)))]
            fault: std::sync::Arc::default(),
        }
    }

    /// Room for `additional` more elements in `buffer`.
    pub(crate) fn vec<T>(&self, buffer: &mut Vec<T>, additional: usize) -> Result<(), StoreError> {
        self.attempt::<T>(additional, || buffer.try_reserve_exact(additional))
    }

    /// Room for `additional` more entries in `table`: once this succeeds,
    /// that many inserts of new keys cannot allocate.
    pub(crate) fn map<K: Eq + Hash, V, S: BuildHasher>(
        &self,
        table: &mut HashMap<K, V, S>,
        additional: usize,
    ) -> Result<(), StoreError> {
        self.attempt::<(K, V)>(additional, || table.try_reserve(additional))
    }

    /// Growth by nothing is not a reservation: it cannot fail, and counting
    /// it would make the test hook fire on writes that need no memory.
    fn attempt<T>(
        &self,
        additional: usize,
        reserve: impl FnOnce() -> Result<(), TryReserveError>,
    ) -> Result<(), StoreError> {
        if additional == 0 {
            return Ok(());
        }
        if self.injected_refusal() || reserve().is_err() {
            return Err(self.shortfall::<T>(additional));
        }
        Ok(())
    }

    /// The error for `additional` elements of `T` that could not be reserved.
    /// The allocator does not say how much it has left, hence `available: 0`.
    pub(crate) fn shortfall<T>(&self, additional: usize) -> StoreError {
        let needed = u64::try_from(additional).unwrap_or(u64::MAX).saturating_mul(size_of::<T>() as u64);
        StoreError::CapacityExceeded { store: self.store, needed, available: 0 }
    }

    #[cfg(all(feature = "test-support", not(loom)))]
    fn injected_refusal(&self) -> bool {
        let mut fault = self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match *fault {
            Some(0) => {
                *fault = None;
                true
            }
            Some(skip) => {
                *fault = Some(skip - 1);
                false
            }
            None => false,
        }
    }

    #[cfg(not(all(feature = "test-support", not(loom))))]
    #[allow(clippy::unused_self)]
    const fn injected_refusal(&self) -> bool {
        false
    }

    /// Test support: lets `skip` more reservations succeed, then refuses
    /// one, as an exhausted allocator would. Replaces any armed fault.
    #[cfg(all(feature = "test-support", not(loom)))]
    pub(crate) fn fail_reservation_after(&self, skip: usize) {
        *self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(skip);
    }

    /// Test support: removes an armed fault; true if it had not fired yet.
    #[cfg(all(feature = "test-support", not(loom)))]
    pub(crate) fn disarm(&self) -> bool {
        self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take().is_some()
    }
}
