//! What a done-ledger simulation step observed: the engine's shared events
//! with the ledger's receipts, plus its one outcome of its own, a read.

use core::fmt;

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};

use super::ops::ShortRecord;
use crate::sim::events::{ReceiptText, SimEvent, SimEventKind, StoreKind, StoreOutcome};

/// The done-ledger's own outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoneLedgerOutcome {
    /// A read of pool keys.
    GetOk {
        /// Each key's durable row.
        results: Vec<Option<DoneLedgerRecord>>,
    },
}

/// The done-ledger's own event kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DoneLedgerStoreKind {
    /// A read.
    GetOk,
}

/// What a done-ledger step observed.
pub type DoneLedgerSimEvent = SimEvent<DoneLedgerCommitReceipt, DoneLedgerOutcome>;
/// A kind of done-ledger event.
pub type DoneLedgerSimEventKind = SimEventKind<DoneLedgerStoreKind>;

impl StoreKind for DoneLedgerStoreKind {
    const ALL: &'static [Self] = &[Self::GetOk];

    fn name(self) -> &'static str {
        match self {
            Self::GetOk => "GetOk",
        }
    }

    fn needs_faults(self) -> bool {
        false
    }
}

impl StoreOutcome for DoneLedgerOutcome {
    type Kind = DoneLedgerStoreKind;

    fn kind(&self) -> DoneLedgerStoreKind {
        match self {
            Self::GetOk { .. } => DoneLedgerStoreKind::GetOk,
        }
    }
}

/// The writes a release-all settled count as releases too.
pub(crate) fn extra_kinds(event: &DoneLedgerSimEvent) -> [(DoneLedgerSimEventKind, usize); 2] {
    let (committed, failed) = match *event {
        SimEvent::ReleasedAll { committed, failed, .. } => (committed, failed),
        _ => (0, 0),
    };
    [(SimEventKind::Released, committed), (SimEventKind::ReleasedCommitFailed, failed)]
}

impl ReceiptText for DoneLedgerCommitReceipt {
    fn fmt_receipt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{},{})", self.record_count(), self.scanned_count(), self.findings_count())
    }
}

impl fmt::Display for DoneLedgerOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GetOk { results } => {
                f.write_str("GetOk [")?;
                for (i, r) in results.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    match r {
                        Some(r) => write!(f, "{}", ShortRecord(r))?,
                        None => f.write_str("-")?,
                    }
                }
                f.write_str("]")
            }
        }
    }
}
