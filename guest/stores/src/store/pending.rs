//! The lifecycle of one accepted write.

/// Pending(payload) → Finished(result) is the only transition; the result is
/// taken out exactly once, by `wait` or `poll`.
#[derive(Debug)]
pub(crate) enum OpState<P, R, E> {
    Pending(P),
    Finished(Result<R, E>),
}

#[derive(Debug)]
pub(crate) struct PendingOp<P, R, E> {
    pub(crate) state: OpState<P, R, E>,
    /// Set when the handle was dropped unwaited: the write still applies when
    /// released, but its result is discarded instead of kept forever.
    pub(crate) abandoned: bool,
}

impl<P, R, E> PendingOp<P, R, E> {
    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.state, OpState::Pending(_))
    }
}
