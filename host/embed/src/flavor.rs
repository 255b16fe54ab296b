//! The two kinds of component store, as sealed type-level markers: what the
//! generic pieces (the shared instance, the commit handle) are generic over.

use gossip_persistence::CommitReceipt;
use gossip_persistence::done_ledger::DoneLedgerCommitReceipt;
use gossip_persistence::findings::FindingsCommitReceipt;

mod sealed {
    pub trait Sealed {}
}

/// Which store a component handle belongs to; implemented only by
/// [`DoneLedgerWrites`] and [`FindingsWrites`].
pub trait StoreFlavor: sealed::Sealed + Send + Sync + 'static {
    /// What a durable write of this store acknowledges.
    type Receipt: CommitReceipt;
}

/// Marks handles of done-ledger writes.
#[derive(Debug)]
pub enum DoneLedgerWrites {}

/// Marks handles of findings writes.
#[derive(Debug)]
pub enum FindingsWrites {}

impl sealed::Sealed for DoneLedgerWrites {}
impl sealed::Sealed for FindingsWrites {}
impl StoreFlavor for DoneLedgerWrites {
    type Receipt = DoneLedgerCommitReceipt;
}

impl StoreFlavor for FindingsWrites {
    type Receipt = FindingsCommitReceipt;
}
