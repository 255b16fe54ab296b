//! The `testing` interface (only with the `testing` feature): the
//! `controller` resource, one store's `StoreControl` over the boundary, and
//! the registry of live stores behind `live-controllers`.

use std::cell::Cell;
use std::sync::{Arc, Weak};
use std::thread::LocalKey;

use super::Component;
use super::errors::{kind_in, store_error};
use super::ledger::Ledger;
use super::sink::Sink;
use super::wit::done_ledger::DoneLedgerBorrow;
use super::wit::findings::FindingsSinkBorrow;
use super::wit::testing::{Controller as WitController, Guest, GuestController};
use super::wit::types::{CompletionOrder as WitOrder, StoreError, StoreKind as WitKind};
use crate::control::{CompletionOrder, PendingWriteId, StoreControl};
use crate::store::{InMemoryDoneLedger, InMemoryFindingsSink, StoreError as NativeError, StoreKind};

type DynControl = dyn StoreControl<ControlError = NativeError>;

pub struct Controller {
    store: Box<DynControl>,
}

impl Controller {
    fn new(store: impl StoreControl<ControlError = NativeError> + 'static) -> Self {
        Self { store: Box::new(store) }
    }
}

/// Every store constructed in this instance, oldest first, held weakly so
/// that the registry never keeps a dropped store's rows alive. (A wasm
/// instance has one thread, so these are its only copies.) `Cell`s rather
/// than `RefCell`s, so no borrow can ever panic.
type Registry<T> = Cell<Vec<Weak<T>>>;

thread_local! {
    static LEDGERS: Registry<InMemoryDoneLedger> = const { Cell::new(Vec::new()) };
    static SINKS: Registry<InMemoryFindingsSink> = const { Cell::new(Vec::new()) };
}

fn register<T>(registry: &'static LocalKey<Registry<T>>, store: &Arc<T>) {
    registry.with(|cell| {
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

fn live<T>(registry: &'static LocalKey<Registry<T>>) -> Vec<Arc<T>> {
    registry.with(|cell| {
        let stores = cell.take();
        let live = stores.iter().filter_map(Weak::upgrade).collect();
        cell.set(stores);
        live
    })
}

pub fn register_ledger(store: &Arc<InMemoryDoneLedger>) {
    register(&LEDGERS, store);
}

pub fn register_sink(store: &Arc<InMemoryFindingsSink>) {
    register(&SINKS, store);
}

impl Guest for Component {
    type Controller = Controller;

    fn ledger_controller(ledger: DoneLedgerBorrow<'_>) -> WitController {
        WitController::new(Controller::new(InMemoryDoneLedger::clone(ledger.get::<Ledger>().store())))
    }

    fn sink_controller(sink: FindingsSinkBorrow<'_>) -> WitController {
        WitController::new(Controller::new(InMemoryFindingsSink::clone(sink.get::<Sink>().store())))
    }

    /// A controller shares its store's core, not the resource: it keeps
    /// working after the worker drops the store, which then stops being
    /// listed here.
    fn live_controllers(kind: WitKind) -> Vec<WitController> {
        match kind_in(kind) {
            StoreKind::DoneLedger => live(&LEDGERS)
                .iter()
                .map(|store| WitController::new(Controller::new(InMemoryDoneLedger::clone(store))))
                .collect(),
            StoreKind::Findings => live(&SINKS)
                .iter()
                .map(|store| WitController::new(Controller::new(InMemoryFindingsSink::clone(store))))
                .collect(),
        }
    }
}

/// wasm32's `usize` is 32 bits; a larger count saturates, which for a
/// fault counter means "effectively forever", as it would natively.
fn count(raw: u64) -> usize {
    usize::try_from(raw).unwrap_or(usize::MAX)
}

const fn order(order: WitOrder) -> CompletionOrder {
    match order {
        WitOrder::OldestFirst => CompletionOrder::OldestFirst,
        WitOrder::NewestFirst => CompletionOrder::NewestFirst,
    }
}

impl GuestController for Controller {
    fn set_auto_complete(&self, on: bool) -> Result<(), StoreError> {
        self.store.set_auto_complete(on).map_err(store_error)
    }

    fn delay_next_writes(&self, n: u64) -> Result<(), StoreError> {
        self.store.delay_next_writes(count(n)).map_err(store_error)
    }

    fn fail_next_submissions(&self, n: u64) -> Result<(), StoreError> {
        self.store.fail_next_submissions(count(n)).map_err(store_error)
    }

    fn fail_next_commits(&self, n: u64) -> Result<(), StoreError> {
        self.store.fail_next_commits(count(n)).map_err(store_error)
    }

    fn release_next(&self, o: WitOrder) -> Result<Option<u64>, StoreError> {
        self.store.release_next(order(o)).map(|id| id.map(PendingWriteId::as_raw)).map_err(store_error)
    }

    fn release_specific(&self, op_id: u64) -> Result<bool, StoreError> {
        self.store.release_specific(PendingWriteId::from_raw(op_id)).map_err(store_error)
    }

    fn release_all(&self, o: WitOrder) -> Result<u64, StoreError> {
        self.store.release_all(order(o)).map(|n| n as u64).map_err(store_error)
    }

    fn pending_ids(&self) -> Result<Vec<u64>, StoreError> {
        self.store.pending_ids().map(|ids| ids.into_iter().map(PendingWriteId::as_raw).collect()).map_err(store_error)
    }

    fn pending_count(&self) -> Result<u64, StoreError> {
        self.store.pending_count().map(|n| n as u64).map_err(store_error)
    }
}
