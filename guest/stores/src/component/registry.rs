//! The stores constructed in this instance, for `testing.live-controllers`:
//! a host that plugged the store into a worker never holds the worker's store
//! resources, yet must reach their controls. Without the `testing` feature
//! nothing is listed.

#[cfg(feature = "testing")]
use std::cell::Cell;
#[cfg(feature = "testing")]
use std::sync::{Arc, Weak};
#[cfg(feature = "testing")]
use std::thread::LocalKey;

#[cfg(feature = "testing")]
use crate::store::{InMemoryDoneLedger, InMemoryFindingsSink};

/// Every store constructed in this instance, oldest first, held weakly so
/// that the registry never keeps a dropped store's rows alive. (A wasm
/// instance has one thread, so these are its only copies.) `Cell`s rather
/// than `RefCell`s, so no borrow can ever panic.
#[cfg(feature = "testing")]
type Registry<T> = Cell<Vec<Weak<T>>>;

#[cfg(feature = "testing")]
thread_local! {
    static LEDGERS: Registry<InMemoryDoneLedger> = const { Cell::new(Vec::new()) };
    static SINKS: Registry<InMemoryFindingsSink> = const { Cell::new(Vec::new()) };
}

/// A store type `live-controllers` lists, and the registry listing it.
#[cfg(feature = "testing")]
pub trait Listed: Sized + 'static {
    fn registry() -> &'static LocalKey<Registry<Self>>;
}

#[cfg(feature = "testing")]
impl Listed for InMemoryDoneLedger {
    fn registry() -> &'static LocalKey<Registry<Self>> {
        &LEDGERS
    }
}

#[cfg(feature = "testing")]
impl Listed for InMemoryFindingsSink {
    fn registry() -> &'static LocalKey<Registry<Self>> {
        &SINKS
    }
}

#[cfg(feature = "testing")]
pub fn register<T: Listed>(store: &Arc<T>) {
    T::registry().with(|cell| {
        let mut stores = cell.take();
        // Pruning only when the list would grow keeps it within twice the
        // live stores at constant amortized cost per construction.
        if stores.len() == stores.capacity() {
            stores.retain(|store| store.strong_count() > 0);
        }
        stores.push(Arc::downgrade(store));
        cell.set(stores);
    });
}

#[cfg(feature = "testing")]
pub fn live<T: Listed>() -> Vec<Arc<T>> {
    T::registry().with(|cell| {
        let stores = cell.take();
        let live = stores.iter().filter_map(Weak::upgrade).collect();
        cell.set(stores);
        live
    })
}

/// A controller over a copy of `store`, which shares its core.

/// What the registry lists; without `testing`, any store (and nothing is
/// listed).
#[cfg(not(feature = "testing"))]
pub trait Listed {}

#[cfg(not(feature = "testing"))]
impl<S> Listed for S {}

/// Lists `store` (a no-op without `testing`).
#[cfg(not(feature = "testing"))]
pub fn register<T>(_store: &std::sync::Arc<T>) {}
