//! A borrowed batch of findings-layer records and its submit-time checks.

use std::collections::hash_map::Entry;

use crate::hash::HashSet;

use super::records::{FindingRecord, ObservationRecord, OccurrenceRecord};
use crate::identity::TenantId;
use crate::input_error::{PersistenceInputError, check_batch_size};

/// One findings write: three borrowed lists, parents before children, applied
/// all or nothing (`docs/contract.md §7`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FindingsUpsertBatch<'a> {
    findings: &'a [FindingRecord],
    occurrences: &'a [OccurrenceRecord],
    observations: &'a [ObservationRecord],
}

impl<'a> FindingsUpsertBatch<'a> {
    /// Unchecked: a sink checks the batch when it is submitted and when it is applied.
    pub const fn new(
        findings: &'a [FindingRecord],
        occurrences: &'a [OccurrenceRecord],
        observations: &'a [ObservationRecord],
    ) -> Self {
        Self { findings, occurrences, observations }
    }

    /// The findings, in slice order.
    pub const fn findings(&self) -> &'a [FindingRecord] {
        self.findings
    }

    /// The occurrences, in slice order.
    pub const fn occurrences(&self) -> &'a [OccurrenceRecord] {
        self.occurrences
    }

    /// The observations, in slice order.
    pub const fn observations(&self) -> &'a [ObservationRecord] {
        self.observations
    }

    /// An empty batch is a valid no-op.
    pub const fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.occurrences.is_empty() && self.observations.is_empty()
    }

    /// Records over the three lists together, the size the batch limit counts.
    pub const fn total_records(&self) -> usize {
        self.findings.len() + self.occurrences.len() + self.observations.len()
    }

    /// What every sink checks when a batch is submitted, in this order: its
    /// size, its observation ids, one tenant. Parents and conflicts need the
    /// durable state and are checked when the write is applied.
    pub fn validate_submission(&self) -> Result<(), PersistenceInputError> {
        self.validate_submission_trusting(|_| false)
    }

    /// [`validate_submission`](Self::validate_submission) for a sink that
    /// already knows some observation ids to be canonical: the `i`th
    /// observation's derivation is skipped when `known_canonical(i)`. The
    /// errors and their order are the same as long as it answers true only
    /// for canonical ids (e.g. an observation whose id inputs match a row the
    /// sink already checked and made durable).
    pub fn validate_submission_trusting(
        &self,
        known_canonical: impl Fn(usize) -> bool,
    ) -> Result<(), PersistenceInputError> {
        check_batch_size(self.total_records())?;
        self.observations
            .iter()
            .enumerate()
            .filter(|(i, _)| !known_canonical(*i))
            .try_for_each(|(_, observation)| observation.validate_identity())?;
        self.validate_tenant_consistency()
    }

    /// Every observation id must be the canonical derivation; the first that is not,
    /// in slice order, is `ObservationIdMismatch`.
    pub fn validate_observation_identity(&self) -> Result<(), PersistenceInputError> {
        self.observations.iter().try_for_each(ObservationRecord::validate_identity)
    }

    /// Every record must belong to the tenant of the first record (findings
    /// first, then occurrences, then observations).
    pub fn validate_tenant_consistency(&self) -> Result<(), PersistenceInputError> {
        self.tenant().map(|_| ())
    }

    /// The one tenant every record belongs to, `None` for an empty batch;
    /// `InconsistentTenant` as [`validate_tenant_consistency`](Self::validate_tenant_consistency) says.
    pub fn tenant(&self) -> Result<Option<TenantId>, PersistenceInputError> {
        let mut tenants = self
            .findings
            .iter()
            .map(FindingRecord::tenant_id)
            .chain(self.occurrences.iter().map(OccurrenceRecord::tenant_id))
            .chain(self.observations.iter().map(ObservationRecord::tenant_id));
        let Some(first) = tenants.next() else { return Ok(None) };
        if tenants.any(|tenant| tenant != first) {
            return Err(PersistenceInputError::InconsistentTenant);
        }
        Ok(Some(first))
    }

    /// In-batch diagnostic only: a backend must also accept parents that are
    /// already durable, which this check cannot see.
    pub fn validate_referential_integrity(&self) -> Result<(), PersistenceInputError> {
        self.validate_tenant_consistency()?;
        let finding_ids: HashSet<_> = self.findings.iter().map(FindingRecord::finding_id).collect();
        if self.occurrences.iter().any(|o| !finding_ids.contains(&o.finding_id())) {
            return Err(PersistenceInputError::OrphanedReference {
                child_type: "OccurrenceRecord",
                parent_type: "FindingRecord",
            });
        }
        let occurrence_ids: HashSet<_> = self.occurrences.iter().map(OccurrenceRecord::occurrence_id).collect();
        if self.observations.iter().any(|o| !occurrence_ids.contains(&o.occurrence_id())) {
            return Err(PersistenceInputError::OrphanedReference {
                child_type: "ObservationRecord",
                parent_type: "OccurrenceRecord",
            });
        }
        Ok(())
    }
}

/// Checks an immutable row (a finding or an occurrence, `docs/contract.md`
/// §7) against the rows the batch has already admitted and the durable ones,
/// and admits it to `batch` if it is new there: `Ok(None)` if the batch
/// already has it, else `Ok(Some(new))`, `new` telling whether the store
/// lacks it too (and so must grow for it); `Err(())` when either holds a
/// different row under the key (a conflict), leaving `batch` as it was.
/// One lookup of `batch` per row (an entry, not a get and then an insert).
/// Shared by every store that checks a batch in Rust, whatever its maps'
/// hashers.
// The caller turns `Err(())` into its typed conflict error, which needs the
// row and the layer only it has at hand.
#[allow(clippy::result_unit_err)]
pub fn admit_immutable<'a, K, V, S1, S2>(
    key: K,
    record: &'a V,
    batch: &mut std::collections::HashMap<K, &'a V, S1>,
    durable: &std::collections::HashMap<K, V, S2>,
) -> Result<Option<bool>, ()>
where
    K: Copy + Eq + core::hash::Hash,
    V: PartialEq,
    S1: core::hash::BuildHasher,
    S2: core::hash::BuildHasher,
{
    match batch.entry(key) {
        Entry::Occupied(seen) => {
            if *seen.get() == record {
                Ok(None)
            } else {
                Err(())
            }
        }
        Entry::Vacant(slot) => match durable.get(&key) {
            Some(stored) if stored != record => Err(()),
            stored => {
                slot.insert(record);
                Ok(Some(stored.is_none()))
            }
        },
    }
}
