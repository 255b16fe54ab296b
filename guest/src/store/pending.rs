//! The lifecycle of one accepted write.

use super::error::InMemoryPersistenceError;

/// Pending(payload) → Finished(result) is the only transition; the result is
/// taken out exactly once, by `wait` or `poll`.
#[derive(Debug)]
pub(crate) enum OpState<P, R> {
    Pending(P),
    Finished(Result<R, InMemoryPersistenceError>),
}

#[derive(Debug)]
pub(crate) struct PendingOp<P, R> {
    pub(crate) state: OpState<P, R>,
    /// Set when the handle was dropped unwaited: the write still applies when
    /// released, but its result is discarded instead of kept forever.
    pub(crate) abandoned: bool,
}

impl<P, R> PendingOp<P, R> {
    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.state, OpState::Pending(_))
    }
}
