//! The component as a suite backend: fresh stores, each in its own instance.

use gossip_suite::Backend;

use gossip_host::{ComponentDoneLedger, ComponentFindingsSink, ComponentRuntime};

/// Guest memory of the bounded ledger the capacity check fills: a few
/// hundred thousand rows, filled in well under a second.
pub const BOUNDED_MEMORY: usize = 24 << 20;

/// Certifies a component: every `new_*` is a fresh instance of one
/// compiled, pre-instantiated component.
#[derive(Clone, Debug)]
pub struct ComponentBackend {
    runtime: ComponentRuntime,
}

impl ComponentBackend {
    /// A backend of fresh instances of `runtime`'s component.
    pub const fn new(runtime: ComponentRuntime) -> Self {
        Self { runtime }
    }

    /// The compiled component.
    pub const fn runtime(&self) -> &ComponentRuntime {
        &self.runtime
    }
}

impl Backend for ComponentBackend {
    type Ledger = ComponentDoneLedger;
    type Sink = ComponentFindingsSink;

    /// "component" for the bundled guest, else the component's file name.
    fn name(&self) -> &str {
        self.runtime.name()
    }

    /// Whether the component exports the `testing` interface.
    fn supports_testing(&self) -> bool {
        self.runtime.has_testing()
    }

    /// The same component capped at [`BOUNDED_MEMORY`]: small enough to fill
    /// in the capacity check.
    fn new_bounded_ledger(&self) -> Option<anyhow::Result<ComponentDoneLedger>> {
        Some(self.runtime.with_memory_limit(BOUNDED_MEMORY).new_ledger().map_err(Into::into))
    }

    /// Once any call or write of the component timed out: a component
    /// that stops answering would otherwise cost every later check its full
    /// deadline.
    fn unresponsive(&self) -> Option<String> {
        let timeouts = self.runtime.timeouts();
        (timeouts > 0).then(|| {
            format!(
                "the component stopped answering ({timeouts} timeout{}): later checks are not run",
                if timeouts == 1 { "" } else { "s" }
            )
        })
    }

    fn new_ledger(&self) -> anyhow::Result<ComponentDoneLedger> {
        Ok(self.runtime.new_ledger()?)
    }

    fn new_sink(&self) -> anyhow::Result<ComponentFindingsSink> {
        Ok(self.runtime.new_sink()?)
    }
}
