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

impl done_ledger::HostDoneWrite for ServedState {
    fn operation_id(&mut self, write: Resource<DoneWrite>) -> wasmtime::Result<u64> {
        // No `store-error` to answer with: an unknown handle (a host bug,
        // see the module docs) traps the call instead.
        Ok(self.table.get(&write)?.0.op_id)
    }

    fn poll(
        &mut self,
        write: Resource<DoneWrite>,
    ) -> wasmtime::Result<Option<Result<wit::DoneReceipt, wit::StoreError>>> {
        self.timed(|s| s.poll_write(LEDGER, &write, |w| &mut w.0, encode::done_receipt))
    }

    fn drop(&mut self, write: Resource<DoneWrite>) -> wasmtime::Result<()> {
        // Dropping cancels nothing: the write still applies; its outcome is discarded.
        let _ = self.table.delete(write);
        Ok(())
    }
}

impl done_ledger::HostDoneLedger for ServedState {
    fn new(&mut self) -> wasmtime::Result<Resource<LedgerHandle>> {
        Ok(self.table.push(LedgerHandle)?)
    }

    fn batch_get(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
        ovid_hashes: Vec<wit::Digest>,
    ) -> Answer<Vec<Option<wit::DoneRecord>>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            // Before any key is converted, as the native store checks it before reading.
            if let Err(e) = check_read_size(ovid_hashes.len()) {
                return Ok(Err(refused(&e)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            let result = s.ledger.batch_get(tenant, policy, &inbound::ovids(&ovid_hashes));
            answer(LEDGER, "batch-get", result, |rows| {
                rows.iter().map(|row| row.as_ref().map(convert::done_record)).collect()
            })
        })
    }

    fn list_done_hashes(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
        after: Option<wit::Digest>,
        limit: u32,
    ) -> Answer<Vec<wit::Digest>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            let result = s.ledger.list_done_hashes_page(tenant, policy, after.map(Decoder::ovid), limit as usize);
            answer(LEDGER, "list-done-hashes", result, |hashes| {
                hashes.iter().map(|h| convert::wit_digest(h.as_bytes())).collect()
            })
        })
    }

    fn count_done_hashes(
        &mut self,
        ledger: Resource<LedgerHandle>,
        tenant_id: wit::Digest,
        policy_hash: wit::Digest,
    ) -> Answer<Option<u64>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let (tenant, policy) = inbound::scope(tenant_id, policy_hash);
            answer(LEDGER, "count-done-hashes", s.ledger.count_done_hashes(tenant, policy), |n| n.map(|n| n as u64))
        })
    }

    fn batch_upsert(
        &mut self,
        ledger: Resource<LedgerHandle>,
        records: Vec<wit::DoneRecord>,
    ) -> Answer<Resource<DoneWrite>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            // Before any record is converted, as the native store checks it first.
            if let Err(e) = check_batch_size(records.len()) {
                return Ok(Err(refused(&e)));
            }
            let rows = match records.into_iter().map(inbound::done_record).collect::<Result<Vec<_>, _>>() {
                Ok(rows) => rows,
                Err(refusal) => return Ok(Err(refusal)),
            };
            match answer(LEDGER, "batch-upsert", s.ledger.batch_upsert(&rows), |w| Write::new(LEDGER, w))? {
                Ok(write) => Ok(Ok(s.table.push(DoneWrite(write))?)),
                Err(error) => Ok(Err(error)),
            }
        })
    }

    fn get_record(&mut self, ledger: Resource<LedgerHandle>, key: wit::DoneKey) -> Answer<Option<wit::DoneRecord>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            answer(LEDGER, "get-record", s.ledger.get_record(&Decoder::key(&key)), |row| {
                row.as_ref().map(convert::done_record)
            })
        })
    }

    fn snapshot(
        &mut self,
        ledger: Resource<LedgerHandle>,
        after: Option<wit::DoneKey>,
        limit: u32,
    ) -> Answer<Vec<wit::DoneRecord>> {
        self.timed(|s| {
            if !s.has_ledger(&ledger) {
                return Ok(Err(unknown_handle(LEDGER)));
            }
            let after = after.as_ref().map(Decoder::key);
            answer(LEDGER, "snapshot", s.ledger.snapshot_page(after.as_ref(), limit as usize), |rows| {
                rows.iter().map(convert::done_record).collect()
            })
        })
    }

    fn drop(&mut self, ledger: Resource<LedgerHandle>) -> wasmtime::Result<()> {
        let _ = self.table.delete(ledger);
        Ok(())
    }
}

impl done_ledger::Host for ServedState {}

impl findings::HostFindingsWrite for ServedState {
    fn operation_id(&mut self, write: Resource<FindingsWrite>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&write)?.0.op_id)
    }

    fn poll(
        &mut self,
        write: Resource<FindingsWrite>,
    ) -> wasmtime::Result<Option<Result<wit::FindingsReceipt, wit::StoreError>>> {
        self.timed(|s| s.poll_write(SINK, &write, |w| &mut w.0, encode::findings_receipt))
    }

    fn drop(&mut self, write: Resource<FindingsWrite>) -> wasmtime::Result<()> {
        let _ = self.table.delete(write);
        Ok(())
    }
}

fn tenant(digest: wit::Digest) -> TenantId {
    TenantId::from_bytes(convert::digest(digest))
}

impl findings::HostFindingsSink for ServedState {
    fn new(&mut self) -> wasmtime::Result<Resource<SinkHandle>> {
        Ok(self.table.push(SinkHandle)?)
    }

    fn upsert_batch(
        &mut self,
        sink: Resource<SinkHandle>,
        findings: Vec<wit::Finding>,
        occurrences: Vec<wit::Occurrence>,
        observations: Vec<wit::Observation>,
    ) -> Answer<Resource<FindingsWrite>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            if let Err(e) = check_batch_size(findings.len() + occurrences.len() + observations.len()) {
                return Ok(Err(refused(&e)));
            }
            let (findings, occurrences, observations) =
                match inbound::findings_batch(&findings, &occurrences, &observations) {
                    Ok(rows) => rows,
                    Err(refusal) => return Ok(Err(refusal)),
                };
            let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
            match answer(SINK, "upsert-batch", s.sink.upsert_batch(batch), |w| Write::new(SINK, w))? {
                Ok(write) => Ok(Ok(s.table.push(FindingsWrite(write))?)),
                Err(error) => Ok(Err(error)),
            }
        })
    }

    fn durable_counts(&mut self, sink: Resource<SinkHandle>) -> Answer<wit::DurableCounts> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            answer(SINK, "durable-counts", s.sink.durable_counts(), |c| encode::counts(&c))
        })
    }

    fn get_finding(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        finding_id: wit::Digest,
    ) -> Answer<Option<wit::Finding>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = FindingId::from_bytes(convert::digest(finding_id));
            answer(SINK, "get-finding", s.sink.get_finding(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::finding)
            })
        })
    }

    fn get_occurrence(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        occurrence_id: wit::Digest,
    ) -> Answer<Option<wit::Occurrence>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = OccurrenceId::from_bytes(convert::digest(occurrence_id));
            answer(SINK, "get-occurrence", s.sink.get_occurrence(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::occurrence)
            })
        })
    }

    fn get_observation(
        &mut self,
        sink: Resource<SinkHandle>,
        tenant_id: wit::Digest,
        observation_id: wit::Digest,
    ) -> Answer<Option<wit::Observation>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let id = ObservationId::from_bytes(convert::digest(observation_id));
            answer(SINK, "get-observation", s.sink.get_observation(tenant(tenant_id), id), |row| {
                row.as_ref().map(convert::observation)
            })
        })
    }

    fn findings_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::FindingRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Finding>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after = after.map(|r| (tenant(r.tenant_id), FindingId::from_bytes(convert::digest(r.finding_id))));
            answer(SINK, "findings-snapshot", s.sink.findings_page(after, limit as usize), |rows| {
                rows.iter().map(convert::finding).collect()
            })
        })
    }

    fn occurrences_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::OccurrenceRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Occurrence>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after =
                after.map(|r| (tenant(r.tenant_id), OccurrenceId::from_bytes(convert::digest(r.occurrence_id))));
            answer(SINK, "occurrences-snapshot", s.sink.occurrences_page(after, limit as usize), |rows| {
                rows.iter().map(convert::occurrence).collect()
            })
        })
    }

    fn observations_snapshot(
        &mut self,
        sink: Resource<SinkHandle>,
        after: Option<wit::ObservationRef>,
        limit: u32,
    ) -> Answer<Vec<wit::Observation>> {
        self.timed(|s| {
            if !s.has_sink(&sink) {
                return Ok(Err(unknown_handle(SINK)));
            }
            let after =
                after.map(|r| (tenant(r.tenant_id), ObservationId::from_bytes(convert::digest(r.observation_id))));
            answer(SINK, "observations-snapshot", s.sink.observations_page(after, limit as usize), |rows| {
                rows.iter().map(convert::observation).collect()
            })
        })
    }

    fn drop(&mut self, sink: Resource<SinkHandle>) -> wasmtime::Result<()> {
        let _ = self.table.delete(sink);
        Ok(())
    }
}

impl findings::Host for ServedState {}

impl wit::Host for ServedState {}
