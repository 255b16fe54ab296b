//! `InMemoryFindingsSink`: three immutable-or-upserted layers over the store core.

use crate::hash::HashMap;
use core::fmt;
use std::collections::hash_map::Entry;

use super::core::{SharedCore, StoreBackend, StoreCore, StoreHandle};
use super::error::{StoreError, StoreKind};
use super::page;
use super::reserve::Reserver;
use crate::contract::{FindingsConformanceProbe, FindingsInspect, FindingsSink};
use crate::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord, admit_immutable, merge_observations,
};
use crate::identity::{FindingId, ObservationId, OccurrenceId, TenantId};
use crate::input_error::{RECOMMENDED_MAX_BATCH_SIZE, check_batch_size, check_read_size};

/// The three layers' durable rows, per tenant. Opaque: named only as the
/// backend's durable state.
///
/// Per tenant because a batch holds one tenant's rows (checked at submit):
/// a write looks its tenant up once, and every other lookup hashes a
/// 32-byte id instead of a 64-byte (tenant, id) key.
pub struct FindingsDurable {
    tenants: HashMap<TenantId, TenantRows>,
    reserve: Reserver,
}

/// One tenant's rows in the three layers.
#[derive(Default)]
struct TenantRows {
    findings: HashMap<FindingId, FindingRecord>,
    occurrences: HashMap<OccurrenceId, OccurrenceRecord>,
    observations: HashMap<ObservationId, ObservationRecord>,
}

impl FindingsDurable {
    fn new(reserve: Reserver) -> Self {
        Self { tenants: HashMap::default(), reserve }
    }

    fn counts(&self) -> DurableFindingsCounts {
        let mut counts = DurableFindingsCounts::default();
        for rows in self.tenants.values() {
            counts.findings += rows.findings.len() as u64;
            counts.occurrences += rows.occurrences.len() as u64;
            counts.observations += rows.observations.len() as u64;
        }
        counts
    }

    /// The rows of one layer strictly after `after` in (tenant, id) order, at
    /// most `limit`, sorted (`usize::MAX`: the whole sorted layer).
    fn layer_page<I: Ord + Copy, V: Clone>(
        &self,
        layer: impl Fn(&TenantRows) -> &HashMap<I, V>,
        after: Option<&(TenantId, I)>,
        limit: usize,
    ) -> Result<Vec<V>, StoreError> {
        let bound = self.tenants.values().map(|rows| layer(rows).len()).sum();
        // A whole tenant before the cursor's is skipped without looking at its rows.
        let candidates = self
            .tenants
            .iter()
            .filter(|(tenant, _)| after.is_none_or(|(after_tenant, _)| *tenant >= after_tenant))
            .flat_map(|(tenant, rows)| layer(rows).iter().map(move |(id, row)| ((*tenant, *id), row)))
            .filter(|(key, _)| after.is_none_or(|after| key > after));
        page::cloned(&self.reserve, page::smallest(&self.reserve, candidates, bound, limit)?)
    }

    fn get<I: Eq + core::hash::Hash, V: Clone>(
        &self,
        tenant_id: TenantId,
        layer: impl Fn(&TenantRows) -> &HashMap<I, V>,
        id: &I,
    ) -> Option<V> {
        self.tenants.get(&tenant_id).and_then(|rows| layer(rows).get(id)).cloned()
    }
}

/// One accepted findings batch, staged. Opaque: named only as the
/// backend's payload.
pub struct FindingsPayload {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl FindingsPayload {
    /// The one tenant of every row, `None` for an empty batch; a second
    /// tenant is refused as at submit (where it was already checked).
    fn tenant(&self) -> Result<Option<TenantId>, StoreError> {
        Ok(FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations).tenant()?)
    }
}

/// What a batch leaves of one observation id, until apply writes it. Small,
/// so the batch's index holds no copy of a row: a fresh 1,000-row batch's
/// index was over 400 KiB of rows, touched once and copied twice.
#[derive(Clone, Copy)]
enum Staged<'a> {
    /// The durable row, unchanged (a replay): neither merged nor written back.
    Durable,
    /// A row of the batch as it is: the id is new.
    Batch(&'a ObservationRecord),
    /// Sightings merged (with each other or the durable row) into the
    /// apply's `merged[i]`.
    Merged(usize),
}

/// Appends `row` to `merged` and gives its index. The first merge reserves
/// room for `batch` rows (every observation of the batch), so later ones
/// cannot allocate.
fn push_merged(
    reserve: &Reserver,
    merged: &mut Vec<ObservationRecord>,
    row: ObservationRecord,
    batch: usize,
) -> Result<usize, StoreError> {
    if merged.capacity() == 0 {
        reserve.vec(merged, batch)?;
    }
    merged.push(row);
    Ok(merged.len() - 1)
}

/// The findings rows behind the store core: how an in-memory write applies.
pub struct FindingsBackend;

impl StoreBackend for FindingsBackend {
    type Payload = FindingsPayload;
    type Receipt = FindingsCommitReceipt;
    type Durable = FindingsDurable;
    type Error = StoreError;
    const STORE_KIND: StoreKind = StoreKind::Findings;

    /// Validates every layer against the union of the batch and durable
    /// state, parents before children, reserves room in every layer, and
    /// only then stores anything.
    fn apply(durable: &mut FindingsDurable, payload: &FindingsPayload) -> Result<FindingsCommitReceipt, StoreError> {
        let Some(tenant_id) = payload.tenant()? else { return Ok(FindingsCommitReceipt::new(0, 0, 0)) };
        let fresh_tenant;
        let stored = match durable.tenants.get(&tenant_id) {
            Some(rows) => rows,
            None => {
                fresh_tenant = TenantRows::default();
                &fresh_tenant
            }
        };
        let reserve = &durable.reserve;
        let mut findings: HashMap<FindingId, &FindingRecord> = HashMap::default();
        reserve.map(&mut findings, payload.findings.len())?;
        let mut new_findings = 0;
        for f in &payload.findings {
            let fresh = admit_immutable(f.finding_id(), f, &mut findings, &stored.findings)
                .map_err(|()| StoreError::FindingConflict { tenant_id, finding_id: f.finding_id() })?;
            new_findings += usize::from(fresh == Some(true));
        }

        let mut occurrences: HashMap<OccurrenceId, &OccurrenceRecord> = HashMap::default();
        reserve.map(&mut occurrences, payload.occurrences.len())?;
        let mut new_occurrences = 0;
        for o in &payload.occurrences {
            let parent = o.finding_id();
            if !findings.contains_key(&parent) && !stored.findings.contains_key(&parent) {
                return Err(StoreError::MissingFinding {
                    tenant_id,
                    finding_id: parent,
                    occurrence_id: o.occurrence_id(),
                });
            }
            let fresh = admit_immutable(o.occurrence_id(), o, &mut occurrences, &stored.occurrences)
                .map_err(|()| StoreError::OccurrenceConflict { tenant_id, occurrence_id: o.occurrence_id() })?;
            new_occurrences += usize::from(fresh == Some(true));
        }

        let mut observations: HashMap<ObservationId, Staged<'_>> = HashMap::default();
        reserve.map(&mut observations, payload.observations.len())?;
        // Rows two sightings were merged into; most batches have none.
        let mut merged: Vec<ObservationRecord> = Vec::new();
        let mut new_observations = 0;
        // Observation ids were checked when the batch was submitted (the
        // payload is built only there); a second BLAKE3 pass here cost a
        // fifth of a batch. Merging a row with an equal one gives it back
        // (its id is canonical), so that merge, which derives the id
        // again, is skipped.
        for obs in &payload.observations {
            let parent = obs.occurrence_id();
            if !occurrences.contains_key(&parent) && !stored.occurrences.contains_key(&parent) {
                return Err(StoreError::MissingOccurrence {
                    tenant_id,
                    occurrence_id: parent,
                    observation_id: obs.observation_id(),
                });
            }
            let id = obs.observation_id();
            let conflict = || StoreError::ObservationConflict { tenant_id, observation_id: id };
            match observations.entry(id) {
                Entry::Occupied(mut slot) => {
                    let current = match *slot.get() {
                        // Apply has not touched the durable row yet.
                        Staged::Durable => stored.observations.get(&id).ok_or_else(conflict)?,
                        Staged::Batch(row) => row,
                        Staged::Merged(i) => &merged[i],
                    };
                    if current != obs {
                        let row = merge_observations(current, obs).ok_or_else(conflict)?;
                        match *slot.get() {
                            Staged::Merged(i) => merged[i] = row,
                            Staged::Durable | Staged::Batch(_) => {
                                slot.insert(Staged::Merged(push_merged(
                                    reserve,
                                    &mut merged,
                                    row,
                                    payload.observations.len(),
                                )?));
                            }
                        }
                    }
                }
                Entry::Vacant(slot) => {
                    let staged = match stored.observations.get(&id) {
                        Some(stored) if stored == obs => Staged::Durable,
                        Some(stored) => {
                            let row = merge_observations(stored, obs).ok_or_else(conflict)?;
                            Staged::Merged(push_merged(reserve, &mut merged, row, payload.observations.len())?)
                        }
                        None => {
                            new_observations += 1;
                            Staged::Batch(obs)
                        }
                    };
                    slot.insert(staged);
                }
            }
        }

        let receipt =
            FindingsCommitReceipt::new(findings.len() as u64, occurrences.len() as u64, observations.len() as u64);
        // Room in every layer (and for a new tenant) before any is written,
        // so a refusal for the last layer leaves the first two as they were.
        let FindingsDurable { tenants, reserve } = durable;
        // A new tenant's tables are built aside and inserted last; an
        // existing tenant's are written in place.
        let mut new_rows = None;
        reserve.map(tenants, usize::from(!tenants.contains_key(&tenant_id)))?;
        let rows = match tenants.get_mut(&tenant_id) {
            Some(rows) => rows,
            None => new_rows.insert(TenantRows::default()),
        };
        reserve.map(&mut rows.findings, new_findings)?;
        reserve.map(&mut rows.occurrences, new_occurrences)?;
        reserve.map(&mut rows.observations, new_observations)?;
        // With no new row in a layer (a replay) every key is stored already.
        if new_findings > 0 {
            for (id, f) in findings {
                rows.findings.entry(id).or_insert_with(|| f.clone());
            }
        }
        if new_occurrences > 0 {
            for (id, o) in occurrences {
                rows.occurrences.entry(id).or_insert_with(|| o.clone());
            }
        }
        // Not `extend`: it reserves (infallibly) for up to the iterator's
        // length, more than the new rows when most of them replace stored ones.
        for (id, staged) in observations {
            match staged {
                Staged::Durable => {}
                Staged::Batch(row) => {
                    rows.observations.insert(id, row.clone());
                }
                Staged::Merged(i) => {
                    rows.observations.insert(id, merged[i].clone());
                }
            }
        }
        if let Some(rows) = new_rows {
            tenants.insert(tenant_id, rows);
        }
        Ok(receipt)
    }
}

/// The in-memory findings sink. Clones share one store.
#[derive(Clone)]
pub struct InMemoryFindingsSink {
    core: SharedCore<FindingsBackend>,
    /// Shared with the durable state; used here to stage batches outside the lock.
    reserve: Reserver,
}

impl Default for InMemoryFindingsSink {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryFindingsSink {
    /// A sink that applies writes at submit (auto-complete).
    pub fn new() -> Self {
        Self::with_auto_complete(true)
    }

    /// An empty sink; with `auto_complete` off every write waits for a release.
    pub fn with_auto_complete(auto_complete: bool) -> Self {
        let reserve = Reserver::new(StoreKind::Findings);
        let durable = FindingsDurable::new(reserve.clone());
        Self { core: SharedCore::new(StoreCore::new(durable, auto_complete)), reserve }
    }

    /// Test support: poisons this store's lock (see the store core).
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn poison_for_tests(&self) {
        self.core.poison_for_tests();
    }

    /// Test support: the store's next memory reservation (staging a batch,
    /// growing a layer when a write applies, a read buffer) is refused.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_next_reservation(&self) {
        self.reserve.fail_reservation_after(0);
    }

    /// Test support: lets `skip` reservations succeed, then refuses one.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn fail_reservation_after(&self, skip: usize) {
        self.reserve.fail_reservation_after(skip);
    }

    /// Test support: removes an armed reservation fault; true if it had not fired.
    #[doc(hidden)]
    #[cfg(all(feature = "test-support", not(loom)))]
    pub fn disarm_reservation_fault(&self) -> bool {
        self.reserve.disarm()
    }

    /// [`FindingsSink::upsert_batch`] of rows the caller already owns (such
    /// as the component, which has just decoded them): the same checks and
    /// outcome, submitted as they are instead of staging a copy.
    pub fn upsert_batch_owned(
        &self,
        findings: Vec<FindingRecord>,
        occurrences: Vec<OccurrenceRecord>,
        observations: Vec<ObservationRecord>,
    ) -> Result<InMemoryFindingsHandle, StoreError> {
        self.validate_submission(&FindingsUpsertBatch::new(&findings, &occurrences, &observations))?;
        StoreCore::submit(&self.core, FindingsPayload { findings, occurrences, observations })
    }

    /// Identity and tenant problems are rejected here, before any fault
    /// counter or op id is consumed; parent and conflict checks run at apply.
    fn validate_submission(&self, batch: &FindingsUpsertBatch<'_>) -> Result<(), StoreError> {
        // The size first, as in `validate_submission`: it bounds the set below.
        check_batch_size(batch.total_records())?;
        // A poisoned store knows nothing here; submit reports it after the
        // batch's own errors, as before.
        let durable_ids = self.core.read(|d| DurableIds::collect(&d.tenants, batch.observations())).unwrap_or_default();
        Ok(batch.validate_submission_trusting(|i| durable_ids.contains(i))?)
    }

    pub(crate) fn core(&self) -> &StoreCore<FindingsBackend> {
        &self.core
    }
}

impl FindingsSink for InMemoryFindingsSink {
    type Error = StoreError;
    type CommitHandle = InMemoryFindingsHandle;

    /// Checked as `validate_submission` describes, then staged.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<InMemoryFindingsHandle, Self::Error> {
        self.validate_submission(&batch)?;
        let mut payload = FindingsPayload { findings: Vec::new(), occurrences: Vec::new(), observations: Vec::new() };
        self.reserve.vec(&mut payload.findings, batch.findings().len())?;
        self.reserve.vec(&mut payload.occurrences, batch.occurrences().len())?;
        self.reserve.vec(&mut payload.observations, batch.observations().len())?;
        payload.findings.extend_from_slice(batch.findings());
        payload.occurrences.extend_from_slice(batch.occurrences());
        payload.observations.extend_from_slice(batch.observations());
        StoreCore::submit(&self.core, payload)
    }
}

impl FindingsConformanceProbe for InMemoryFindingsSink {
    type Error = StoreError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, StoreError> {
        self.core.read(FindingsDurable::counts)
    }
}

impl FindingsInspect for InMemoryFindingsSink {
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Self::Error> {
        self.core.read(|d| d.get(tenant_id, |rows| &rows.findings, &id))
    }

    fn get_occurrence(&self, tenant_id: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Self::Error> {
        self.core.read(|d| d.get(tenant_id, |rows| &rows.occurrences, &id))
    }

    fn get_observation(
        &self,
        tenant_id: TenantId,
        id: ObservationId,
    ) -> Result<Option<ObservationRecord>, Self::Error> {
        self.core.read(|d| d.get(tenant_id, |rows| &rows.observations, &id))
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Self::Error> {
        self.core.read(|d| d.layer_page(|rows| &rows.findings, None, usize::MAX))?
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        self.core.read(|d| d.layer_page(|rows| &rows.occurrences, None, usize::MAX))?
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Self::Error> {
        self.core.read(|d| d.layer_page(|rows| &rows.observations, None, usize::MAX))?
    }

    fn findings_page(
        &self,
        after: Option<(TenantId, FindingId)>,
        limit: usize,
    ) -> Result<Vec<FindingRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| d.layer_page(|rows| &rows.findings, after.as_ref(), limit))?
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        limit: usize,
    ) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| d.layer_page(|rows| &rows.occurrences, after.as_ref(), limit))?
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        limit: usize,
    ) -> Result<Vec<ObservationRecord>, Self::Error> {
        check_read_size(limit)?;
        self.core.read(|d| d.layer_page(|rows| &rows.observations, after.as_ref(), limit))?
    }
}

impl fmt::Debug for InMemoryFindingsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.try_lock() {
            Some(Ok(state)) => {
                let counts = state.durable.counts();
                f.debug_struct("InMemoryFindingsSink")
                    .field("durable_findings", &counts.findings)
                    .field("durable_occurrences", &counts.occurrences)
                    .field("durable_observations", &counts.observations)
                    .field("pending_ops", &state.pending_count())
                    .field("auto_complete", &state.auto_complete)
                    .finish()
            }
            Some(Err(())) => f.write_str("InMemoryFindingsSink(<poisoned>)"),
            None => f.write_str("InMemoryFindingsSink(<locked>)"),
        }
    }
}

/// Which observations of a batch match a durable row in their id and every
/// input of its derivation. Durable rows were checked when they became durable
/// (or derived by a merge), so those ids are canonical without a BLAKE3 pass:
/// a replay, the steady state of a rescan, skips it. The answer cannot go
/// stale: whether an id is canonical depends on the row alone.
struct DurableIds {
    // On the stack: a batch holds at most `RECOMMENDED_MAX_BATCH_SIZE` rows,
    // and a reservation here would be one more way for a submit to fail.
    words: [u64; RECOMMENDED_MAX_BATCH_SIZE.div_ceil(64)],
}

impl Default for DurableIds {
    fn default() -> Self {
        Self { words: [0; RECOMMENDED_MAX_BATCH_SIZE.div_ceil(64)] }
    }
}

impl DurableIds {
    fn collect(tenants: &HashMap<TenantId, TenantRows>, observations: &[ObservationRecord]) -> Self {
        let mut known = Self::default();
        if tenants.is_empty() {
            return known;
        }
        // A batch has one tenant (checked after this): look it up once, but
        // answer right for a batch that has more.
        let mut tenant: Option<(TenantId, Option<&TenantRows>)> = None;
        for (i, obs) in observations.iter().enumerate() {
            let rows = match tenant {
                Some((id, rows)) if id == obs.tenant_id() => rows,
                _ => {
                    let rows = tenants.get(&obs.tenant_id());
                    tenant = Some((obs.tenant_id(), rows));
                    rows
                }
            };
            let durable_match = rows
                .and_then(|rows| rows.observations.get(&obs.observation_id()))
                .is_some_and(|row| row.same_id_derivation(obs));
            if let Some(word) = known.words.get_mut(i / 64).filter(|_| durable_match) {
                *word |= 1 << (i % 64);
            }
        }
        known
    }

    fn contains(&self, i: usize) -> bool {
        self.words.get(i / 64).is_some_and(|word| word & (1 << (i % 64)) != 0)
    }
}

/// A claim on one accepted findings write (see [`StoreHandle`]).
pub type InMemoryFindingsHandle = StoreHandle<FindingsBackend>;

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;
    use std::sync::Arc;

    use super::*;
    use crate::contract::CommitHandle;
    use crate::control::{CompletionOrder, StoreControl};
    use crate::identity::{
        FenceEpoch, LogicalTime, ObjectVersionId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash, ShardId,
        StableItemId,
    };
    use crate::input_error::PersistenceInputError;
    use crate::location::Location;

    struct Chain {
        finding: FindingRecord,
        occurrence: OccurrenceRecord,
        observation: ObservationRecord,
    }

    fn chain(tenant: u8, seed: u8) -> Chain {
        let tenant_id = TenantId::from_bytes([tenant; 32]);
        let finding = FindingRecord::new(
            tenant_id,
            StableItemId::from_bytes([seed; 32]),
            RuleFingerprint::from_bytes([seed.wrapping_add(1); 32]),
            SecretHash::from_persisted_bytes([seed.wrapping_add(2); 32]),
        );
        let occurrence = OccurrenceRecord::new(
            tenant_id,
            finding.finding_id(),
            ObjectVersionId::from_bytes([seed; 32]),
            u64::from(seed),
            NonZeroU64::MIN,
        );
        let observation = sighting(tenant_id, &occurrence, PolicyHash::from_bytes([7; 32]), 10);
        Chain { finding, occurrence, observation }
    }

    fn sighting(
        tenant: TenantId,
        occurrence: &OccurrenceRecord,
        policy: PolicyHash,
        seen_at: u64,
    ) -> ObservationRecord {
        ObservationRecord::new(
            tenant,
            occurrence.occurrence_id(),
            policy,
            OvidHash::from_bytes([9; 32]),
            RunId::from_raw(seen_at),
            ShardId::from_raw(2),
            FenceEpoch::from_raw(3),
            LogicalTime::from_raw(seen_at),
        )
    }

    /// `obs` under another id, or with other id inputs under its own id.
    fn rebuilt(
        obs: &ObservationRecord,
        id: ObservationId,
        occurrence: OccurrenceId,
        policy: PolicyHash,
    ) -> ObservationRecord {
        ObservationRecord::from_persisted_unchecked(
            obs.tenant_id(),
            id,
            occurrence,
            policy,
            obs.ovid_hash(),
            obs.run_id(),
            obs.shard_id(),
            obs.fence_epoch(),
            obs.seen_at(),
            obs.location_arc(),
        )
    }

    #[test]
    fn an_owned_batch_is_checked_and_applied_like_a_borrowed_one() {
        let (c1, c2) = (chain(1, 1), chain(1, 2));
        let findings = vec![c1.finding.clone(), c2.finding.clone()];
        let occurrences = vec![c1.occurrence.clone(), c2.occurrence.clone()];
        let observations = vec![c1.observation.clone(), c2.observation.clone()];
        let (owned, borrowed) = (InMemoryFindingsSink::new(), InMemoryFindingsSink::new());
        let a = owned
            .upsert_batch_owned(findings.clone(), occurrences.clone(), observations.clone())
            .expect("accepted")
            .wait()
            .expect("applied");
        let b = borrowed
            .upsert_batch(FindingsUpsertBatch::new(&findings, &occurrences, &observations))
            .expect("accepted")
            .wait()
            .expect("applied");
        assert_eq!(a, b);
        assert_eq!(owned.durable_counts(), borrowed.durable_counts());
        // The same submission checks, in the same order: a wrong id is refused.
        let wrong = rebuilt(
            &c1.observation,
            c2.observation.observation_id(),
            c1.occurrence.occurrence_id(),
            c1.observation.policy_hash(),
        );
        assert_eq!(owned.upsert_batch_owned(Vec::new(), Vec::new(), vec![wrong.clone()]).err(), Some(mismatch(&wrong)));
        assert_eq!(owned.durable_counts(), borrowed.durable_counts());
    }

    fn mismatch(obs: &ObservationRecord) -> StoreError {
        StoreError::BatchValidation(PersistenceInputError::ObservationIdMismatch {
            expected: obs.derived_observation_id(),
            actual: obs.observation_id(),
        })
    }

    type State = (Vec<FindingRecord>, Vec<OccurrenceRecord>, Vec<ObservationRecord>);

    fn state(sink: &InMemoryFindingsSink) -> State {
        (
            sink.findings_snapshot().expect("snapshot"),
            sink.occurrences_snapshot().expect("snapshot"),
            sink.observations_snapshot().expect("snapshot"),
        )
    }

    /// A sink holding chains 1..=3 of tenant 1, each observation with a location.
    fn populated() -> (InMemoryFindingsSink, Vec<Chain>) {
        let sink = InMemoryFindingsSink::new();
        let mut chains: Vec<Chain> = (1..=3).map(|seed| chain(1, seed)).collect();
        for (n, c) in chains.iter_mut().enumerate() {
            let location = Location::try_new(format!("src/{n}.rs"), None::<String>).expect("valid location");
            c.observation = c.observation.clone().with_location(Arc::new(location));
        }
        let (f, o, b) = split(&chains);
        sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &b)).expect("accepted").wait().expect("durable");
        (sink, chains)
    }

    fn split(chains: &[Chain]) -> State {
        (
            chains.iter().map(|c| c.finding.clone()).collect(),
            chains.iter().map(|c| c.occurrence.clone()).collect(),
            chains.iter().map(|c| c.observation.clone()).collect(),
        )
    }

    fn next_op(sink: &InMemoryFindingsSink) -> u64 {
        sink.upsert_batch(FindingsUpsertBatch::default()).expect("accepted").operation_id().as_raw()
    }

    #[test]
    fn a_forged_id_under_a_durable_key_is_still_rejected() {
        let (sink, chains) = populated();
        let durable = &chains[0].observation;
        let other = &chains[1].occurrence;
        // The durable row's id, with one input of its derivation changed.
        for forged in [
            rebuilt(durable, durable.observation_id(), other.occurrence_id(), durable.policy_hash()),
            rebuilt(durable, durable.observation_id(), durable.occurrence_id(), PolicyHash::from_bytes([8; 32])),
        ] {
            let before = state(&sink);
            let op = next_op(&sink);
            let batch = FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&forged));
            let today = StoreError::from(batch.validate_submission().expect_err("the forged id is not canonical"));
            assert_eq!(today, mismatch(&forged));
            assert_eq!(sink.upsert_batch(batch).map(|h| h.operation_id()), Err(today));
            assert_eq!(state(&sink), before);
            assert_eq!(next_op(&sink), op + 1, "the rejected batch consumed no op id");
        }
    }

    #[test]
    fn a_replay_of_durable_rows_returns_the_same_receipt_and_changes_nothing() {
        let (sink, chains) = populated();
        let before = state(&sink);
        let (f, o, b) = split(&chains);
        let first = FindingsCommitReceipt::new(3, 3, 3);
        for auto_complete in [false, true] {
            sink.set_auto_complete(auto_complete).expect("control");
            let handle = sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &b)).expect("accepted");
            if !auto_complete {
                assert_eq!(sink.release_all(CompletionOrder::OldestFirst), Ok(1));
            }
            assert_eq!(handle.wait(), Ok(first));
            assert_eq!(state(&sink), before);
        }
        // Duplicates of a durable row count once.
        let doubled: Vec<_> = b.iter().chain(&b).cloned().collect();
        let receipt = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &doubled)).expect("accepted").wait();
        assert_eq!(receipt, Ok(FindingsCommitReceipt::new(0, 0, 3)));
        assert_eq!(state(&sink), before);
    }

    #[test]
    fn a_durable_row_followed_by_a_later_sighting_is_merged() {
        let (sink, chains) = populated();
        let c = &chains[0];
        let later = sighting(c.observation.tenant_id(), &c.occurrence, c.observation.policy_hash(), 99);
        let earlier = sighting(c.observation.tenant_id(), &c.occurrence, c.observation.policy_hash(), 1);
        let expected = merge_observations(&c.observation, &later).expect("same identity");
        assert_eq!(expected.seen_at(), LogicalTime::from_raw(99));
        assert_eq!(expected.location(), c.observation.location(), "the known path is kept");
        // The replayed row first, so the later sighting merges with a slot
        // that stands for the durable row; the earlier one changes nothing.
        let rows = [c.observation.clone(), later, earlier, c.observation.clone()];
        let receipt = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &rows)).expect("accepted").wait();
        assert_eq!(receipt, Ok(FindingsCommitReceipt::new(0, 0, 1)));
        let key = c.observation.observation_id();
        assert_eq!(sink.get_observation(c.observation.tenant_id(), key), Ok(Some(expected)));
    }

    #[test]
    fn sightings_of_a_new_observation_in_one_batch_are_merged() {
        let (sink, _) = populated();
        let c = chain(1, 40);
        let (tenant, policy) = (c.observation.tenant_id(), c.observation.policy_hash());
        let path = Location::try_new("src/lib.rs", None::<String>).expect("a valid location");
        let later = sighting(tenant, &c.occurrence, policy, 99).with_location(Arc::new(path));
        let latest = sighting(tenant, &c.occurrence, policy, 120);
        let expected = merge_observations(&merge_observations(&c.observation, &later).expect("same identity"), &latest)
            .expect("same identity");
        assert_eq!(expected.seen_at(), LogicalTime::from_raw(120));
        assert_eq!(expected.location(), later.location(), "the known path is kept");
        // The new row first, then a later sighting (merged into a row of its
        // own), then a later one still (merged into that row in place).
        let rows = [c.observation.clone(), later, latest];
        let batch =
            FindingsUpsertBatch::new(core::slice::from_ref(&c.finding), core::slice::from_ref(&c.occurrence), &rows);
        let receipt = sink.upsert_batch(batch).expect("accepted").wait();
        assert_eq!(receipt, Ok(FindingsCommitReceipt::new(1, 1, 1)));
        assert_eq!(sink.get_observation(tenant, c.observation.observation_id()), Ok(Some(expected)));
    }

    #[test]
    fn a_batch_of_durable_and_new_rows_reports_its_first_bad_id() {
        let (sink, chains) = populated();
        let fresh = [chain(1, 40), chain(1, 50)];
        let bad: Vec<_> = fresh
            .iter()
            .map(|c| {
                let o = &c.observation;
                rebuilt(o, ObservationId::from_bytes([0xAB; 32]), o.occurrence_id(), o.policy_hash())
            })
            .collect();
        let durable = |i: usize| chains[i].observation.clone();
        let forged_durable = {
            let o = &chains[2].observation;
            rebuilt(o, o.observation_id(), chains[0].occurrence.occurrence_id(), o.policy_hash())
        };
        let before = state(&sink);
        let cases = [
            (vec![durable(0), bad[0].clone(), durable(1), bad[1].clone()], &bad[0]),
            (vec![durable(0), durable(1), bad[1].clone(), forged_durable.clone(), bad[0].clone()], &bad[1]),
            (vec![durable(0), forged_durable.clone(), bad[0].clone(), durable(2)], &forged_durable),
        ];
        for (rows, first_bad) in cases {
            let op = next_op(&sink);
            let batch = FindingsUpsertBatch::new(&[], &[], &rows);
            assert_eq!(batch.validate_submission().map_err(StoreError::from), Err(mismatch(first_bad)));
            assert_eq!(sink.upsert_batch(batch).map(|h| h.operation_id()), Err(mismatch(first_bad)));
            assert_eq!(state(&sink), before);
            assert_eq!(next_op(&sink), op + 1);
        }
        // With the new ids canonical the same mix is accepted.
        let (f, o, b) = split(&fresh);
        let rows = [durable(0), b[0].clone(), durable(1), b[1].clone()];
        let receipt = sink.upsert_batch(FindingsUpsertBatch::new(&f, &o, &rows)).expect("accepted").wait();
        assert_eq!(receipt, Ok(FindingsCommitReceipt::new(2, 2, 4)));
        assert_eq!(sink.durable_counts().map(|c| c.observations), Ok(5));
    }

    #[test]
    fn tenant_consistency_is_still_checked_after_identity() {
        let (sink, chains) = populated();
        let other_tenant = chain(2, 60);
        sink.upsert_batch(other_tenant.batch_of_one()).expect("accepted").wait().expect("durable");
        // Both rows are durable replays: only the tenant check can refuse them.
        let rows = [chains[0].observation.clone(), other_tenant.observation.clone()];
        let result = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &rows)).map(|h| h.operation_id());
        assert_eq!(result, Err(StoreError::BatchValidation(PersistenceInputError::InconsistentTenant)));
        // A bad id still comes first.
        let o = &chain(1, 70).observation;
        let bad = rebuilt(o, ObservationId::from_bytes([1; 32]), o.occurrence_id(), o.policy_hash());
        let rows = [other_tenant.observation.clone(), chains[0].observation.clone(), bad.clone()];
        let result = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], &rows)).map(|h| h.operation_id());
        assert_eq!(result, Err(mismatch(&bad)));
    }

    #[test]
    fn only_rows_matching_every_id_input_are_known() {
        let (sink, chains) = populated();
        let c = &chains[0].observation;
        let newer = sighting(c.tenant_id(), &chains[0].occurrence, c.policy_hash(), 50);
        let rows = [
            c.clone(),
            newer, // provenance differs: known
            rebuilt(c, c.observation_id(), chains[1].occurrence.occurrence_id(), c.policy_hash()), // occurrence differs
            rebuilt(c, c.observation_id(), c.occurrence_id(), PolicyHash::from_bytes([1; 32])), // policy differs
            chain(1, 80).observation, // not durable
            chain(2, 1).observation, // another tenant
        ];
        let known = sink.core.read(|d| DurableIds::collect(&d.tenants, &rows)).expect("read");
        let marked: Vec<bool> = (0..rows.len() + 1).map(|i| known.contains(i)).collect();
        assert_eq!(marked, [true, true, false, false, false, false, false]);
        assert!(!known.contains(usize::MAX));
    }

    #[cfg(feature = "test-support")]
    #[test]
    fn a_poisoned_store_still_reports_a_bad_id_first() {
        let (sink, chains) = populated();
        let o = &chains[0].observation;
        let forged = rebuilt(o, o.observation_id(), o.occurrence_id(), PolicyHash::from_bytes([1; 32]));
        sink.poison_for_tests();
        let result = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(&forged)));
        assert_eq!(result.map(|h| h.operation_id()), Err(mismatch(&forged)));
        let replay = sink.upsert_batch(FindingsUpsertBatch::new(&[], &[], core::slice::from_ref(o)));
        assert_eq!(replay.map(|h| h.operation_id()), Err(StoreError::Poisoned { store: StoreKind::Findings }));
    }

    impl Chain {
        fn batch_of_one(&self) -> FindingsUpsertBatch<'_> {
            FindingsUpsertBatch::new(
                core::slice::from_ref(&self.finding),
                core::slice::from_ref(&self.occurrence),
                core::slice::from_ref(&self.observation),
            )
        }
    }
}
