//! The findings contract: three layers with referential integrity.

mod batch;
mod receipt;
mod records;

pub use batch::{FindingsUpsertBatch, admit_immutable};
pub use receipt::{DurableFindingsCounts, FindingsCommitReceipt};
pub use records::{FindingRecord, ObservationRecord, OccurrenceRecord};

/// Which record's provenance survives an observation upsert, or `None` when
/// the identity fields differ (a conflict).
///
/// The later `seen_at` wins; on a tie, incoming wins only by bringing a
/// location that existing lacks. The location falls back across both records
/// so a sighting without one never erases a known path.
pub fn merge_observations(existing: &ObservationRecord, incoming: &ObservationRecord) -> Option<ObservationRecord> {
    if !existing.same_identity(incoming) {
        return None;
    }
    let incoming_wins = match incoming.seen_at().cmp(&existing.seen_at()) {
        core::cmp::Ordering::Greater => true,
        core::cmp::Ordering::Less => false,
        core::cmp::Ordering::Equal => existing.location().is_none() && incoming.location().is_some(),
    };
    let winner = if incoming_wins { incoming } else { existing };
    let merged = ObservationRecord::new(
        existing.tenant_id(),
        existing.occurrence_id(),
        existing.policy_hash(),
        existing.ovid_hash(),
        winner.run_id(),
        winner.shard_id(),
        winner.fence_epoch(),
        winner.seen_at(),
    );
    let location = winner.location_arc().or_else(|| existing.location_arc()).or_else(|| incoming.location_arc());
    Some(match location {
        Some(loc) => merged.with_location(loc),
        None => merged,
    })
}
