//! The conformance suite, written once against [`Backend`](crate::Backend):
//! the reference checks of docs/contract.md §13 (5 done-ledger, 4 findings, 3
//! redaction) plus this project's atomicity, limits, isolation, completion,
//! fault-injection, replay and paging checks. Each check runs on fresh stores
//! and reports failures (including panics) without stopping the others.
//!
//! Each check also declares whether it needs the test machinery
//! ([`CheckInfo::needs_testing`]); on a backend without it
//! ([`Backend::supports_testing`](crate::Backend::supports_testing) false)
//! those checks are reported as skipped, and only the contract checks run.

mod atomicity;
mod capacity;
mod completion;
mod done_ledger;
mod error;
mod faults;
mod findings;
pub mod fixture;
mod harness;
mod isolation;
mod limits;
mod merge;
mod observation_merge;
mod paging;
mod redaction;
mod replay;
mod report;
mod runner;

pub use error::{BoxError, CheckFailure};
pub use fixture::{FixtureError, SampleFixture, sample_fixture};
pub use redaction::find_leak;
pub use report::{CheckOutcome, CheckStatus, ConformanceReport, GroupCount, printable};
pub use runner::{CheckInfo, NEEDS_BOUNDED, NEEDS_TESTING, check_list, run_conformance, run_selected};

/// The reference groups and their check counts (docs/contract.md §13).
pub const REFERENCE_GROUPS: [(&str, usize); 3] = [("done-ledger", 5), ("findings", 4), ("redaction", 3)];
