//! Compiling a component once and stamping out instances of it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, ComponentExportIndex, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store};

use crate::bindings::exports::gossip::persistence::{done_ledger, findings, hash_seed, testing};

/// Guest memory allowed per store instance unless configured otherwise,
/// summed over all of the instance's linear memories. A full 10,000-record
/// batch needs a few MiB; 256 MiB leaves room for large stores while a
/// runaway guest still cannot take the host down.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// How long one call into an instance may run unless configured otherwise.
/// The bundled store's largest calls (a 10,000-row batch, a 10,000-row page,
/// a journal replay chunk) take milliseconds; ten seconds leaves a loaded
/// machine three orders of magnitude of room while a component that loops
/// forever still cannot hold a caller for long.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a `wait` may find its write still pending unless configured
/// otherwise. Only a write whose store delays it (the testing interface's
/// completion modes) legitimately stays pending, until someone releases it;
/// thirty seconds is far beyond any release a test or simulation makes.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of a pooled slot's linear memory (and of its tables) kept
/// resident between instances: what a store's first few 10,000-record
/// batches touch. More only moves zeroing cost to every instance's teardown.
const POOL_KEEP_RESIDENT: usize = 16 << 20;

/// Table elements, tables, memories and core instances allowed per store
/// instance: far above what a Rust guest needs (one table of a few hundred
/// entries, one memory, a handful of core instances), far below what could
/// hurt the host.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;
const MAX_TABLES: usize = 16;
const MAX_MEMORIES: usize = 4;
const MAX_INSTANCES: usize = 64;

/// What a store does after its instance trapped (a guest bug or a hostile
/// component: the instance's state cannot be trusted or reached again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recovery {
    /// Every later call fails with `StoreError::StateLost` until the caller
    /// resets the store explicitly (`reset()`), accepting an empty store.
    /// The default: it costs nothing, and the caller, not the host, decides
    /// whether an empty store is acceptable.
    #[default]
    FailUntilReset,
    /// The host keeps a journal of every acknowledged write (one native
    /// in-memory copy of the acknowledged state) and rebuilds a fresh
    /// instance from it, so nothing acknowledged is lost. Costs a second copy
    /// of the data on the host and a native merge per acknowledged write.
    Journal,
}

/// How components are compiled and instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Cap on each instance's linear memory, in bytes, summed over its
    /// memories; growing past it fails inside the guest, which reports
    /// `capacity-exceeded`. Calls whose arguments would not fit are refused
    /// on the host before anything is lowered.
    pub memory_limit: usize,
    /// Pre-reserve instance slots with wasmtime's pooling allocator: faster
    /// instantiation, but at most this many live instances per runtime.
    pub pooling_instances: Option<u32>,
    /// What a store does after a trap.
    pub recovery: Recovery,
    /// How long one call into an instance may run. A call past it traps
    /// (epoch interruption), its instance is discarded like a trapped one,
    /// and the store reports `ComponentStoreError::TimedOut`.
    pub call_timeout: Duration,
    /// How long `wait` lets a write stay pending before it gives up with
    /// `ComponentStoreError::WriteTimedOut` (the write's outcome is then
    /// unknown: it was never acknowledged).
    pub write_timeout: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            pooling_instances: None,
            recovery: Recovery::default(),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The component file could not be read.
    #[error("cannot read component {path}: {source}")]
    Read {
        /// The file, as given.
        path: String,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// Wasmtime refused the engine configuration (such as the pooling limits).
    #[error("cannot configure the wasm engine: {0}")]
    Engine(String),
    /// The bytes are not a component wasmtime can compile.
    #[error("{name} is not a valid component: {message}")]
    Compile {
        /// The runtime's name for the component.
        name: String,
        /// Wasmtime's description of the failure.
        message: String,
    },
    /// The component imports something, or lacks an export the host needs.
    #[error("{name} does not implement the gossip:persistence world: {message}")]
    Link {
        /// The runtime's name for the component.
        name: String,
        /// What is missing or extra.
        message: String,
    },
}

/// Per-instance host state: the instance's resource budget (opaque).
pub struct HostState {
    budget: Budget,
}

impl HostState {
    /// Bytes of linear memory the instance holds now, over all its memories.
    pub const fn memory_in_use(&self) -> usize {
        self.budget.memory_in_use
    }

    /// Bytes the instance may still grow its memories by.
    pub(crate) const fn memory_available(&self) -> usize {
        self.budget.memory_limit.saturating_sub(self.budget.memory_in_use)
    }

    /// The instance's memory cap, in bytes.
    pub(crate) const fn memory_limit(&self) -> usize {
        self.budget.memory_limit
    }

    /// Whether the cap refused a growth since [`clear_refusal`](Self::clear_refusal).
    pub(crate) const fn growth_refused(&self) -> bool {
        self.budget.refused
    }

    pub(crate) const fn clear_refusal(&mut self) {
        self.budget.refused = false;
    }
}

/// Limits per instance, not per memory or table: wasmtime's `StoreLimits`
/// caps each memory on its own, so a component with several memories could
/// hold a multiple of the cap.
pub(crate) struct Budget {
    memory_limit: usize,
    memory_in_use: usize,
    /// Whether a growth was refused since the flag was last cleared (each
    /// call clears it): a trap right after one is a guest out of memory.
    refused: bool,
}

impl Budget {
    /// A budget of `memory_limit` bytes of linear memory, none used yet.
    pub(crate) const fn new(memory_limit: usize) -> Self {
        Self { memory_limit, memory_in_use: 0, refused: false }
    }
}

impl ResourceLimiter for Budget {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grown = self.memory_in_use.saturating_sub(current).saturating_add(desired);
        if grown > self.memory_limit {
            self.refused = true;
            return Ok(false);
        }
        self.memory_in_use = grown;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// The exports of one instance: the worker-facing stores, and the testing
/// interface when the component exports it.
pub struct Api {
    done_ledger: done_ledger::Guest,
    findings: findings::Guest,
    testing: Option<testing::Guest>,
}

impl Api {
    /// The `done-ledger` interface.
    pub const fn gossip_persistence_done_ledger(&self) -> &done_ledger::Guest {
        &self.done_ledger
    }

    /// The `findings` interface.
    pub const fn gossip_persistence_findings(&self) -> &findings::Guest {
        &self.findings
    }

    /// The `testing` interface, if the component exports it.
    pub const fn gossip_persistence_testing(&self) -> Option<&testing::Guest> {
        self.testing.as_ref()
    }
}

struct Indices {
    done_ledger: done_ledger::GuestIndices,
    findings: findings::GuestIndices,
    testing: Option<testing::GuestIndices>,
    hash_seed: Option<hash_seed::GuestIndices>,
}

/// An unpredictable seed per instance: std's `RandomState` is keyed from the
/// OS once per process and advanced on every `new`.
pub(crate) fn fresh_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
}

struct RuntimeInner {
    name: String,
    /// Calls that ran past their deadline, over every instance: a
    /// certifier stops calling a component that has stopped answering.
    timeouts: AtomicU64,
    component: Component,
    pre: wasmtime::component::InstancePre<HostState>,
    indices: Indices,
    /// `done-ledger.batch-upsert`, called with the fast row lowering.
    batch_upsert: ComponentExportIndex,
    /// `findings-sink.upsert-batch`, likewise.
    upsert_batch: ComponentExportIndex,
}

/// A component compiled once and pre-instantiated; cheap to clone, and every
/// store made from it gets its own fresh instance.
#[derive(Clone)]
pub struct ComponentRuntime {
    inner: Arc<RuntimeInner>,
    /// Per runtime, not per compiled component: `with_memory_limit` shares
    /// the compilation.
    config: RuntimeConfig,
}

impl core::fmt::Debug for ComponentRuntime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ComponentRuntime").field("name", &self.inner.name).field("config", &self.config).finish()
    }
}

/// One line for an error from wasmtime: for a trap just the trap (its wasm
/// backtrace is noise to a store's caller; a Rust guest's panic shows up as
/// `unreachable`), otherwise the whole cause chain.
pub(crate) fn describe(error: &wasmtime::Error) -> String {
    let text = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Compiles `bytes` on an engine of its own, set up as every host in this
/// crate needs it: no async or concurrent component-model features (the
/// stores make plain synchronous calls, 2-3x cheaper without them), and
/// every call under a deadline (`deadline`: epoch interruption and the
/// engine's ticker). `tune` adds the rest (e.g. the pooling allocator).
pub(crate) fn compile(name: &str, bytes: &[u8], tune: impl FnOnce(&mut Config)) -> Result<Component, LoadError> {
    let mut config = Config::new();
    config.concurrency_support(false);
    config.epoch_interruption(true);
    tune(&mut config);
    let engine = Engine::new(&config).map_err(|e| LoadError::Engine(describe(&e)))?;
    crate::deadline::start_ticker(&engine)
        .map_err(|e| LoadError::Engine(format!("cannot start the call-deadline ticker: {e}")))?;
    Component::new(&engine, bytes).map_err(|e| LoadError::Compile { name: name.to_owned(), message: describe(&e) })
}

impl ComponentRuntime {
    /// A component file; its file name becomes the runtime's name.
    pub fn from_file(path: impl AsRef<Path>, config: RuntimeConfig) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Self::from_bytes(&name, &bytes, config)
    }

    /// Compiles and pre-instantiates a component; `name` labels its errors. It must
    /// import nothing and export `done-ledger` and `findings` (`testing` is optional).
    pub fn from_bytes(name: &str, bytes: &[u8], config: RuntimeConfig) -> Result<Self, LoadError> {
        let component = compile(name, bytes, |wasm| {
            if let Some(instances) = config.pooling_instances {
                let mut pool = PoolingAllocationConfig::default();
                pool.total_component_instances(instances)
                    .total_core_instances(instances.saturating_mul(4))
                    .total_memories(instances.saturating_mul(2))
                    .total_tables(instances.saturating_mul(4))
                    .max_memory_size(config.memory_limit)
                    // A freed slot keeps this much of its memory mapped and
                    // zeroes it, instead of handing it back to the kernel: the
                    // next instance's first batch then takes no page faults
                    // for it (a third of a fresh findings batch otherwise).
                    .linear_memory_keep_resident(POOL_KEEP_RESIDENT)
                    .table_keep_resident(POOL_KEEP_RESIDENT);
                wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            }
        })?;
        let linker = Linker::<HostState>::new(component.engine());
        let link = |e: wasmtime::Error| LoadError::Link { name: name.to_owned(), message: describe(&e) };
        let pre = linker.instantiate_pre(&component).map_err(link)?;
        let indices = Indices {
            done_ledger: done_ledger::GuestIndices::new(&pre).map_err(link)?,
            findings: findings::GuestIndices::new(&pre).map_err(link)?,
            // Optional: a store exporting only the worker-facing world is
            // certified without the checks that need the test machinery.
            testing: testing::GuestIndices::new(&pre).ok(),
            hash_seed: hash_seed::GuestIndices::new(&pre).ok(),
        };
        // The batch writes are called through typed funcs of their own (the
        // fast row lowerings), looked up once here.
        let method = |interface: &str, method: &str| {
            component
                .get_export_index(None, interface)
                .and_then(|iface| component.get_export_index(Some(&iface), &format!("[method]{method}")))
                .ok_or_else(|| LoadError::Link { name: name.to_owned(), message: format!("no {method} export") })
        };
        let batch_upsert = method("gossip:persistence/done-ledger@0.2.0", "done-ledger.batch-upsert")?;
        let upsert_batch = method("gossip:persistence/findings@0.2.0", "findings-sink.upsert-batch")?;
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                name: name.to_owned(),
                timeouts: AtomicU64::new(0),
                component,
                pre,
                indices,
                batch_upsert,
                upsert_batch,
            }),
            config,
        })
    }

    /// "component" for the bundled guest, else the component's file name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// What every instance of this runtime is created with.
    pub fn config(&self) -> RuntimeConfig {
        self.config
    }

    /// The same compiled component, its instances capped at `memory_limit`
    /// bytes (e.g. a store small enough to fill in a test). Under the
    /// pooling allocator a limit above the pool's slot size cannot be met.
    pub fn with_memory_limit(&self, memory_limit: usize) -> Self {
        Self { inner: Arc::clone(&self.inner), config: RuntimeConfig { memory_limit, ..self.config } }
    }

    /// Calls into this component that ran past `call_timeout`, and waits
    /// whose write stayed pending past `write_timeout`, over every store made
    /// from it (and every runtime sharing its compilation).
    pub fn timeouts(&self) -> u64 {
        self.inner.timeouts.load(Ordering::Relaxed)
    }

    pub(crate) fn note_timeout(&self) {
        self.inner.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// The component's imports, as `name` strings; empty for this
    /// workspace's guest, which needs no capabilities.
    pub fn imports(&self) -> Vec<String> {
        let engine = self.inner.pre.engine();
        self.inner.component.component_type().imports(engine).map(|(name, _)| name.to_owned()).collect()
    }

    /// The component's exports, as `name` strings.
    pub fn exports(&self) -> Vec<String> {
        let engine = self.inner.pre.engine();
        self.inner.component.component_type().exports(engine).map(|(name, _)| name.to_owned()).collect()
    }

    /// Whether the component exports the `testing` interface (completion
    /// modes, releases, fault injection); without it, the stores' controls
    /// fail with `ComponentStoreError::NoTestingInterface`.
    pub fn has_testing(&self) -> bool {
        self.inner.indices.testing.is_some()
    }

    /// A fresh store with a fresh instance (the benchmark measures this).
    pub fn instantiate(&self) -> wasmtime::Result<Instance> {
        let budget = Budget::new(self.config.memory_limit);
        let mut store = Store::new(self.inner.pre.engine(), HostState { budget });
        store.limiter(|state| &mut state.budget);
        // Instantiation and the calls below run under one call's deadline;
        // each later call sets its own (`Slot::call`).
        store.epoch_deadline_trap();
        store.set_epoch_deadline(crate::deadline::ticks(self.config.call_timeout));
        store.set_hostcall_fuel(crate::reply::SMALL_REPLY);
        let instance = self.inner.pre.instantiate(&mut store)?;
        let indices = &self.inner.indices;
        if let Some(seeding) = &indices.hash_seed {
            // Before any store exists, so every table of the instance is keyed.
            seeding.load(&mut store, &instance)?.call_set_hash_seed(&mut store, fresh_seed())?;
        }
        let api = Api {
            done_ledger: indices.done_ledger.load(&mut store, &instance)?,
            findings: indices.findings.load(&mut store, &instance)?,
            testing: indices.testing.as_ref().map(|t| t.load(&mut store, &instance)).transpose()?,
        };
        Ok(Instance { store, api, instance })
    }

    pub(crate) fn batch_upsert_export(&self) -> &ComponentExportIndex {
        &self.inner.batch_upsert
    }

    pub(crate) fn upsert_batch_export(&self) -> &ComponentExportIndex {
        &self.inner.upsert_batch
    }
}

/// One instance of the component in its own store. Public so tests can call
/// the raw exports with values the Rust types cannot represent.
pub struct Instance {
    /// The instance's store.
    pub store: Store<HostState>,
    /// Its exports.
    pub api: Api,
    /// The instance.
    pub instance: wasmtime::component::Instance,
}
