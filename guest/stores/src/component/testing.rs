//! The `testing` interface (only with the `testing` feature): the
//! `controller` resource, one store's `StoreControl` over the boundary, and
//! `live-controllers` over the registry of live stores (`registry`).

use super::Component;
use super::exports::done_ledger::DoneLedgerBorrow;
use super::exports::findings::FindingsSinkBorrow;
use super::exports::testing::{Controller as WitController, Guest, GuestController};
use super::registry::{Listed, live};
use super::resource::Store;
use crate::control::{CompletionOrder, PendingWriteId, StoreControl};
use crate::store::{InMemoryDoneLedger, InMemoryFindingsSink, StoreError as NativeError, StoreKind};
use crate::wit::types::{CompletionOrder as WitOrder, StoreError, StoreKind as WitKind};
use crate::wit::{kind_in, store_error};

type DynControl = dyn StoreControl<ControlError = NativeError>;

pub struct Controller {
    store: Box<DynControl>,
}

impl Controller {
    fn new(store: impl StoreControl<ControlError = NativeError> + 'static) -> Self {
        Self { store: Box::new(store) }
    }
}

fn controller<S: StoreControl<ControlError = NativeError> + Clone + 'static>(store: &S) -> WitController {
    WitController::new(Controller::new(store.clone()))
}

fn controllers_of<S: Listed + StoreControl<ControlError = NativeError> + Clone>() -> Vec<WitController> {
    live::<S>().iter().map(|store| controller(&**store)).collect()
}

impl Guest for Component {
    type Controller = Controller;

    fn ledger_controller(ledger: DoneLedgerBorrow<'_>) -> WitController {
        controller(&*ledger.get::<Store<InMemoryDoneLedger>>().store)
    }

    fn sink_controller(sink: FindingsSinkBorrow<'_>) -> WitController {
        controller(&*sink.get::<Store<InMemoryFindingsSink>>().store)
    }

    /// A controller shares its store's core, not the resource: it keeps
    /// working after the worker drops the store, which then stops being
    /// listed here.
    fn live_controllers(kind: WitKind) -> Vec<WitController> {
        match kind_in(kind) {
            StoreKind::DoneLedger => controllers_of::<InMemoryDoneLedger>(),
            StoreKind::Findings => controllers_of::<InMemoryFindingsSink>(),
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
