//! The engine's running tally of a run: the faults it armed that no write
//! has used up yet (its fault debt), and the shared coverage figures.
//!
//! The store does not say how many armed faults it still holds, but every
//! fault it uses up shows as one event (docs/contract.md §9.4, §9.6): a
//! submit failure as `UpsertSubmitFailed`, a commit failure as one failed
//! commit, a delay as one `UpsertPending`. So counting arms against those
//! events tracks the store's counters exactly for a conforming store.

use super::coverage::Coverage;
use super::events::SimEvent;

/// Armed faults not yet used up, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultDebt {
    /// Submission failures.
    pub submit: usize,
    /// Commit failures.
    pub commit: usize,
    /// Delays.
    pub delay: usize,
}

impl FaultDebt {
    /// The armed faults that can still fail a write.
    pub const fn failures(&self) -> usize {
        self.submit.saturating_add(self.commit)
    }
}

/// The debt and the coverage the engine counts itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunTally {
    pub debt: FaultDebt,
    pub coverage: Coverage,
}

impl RunTally {
    /// A write was submitted.
    pub fn submitted(&mut self) {
        self.coverage.upserts_submitted += 1;
    }

    /// What a write's submit, or its settling, observed.
    pub fn settled<C, X>(&mut self, event: &SimEvent<C, X>) {
        let c = &mut self.coverage;
        match event {
            SimEvent::UpsertCommitted { .. } | SimEvent::Released { .. } => c.upserts_committed += 1,
            SimEvent::UpsertPending { .. } => self.debt.delay = self.debt.delay.saturating_sub(1),
            SimEvent::UpsertSubmitFailed => {
                c.upserts_submit_failed += 1;
                self.debt.submit = self.debt.submit.saturating_sub(1);
            }
            SimEvent::UpsertCommitFailed { .. } | SimEvent::ReleasedCommitFailed { .. } => {
                c.upserts_commit_failed += 1;
                self.debt.commit = self.debt.commit.saturating_sub(1);
            }
            _ => {}
        }
    }

    /// What a release settled: the write committed, or failed by a fault or a refusal.
    pub fn released<C, X>(&mut self, event: &SimEvent<C, X>) {
        if matches!(event, SimEvent::Released { .. }) {
            self.coverage.releases_applied += 1;
        } else {
            self.coverage.releases_failed += 1;
        }
        self.settled(event);
    }
}
