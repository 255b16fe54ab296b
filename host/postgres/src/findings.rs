//! `PgFindingsSink`: the three findings layers, each batch checked and
//! written in one REPEATABLE READ transaction.

use core::fmt;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord, admit_immutable, merge_observations,
};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use gossip_persistence::store::{SharedCore, StoreBackend, StoreCore, StoreHandle};
use gossip_persistence::{
    FindingsConformanceProbe, FindingsInspect, FindingsSink, Location, StoreError, StoreKind, check_read_size,
};
use postgres::Row;
use postgres::types::ToSql;

use crate::encoding::{column, digest_column, ordered, signed, unordered, unsigned};
use crate::error::PgError;
use crate::pool::PgPool;

/// A snapshot for the whole batch: what the checks read is what the writes
/// build on. A concurrent writer that commits one of the same keys after
/// the snapshot makes PostgreSQL abort this transaction with a
/// serialization failure (40001), and the batch is run again from scratch.
const BEGIN: &str = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ";

/// Every durable row the batch's checks need, in one round trip: the
/// batch's findings and its occurrences' parents (kind 0), its occurrences
/// and its observations' parents (kind 1), its observations (kind 2). The
/// batch is one tenant's (checked at submission), so every lookup is a
/// primary-key probe under `$1`.
const READ_DURABLE: &str = r#"
SELECT 0::int2, finding_id, stable_item_id, rule_fingerprint, secret_hash,
       NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::text, NULL::text
  FROM findings WHERE tenant = $1 AND finding_id = ANY($2)
UNION ALL
SELECT 1::int2, occurrence_id, finding_id, object_version_id, NULL::bytea,
       byte_offset, byte_length, NULL::int8, NULL::int8, NULL::text, NULL::text
  FROM occurrences WHERE tenant = $1 AND occurrence_id = ANY($3)
UNION ALL
SELECT 2::int2, observation_id, occurrence_id, policy_hash, ovid_hash,
       run_id, shard_id, fence_epoch, seen_at, location_display, location_url
  FROM observations WHERE tenant = $1 AND observation_id = ANY($4)
"#;

/// The rows a checked batch adds or changes, all three layers in one
/// statement (data-modifying CTEs run in order, and the foreign-key checks
/// at its end see the parents it inserted). Findings and occurrences are
/// only the new ones; observations are the merged rows that differ from
/// the stored ones, identity unchanged.
const WRITE: &str = r#"
WITH new_findings AS (
    INSERT INTO findings (tenant, finding_id, stable_item_id, rule_fingerprint, secret_hash)
    SELECT $1::bytea, * FROM UNNEST($2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])
    ON CONFLICT DO NOTHING
), new_occurrences AS (
    INSERT INTO occurrences (tenant, occurrence_id, finding_id, object_version_id, byte_offset, byte_length)
    SELECT $1::bytea, * FROM UNNEST($6::bytea[], $7::bytea[], $8::bytea[], $9::int8[], $10::int8[])
    ON CONFLICT DO NOTHING
)
INSERT INTO observations AS b (tenant, observation_id, occurrence_id, policy_hash, ovid_hash,
                               run_id, shard_id, fence_epoch, seen_at, location_display, location_url)
SELECT $1::bytea, * FROM UNNEST($11::bytea[], $12::bytea[], $13::bytea[], $14::bytea[],
                                $15::int8[], $16::int8[], $17::int8[], $18::int8[], $19::text[], $20::text[])
ON CONFLICT (tenant, observation_id) DO UPDATE SET
    run_id = EXCLUDED.run_id,
    shard_id = EXCLUDED.shard_id,
    fence_epoch = EXCLUDED.fence_epoch,
    seen_at = EXCLUDED.seen_at,
    location_display = EXCLUDED.location_display,
    location_url = EXCLUDED.location_url
"#;

const FINDING_COLUMNS: &str = "tenant, finding_id, stable_item_id, rule_fingerprint, secret_hash";
const OCCURRENCE_COLUMNS: &str = "tenant, occurrence_id, finding_id, object_version_id, byte_offset, byte_length";
const OBSERVATION_COLUMNS: &str = "tenant, observation_id, occurrence_id, policy_hash, ovid_hash, \
    run_id, shard_id, fence_epoch, seen_at, location_display, location_url";

/// One layer's reads: by key, everything sorted, and a page after a key.
struct LayerSql {
    get: String,
    all: String,
    first: String,
    after: String,
}

impl LayerSql {
    fn new(table: &str, id: &str, columns: &str) -> Self {
        Self {
            get: format!("SELECT {columns} FROM {table} WHERE tenant = $1 AND {id} = $2"),
            all: format!("SELECT {columns} FROM {table} ORDER BY tenant, {id}"),
            first: format!("SELECT {columns} FROM {table} ORDER BY tenant, {id} LIMIT $1"),
            after: format!(
                "SELECT {columns} FROM {table} WHERE (tenant, {id}) > ($1, $2) ORDER BY tenant, {id} LIMIT $3"
            ),
        }
    }
}

struct Sql {
    findings: LayerSql,
    occurrences: LayerSql,
    observations: LayerSql,
}

fn sql() -> &'static Sql {
    static SQL: std::sync::OnceLock<Sql> = std::sync::OnceLock::new();
    SQL.get_or_init(|| Sql {
        findings: LayerSql::new("findings", "finding_id", FINDING_COLUMNS),
        occurrences: LayerSql::new("occurrences", "occurrence_id", OCCURRENCE_COLUMNS),
        observations: LayerSql::new("observations", "observation_id", OBSERVATION_COLUMNS),
    })
}

const COUNTS: &str =
    "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM occurrences), (SELECT count(*) FROM observations)";

fn length(table: &'static str, stored: i64) -> Result<std::num::NonZeroU64, PgError> {
    std::num::NonZeroU64::new(unordered(stored))
        .ok_or_else(|| PgError::Corrupt { table, reason: "a zero byte_length".to_owned() })
}

fn location(
    table: &'static str,
    display: Option<String>,
    url: Option<String>,
) -> Result<Option<Arc<Location>>, PgError> {
    display
        .map(|display| {
            Location::try_new(display, url)
                .map(Arc::new)
                .map_err(|e| PgError::Corrupt { table, reason: format!("location: {e}") })
        })
        .transpose()
}

fn finding(row: &Row) -> Result<FindingRecord, PgError> {
    const T: &str = "findings";
    Ok(FindingRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_column(T, row, 0)?),
        FindingId::from_bytes(digest_column(T, row, 1)?),
        StableItemId::from_bytes(digest_column(T, row, 2)?),
        RuleFingerprint::from_bytes(digest_column(T, row, 3)?),
        SecretHash::from_persisted_bytes(digest_column(T, row, 4)?),
    ))
}

fn occurrence(row: &Row) -> Result<OccurrenceRecord, PgError> {
    const T: &str = "occurrences";
    Ok(OccurrenceRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_column(T, row, 0)?),
        OccurrenceId::from_bytes(digest_column(T, row, 1)?),
        FindingId::from_bytes(digest_column(T, row, 2)?),
        ObjectVersionId::from_bytes(digest_column(T, row, 3)?),
        unordered(column(T, row, 4)?),
        length(T, column(T, row, 5)?)?,
    ))
}

fn observation(row: &Row) -> Result<ObservationRecord, PgError> {
    const T: &str = "observations";
    Ok(ObservationRecord::from_persisted_unchecked(
        TenantId::from_bytes(digest_column(T, row, 0)?),
        ObservationId::from_bytes(digest_column(T, row, 1)?),
        OccurrenceId::from_bytes(digest_column(T, row, 2)?),
        PolicyHash::from_bytes(digest_column(T, row, 3)?),
        OvidHash::from_bytes(digest_column(T, row, 4)?),
        RunId::from_raw(unsigned(column(T, row, 5)?)),
        ShardId::from_raw(unsigned(column(T, row, 6)?)),
        FenceEpoch::from_raw(unordered(column(T, row, 7)?)),
        LogicalTime::from_raw(unordered(column(T, row, 8)?)),
        location(T, column(T, row, 9)?, column(T, row, 10)?)?,
    ))
}

/// The durable rows one batch touches, as `READ_DURABLE` returns them.
#[derive(Default)]
struct Durable {
    findings: HashMap<FindingId, FindingRecord>,
    occurrences: HashMap<OccurrenceId, OccurrenceRecord>,
    observations: HashMap<ObservationId, ObservationRecord>,
}

impl Durable {
    fn decode(tenant: TenantId, rows: &[Row]) -> Result<Self, PgError> {
        const T: &str = "findings layers";
        let mut durable = Self::default();
        for row in rows {
            let kind: i16 = column(T, row, 0)?;
            let id = digest_column(T, row, 1)?;
            let a = digest_column(T, row, 2)?;
            let b = digest_column(T, row, 3)?;
            match kind {
                0 => {
                    let f = FindingRecord::from_persisted_unchecked(
                        tenant,
                        FindingId::from_bytes(id),
                        StableItemId::from_bytes(a),
                        RuleFingerprint::from_bytes(b),
                        SecretHash::from_persisted_bytes(digest_column(T, row, 4)?),
                    );
                    durable.findings.insert(f.finding_id(), f);
                }
                1 => {
                    let o = OccurrenceRecord::from_persisted_unchecked(
                        tenant,
                        OccurrenceId::from_bytes(id),
                        FindingId::from_bytes(a),
                        ObjectVersionId::from_bytes(b),
                        unordered(column(T, row, 5)?),
                        length(T, column(T, row, 6)?)?,
                    );
                    durable.occurrences.insert(o.occurrence_id(), o);
                }
                _ => {
                    let obs = ObservationRecord::from_persisted_unchecked(
                        tenant,
                        ObservationId::from_bytes(id),
                        OccurrenceId::from_bytes(a),
                        PolicyHash::from_bytes(b),
                        OvidHash::from_bytes(digest_column(T, row, 4)?),
                        RunId::from_raw(unsigned(column(T, row, 5)?)),
                        ShardId::from_raw(unsigned(column(T, row, 6)?)),
                        FenceEpoch::from_raw(unordered(column(T, row, 7)?)),
                        LogicalTime::from_raw(unordered(column(T, row, 8)?)),
                        location(T, column(T, row, 9)?, column(T, row, 10)?)?,
                    );
                    durable.observations.insert(obs.observation_id(), obs);
                }
            }
        }
        Ok(durable)
    }
}

/// One accepted findings batch, staged. Opaque.
pub struct FindingsPayload {
    tenant: Option<TenantId>,
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

impl FindingsPayload {
    /// The ids whose durable rows the checks need, per layer.
    fn lookups(&self) -> [Vec<Vec<u8>>; 3] {
        let mut findings: Vec<Vec<u8>> = self.findings.iter().map(|f| f.finding_id().as_bytes().to_vec()).collect();
        findings.extend(self.occurrences.iter().map(|o| o.finding_id().as_bytes().to_vec()));
        let mut occurrences: Vec<Vec<u8>> =
            self.occurrences.iter().map(|o| o.occurrence_id().as_bytes().to_vec()).collect();
        occurrences.extend(self.observations.iter().map(|o| o.occurrence_id().as_bytes().to_vec()));
        let observations = self.observations.iter().map(|o| o.observation_id().as_bytes().to_vec()).collect();
        for ids in [&mut findings, &mut occurrences] {
            ids.sort_unstable();
            ids.dedup();
        }
        [findings, occurrences, observations]
    }
}

/// What a checked batch writes, and what it acknowledges.
struct Plan<'a> {
    receipt: FindingsCommitReceipt,
    findings: Vec<&'a FindingRecord>,
    occurrences: Vec<&'a OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

/// The in-memory sink's checks (`docs/contract.md §7.2`), in its order,
/// against the batch and the durable rows it touches: the first violation
/// is the same error, and the merged observations the same rows.
fn check<'a>(payload: &'a FindingsPayload, durable: &Durable) -> Result<Plan<'a>, StoreError> {
    let mut findings: HashMap<FindingId, &FindingRecord> = HashMap::with_capacity(payload.findings.len());
    let mut new_findings = Vec::new();
    for f in &payload.findings {
        let fresh = admit_immutable(f.finding_id(), f, &mut findings, &durable.findings)
            .map_err(|()| StoreError::FindingConflict { tenant_id: f.tenant_id(), finding_id: f.finding_id() })?;
        if fresh == Some(true) {
            new_findings.push(f);
        }
    }

    let mut occurrences: HashMap<OccurrenceId, &OccurrenceRecord> = HashMap::with_capacity(payload.occurrences.len());
    let mut new_occurrences = Vec::new();
    for o in &payload.occurrences {
        if !findings.contains_key(&o.finding_id()) && !durable.findings.contains_key(&o.finding_id()) {
            return Err(StoreError::MissingFinding {
                tenant_id: o.tenant_id(),
                finding_id: o.finding_id(),
                occurrence_id: o.occurrence_id(),
            });
        }
        let fresh = admit_immutable(o.occurrence_id(), o, &mut occurrences, &durable.occurrences).map_err(|()| {
            StoreError::OccurrenceConflict { tenant_id: o.tenant_id(), occurrence_id: o.occurrence_id() }
        })?;
        if fresh == Some(true) {
            new_occurrences.push(o);
        }
    }

    let mut observations: HashMap<ObservationId, ObservationRecord> =
        HashMap::with_capacity(payload.observations.len());
    for obs in &payload.observations {
        if !occurrences.contains_key(&obs.occurrence_id()) && !durable.occurrences.contains_key(&obs.occurrence_id()) {
            return Err(StoreError::MissingOccurrence {
                tenant_id: obs.tenant_id(),
                occurrence_id: obs.occurrence_id(),
                observation_id: obs.observation_id(),
            });
        }
        let conflict =
            || StoreError::ObservationConflict { tenant_id: obs.tenant_id(), observation_id: obs.observation_id() };
        match observations.entry(obs.observation_id()) {
            Entry::Occupied(mut slot) => {
                let merged = merge_observations(slot.get(), obs).ok_or_else(conflict)?;
                slot.insert(merged);
            }
            Entry::Vacant(slot) => {
                let merged = match durable.observations.get(&obs.observation_id()) {
                    Some(stored) => merge_observations(stored, obs).ok_or_else(conflict)?,
                    None => obs.clone(),
                };
                slot.insert(merged);
            }
        }
    }

    let receipt =
        FindingsCommitReceipt::new(findings.len() as u64, occurrences.len() as u64, observations.len() as u64);
    // Key order, so concurrent batches lock shared rows in the same order.
    new_findings.sort_unstable_by_key(|f| f.finding_id());
    new_occurrences.sort_unstable_by_key(|o| o.occurrence_id());
    let mut changed: Vec<ObservationRecord> = observations
        .into_values()
        .filter(|merged| durable.observations.get(&merged.observation_id()) != Some(merged))
        .collect();
    changed.sort_unstable_by_key(ObservationRecord::observation_id);
    Ok(Plan { receipt, findings: new_findings, occurrences: new_occurrences, observations: changed })
}

impl Plan<'_> {
    fn writes_nothing(&self) -> bool {
        self.findings.is_empty() && self.occurrences.is_empty() && self.observations.is_empty()
    }

    /// Runs `WRITE` with this plan's rows as parallel arrays.
    fn write(&self, session: &mut crate::pool::Session<'_>, tenant: &[u8]) -> Result<u64, postgres::Error> {
        let bytes = |id: &[u8; 32]| id.as_slice().to_vec();
        let f = &self.findings;
        let o = &self.occurrences;
        let b = &self.observations;
        let f_id: Vec<Vec<u8>> = f.iter().map(|r| bytes(r.finding_id().as_bytes())).collect();
        let f_item: Vec<Vec<u8>> = f.iter().map(|r| bytes(r.stable_item_id().as_bytes())).collect();
        let f_rule: Vec<Vec<u8>> = f.iter().map(|r| bytes(r.rule_fingerprint().as_bytes())).collect();
        let f_secret: Vec<Vec<u8>> = f.iter().map(|r| bytes(r.secret_hash().as_bytes())).collect();
        let o_id: Vec<Vec<u8>> = o.iter().map(|r| bytes(r.occurrence_id().as_bytes())).collect();
        let o_finding: Vec<Vec<u8>> = o.iter().map(|r| bytes(r.finding_id().as_bytes())).collect();
        let o_version: Vec<Vec<u8>> = o.iter().map(|r| bytes(r.object_version_id().as_bytes())).collect();
        let o_offset: Vec<i64> = o.iter().map(|r| ordered(r.byte_offset())).collect();
        let o_length: Vec<i64> = o.iter().map(|r| ordered(r.byte_length().get())).collect();
        let b_id: Vec<Vec<u8>> = b.iter().map(|r| bytes(r.observation_id().as_bytes())).collect();
        let b_occurrence: Vec<Vec<u8>> = b.iter().map(|r| bytes(r.occurrence_id().as_bytes())).collect();
        let b_policy: Vec<Vec<u8>> = b.iter().map(|r| bytes(r.policy_hash().as_bytes())).collect();
        let b_ovid: Vec<Vec<u8>> = b.iter().map(|r| bytes(r.ovid_hash().as_bytes())).collect();
        let b_run: Vec<i64> = b.iter().map(|r| signed(r.run_id().as_raw())).collect();
        let b_shard: Vec<i64> = b.iter().map(|r| signed(r.shard_id().as_raw())).collect();
        let b_fence: Vec<i64> = b.iter().map(|r| ordered(r.fence_epoch().as_raw())).collect();
        let b_seen: Vec<i64> = b.iter().map(|r| ordered(r.seen_at().as_raw())).collect();
        let b_display: Vec<Option<&str>> = b.iter().map(|r| r.location().map(Location::display)).collect();
        let b_url: Vec<Option<&str>> = b.iter().map(|r| r.location().and_then(Location::url)).collect();
        let params: [&(dyn ToSql + Sync); 20] = [
            &tenant,
            &f_id,
            &f_item,
            &f_rule,
            &f_secret,
            &o_id,
            &o_finding,
            &o_version,
            &o_offset,
            &o_length,
            &b_id,
            &b_occurrence,
            &b_policy,
            &b_ovid,
            &b_run,
            &b_shard,
            &b_fence,
            &b_seen,
            &b_display,
            &b_url,
        ];
        session.execute(WRITE, &params)
    }
}

/// The findings layers in PostgreSQL, behind the store core.
pub struct FindingsPg;

impl StoreBackend for FindingsPg {
    type Payload = FindingsPayload;
    type Receipt = FindingsCommitReceipt;
    type Durable = Arc<PgPool>;
    type Error = PgError;
    const STORE_KIND: StoreKind = StoreKind::Findings;

    /// One transaction: read the durable rows the batch touches, check the
    /// batch against them exactly as the in-memory sink does, write what
    /// changes. A refusal rolls back, so nothing of a rejected batch stays;
    /// a serialization failure reruns the whole transaction.
    fn apply(db: &mut Arc<PgPool>, payload: &FindingsPayload) -> Result<FindingsCommitReceipt, PgError> {
        let Some(tenant) = payload.tenant else {
            return Ok(FindingsCommitReceipt::new(0, 0, 0));
        };
        let tenant_bytes = tenant.as_bytes().as_slice();
        let [finding_ids, occurrence_ids, observation_ids] = payload.lookups();
        db.with_retry(|session| {
            session.transaction(BEGIN, |session| {
                let rows =
                    session.query(READ_DURABLE, &[&tenant_bytes, &finding_ids, &occurrence_ids, &observation_ids])?;
                let plan = match Durable::decode(tenant, &rows)
                    .and_then(|durable| check(payload, &durable).map_err(PgError::from))
                {
                    Ok(plan) => plan,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                if !plan.writes_nothing() {
                    plan.write(session, tenant_bytes)?;
                }
                Ok(Ok(plan.receipt))
            })
        })?
    }
}

/// A claim on one accepted findings write.
pub type PgFindingsHandle = StoreHandle<FindingsPg>;

/// The findings sink over PostgreSQL. Clones share one store; separate
/// sinks over the same schema are concurrent writers of the same rows.
#[derive(Clone)]
pub struct PgFindingsSink {
    core: SharedCore<FindingsPg>,
    db: Arc<PgPool>,
}

impl PgFindingsSink {
    pub(crate) fn new(db: Arc<PgPool>, auto_complete: bool) -> Self {
        Self { core: SharedCore::new(StoreCore::new(Arc::clone(&db), auto_complete)), db }
    }

    pub(crate) fn core(&self) -> &StoreCore<FindingsPg> {
        &self.core
    }

    /// Round trips to the server made through this store's pool (shared with
    /// the ledger it was connected with).
    pub fn round_trips(&self) -> u64 {
        self.db.round_trips()
    }

    fn query<T>(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        decode: fn(&Row) -> Result<T, PgError>,
    ) -> Result<Vec<T>, PgError> {
        let rows = self.db.with(|session| session.query(sql, params).map_err(PgError::from_driver))?;
        rows.iter().map(decode).collect()
    }

    fn get<T>(
        &self,
        layer: &'static LayerSql,
        tenant: TenantId,
        id: &[u8; 32],
        decode: fn(&Row) -> Result<T, PgError>,
    ) -> Result<Option<T>, PgError> {
        Ok(self.query(&layer.get, &[&tenant.as_bytes().as_slice(), &id.as_slice()], decode)?.into_iter().next())
    }

    fn page<T>(
        &self,
        layer: &'static LayerSql,
        after: Option<(TenantId, [u8; 32])>,
        page: usize,
        decode: fn(&Row) -> Result<T, PgError>,
    ) -> Result<Vec<T>, PgError> {
        check_read_size(page)?;
        let n = i64::try_from(page).unwrap_or(i64::MAX);
        match after {
            None => self.query(&layer.first, &[&n], decode),
            Some((tenant, id)) => {
                self.query(&layer.after, &[&tenant.as_bytes().as_slice(), &id.as_slice(), &n], decode)
            }
        }
    }
}

impl FindingsSink for PgFindingsSink {
    type Error = PgError;
    type CommitHandle = PgFindingsHandle;

    /// The same submit-time checks as the in-memory sink, in the same order;
    /// parents and conflicts are checked when the write is applied.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<PgFindingsHandle, PgError> {
        batch.validate_submission()?;
        // `validate_submission` checked that every record has this tenant,
        // so `READ_DURABLE` can probe under it alone.
        let tenant = (batch.findings().iter().map(FindingRecord::tenant_id))
            .chain(batch.occurrences().iter().map(OccurrenceRecord::tenant_id))
            .chain(batch.observations().iter().map(ObservationRecord::tenant_id))
            .next();
        let payload = FindingsPayload {
            tenant,
            findings: batch.findings().to_vec(),
            occurrences: batch.occurrences().to_vec(),
            observations: batch.observations().to_vec(),
        };
        Ok(StoreCore::submit(&self.core, payload)?)
    }
}

impl FindingsConformanceProbe for PgFindingsSink {
    type Error = PgError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, PgError> {
        let rows = self.db.with(|session| session.query(COUNTS, &[]).map_err(PgError::from_driver))?;
        let row = rows.first().ok_or(PgError::Corrupt { table: "findings layers", reason: "no counts".to_owned() })?;
        let count = |i| {
            column::<i64>("findings layers", row, i).and_then(|n| {
                u64::try_from(n).map_err(|e| PgError::Corrupt { table: "findings layers", reason: e.to_string() })
            })
        };
        Ok(DurableFindingsCounts::new(count(0)?, count(1)?, count(2)?))
    }
}

impl FindingsInspect for PgFindingsSink {
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, PgError> {
        self.get(&sql().findings, tenant_id, id.as_bytes(), finding)
    }

    fn get_occurrence(&self, tenant_id: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, PgError> {
        self.get(&sql().occurrences, tenant_id, id.as_bytes(), occurrence)
    }

    fn get_observation(&self, tenant_id: TenantId, id: ObservationId) -> Result<Option<ObservationRecord>, PgError> {
        self.get(&sql().observations, tenant_id, id.as_bytes(), observation)
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, PgError> {
        self.query(&sql().findings.all, &[], finding)
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, PgError> {
        self.query(&sql().occurrences.all, &[], occurrence)
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, PgError> {
        self.query(&sql().observations.all, &[], observation)
    }

    fn findings_page(&self, after: Option<(TenantId, FindingId)>, page: usize) -> Result<Vec<FindingRecord>, PgError> {
        self.page(&sql().findings, after.map(|(t, id)| (t, *id.as_bytes())), page, finding)
    }

    fn occurrences_page(
        &self,
        after: Option<(TenantId, OccurrenceId)>,
        page: usize,
    ) -> Result<Vec<OccurrenceRecord>, PgError> {
        self.page(&sql().occurrences, after.map(|(t, id)| (t, *id.as_bytes())), page, occurrence)
    }

    fn observations_page(
        &self,
        after: Option<(TenantId, ObservationId)>,
        page: usize,
    ) -> Result<Vec<ObservationRecord>, PgError> {
        self.page(&sql().observations, after.map(|(t, id)| (t, *id.as_bytes())), page, observation)
    }
}

impl fmt::Debug for PgFindingsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never takes the store lock: formatting must not block or deadlock.
        f.debug_struct("PgFindingsSink").finish_non_exhaustive()
    }
}
