//! Compiling a component once and stamping out instances of it.

use std::path::Path;
use std::sync::Arc;

use wasmtime::component::{Component, ComponentExportIndex, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder,
};

use crate::ComponentStoreError;
use crate::bindings::{Persistence, PersistenceIndices, PersistencePre};
use crate::ledger::ComponentDoneLedger;
use crate::sink::ComponentFindingsSink;

/// Guest linear memory allowed per store instance unless configured otherwise.
/// A full 10,000-record batch needs a few MiB; 256 MiB leaves room for large
/// stores while a runaway guest still cannot take the host down.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// How components are compiled and instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Cap on each instance's linear memory, in bytes; growing past it fails
    /// inside the guest (which then typically traps: an allocation failure).
    pub memory_limit: usize,
    /// Pre-reserve instance slots with wasmtime's pooling allocator: faster
    /// instantiation, but at most this many live instances per runtime.
    pub pooling_instances: Option<u32>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self { memory_limit: DEFAULT_MEMORY_LIMIT, pooling_instances: None }
    }
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read component {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot configure the wasm engine: {0}")]
    Engine(String),
    #[error("{name} is not a valid component: {message}")]
    Compile { name: String, message: String },
    #[error("{name} does not implement the gossip:persistence world: {message}")]
    Link { name: String, message: String },
}

/// Per-instance host state: only the resource limiter (opaque).
pub struct HostState {
    limits: StoreLimits,
}

struct RuntimeInner {
    name: String,
    config: RuntimeConfig,
    component: Component,
    pre: PersistencePre<HostState>,
    indices: PersistenceIndices,
    /// `done-ledger.batch-upsert`, called with the fast row lowering.
    batch_upsert: ComponentExportIndex,
}

/// A component compiled once and pre-instantiated; cheap to clone, and every
/// store made from it gets its own fresh instance.
#[derive(Clone)]
pub struct ComponentRuntime {
    inner: Arc<RuntimeInner>,
}

impl core::fmt::Debug for ComponentRuntime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ComponentRuntime").field("name", &self.inner.name).field("config", &self.inner.config).finish()
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

impl ComponentRuntime {
    /// The component built from this workspace's guest.
    pub fn bundled() -> Result<Self, LoadError> {
        Self::from_bytes("component", crate::BUNDLED_COMPONENT, RuntimeConfig::default())
    }

    /// A component file; its file name becomes the runtime's name.
    pub fn from_file(path: impl AsRef<Path>, config: RuntimeConfig) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Self::from_bytes(&name, &bytes, config)
    }

    pub fn from_bytes(name: &str, bytes: &[u8], config: RuntimeConfig) -> Result<Self, LoadError> {
        let mut wasm = Config::new();
        // No async or concurrent component-model features: the stores make
        // plain synchronous calls, which are 2-3x cheaper without them.
        wasm.concurrency_support(false);
        if let Some(instances) = config.pooling_instances {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(instances)
                .total_core_instances(instances.saturating_mul(4))
                .total_memories(instances.saturating_mul(2))
                .total_tables(instances.saturating_mul(4))
                .max_memory_size(config.memory_limit);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(|e| LoadError::Engine(describe(&e)))?;
        let component = Component::new(&engine, bytes)
            .map_err(|e| LoadError::Compile { name: name.to_owned(), message: describe(&e) })?;
        let linker = Linker::<HostState>::new(&engine);
        let link = |e: wasmtime::Error| LoadError::Link { name: name.to_owned(), message: describe(&e) };
        let instance_pre = linker.instantiate_pre(&component).map_err(link)?;
        let indices = PersistenceIndices::new(&instance_pre).map_err(link)?;
        let pre = PersistencePre::new(instance_pre).map_err(link)?;
        let batch_upsert = component
            .get_export_index(None, "gossip:persistence/done-ledger@0.1.0")
            .and_then(|iface| component.get_export_index(Some(&iface), "[method]done-ledger.batch-upsert"))
            .ok_or_else(|| LoadError::Link {
                name: name.to_owned(),
                message: "no done-ledger.batch-upsert export".to_owned(),
            })?;
        Ok(Self {
            inner: Arc::new(RuntimeInner { name: name.to_owned(), config, component, pre, indices, batch_upsert }),
        })
    }

    /// "component" for the bundled guest, else the component's file name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn config(&self) -> RuntimeConfig {
        self.inner.config
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

    /// A fresh store with a fresh instance (the benchmark measures this).
    pub fn instantiate(&self) -> wasmtime::Result<Instance> {
        let limits = StoreLimitsBuilder::new().memory_size(self.inner.config.memory_limit).build();
        let mut store = Store::new(self.inner.pre.engine(), HostState { limits });
        store.limiter(|state| &mut state.limits);
        let instance = self.inner.pre.instance_pre().instantiate(&mut store)?;
        let api = self.inner.indices.load(&mut store, &instance)?;
        Ok(Instance { store, api, instance })
    }

    pub(crate) fn batch_upsert_export(&self) -> &ComponentExportIndex {
        &self.inner.batch_upsert
    }

    /// A new, empty done-ledger in its own instance (auto-complete on).
    pub fn new_ledger(&self) -> Result<ComponentDoneLedger, ComponentStoreError> {
        ComponentDoneLedger::new(self.clone(), true)
    }

    pub fn new_ledger_with_auto_complete(
        &self,
        auto_complete: bool,
    ) -> Result<ComponentDoneLedger, ComponentStoreError> {
        ComponentDoneLedger::new(self.clone(), auto_complete)
    }

    /// A new, empty findings sink in its own instance (auto-complete on).
    pub fn new_sink(&self) -> Result<ComponentFindingsSink, ComponentStoreError> {
        ComponentFindingsSink::new(self.clone(), true)
    }

    pub fn new_sink_with_auto_complete(
        &self,
        auto_complete: bool,
    ) -> Result<ComponentFindingsSink, ComponentStoreError> {
        ComponentFindingsSink::new(self.clone(), auto_complete)
    }
}

/// One instance of the component in its own store. Public so tests can call
/// the raw exports with values the Rust types cannot represent.
pub struct Instance {
    pub store: Store<HostState>,
    pub api: Persistence,
    pub instance: wasmtime::component::Instance,
}
