//! The commit handles: claims on accepted writes, as the native stores give.

use core::fmt;

use gossip_persistence::done_ledger::DoneLedgerCommitReceipt;
use gossip_persistence::findings::FindingsCommitReceipt;
use gossip_persistence::store::StoreHandle;
use gossip_persistence::{CommitHandle, PendingWriteId, TrackedHandle};

use crate::done_ledger::DoneLedgerSql;
use crate::error::SqlitePersistenceError;
use crate::findings::FindingsSql;

macro_rules! commit_handle {
    ($(#[$meta:meta])* $name:ident, $backend:ty, $receipt:ty) => {
        $(#[$meta])*
        #[must_use = "durability is not established until wait() returns a receipt"]
        pub struct $name {
            handle: StoreHandle<$backend>,
        }

        impl $name {
            pub(crate) const fn new(handle: StoreHandle<$backend>) -> Self {
                Self { handle }
            }

            /// The outcome if the write has finished, without blocking.
            #[allow(clippy::type_complexity)]
            pub fn poll(&mut self) -> Result<Option<Result<$receipt, SqlitePersistenceError>>, SqlitePersistenceError> {
                Ok(self.handle.poll()?)
            }
        }

        impl TrackedHandle for $name {
            fn operation_id(&self) -> PendingWriteId {
                self.handle.operation_id()
            }
        }

        impl CommitHandle for $name {
            type Receipt = $receipt;
            type Error = SqlitePersistenceError;

            fn wait(self) -> Result<$receipt, SqlitePersistenceError> {
                self.handle.wait()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("op_id", &self.handle.operation_id()).finish()
            }
        }
    };
}

commit_handle!(
    /// A claim on one accepted done-ledger write.
    SqliteDoneLedgerHandle,
    DoneLedgerSql,
    DoneLedgerCommitReceipt
);
commit_handle!(
    /// A claim on one accepted findings write.
    SqliteFindingsHandle,
    FindingsSql,
    FindingsCommitReceipt
);
