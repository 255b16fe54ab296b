//! Why a check failed, always naming the case that caught it (for example
//! "done-ledger/idempotent:fetch"), modelled on the reference harness errors.

use gossip_persistence::PendingWriteId;
use thiserror::Error;

/// A boxed source error, so backend errors of any type can be kept.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why one conformance case failed; every variant names the case, such as
/// `done-ledger/idempotent:fetch`, and keeps the backend's error when there is one.
#[derive(Debug, Error)]
pub enum CheckFailure {
    /// The case's records could not be built, such as for a seed out of range.
    #[error("{case}: could not build the fixture: {source}")]
    FixtureConstruction {
        /// The case that caught it.
        case: &'static str,
        /// Why the fixture was refused.
        source: BoxError,
    },
    /// The backend could not create a fresh store.
    #[error("{case}: the backend could not create a fresh store: {source}")]
    Backend {
        /// The case that caught it.
        case: &'static str,
        /// The backend's error.
        source: BoxError,
    },
    /// A done-ledger submission was refused where it must be accepted.
    #[error("{case}: done-ledger submit failed: {source}")]
    DoneLedgerSubmit {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// A done-ledger write failed where it must become durable.
    #[error("{case}: done-ledger wait failed: {source}")]
    DoneLedgerWait {
        /// The case that caught it.
        case: &'static str,
        /// The write's outcome.
        source: BoxError,
    },
    /// Also used for list/count and snapshot errors.
    #[error("{case}: done-ledger read failed: {source}")]
    DoneLedgerGet {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// The done-ledger answered, but not what the contract requires.
    #[error("{case}: {message}")]
    DoneLedgerInvariant {
        /// The case that caught it.
        case: &'static str,
        /// What was expected and what came back.
        message: String,
    },
    /// A findings submission was refused where it must be accepted.
    #[error("{case}: findings submit failed: {source}")]
    FindingsSubmit {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// A findings write failed where it must become durable.
    #[error("{case}: findings wait failed: {source}")]
    FindingsWait {
        /// The case that caught it.
        case: &'static str,
        /// The write's outcome.
        source: BoxError,
    },
    /// A findings lookup or snapshot failed.
    #[error("{case}: findings read failed: {source}")]
    FindingsRead {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// The findings sink answered, but not what the contract requires.
    #[error("{case}: {message}")]
    FindingsInvariant {
        /// The case that caught it.
        case: &'static str,
        /// What was expected and what came back.
        message: String,
    },
    /// `durable_counts` failed.
    #[error("{case}: durable-count probe failed: {source}")]
    Probe {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// A completion or fault-injection control failed.
    #[error("{case}: store control call failed: {source}")]
    Control {
        /// The case that caught it.
        case: &'static str,
        /// The store's error.
        source: BoxError,
    },
    /// A control answered, but not what the contract requires (a release count,
    /// pending ids).
    #[error("{case}: {message}")]
    ControlInvariant {
        /// The case that caught it.
        case: &'static str,
        /// What was expected and what came back.
        message: String,
    },
    /// Waiting would block forever, so the check stops instead of hanging the suite.
    #[error("{case}: write {op_id} is still pending where it must have finished; waiting on it would block forever")]
    StillPending {
        /// The case that caught it.
        case: &'static str,
        /// The write that should have finished.
        op_id: PendingWriteId,
    },
    /// An operation failed, or was rejected, with another error than the contract names.
    #[error("{case}: expected error {expected}, got {actual}")]
    WrongError {
        /// The case that caught it.
        case: &'static str,
        /// The error the contract requires.
        expected: String,
        /// What the backend did instead: another error, or success.
        actual: String,
    },
    /// Display never prints `debug_output`, and only a prefix of the fragment,
    /// so the report itself cannot leak what it caught.
    #[error("{case}: Debug output leaks secret-derived bytes ({}...)", fragment_prefix(leaked_fragment))]
    RedactionLeak {
        /// The case that caught it.
        case: &'static str,
        /// The whole `Debug` output that leaked; never displayed.
        debug_output: String,
        /// The secret-derived encoding found in it.
        leaked_fragment: String,
    },
    /// The check panicked; the suite caught it and carried on.
    #[error("{case}: panicked: {message}")]
    Panicked {
        /// The case that caught it.
        case: &'static str,
        /// The panic's payload, when it is a string.
        message: String,
    },
}

fn fragment_prefix(fragment: &str) -> String {
    fragment.chars().take(8).collect()
}

impl CheckFailure {
    /// The case that caught it, such as `done-ledger/idempotent:fetch`.
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
