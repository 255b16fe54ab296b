//! The worker's own errors, decoded as [`ScanningWorker`](crate::worker::ScanningWorker)
//! decodes them (the same function): the same worker speaks the same WIT
//! whoever serves its stores.

use gossip_persistence::StoreKind;

use crate::bindings::exports::gossip::persistence::types as store_wit;
use crate::decode::Decoder;
use crate::worker::WorkerError;

pub(crate) use crate::worker::worker_error;

/// A read-back's store error, decoded.
pub(crate) fn read_back(store: StoreKind, operation: &'static str, error: store_wit::StoreError) -> WorkerError {
    WorkerError::ReadBack(Decoder::new(store, operation).error(error))
}
