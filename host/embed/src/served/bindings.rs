//! Host bindings of `gossip:persistence/store-user`: the imports a worker
//! makes, implemented by the host ([`super::resources`]).

/// The store's WIT types as the component stores already name them, so the
/// crate's conversions (`convert`, `decode`) apply unchanged; plus the empty
/// host side that bindgen expects of an imported interface (`types` has no
/// functions, so its `Host` asks for nothing and linking it only declares
/// the instance).
pub mod types {
    pub use crate::bindings::exports::gossip::persistence::types::*;

    /// What bindgen's world bounds name for the data of an imported interface.
    pub trait HostWithStore<T>: wasmtime::component::HasData {}
    impl<H: ?Sized, T> HostWithStore<T> for H where H: wasmtime::component::HasData {}

    /// The host side of `types`: nothing to implement.
    pub trait Host {}
    impl<H: Host + ?Sized> Host for &mut H {}

    /// Declares the `types` instance (it has no functions to link).
    pub fn add_to_linker<T, D>(
        linker: &mut wasmtime::component::Linker<T>,
        _host_getter: fn(&mut T) -> D::Data<'_>,
    ) -> wasmtime::Result<()>
    where
        D: HostWithStore<T>,
        for<'a> D::Data<'a>: Host,
        T: 'static,
    {
        linker.instance("gossip:persistence/types@0.2.0")?;
        Ok(())
    }
}

wasmtime::component::bindgen!({
    world: "gossip:persistence/store-user",
    path: "../../wit",
    // Every import may fail on the host's side (a lost database connection
    // has no `store-error`): the call then traps with the host's error.
    imports: { default: trappable },
    with: {
        "gossip:persistence/types": crate::served::bindings::types,
        "gossip:persistence/done-ledger.done-ledger": crate::served::resources::LedgerHandle,
        "gossip:persistence/done-ledger.done-write": crate::served::resources::DoneWrite,
        "gossip:persistence/findings.findings-sink": crate::served::resources::SinkHandle,
        "gossip:persistence/findings.findings-write": crate::served::resources::FindingsWrite,
    },
});
