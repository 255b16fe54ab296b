//! The served resources: `done-ledger`, `findings-sink` and their writes,
//! implemented on the worker's host state over its native stores.
//!
//! Every ledger (sink) the guest constructs is a handle on the one native
//! ledger (sink) the worker was spawned with: the WIT constructor takes no
//! arguments because which store a worker gets is the provider's choice.
//! Handles live in the state's resource table; wasmtime checks the guest's
//! handles before a call reaches the host, so a handle missing from the table
//! would be a host bug, and is answered as an unknown operation (id 0, which
//! no store issues) rather than a panic.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use gossip_persistence::{StoreError, StoreKind, check_batch_size, check_read_size};
use thiserror::Error;
use wasmtime::component::Resource;

use super::bindings::gossip::persistence::{done_ledger, findings};
use super::bindings::types as wit;
use super::encode;
use super::inbound;
use super::ports::{Failure, Served, Submitted, Wait};
use super::runtime::ServedState;
use crate::convert;
use crate::decode::Decoder;

mod ledger;
mod sink;

/// A guest's `done-ledger`: a handle on the worker's native ledger.
pub struct LedgerHandle;

/// A guest's `findings-sink`: a handle on the worker's native sink.
pub struct SinkHandle;

/// A guest's `done-write`.
pub struct DoneWrite(Write<gossip_persistence::done_ledger::DoneLedgerCommitReceipt>);

/// A guest's `findings-write`.
pub struct FindingsWrite(Write<gossip_persistence::findings::FindingsCommitReceipt>);

/// A store failure the contract has no `store-error` for: the import call
/// traps with it, and the worker's caller gets it back as
/// `ServedError::Backend`.
#[derive(Clone, Debug, Error)]
#[error("the {store} store failed in `{operation}`: {message}")]
pub(crate) struct BackendFailure {
    pub(crate) store: StoreKind,
    pub(crate) operation: &'static str,
    pub(crate) message: String,
}

enum WriteState<R> {
    /// Accepted; nobody has waited for it yet.
    Accepted(Wait<R>),
    /// A helper thread is waiting for the outcome.
    Waiting(Receiver<Served<R>>),
    /// The outcome was handed out.
    Taken,
}

/// One accepted write. The native traits only offer a blocking `wait`, and
/// a write a test delays may stay pending until someone releases it, so the
/// wait runs on a helper thread and `poll` waits for it at most `patience`:
/// a worker polls once and expects the outcome (stores complete at once
/// unless told otherwise), while a write that stays pending must not hold
/// the guest's thread forever.
pub(crate) struct Write<R> {
    store: StoreKind,
    op_id: u64,
    state: WriteState<R>,
}

impl<R: Send + 'static> Write<R> {
    fn new(store: StoreKind, submitted: Submitted<R>) -> Self {
        Self { store, op_id: submitted.op_id, state: WriteState::Accepted(submitted.wait) }
    }

    /// `None` while the write is still pending after `patience`.
    fn poll(&mut self, patience: Duration) -> Option<Served<R>> {
        if let WriteState::Accepted(_) = self.state {
            let WriteState::Accepted(wait) = std::mem::replace(&mut self.state, WriteState::Taken) else {
                return None;
            };
            let (tx, rx) = mpsc::sync_channel(1);
            let spawned = std::thread::Builder::new()
                .name(format!("gossip-served-{}-write-{}", self.store, self.op_id))
                .spawn(move || {
                    // The receiver may be gone (the guest dropped the write):
                    // the outcome is then discarded, as the WIT says.
                    let _ = tx.send(wait());
                });
            if let Err(e) = spawned {
                return Some(Err(Failure::Backend(format!(
                    "cannot start a thread to wait for write {}: {e}",
                    self.op_id
                ))));
            }
            self.state = WriteState::Waiting(rx);
        }
        match &self.state {
            WriteState::Waiting(rx) => match rx.recv_timeout(patience) {
                Ok(outcome) => {
                    self.state = WriteState::Taken;
                    Some(outcome)
                }
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.state = WriteState::Taken;
                    Some(Err(Failure::Backend(format!("the wait for write {} ended without an outcome", self.op_id))))
                }
            },
            // Handed out once; later polls name the id as unknown (`done-write.poll`).
            WriteState::Taken | WriteState::Accepted(_) => Some(Err(Failure::Store(StoreError::UnknownOperation {
                store: self.store,
                op_id: gossip_persistence::PendingWriteId::from_raw(self.op_id),
            }))),
        }
    }
}

/// A missing handle's answer (see the module docs).
fn unknown_handle(store: StoreKind) -> wit::StoreError {
    wit::StoreError::UnknownOperation(wit::OperationRef { store: encode::kind(store), op_id: 0 })
}

/// A served call's answer: contract errors go to the guest, backend failures trap.
fn answer<T, U>(
    store: StoreKind,
    operation: &'static str,
    result: Served<T>,
    out: impl FnOnce(T) -> U,
) -> wasmtime::Result<Result<U, wit::StoreError>> {
    match result {
        Ok(value) => Ok(Ok(out(value))),
        Err(Failure::Store(error)) => Ok(Err(encode::store_error(&error))),
        Err(Failure::Backend(message)) => Err(BackendFailure { store, operation, message }.into()),
    }
}

fn refused(error: &gossip_persistence::PersistenceInputError) -> wit::StoreError {
    wit::StoreError::BatchValidation(encode::input_error(error))
}

const LEDGER: StoreKind = StoreKind::DoneLedger;
const SINK: StoreKind = StoreKind::Findings;

type Answer<T> = wasmtime::Result<Result<T, wit::StoreError>>;

impl ServedState {
    fn has_ledger(&self, handle: &Resource<LedgerHandle>) -> bool {
        self.table.get(handle).is_ok()
    }

    fn has_sink(&self, handle: &Resource<SinkHandle>) -> bool {
        self.table.get(handle).is_ok()
    }

    fn poll_write<R: Send + 'static, W: 'static, O>(
        &mut self,
        store: StoreKind,
        handle: &Resource<W>,
        write: impl FnOnce(&mut W) -> &mut Write<R>,
        out: impl FnOnce(&R) -> O,
    ) -> wasmtime::Result<Option<Result<O, wit::StoreError>>> {
        let patience = self.write_timeout;
        let Ok(entry) = self.table.get_mut(handle) else { return Ok(Some(Err(unknown_handle(store)))) };
        match write(entry).poll(patience) {
            None => Ok(None),
            Some(outcome) => answer(store, "poll", outcome, |r| out(&r)).map(Some),
        }
    }
}

impl wit::Host for ServedState {}
