//! The findings sink's own simulation ops.

use core::fmt;

use super::rows::RowKey;
use super::universe::SimBatch;
use crate::sim::ops::SimOp;

/// The findings sink's own ops; the controls are the engine's [`SimOp`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingsStoreOp {
    /// Writes a batch.
    Upsert {
        /// The batch.
        batch: SimBatch,
    },
    /// Point lookups, each compared with the oracle.
    Read {
        /// The rows to look up.
        keys: Vec<RowKey>,
    },
}

/// A findings simulation step.
pub type FindingsSimOp = SimOp<FindingsStoreOp>;

impl fmt::Display for FindingsStoreOp {
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
        }
    }
}
