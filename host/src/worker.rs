//! Running the example scanning worker (`examples/scanning-worker`) with the
//! in-memory store plugged into it: one component that imports nothing.
//!
//! Answers are decoded into the native types with the same decoder the
//! component stores use, so a test can compare them with native stores.
//!
//! The worker itself never sees the store's test machinery; the plugged
//! component re-exports the store instance's `gossip:persistence/testing`,
//! and [`ScanningWorker::inject_faults`] and
//! [`ScanningWorker::delay_next_writes`] reach the worker's stores through
//! its `live-controllers`.

use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::findings::{DurableFindingsCounts, FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::{PersistenceInputError, StoreKind};
use thiserror::Error;
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder};

use crate::bindings::exports::gossip::persistence::types as store_wit;
use crate::convert::{self, digest};
use crate::error::{Decoder, FieldError};
use crate::runtime::describe;
use crate::{ComponentStoreError, DEFAULT_MEMORY_LIMIT, LoadError};

/// Host bindings of the plugged worker's world.
mod bindings {
    wasmtime::component::bindgen!({
        world: "gossip:scanning-worker/scanning-worker-with-store",
        path: ["../wit", "../examples/scanning-worker/wit"],
        // The store's types are the ones the component stores already use,
        // so their decoders apply to the worker's answers too. The world's
        // other store interfaces (`testing`, and `done-ledger` and `findings`
        // whose resources it names) get bindings of their own here.
        with: { "gossip:persistence/types": crate::bindings::exports::gossip::persistence::types },
    });
}

use bindings::ScanningWorkerWithStore;
use bindings::exports::gossip::persistence::testing::GuestController;
/// The worker's WIT types: requests, reports and errors.
pub use bindings::exports::gossip::scanning_worker::scanner as wit;

/// The scanning worker with the store plugged in (built by `build.rs`).
pub const PLUGGED_WORKER_COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/scanning_worker_with_store.wasm"));

/// A copy of [`PLUGGED_WORKER_COMPONENT`] on disk
/// (`<target>/components/scanning_worker_with_store.wasm`).
pub const PLUGGED_WORKER_PATH: &str = env!("GOSSIP_COMPONENT_SCANNING_WORKER_WITH_STORE");

/// The worker alone, importing the store's interfaces
/// (`<target>/components/gossip_scanning_worker.wasm`).
pub const WORKER_PATH: &str = env!("GOSSIP_COMPONENT_GOSSIP_SCANNING_WORKER");

/// A digest as the WIT carries it (four little-endian words).
pub fn wit_digest(bytes: &[u8; 32]) -> store_wit::Digest {
    convert::wit_digest(bytes)
}

/// The bytes of a WIT digest.
pub fn digest_bytes(words: store_wit::Digest) -> [u8; 32] {
    digest(words)
}

/// Why a worker call failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WorkerError {
    /// A request broke the persistence contract; nothing of it was written.
    #[error("invalid input (object {object:?}): {error}")]
    InvalidInput { object: Option<u32>, error: PersistenceInputError },
    /// A secret's location broke its size rules; nothing was written.
    #[error("invalid location (object {object}): {error}")]
    InvalidLocation { object: u32, error: FieldError },
    /// A store call failed during a scan; earlier objects are done.
    #[error("store failed in {stage:?} (object {object:?}): {error}")]
    Store { stage: wit::ScanStage, object: Option<u32>, error: ComponentStoreError },
    /// The store answered something its contract does not allow.
    #[error("store broke its contract in {stage:?} (object {object:?}): {detail}")]
    ContractViolation { stage: wit::ScanStage, object: Option<u32>, detail: String },
    /// A read-back failed, or an answer did not decode.
    #[error(transparent)]
    ReadBack(ComponentStoreError),
    /// The component trapped; its instance cannot be entered again.
    #[error("the worker trapped in `{operation}`: {message}")]
    Trap { operation: &'static str, message: String },
}

/// Every durable findings row, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindingsRows {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
}

struct WorkerState {
    limits: StoreLimits,
}

/// The plugged worker compiled once; every [`spawn`](Self::spawn) gets a
/// fresh instance (with a fresh store inside).
pub struct WorkerRuntime {
    engine: Engine,
    component: Component,
    pre: bindings::ScanningWorkerWithStorePre<WorkerState>,
}

impl WorkerRuntime {
    /// The worker built from this workspace, with its store plugged in.
    pub fn bundled() -> Result<Self, LoadError> {
        Self::from_bytes("scanning worker", PLUGGED_WORKER_COMPONENT)
    }

    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config.concurrency_support(false);
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(describe(&e)))?;
        let component = Component::new(&engine, bytes)
            .map_err(|e| LoadError::Compile { name: name.to_owned(), message: describe(&e) })?;
        // An empty linker: a component that imports anything fails here.
        let linker = Linker::new(&engine);
        let link = |e: wasmtime::Error| LoadError::Link { name: name.to_owned(), message: describe(&e) };
        let pre = bindings::ScanningWorkerWithStorePre::new(linker.instantiate_pre(&component).map_err(link)?)
            .map_err(link)?;
        Ok(Self { engine, component, pre })
    }

    /// The component's imports, as `name` strings.
    pub fn imports(&self) -> Vec<String> {
        self.component.component_type().imports(&self.engine).map(|(name, _)| name.to_owned()).collect()
    }

    /// The component's exports, as `name` strings.
    pub fn exports(&self) -> Vec<String> {
        self.component.component_type().exports(&self.engine).map(|(name, _)| name.to_owned()).collect()
    }

    /// A new worker over new, empty stores.
    pub fn spawn(&self) -> Result<ScanningWorker, WorkerError> {
        let limits = StoreLimitsBuilder::new().memory_size(DEFAULT_MEMORY_LIMIT).build();
        let mut store = Store::new(&self.engine, WorkerState { limits });
        store.limiter(|state| &mut state.limits);
        let api = self.pre.instantiate(&mut store).map_err(trap("instantiate"))?;
        let worker = api.gossip_scanning_worker_scanner().worker().call_constructor(&mut store).map_err(trap("new"))?;
        Ok(ScanningWorker { store, api, worker })
    }
}

/// One worker in its own instance.
pub struct ScanningWorker {
    store: Store<WorkerState>,
    api: ScanningWorkerWithStore,
    worker: ResourceAny,
}

fn trap(operation: &'static str) -> impl FnOnce(wasmtime::Error) -> WorkerError {
    move |e| WorkerError::Trap { operation, message: describe(&e) }
}

/// The store a scan stage talks to.
const fn stage_store(stage: wit::ScanStage) -> StoreKind {
    match stage {
        wit::ScanStage::Lookup | wit::ScanStage::MarkDone => StoreKind::DoneLedger,
        wit::ScanStage::RecordFindings => StoreKind::Findings,
    }
}

fn field_error(error: store_wit::FieldError) -> FieldError {
    match error {
        store_wit::FieldError::Empty(field) => FieldError::Empty { field },
        store_wit::FieldError::TooLarge(l) => FieldError::TooLarge { field: l.field, size: l.size, max: l.max },
        store_wit::FieldError::InvalidByte(b) => {
            FieldError::InvalidByte { field: b.field, index: b.index, byte: b.byte }
        }
    }
}

fn worker_error(error: wit::WorkerError) -> WorkerError {
    match error {
        wit::WorkerError::InvalidInput(e) => {
            // The worker validates with the store crate: its errors decode like the store's.
            let decoder = Decoder::new(StoreKind::Findings, "scan");
            match decoder.input(e.error) {
                Ok(error) => WorkerError::InvalidInput { object: e.object_index, error },
                Err(protocol) => WorkerError::ReadBack(protocol),
            }
        }
        wit::WorkerError::InvalidLocation(e) => {
            WorkerError::InvalidLocation { object: e.object_index, error: field_error(e.error) }
        }
        wit::WorkerError::Store(f) => {
            let error = Decoder::new(stage_store(f.stage), "scan").error(f.error);
            WorkerError::Store { stage: f.stage, object: f.object_index, error }
        }
        wit::WorkerError::ContractViolation(v) => {
            WorkerError::ContractViolation { stage: v.stage, object: v.object_index, detail: v.detail }
        }
    }
}

impl ScanningWorker {
    /// Scans `objects` under `context`: the worker's report, or why it stopped.
    pub fn scan(
        &mut self,
        context: wit::ScanContext,
        objects: &[wit::ObjectScan],
    ) -> Result<wit::ScanReport, WorkerError> {
        let scanner = self.api.gossip_scanning_worker_scanner();
        let answer =
            scanner.worker().call_scan(&mut self.store, self.worker, context, objects).map_err(trap("scan"))?;
        answer.map_err(worker_error)
    }

    fn read<T>(
        &mut self,
        store: StoreKind,
        operation: &'static str,
        call: impl FnOnce(
            wit::GuestWorker<'_>,
            &mut Store<WorkerState>,
            ResourceAny,
        ) -> wasmtime::Result<Result<T, store_wit::StoreError>>,
    ) -> Result<(T, Decoder), WorkerError> {
        let scanner = self.api.gossip_scanning_worker_scanner();
        let answer = call(scanner.worker(), &mut self.store, self.worker).map_err(trap(operation))?;
        let decoder = Decoder::new(store, operation);
        match answer {
            Ok(value) => Ok((value, decoder)),
            Err(error) => Err(WorkerError::ReadBack(decoder.error(error))),
        }
    }

    /// Durable findings rows per layer.
    pub fn durable_counts(&mut self) -> Result<DurableFindingsCounts, WorkerError> {
        let (counts, _) = self.read(StoreKind::Findings, "durable-counts", |w, s, r| w.call_durable_counts(s, r))?;
        Ok(convert::counts(&counts))
    }

    /// Every durable done-ledger row, sorted by key.
    pub fn done_rows(&mut self) -> Result<Vec<DoneLedgerRecord>, WorkerError> {
        let (rows, decoder) = self.read(StoreKind::DoneLedger, "done-rows", |w, s, r| w.call_done_rows(s, r))?;
        rows.iter().map(|row| decoder.done_record(row)).collect::<Result<_, _>>().map_err(WorkerError::ReadBack)
    }

    /// Every durable findings row, each layer sorted by (tenant, id).
    pub fn findings_rows(&mut self) -> Result<FindingsRows, WorkerError> {
        let (rows, decoder) = self.read(StoreKind::Findings, "findings-rows", |w, s, r| w.call_findings_rows(s, r))?;
        let decode = || -> Result<FindingsRows, ComponentStoreError> {
            Ok(FindingsRows {
                findings: rows.findings.iter().map(Decoder::finding).collect(),
                occurrences: rows.occurrences.iter().map(|o| decoder.occurrence(o)).collect::<Result<_, _>>()?,
                observations: rows.observations.iter().map(|o| decoder.observation(o)).collect::<Result<_, _>>()?,
            })
        };
        decode().map_err(WorkerError::ReadBack)
    }

    /// Makes the next `submissions` writes to the worker's `store` be
    /// rejected and the next `commits` fail when applied (fault injection
    /// for tests).
    pub fn inject_faults(&mut self, store: StoreKind, submissions: u64, commits: u64) -> Result<(), WorkerError> {
        self.control(store, "inject-faults", |controller, s, c| {
            let submitted = controller.call_fail_next_submissions(&mut *s, c, submissions)?;
            if submitted.is_err() {
                return Ok(submitted);
            }
            controller.call_fail_next_commits(s, c, commits)
        })
    }

    /// Makes the next `count` writes to the worker's `store` wait for a
    /// release that never comes: the worker, which expects its writes to
    /// complete at once, reports them as a contract violation.
    pub fn delay_next_writes(&mut self, store: StoreKind, count: u64) -> Result<(), WorkerError> {
        self.control(store, "delay-next-writes", |controller, s, c| controller.call_delay_next_writes(s, c, count))
    }

    /// Runs `call` on the controller of every live `store` of the worker's
    /// instance (the example worker holds one of each kind), through the
    /// store's `testing` export, and drops the controllers.
    fn control(
        &mut self,
        store: StoreKind,
        operation: &'static str,
        mut call: impl FnMut(
            GuestController<'_>,
            &mut Store<WorkerState>,
            ResourceAny,
        ) -> wasmtime::Result<Result<(), store_wit::StoreError>>,
    ) -> Result<(), WorkerError> {
        let kind = match store {
            StoreKind::DoneLedger => store_wit::StoreKind::DoneLedger,
            StoreKind::Findings => store_wit::StoreKind::Findings,
        };
        let testing = self.api.gossip_persistence_testing();
        let controllers = testing.call_live_controllers(&mut self.store, kind).map_err(trap("live-controllers"))?;
        let mut outcome = if controllers.is_empty() {
            let detail = format!("the worker holds no live {store} store");
            Err(WorkerError::ReadBack(Decoder::new(store, operation).protocol(detail)))
        } else {
            Ok(())
        };
        for &controller in &controllers {
            outcome = match call(testing.controller(), &mut self.store, controller) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(WorkerError::ReadBack(Decoder::new(store, operation).error(error))),
                Err(e) => Err(trap(operation)(e)),
            };
            if outcome.is_err() {
                break;
            }
        }
        // The controllers are this call's to drop; after a trap the instance
        // cannot be entered again, and they are gone with it.
        if !matches!(outcome, Err(WorkerError::Trap { .. })) {
            for controller in controllers {
                controller.resource_drop(&mut self.store).map_err(trap("drop controller"))?;
            }
        }
        outcome
    }
}
