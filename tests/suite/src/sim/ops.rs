//! The operations of a simulation step. A store's own ops (its writes and
//! reads) come from its plug-in; the controls every store shares (releases
//! in either order, releasing one write, fault injection) are drawn and
//! executed by the engine, so they are written once.

use core::fmt;

use gossip_persistence::{CompletionOrder, PendingWriteId};

/// One step: `S` is the store's own op type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimOp<S> {
    /// A write or a read of the store.
    Store(S),
    /// Releases the oldest pending write.
    ReleaseOldest,
    /// Releases the newest pending write.
    ReleaseNewest,
    /// Releases one write by id (which may not be pending).
    ReleaseSpecific {
        /// The write to release.
        op_id: PendingWriteId,
    },
    /// Releases every pending write.
    ReleaseAll {
        /// The order the store applies them in.
        order: CompletionOrder,
    },
    /// Rejects the next `count` submissions.
    InjectSubmitFailure {
        /// How many.
        count: usize,
    },
    /// Fails the next `count` commits.
    InjectCommitFailure {
        /// How many.
        count: usize,
    },
    /// Delays the next `count` accepted writes until a release.
    InjectDelay {
        /// How many.
        count: usize,
    },
}

impl<S> SimOp<S> {
    /// Whether the op arms faults (and so is not followed by the per-write fault draws).
    pub const fn is_fault_injection(&self) -> bool {
        matches!(self, Self::InjectSubmitFailure { .. } | Self::InjectCommitFailure { .. } | Self::InjectDelay { .. })
    }
}

pub(crate) const fn order_name(order: CompletionOrder) -> &'static str {
    match order {
        CompletionOrder::OldestFirst => "oldest",
        CompletionOrder::NewestFirst => "newest",
    }
}

impl<S: fmt::Display> fmt::Display for SimOp<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(op) => op.fmt(f),
            Self::ReleaseOldest => f.write_str("release-oldest"),
            Self::ReleaseNewest => f.write_str("release-newest"),
            Self::ReleaseSpecific { op_id } => write!(f, "release {}", op_id.as_raw()),
            Self::ReleaseAll { order } => write!(f, "release-all {}", order_name(*order)),
            Self::InjectSubmitFailure { count } => write!(f, "inject submit-failure x{count}"),
            Self::InjectCommitFailure { count } => write!(f, "inject commit-failure x{count}"),
            Self::InjectDelay { count } => write!(f, "inject delay x{count}"),
        }
    }
}

/// What one entry of an op mix draws: a store op of kind `D` (which the
/// plug-in generates), or a control op (which the engine generates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw<D> {
    /// A store op, drawn by the plug-in.
    Store(D),
    /// Refused while nothing is pending: no attempt is wasted on a certain no-op.
    ReleaseOldest,
    /// Drawn even with nothing pending, so `ReleaseNoop` actually happens.
    ReleaseNewest,
    /// Usually a held write, otherwise an arbitrary id.
    ReleaseSpecific,
    /// In a random order.
    ReleaseAll,
    /// Arms 1 to `max` submission failures.
    InjectSubmitFailure {
        /// The most it arms.
        max: usize,
    },
    /// Arms 1 to `max` commit failures.
    InjectCommitFailure {
        /// The most it arms.
        max: usize,
    },
    /// Arms 1 to `max` delays.
    InjectDelay {
        /// The most it arms.
        max: usize,
    },
}

/// How a mix shares the rolls among the controls, which it draws after the
/// store's ops, in this order. A share is how many of the 100 rolls draw the
/// op; a fault op's second number is the most faults it arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMix {
    /// Release the oldest pending write.
    pub oldest: u32,
    /// Release the newest pending write.
    pub newest: u32,
    /// Release one write by id.
    pub by_id: u32,
    /// Fail the next submissions.
    pub submit: (u32, usize),
    /// Fail the next commits.
    pub commit: (u32, usize),
    /// Delay the next writes.
    pub delay: (u32, usize),
    /// Release every pending write.
    pub all: u32,
}

impl ControlMix {
    /// No control op at all.
    pub const NONE: Self =
        Self { oldest: 0, newest: 0, by_id: 0, submit: (0, 0), commit: (0, 0), delay: (0, 0), all: 0 };

    fn draws<D>(self) -> [(u32, Draw<D>); 7] {
        let Self { oldest, newest, by_id, submit, commit, delay, all } = self;
        [
            (oldest, Draw::ReleaseOldest),
            (newest, Draw::ReleaseNewest),
            (by_id, Draw::ReleaseSpecific),
            (submit.0, Draw::InjectSubmitFailure { max: submit.1 }),
            (commit.0, Draw::InjectCommitFailure { max: commit.1 }),
            (delay.0, Draw::InjectDelay { max: delay.1 }),
            (all, Draw::ReleaseAll),
        ]
    }
}

/// A weighted op mix over a roll in `0..100`: the store's ops, then the
/// controls, each drawn by as many rolls as its share; the shares add up to
/// 100.
#[derive(Debug, Clone, Copy)]
pub struct OpMix<D: 'static> {
    /// The store's ops with their shares. The first is also the fallback
    /// when every draw was refused, so it must always be possible.
    pub store: &'static [(u32, D)],
    /// The controls' shares.
    pub controls: ControlMix,
}

impl<D: Copy> OpMix<D> {
    /// What `roll` draws.
    pub(crate) fn pick(&self, roll: u32) -> Draw<D> {
        let store = self.store.iter().map(|&(share, what)| (share, Draw::Store(what)));
        let mut upto = 0;
        for (share, draw) in store.chain(self.controls.draws()) {
            upto += share;
            if roll < upto {
                return draw;
            }
        }
        panic!("the shares of an op mix add up to {upto}, not 100")
    }

    /// The fallback: the first store op.
    pub(crate) fn first(&self) -> Draw<D> {
        Draw::Store(self.store[0].1)
    }
}
