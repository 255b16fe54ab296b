//! Reaching a live store's controller through the component's optional
//! `testing` interface.

use wasmtime::component::ResourceAny;

use crate::bindings::exports::gossip::persistence::testing::GuestController;
use crate::runtime::Api;
use crate::shared::Live;

/// The controller of a live store. Only reached when the runtime has the
/// testing interface, so a missing one is a broken instance, like a trap.
pub(crate) fn controller(api: &Api, this: Option<ResourceAny>) -> wasmtime::Result<(GuestController<'_>, ResourceAny)> {
    let testing = api.gossip_persistence_testing().ok_or_else(|| wasmtime::Error::msg("no testing interface"))?;
    let this = this.ok_or_else(|| wasmtime::Error::msg("no controller"))?;
    Ok((testing.controller(), this))
}

impl Live {
    /// Sets the completion mode of a fresh instance's store (construction
    /// and rebuilds); a refusal is an instantiation failure.
    pub(crate) fn set_auto_complete(&mut self, on: bool) -> wasmtime::Result<()> {
        let (c, this) = controller(&self.api, self.controller)?;
        c.call_set_auto_complete(&mut self.store, this, on)?
            .map_err(|e| wasmtime::Error::msg(format!("set-auto-complete refused: {e:?}")))
    }
}
