//! Why a check failed, always naming the case that caught it (for example
//! "done-ledger/idempotent:fetch"), modelled on the reference harness errors.

use gossip_persistence::PendingWriteId;
use thiserror::Error;

/// A boxed source error, so backend errors of any type can be kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum CheckFailure {
    #[error("{case}: could not build the fixture: {source}")]
    FixtureConstruction { case: &'static str, source: BoxError },
    #[error("{case}: the backend could not create a fresh store: {source}")]
    Backend { case: &'static str, source: BoxError },
    #[error("{case}: done-ledger submit failed: {source}")]
    DoneLedgerSubmit { case: &'static str, source: BoxError },
    #[error("{case}: done-ledger wait failed: {source}")]
    DoneLedgerWait { case: &'static str, source: BoxError },
    /// Also used for list/count and snapshot errors.
    #[error("{case}: done-ledger read failed: {source}")]
    DoneLedgerGet { case: &'static str, source: BoxError },
    #[error("{case}: {message}")]
    DoneLedgerInvariant { case: &'static str, message: String },
    #[error("{case}: findings submit failed: {source}")]
    FindingsSubmit { case: &'static str, source: BoxError },
    #[error("{case}: findings wait failed: {source}")]
    FindingsWait { case: &'static str, source: BoxError },
    #[error("{case}: findings read failed: {source}")]
    FindingsRead { case: &'static str, source: BoxError },
    #[error("{case}: {message}")]
    FindingsInvariant { case: &'static str, message: String },
    #[error("{case}: durable-count probe failed: {source}")]
    Probe { case: &'static str, source: BoxError },
    #[error("{case}: store control call failed: {source}")]
    Control { case: &'static str, source: BoxError },
    #[error("{case}: {message}")]
    ControlInvariant { case: &'static str, message: String },
    /// Waiting would block forever, so the check stops instead of hanging the suite.
    #[error("{case}: write {op_id} is still pending where it must have finished; waiting on it would block forever")]
    StillPending { case: &'static str, op_id: PendingWriteId },
    #[error("{case}: expected error {expected}, got {actual}")]
    WrongError { case: &'static str, expected: String, actual: String },
    /// Display never prints `debug_output`, and only a prefix of the fragment,
    /// so the report itself cannot leak what it caught.
    #[error("{case}: Debug output leaks secret-derived bytes ({}...)", fragment_prefix(leaked_fragment))]
    RedactionLeak { case: &'static str, debug_output: String, leaked_fragment: String },
    #[error("{case}: panicked: {message}")]
    Panicked { case: &'static str, message: String },
}

fn fragment_prefix(fragment: &str) -> String {
    fragment.chars().take(8).collect()
}

impl CheckFailure {
    pub const fn case(&self) -> &'static str {
        match self {
            Self::FixtureConstruction { case, .. }
            | Self::Backend { case, .. }
            | Self::DoneLedgerSubmit { case, .. }
            | Self::DoneLedgerWait { case, .. }
            | Self::DoneLedgerGet { case, .. }
            | Self::DoneLedgerInvariant { case, .. }
            | Self::FindingsSubmit { case, .. }
            | Self::FindingsWait { case, .. }
            | Self::FindingsRead { case, .. }
            | Self::FindingsInvariant { case, .. }
            | Self::Probe { case, .. }
            | Self::Control { case, .. }
            | Self::ControlInvariant { case, .. }
            | Self::StillPending { case, .. }
            | Self::WrongError { case, .. }
            | Self::RedactionLeak { case, .. }
            | Self::Panicked { case, .. } => case,
        }
    }
}
