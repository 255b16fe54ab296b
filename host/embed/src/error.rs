//! The component stores' error type, and the decoding of the WIT error
//! variants back into the exact native errors.

use core::time::Duration;

use gossip_persistence::{AsStoreError, PendingWriteId, StoreError, StoreKind};
use thiserror::Error;

/// Everything a component-backed store can report.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ComponentStoreError {
    /// The store's own error, exactly as the native store reports it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The component rejected input the native types cannot represent.
    #[error("{store} component rejected input at the boundary: {error}")]
    Boundary {
        /// The store that raised it.
        store: StoreKind,
        /// What the component refused.
        error: BoundaryError,
    },
    /// The guest trapped and its instance was discarded. Unless the runtime
    /// journals acknowledged writes (`Recovery::Journal`, which rebuilds
    /// them into a fresh instance), every later call reports
    /// `StoreError::StateLost` until the store is reset.
    #[error("{store} component trapped in `{operation}`: {message} (its instance was discarded)")]
    Trap {
        /// The store whose instance trapped.
        store: StoreKind,
        /// The WIT function that trapped, such as `batch-upsert`.
        operation: &'static str,
        /// Wasmtime's description of the trap.
        message: String,
    },
    /// A call ran past `RuntimeConfig::call_timeout` (a component that
    /// loops, or one far too slow): it was interrupted and its instance
    /// discarded like a trapped one.
    #[error("{store} component did not answer `{operation}` within {after:?} (timed out; its instance was discarded)")]
    TimedOut {
        /// The store whose instance was interrupted.
        store: StoreKind,
        /// The WIT function that ran too long.
        operation: &'static str,
        /// The deadline it ran past.
        after: Duration,
    },
    /// A write still pending `RuntimeConfig::write_timeout` after `wait`
    /// began: it was never acknowledged, and its outcome is unknown.
    #[error("{store} write {op_id} did not complete within {after:?} (timed out waiting for its outcome)")]
    WriteTimedOut {
        /// The store the write was submitted to.
        store: StoreKind,
        /// The write's id.
        op_id: PendingWriteId,
        /// How long `wait` waited.
        after: Duration,
    },
    /// The component answered with more data than the contract allows the
    /// call's reply to hold (a page longer than asked, an oversized string):
    /// the host refused to copy it, and discarded the instance.
    #[error(
        "{store} component answered `{operation}` with more than the contract allows (over {allowed} bytes; wrong shape, its instance was discarded)"
    )]
    ReplyTooLarge {
        /// The store that answered.
        store: StoreKind,
        /// The WIT function it answered.
        operation: &'static str,
        /// What the host would have allocated for the reply at most.
        allowed: usize,
    },
    /// A write accepted by an instance that has since trapped or been reset:
    /// it was never acknowledged, and is lost.
    #[error("{store} write {op_id} was lost: the component instance it was accepted by is gone")]
    InstanceReset {
        /// The store the write was submitted to.
        store: StoreKind,
        /// The lost write's id in the discarded instance.
        op_id: PendingWriteId,
    },
    /// A control (completion mode, release, fault injection) on a component
    /// that exports only the worker-facing world.
    #[error("{store} component does not export the testing interface (needed by `{operation}`)")]
    NoTestingInterface {
        /// The store the control was called on.
        store: StoreKind,
        /// The control called, such as `set-auto-complete`.
        operation: &'static str,
    },
    /// A store call made from inside another call on the same store (e.g.
    /// from a `with_raw` closure), which would wait for itself forever.
    #[error("{store} store called from inside one of its own calls")]
    Reentered {
        /// The store called re-entrantly.
        store: StoreKind,
    },
    /// The component answered with something the contract does not allow
    /// (an unknown status, an invalid stored row, an unknown field name).
    #[error("{store} component broke the protocol in `{operation}`: {detail}")]
    Protocol {
        /// The store that answered.
        store: StoreKind,
        /// The call it answered, such as `paged read`.
        operation: &'static str,
        /// What was wrong with the answer.
        detail: String,
    },
    /// No instance could be created (e.g. the memory limit is below what the
    /// component needs to start).
    #[error("cannot instantiate the {store} component: {message}")]
    Instantiate {
        /// The store being created.
        store: StoreKind,
        /// Wasmtime's description of the failure.
        message: String,
    },
}

impl ComponentStoreError {
    /// Whether the call that failed discarded the store's instance (a trap,
    /// a timed-out call, an oversized reply): waiters on it must learn that
    /// their writes are gone.
    pub const fn discarded_instance(&self) -> bool {
        matches!(self, Self::Trap { .. } | Self::TimedOut { .. } | Self::ReplyTooLarge { .. })
    }
}

impl AsStoreError for ComponentStoreError {
    fn as_store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

/// Input the native types cannot represent, as reported by a component.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BoundaryError {
    /// A `done-record` whose status rank names no status (`docs/contract.md §3.2`).
    #[error("no done-ledger status has rank {0}")]
    UnknownStatusRank(u8),
    /// An observation's location that breaks its size rules (`docs/contract.md §6.4`).
    #[error("invalid location: {0}")]
    InvalidLocation(FieldError),
}

/// A field-level problem, with the field named by the component: the
/// native [`gossip_persistence::FieldError`], with the name off the wire.
pub type FieldError = gossip_persistence::FieldError<String>;
