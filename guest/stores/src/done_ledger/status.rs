//! The done-ledger status lattice, ordered by rank.

/// Ranks 4..=9 are reserved for future non-terminal states; any rank that
/// does not map back through [`DoneLedgerStatus::from_rank`] is corruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DoneLedgerStatus {
    /// Failed, may succeed on a rescan: the only non-terminal status.
    FailedRetryable = 1,
    /// Failed for good; terminal, so never rescanned.
    FailedPermanent = 2,
    /// Deliberately not scanned; no rescan needed.
    Skipped = 3,
    /// Scanned, nothing found; carries a findings count of 0.
    ScannedClean = 10,
    /// Scanned, with at least one finding.
    ScannedWithFindings = 11,
}

impl DoneLedgerStatus {
    /// Every status, in rank order.
    pub const ALL: [Self; 5] =
        [Self::FailedRetryable, Self::FailedPermanent, Self::Skipped, Self::ScannedClean, Self::ScannedWithFindings];

    /// The stored and wire form (WIT `status-rank`).
    pub const fn rank(self) -> u8 {
        self as u8
    }

    /// `None` for any rank that names no status, reserved ones included.
    pub const fn from_rank(rank: u8) -> Option<Self> {
        match rank {
            1 => Some(Self::FailedRetryable),
            2 => Some(Self::FailedPermanent),
            3 => Some(Self::Skipped),
            10 => Some(Self::ScannedClean),
            11 => Some(Self::ScannedWithFindings),
            _ => None,
        }
    }

    /// The lattice join: the higher rank (equal ranks are the same variant).
    #[must_use]
    pub const fn merge(self, other: Self) -> Self {
        let other_is_higher = other.rank() > self.rank();
        // The planted bug for the extracted-model differential
        // (scripts/extraction.sh): the join keeps the lower rank.
        #[cfg(model_planted_bug = "status_merge_flipped")]
        let other_is_higher = other.rank() < self.rank();
        if other_is_higher { other } else { self }
    }

    /// Whether the object version was actually scanned (`ScannedClean`, `ScannedWithFindings`).
    pub const fn is_scanned(self) -> bool {
        matches!(self, Self::ScannedClean | Self::ScannedWithFindings)
    }

    /// Whether the scan failed (`FailedRetryable`, `FailedPermanent`).
    pub const fn is_failure(self) -> bool {
        matches!(self, Self::FailedRetryable | Self::FailedPermanent)
    }

    /// Whether the object version was skipped.
    pub const fn is_skipped(self) -> bool {
        matches!(self, Self::Skipped)
    }

    /// Whether this status suppresses a future rescan.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::FailedRetryable)
    }

    /// The variant name, as used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::FailedRetryable => "FailedRetryable",
            Self::FailedPermanent => "FailedPermanent",
            Self::Skipped => "Skipped",
            Self::ScannedClean => "ScannedClean",
            Self::ScannedWithFindings => "ScannedWithFindings",
        }
    }
}
