//! Compiling a worker that imports the store interfaces, and running it with
//! those imports served from native stores.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gossip_persistence::done_ledger::DoneLedgerRecord;
use gossip_persistence::findings::DurableFindingsCounts;
use gossip_persistence::{DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect, StoreKind};
use thiserror::Error;
use wasmtime::component::{
    Component, ComponentExportIndex, Func, HasSelf, InstancePre, Linker, ResourceAny, ResourceTable,
};
use wasmtime::{Store, UpdateDeadline};

use super::bindings::StoreUser;
use super::errors::{read_back, worker_error};
use super::ports::{LedgerPort, SinkPort};
use super::resources::BackendFailure;
use crate::bindings::exports::gossip::persistence::types as store_wit;
use crate::decode::Decoder;
use crate::runtime::{Budget, compile, describe};
use crate::worker::{FindingsRows, WorkerError, trap_error, wit};
use crate::{
    ComponentStoreError, DEFAULT_CALL_TIMEOUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITE_TIMEOUT, LoadError, convert,
};

/// How a served worker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedConfig {
    /// Cap on the worker instance's linear memory, summed over its memories.
    pub memory_limit: usize,
    /// How long one call into the worker may run its own code. Time the
    /// host spends in the served stores (a database round trip, a write's
    /// wait) does not count: the deadline is there to stop a guest that
    /// loops, not to time the database, whose own timeouts bound it.
    pub call_timeout: Duration,
    /// How long a `poll` of a write waits for a write that is still
    /// pending before it answers "pending" (the example worker then reports
    /// a contract violation: it expects writes to complete at once).
    pub write_timeout: Duration,
}

impl Default for ServedConfig {
    fn default() -> Self {
        Self {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}

/// Why a served worker call failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ServedError {
    /// The worker's own answer, or its trap: exactly what a
    /// [`ScanningWorker`](crate::worker::ScanningWorker) reports.
    #[error(transparent)]
    Worker(#[from] WorkerError),
    /// A served store failed in a way the contract has no `store-error` for
    /// (a lost database connection, a trapped component store). The call
    /// was abandoned and the worker's instance cannot be entered again:
    /// spawn a new worker. What was acknowledged before is durable, and a
    /// rescan skips it.
    #[error("the {store} store failed in `{operation}`: {message}")]
    Backend {
        /// The store that failed.
        store: StoreKind,
        /// The import the worker was calling, such as `batch-upsert`.
        operation: &'static str,
        /// The store's error.
        message: String,
    },
}

/// The worker's host state: its resource budget, its served stores and the
/// resources the guest holds on them.
pub struct ServedState {
    pub(crate) table: ResourceTable,
    pub(crate) ledger: Arc<dyn LedgerPort>,
    pub(crate) sink: Arc<dyn SinkPort>,
    pub(crate) write_timeout: Duration,
    budget: Budget,
    /// When the current call's own time runs out; host time is added back.
    deadline: Instant,
}

impl ServedState {
    pub(crate) fn new<L, S>(ledger: L, sink: S, config: ServedConfig) -> Self
    where
        L: DoneLedgerInspect + 'static,
        S: FindingsInspect + FindingsConformanceProbe + 'static,
    {
        Self {
            table: ResourceTable::new(),
            ledger: Arc::new(ledger),
            sink: Arc::new(sink),
            write_timeout: config.write_timeout,
            budget: Budget::new(config.memory_limit),
            deadline: Instant::now(),
        }
    }

    /// Runs a served import, moving the call's deadline out by the time it
    /// took, so only the guest's own code counts against it.
    pub(crate) fn timed<T>(&mut self, call: impl FnOnce(&mut Self) -> T) -> T {
        let start = Instant::now();
        let out = call(self);
        self.deadline += start.elapsed();
        out
    }
}

/// The worker's exports the host calls, found once per component.
#[derive(Clone)]
struct Exports {
    constructor: ComponentExportIndex,
    scan: ComponentExportIndex,
    durable_counts: ComponentExportIndex,
    done_rows: ComponentExportIndex,
    findings_rows: ComponentExportIndex,
}

const SCANNER: &str = "gossip:scanning-worker/scanner@0.1.0";

impl Exports {
    fn find(name: &str, component: &Component) -> Result<Self, LoadError> {
        let link = |what: &str| LoadError::Link {
            name: name.to_owned(),
            message: format!("no export `{what}` (a worker exports `{SCANNER}`)"),
        };
        let (_, scanner) = component.get_export(None, SCANNER).ok_or_else(|| link(SCANNER))?;
        let func = |f: &str| component.get_export_index(Some(&scanner), f).ok_or_else(|| link(f));
        Ok(Self {
            constructor: func("[constructor]worker")?,
            scan: func("[method]worker.scan")?,
            durable_counts: func("[method]worker.durable-counts")?,
            done_rows: func("[method]worker.done-rows")?,
            findings_rows: func("[method]worker.findings-rows")?,
        })
    }
}

/// A worker component that imports the store interfaces (such as
/// `gossip_artifacts::WORKER_PATH`), compiled once with those imports linked
/// to the host; every [`spawn`](Self::spawn) gets a fresh instance served
/// from the stores it is given.
pub struct ServedWorkerRuntime {
    pre: InstancePre<ServedState>,
    exports: Exports,
    config: ServedConfig,
}

impl ServedWorkerRuntime {
    /// Compiles the worker component at `path` with the default [`ServedConfig`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
        Self::from_bytes(&path.display().to_string(), &bytes, ServedConfig::default())
    }

    /// Compiles a worker component; `name` labels its errors. It may import
    /// only the store interfaces (`gossip:persistence/store-user`) and must
    /// export `gossip:scanning-worker/scanner`.
    pub fn from_bytes(name: &str, bytes: &[u8], config: ServedConfig) -> Result<Self, LoadError> {
        // Every call runs under a deadline, as the stores' and the plugged worker's do.
        let component = compile(name, bytes, |_| {})?;
        let link = |e: wasmtime::Error| LoadError::Link { name: name.to_owned(), message: describe(&e) };
        let mut linker = Linker::new(component.engine());
        StoreUser::add_to_linker::<ServedState, HasSelf<ServedState>>(&mut linker, |state| state).map_err(link)?;
        let pre = linker.instantiate_pre(&component).map_err(link)?;
        let exports = Exports::find(name, &component)?;
        Ok(Self { pre, exports, config })
    }

    /// A new worker whose `done-ledger` and `findings-sink` imports are
    /// served from `ledger` and `sink` (clones of a native store share its
    /// rows, so the caller may keep one to inspect them).
    pub fn spawn<L, S>(&self, ledger: L, sink: S) -> Result<ServedWorker, ServedError>
    where
        L: DoneLedgerInspect + 'static,
        S: FindingsInspect + FindingsConformanceProbe + 'static,
    {
        let state = ServedState::new(ledger, sink, self.config);
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| &mut state.budget);
        store.epoch_deadline_callback(|context| {
            let left = context.data().deadline.saturating_duration_since(Instant::now());
            Ok(if left.is_zero() {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(crate::deadline::ticks(left))
            })
        });
        let timeout = self.config.call_timeout;
        arm(&mut store, timeout);
        let instance = self.pre.instantiate(&mut store).map_err(trap("instantiate", timeout))?;
        let func = |store: &mut Store<ServedState>, index: &ComponentExportIndex| {
            instance.get_func(&mut *store, index).ok_or_else(|| WorkerError::Trap {
                operation: "instantiate",
                message: "a scanner export is not a function".to_owned(),
            })
        };
        let funcs = Funcs {
            scan: func(&mut store, &self.exports.scan)?,
            durable_counts: func(&mut store, &self.exports.durable_counts)?,
            done_rows: func(&mut store, &self.exports.done_rows)?,
            findings_rows: func(&mut store, &self.exports.findings_rows)?,
        };
        let constructor = func(&mut store, &self.exports.constructor)?;
        let constructor = constructor.typed::<(), (ResourceAny,)>(&store).map_err(trap("new", timeout))?;
        arm(&mut store, timeout);
        let (worker,) = constructor.call(&mut store, ()).map_err(trap("new", timeout))?;
        Ok(ServedWorker { store, worker, funcs, timeout })
    }
}

struct Funcs {
    scan: Func,
    durable_counts: Func,
    done_rows: Func,
    findings_rows: Func,
}

/// One worker in its own instance, its store imports served by the host.
pub struct ServedWorker {
    store: Store<ServedState>,
    worker: ResourceAny,
    funcs: Funcs,
    timeout: Duration,
}

/// Gives the next call its own deadline.
fn arm(store: &mut Store<ServedState>, timeout: Duration) {
    store.data_mut().deadline = Instant::now() + timeout;
    store.set_epoch_deadline(crate::deadline::ticks(timeout));
}

fn trap(operation: &'static str, timeout: Duration) -> impl FnOnce(wasmtime::Error) -> ServedError {
    move |e| {
        if let Some(failure) = e.downcast_ref::<BackendFailure>() {
            let BackendFailure { store, operation, message } = failure.clone();
            return ServedError::Backend { store, operation, message };
        }
        ServedError::Worker(trap_error(operation, &e, &format!("within {timeout:?} of its own time")))
    }
}

type StoreAnswer<T> = (Result<T, store_wit::StoreError>,);

impl ServedWorker {
    /// Scans `objects` under `context`: the worker's report, or why it stopped.
    pub fn scan(
        &mut self,
        context: wit::ScanContext,
        objects: &[wit::ObjectScan],
    ) -> Result<wit::ScanReport, ServedError> {
        type Scan<'a> = (ResourceAny, wit::ScanContext, &'a [wit::ObjectScan]);
        let func = self.funcs.scan;
        let typed = func
            .typed::<Scan<'_>, (Result<wit::ScanReport, wit::WorkerError>,)>(&self.store)
            .map_err(trap("scan", self.timeout))?;
        arm(&mut self.store, self.timeout);
        let (answer,) =
            typed.call(&mut self.store, (self.worker, context, objects)).map_err(trap("scan", self.timeout))?;
        answer.map_err(|e| ServedError::Worker(worker_error(e)))
    }

    fn read<T>(&mut self, func: Func, store: StoreKind, operation: &'static str) -> Result<T, ServedError>
    where
        StoreAnswer<T>: wasmtime::component::ComponentNamedList + wasmtime::component::Lift + Send + Sync,
    {
        let typed = func.typed::<(ResourceAny,), StoreAnswer<T>>(&self.store).map_err(trap(operation, self.timeout))?;
        arm(&mut self.store, self.timeout);
        let (answer,) = typed.call(&mut self.store, (self.worker,)).map_err(trap(operation, self.timeout))?;
        answer.map_err(|error| ServedError::Worker(read_back(store, operation, error)))
    }

    /// Durable findings rows per layer, as the worker reads them.
    pub fn durable_counts(&mut self) -> Result<DurableFindingsCounts, ServedError> {
        let counts: store_wit::DurableCounts =
            self.read(self.funcs.durable_counts, StoreKind::Findings, "durable-counts")?;
        Ok(convert::counts(&counts))
    }

    /// Every durable done-ledger row, sorted by key, as the worker reads them.
    pub fn done_rows(&mut self) -> Result<Vec<DoneLedgerRecord>, ServedError> {
        let rows: Vec<store_wit::DoneRecord> = self.read(self.funcs.done_rows, StoreKind::DoneLedger, "done-rows")?;
        let decoder = Decoder::new(StoreKind::DoneLedger, "done-rows");
        let decode = rows.iter().map(|row| decoder.done_record(row)).collect::<Result<_, ComponentStoreError>>();
        decode.map_err(|e| ServedError::Worker(WorkerError::ReadBack(e)))
    }

    /// Every durable findings row, each layer sorted by (tenant, id), as the
    /// worker reads them.
    pub fn findings_rows(&mut self) -> Result<FindingsRows, ServedError> {
        let rows: wit::FindingsRows = self.read(self.funcs.findings_rows, StoreKind::Findings, "findings-rows")?;
        let decoder = Decoder::new(StoreKind::Findings, "findings-rows");
        let decode = || -> Result<FindingsRows, ComponentStoreError> {
            Ok(FindingsRows {
                findings: rows.findings.iter().map(Decoder::finding).collect(),
                occurrences: rows.occurrences.iter().map(|o| decoder.occurrence(o)).collect::<Result<_, _>>()?,
                observations: rows.observations.iter().map(|o| decoder.observation(o)).collect::<Result<_, _>>()?,
            })
        };
        decode().map_err(|e| ServedError::Worker(WorkerError::ReadBack(e)))
    }
}
