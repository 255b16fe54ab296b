//! The operations a findings simulation step can perform.

use core::fmt;

use gossip_persistence::{CompletionOrder, PendingWriteId};

use super::rows::RowKey;
use super::universe::SimBatch;
use crate::sim::done_ledger::ops::order_name;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsSimOp {
    Upsert {
        batch: SimBatch,
    },
    /// Point lookups, each compared with the oracle.
    Read {
        keys: Vec<RowKey>,
    },
    ReleaseOldest,
    ReleaseNewest,
    ReleaseSpecific {
        op_id: PendingWriteId,
    },
    ReleaseAll {
        order: CompletionOrder,
    },
    InjectSubmitFailure {
        count: usize,
    },
    InjectCommitFailure {
        count: usize,
    },
    InjectDelay {
        count: usize,
    },
}

impl FindingsSimOp {
    pub const fn is_fault_injection(&self) -> bool {
        matches!(self, Self::InjectSubmitFailure { .. } | Self::InjectCommitFailure { .. } | Self::InjectDelay { .. })
    }
}

impl fmt::Display for FindingsSimOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Upsert { batch } => write!(f, "upsert {batch}"),
            Self::Read { keys } => {
                f.write_str("read [")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    k.fmt(f)?;
                }
                f.write_str("]")
            }
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
