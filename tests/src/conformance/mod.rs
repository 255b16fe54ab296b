//! The conformance suite, written once against [`Backend`](crate::Backend):
//! the reference checks of contracts.md §5 (5 done-ledger, 4 findings, 3
//! redaction) plus this project's atomicity, limits, isolation, completion,
//! fault-injection and replay checks. Each check runs on fresh stores and
//! reports failures (including panics) without stopping the others.

mod atomicity;
mod completion;
mod done_ledger;
mod error;
mod faults;
mod findings;
pub mod fixture;
mod harness;
mod isolation;
mod limits;
mod redaction;
mod replay;
mod report;
mod runner;

pub use error::{BoxError, CheckFailure};
pub use fixture::{FixtureError, SampleFixture, sample_fixture};
pub use redaction::find_leak;
pub use report::{CheckOutcome, ConformanceReport, GroupCount};
pub use runner::{CheckInfo, check_list, run_conformance, run_selected};

/// The reference groups and their check counts (contracts.md §5).
pub const REFERENCE_GROUPS: [(&str, usize); 3] = [("done-ledger", 5), ("findings", 4), ("redaction", 3)];
