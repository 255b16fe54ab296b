//! The commit handles: the store core's own, over the SQL backends.

use gossip_persistence::store::StoreHandle;

use crate::done_ledger::DoneLedgerSql;
use crate::findings::FindingsSql;

/// A claim on one accepted done-ledger write.
pub type SqliteDoneLedgerHandle = StoreHandle<DoneLedgerSql>;

/// A claim on one accepted findings write.
pub type SqliteFindingsHandle = StoreHandle<FindingsSql>;
