//! The store resources' common part: the native store each wraps.

use std::sync::Arc;

use super::registry::{Listed, register};

/// A store resource (`done-ledger` in `ledger`, `findings-sink` in `sink`):
/// the native store it wraps.
pub struct Store<S> {
    /// Shared only with the `testing` registry, which holds it weakly: a
    /// store the worker dropped is no longer a live store.
    pub(super) store: Arc<S>,
}

impl<S: Default + Listed> Store<S> {
    /// A new, empty store; in a testable build, listed for `live-controllers`.
    pub(super) fn open() -> Self {
        let store = Arc::new(S::default());
        register(&store);
        Self { store }
    }
}
