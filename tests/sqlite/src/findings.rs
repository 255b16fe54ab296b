//! `SqliteFindingsSink`: findings and occurrences as insert-or-compare rows,
//! observations as an upsert that merges provenance.

use core::fmt;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use gossip_persistence::findings::{
    DurableFindingsCounts, FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch, ObservationRecord,
    OccurrenceRecord,
};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use gossip_persistence::store::{SharedCore, StoreBackend, StoreCore};
use gossip_persistence::{FindingsConformanceProbe, FindingsInspect, FindingsSink, Location, StoreError, StoreKind};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::encoding::{Count, Length, Ordered, Signed, invalid_row};
use crate::error::SqlitePersistenceError;
use crate::handle::SqliteFindingsHandle;
use crate::schema;

const FINDING_COLUMNS: &str = "tenant, finding_id, stable_item_id, rule_fingerprint, secret_hash";
const OCCURRENCE_COLUMNS: &str = "tenant, occurrence_id, finding_id, object_version_id, byte_offset, byte_length";
const OBSERVATION_COLUMNS: &str = "tenant, observation_id, occurrence_id, policy_hash, ovid_hash, \
    run_id, shard_id, fence_epoch, seen_at, location_display, location_url";

/// Findings and occurrences are immutable: an insert that meets an existing
/// key changes nothing, and the batch then asks whether the stored row is
/// the same one (`SAME_*`, bound to the same parameters).
static INSERT_FINDING: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO findings ({FINDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
});
const SAME_FINDING: &str = "SELECT 1 FROM findings WHERE tenant = ?1 AND finding_id = ?2 \
    AND stable_item_id = ?3 AND rule_fingerprint = ?4 AND secret_hash = ?5";
static INSERT_OCCURRENCE: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO occurrences ({OCCURRENCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING")
});
const SAME_OCCURRENCE: &str = "SELECT 1 FROM occurrences WHERE tenant = ?1 AND occurrence_id = ?2 \
    AND finding_id = ?3 AND object_version_id = ?4 AND byte_offset = ?5 AND byte_length = ?6";
const HAS_FINDING: &str = "SELECT 1 FROM findings WHERE tenant = ?1 AND finding_id = ?2";
const HAS_OCCURRENCE: &str = "SELECT 1 FROM occurrences WHERE tenant = ?1 AND occurrence_id = ?2";

/// `merge_observations` as an upsert: the later `seen_at` wins the
/// provenance; on a tie the incoming row wins only by bringing a location
/// the stored row lacks. The location (display and url together) is the
/// winner's, else the stored one's, else the incoming one's. The `WHERE`
/// refuses a row whose identity differs, which leaves the change count at 0.
static UPSERT_OBSERVATION: LazyLock<String> = LazyLock::new(|| {
    let wins = "(excluded.seen_at > seen_at OR (excluded.seen_at = seen_at \
                 AND location_display IS NULL AND excluded.location_display IS NOT NULL))";
    let takes_location = format!("(location_display IS NULL OR ({wins} AND excluded.location_display IS NOT NULL))");
    format!(
        "INSERT INTO observations ({OBSERVATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (tenant, observation_id) DO UPDATE SET
            run_id = iif({wins}, excluded.run_id, run_id),
            shard_id = iif({wins}, excluded.shard_id, shard_id),
            fence_epoch = iif({wins}, excluded.fence_epoch, fence_epoch),
            seen_at = iif({wins}, excluded.seen_at, seen_at),
            location_display = iif({takes_location}, excluded.location_display, location_display),
            location_url = iif({takes_location}, excluded.location_url, location_url)
         WHERE occurrence_id = excluded.occurrence_id
           AND policy_hash = excluded.policy_hash
           AND ovid_hash = excluded.ovid_hash"
    )
});

static GET_FINDING: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = ?1 AND finding_id = ?2"));
static GET_OCCURRENCE: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OCCURRENCE_COLUMNS} FROM occurrences WHERE tenant = ?1 AND occurrence_id = ?2"));
static GET_OBSERVATION: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {OBSERVATION_COLUMNS} FROM observations WHERE tenant = ?1 AND observation_id = ?2")
});
static ALL_FINDINGS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {FINDING_COLUMNS} FROM findings ORDER BY tenant, finding_id"));
static ALL_OCCURRENCES: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OCCURRENCE_COLUMNS} FROM occurrences ORDER BY tenant, occurrence_id"));
static ALL_OBSERVATIONS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {OBSERVATION_COLUMNS} FROM observations ORDER BY tenant, observation_id"));
const COUNTS: &str =
    "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM occurrences), (SELECT count(*) FROM observations)";

fn finding(row: &Row<'_>) -> rusqlite::Result<FindingRecord> {
    Ok(FindingRecord::from_persisted_unchecked(
        TenantId::from_bytes(row.get(0)?),
        FindingId::from_bytes(row.get(1)?),
        StableItemId::from_bytes(row.get(2)?),
        RuleFingerprint::from_bytes(row.get(3)?),
        SecretHash::from_persisted_bytes(row.get(4)?),
    ))
}

fn occurrence(row: &Row<'_>) -> rusqlite::Result<OccurrenceRecord> {
    Ok(OccurrenceRecord::from_persisted_unchecked(
        TenantId::from_bytes(row.get(0)?),
        OccurrenceId::from_bytes(row.get(1)?),
        FindingId::from_bytes(row.get(2)?),
        ObjectVersionId::from_bytes(row.get(3)?),
        row.get::<_, Ordered>(4)?.0,
        row.get::<_, Length>(5)?.0,
    ))
}

fn observation(row: &Row<'_>) -> rusqlite::Result<ObservationRecord> {
    let location = match row.get::<_, Option<String>>(9)? {
        Some(display) => Some(Arc::new(
            Location::try_new(display, row.get::<_, Option<String>>(10)?).map_err(|e| invalid_row(9, Type::Text, e))?,
        )),
        None => None,
    };
    Ok(ObservationRecord::from_persisted_unchecked(
        TenantId::from_bytes(row.get(0)?),
        ObservationId::from_bytes(row.get(1)?),
        OccurrenceId::from_bytes(row.get(2)?),
        PolicyHash::from_bytes(row.get(3)?),
        OvidHash::from_bytes(row.get(4)?),
        RunId::from_raw(row.get::<_, Signed>(5)?.0),
        ShardId::from_raw(row.get::<_, Signed>(6)?.0),
        FenceEpoch::from_raw(row.get::<_, Ordered>(7)?.0),
        LogicalTime::from_raw(row.get::<_, Ordered>(8)?.0),
        location,
    ))
}

/// One accepted findings batch, staged. Opaque.
pub struct FindingsPayload {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

/// The findings layers in SQL, behind the store core.
pub struct FindingsSql;

/// The layers are written in order, each row checked against the table as
/// it stands: that table is durable state plus the batch so far, exactly
/// the union the reference checks against, so the first error is the same
/// one. The sets of keys written give the receipt its distinct-key counts
/// and spare a parent lookup when the parent came in the same batch.
impl FindingsSql {
    fn write_findings(
        tx: &Transaction<'_>,
        findings: &[FindingRecord],
    ) -> Result<HashSet<(TenantId, FindingId)>, SqlitePersistenceError> {
        let mut insert = tx.prepare_cached(&INSERT_FINDING)?;
        let mut same = tx.prepare_cached(SAME_FINDING)?;
        let mut keys = HashSet::with_capacity(findings.len());
        for f in findings {
            // Owned and `Copy`, so one tuple binds both statements.
            let row = (
                *f.tenant_id().as_bytes(),
                *f.finding_id().as_bytes(),
                *f.stable_item_id().as_bytes(),
                *f.rule_fingerprint().as_bytes(),
                *f.secret_hash().as_bytes(),
            );
            if insert.execute(row)? == 0 && !same.exists(row)? {
                return Err(StoreError::FindingConflict { tenant_id: f.tenant_id(), finding_id: f.finding_id() }.into());
            }
            keys.insert((f.tenant_id(), f.finding_id()));
        }
        Ok(keys)
    }

    fn write_occurrences(
        tx: &Transaction<'_>,
        occurrences: &[OccurrenceRecord],
        batch_findings: &HashSet<(TenantId, FindingId)>,
    ) -> Result<HashSet<(TenantId, OccurrenceId)>, SqlitePersistenceError> {
        let mut has_finding = tx.prepare_cached(HAS_FINDING)?;
        let mut insert = tx.prepare_cached(&INSERT_OCCURRENCE)?;
        let mut same = tx.prepare_cached(SAME_OCCURRENCE)?;
        let mut keys = HashSet::with_capacity(occurrences.len());
        for o in occurrences {
            let (tenant, id) = (o.tenant_id(), o.occurrence_id());
            let parent = (tenant, o.finding_id());
            if !batch_findings.contains(&parent) && !has_finding.exists((*tenant.as_bytes(), *parent.1.as_bytes()))? {
                return Err(StoreError::MissingFinding {
                    tenant_id: tenant,
                    finding_id: o.finding_id(),
                    occurrence_id: id,
                }
                .into());
            }
            let row = (
                *tenant.as_bytes(),
                *id.as_bytes(),
                *o.finding_id().as_bytes(),
                *o.object_version_id().as_bytes(),
                Ordered(o.byte_offset()),
                Ordered(o.byte_length().get()),
            );
            if insert.execute(row)? == 0 && !same.exists(row)? {
                return Err(StoreError::OccurrenceConflict { tenant_id: tenant, occurrence_id: id }.into());
            }
            keys.insert((tenant, id));
        }
        Ok(keys)
    }

    fn write_observations(
        tx: &Transaction<'_>,
        observations: &[ObservationRecord],
        batch_occurrences: &HashSet<(TenantId, OccurrenceId)>,
    ) -> Result<usize, SqlitePersistenceError> {
        let mut has_occurrence = tx.prepare_cached(HAS_OCCURRENCE)?;
        let mut upsert = tx.prepare_cached(&UPSERT_OBSERVATION)?;
        let mut keys = HashSet::with_capacity(observations.len());
        for obs in observations {
            obs.validate_identity()?;
            let (tenant, id) = (obs.tenant_id(), obs.observation_id());
            let parent = (tenant, obs.occurrence_id());
            if !batch_occurrences.contains(&parent)
                && !has_occurrence.exists((*tenant.as_bytes(), *parent.1.as_bytes()))?
            {
                return Err(StoreError::MissingOccurrence {
                    tenant_id: tenant,
                    occurrence_id: obs.occurrence_id(),
                    observation_id: id,
                }
                .into());
            }
            let location = obs.location();
            let changed = upsert.execute(params![
                tenant.as_bytes(),
                id.as_bytes(),
                obs.occurrence_id().as_bytes(),
                obs.policy_hash().as_bytes(),
                obs.ovid_hash().as_bytes(),
                Signed(obs.run_id().as_raw()),
                Signed(obs.shard_id().as_raw()),
                Ordered(obs.fence_epoch().as_raw()),
                Ordered(obs.seen_at().as_raw()),
                location.map(Location::display),
                location.and_then(Location::url),
            ])?;
            if changed == 0 {
                return Err(StoreError::ObservationConflict { tenant_id: tenant, observation_id: id }.into());
            }
            keys.insert((tenant, id));
        }
        Ok(keys.len())
    }
}

impl StoreBackend for FindingsSql {
    type Payload = FindingsPayload;
    type Receipt = FindingsCommitReceipt;
    type Durable = Connection;
    type Error = SqlitePersistenceError;
    const STORE_KIND: StoreKind = StoreKind::Findings;

    /// One transaction per batch; any error drops it, which rolls back.
    fn apply(
        conn: &mut Connection,
        payload: &FindingsPayload,
    ) -> Result<FindingsCommitReceipt, SqlitePersistenceError> {
        let tx = conn.transaction()?;
        let findings = Self::write_findings(&tx, &payload.findings)?;
        let occurrences = Self::write_occurrences(&tx, &payload.occurrences, &findings)?;
        let observations = Self::write_observations(&tx, &payload.observations, &occurrences)?;
        tx.commit()?;
        Ok(FindingsCommitReceipt::new(findings.len() as u64, occurrences.len() as u64, observations as u64))
    }
}

/// The findings sink over an in-memory SQLite database. Clones share one store.
#[derive(Clone)]
pub struct SqliteFindingsSink {
    core: SharedCore<FindingsSql>,
}

impl SqliteFindingsSink {
    /// A fresh sink that applies writes at submit (auto-complete).
    pub fn open() -> Result<Self, SqlitePersistenceError> {
        Self::with_auto_complete(true)
    }

    /// A fresh sink; with `auto_complete` off every write waits for a release.
    /// Fails only if SQLite cannot open the database or create the schema.
    pub fn with_auto_complete(auto_complete: bool) -> Result<Self, SqlitePersistenceError> {
        Ok(Self { core: SharedCore::new(StoreCore::new(schema::open_findings()?, auto_complete)) })
    }

    pub(crate) fn core(&self) -> &StoreCore<FindingsSql> {
        &self.core
    }

    fn query<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, SqlitePersistenceError> {
        Ok(self.core.read(f)??)
    }

    fn get<T>(
        &self,
        sql: &str,
        tenant_id: TenantId,
        id: &[u8; 32],
        decode: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, SqlitePersistenceError> {
        self.query(|conn| conn.prepare_cached(sql)?.query_row(params![tenant_id.as_bytes(), id], decode).optional())
    }

    fn all<T>(&self, sql: &str, decode: fn(&Row<'_>) -> rusqlite::Result<T>) -> Result<Vec<T>, SqlitePersistenceError> {
        self.query(|conn| conn.prepare_cached(sql)?.query_map([], decode)?.collect())
    }
}

impl FindingsSink for SqliteFindingsSink {
    type Error = SqlitePersistenceError;
    type CommitHandle = SqliteFindingsHandle;

    /// The same submit-time checks as the native sink, in the same order;
    /// parents and conflicts are checked when the write is applied.
    fn upsert_batch(&self, batch: FindingsUpsertBatch<'_>) -> Result<SqliteFindingsHandle, Self::Error> {
        batch.validate_submission()?;
        let payload = FindingsPayload {
            findings: batch.findings().to_vec(),
            occurrences: batch.occurrences().to_vec(),
            observations: batch.observations().to_vec(),
        };
        Ok(StoreCore::submit(&self.core, payload)?)
    }
}

impl FindingsConformanceProbe for SqliteFindingsSink {
    type Error = SqlitePersistenceError;

    fn durable_counts(&self) -> Result<DurableFindingsCounts, SqlitePersistenceError> {
        self.query(|conn| {
            conn.prepare_cached(COUNTS)?.query_row([], |row| {
                let count = |i| row.get::<_, Count>(i).map(|Count(n)| n as u64);
                Ok(DurableFindingsCounts::new(count(0)?, count(1)?, count(2)?))
            })
        })
    }
}

impl FindingsInspect for SqliteFindingsSink {
    fn get_finding(&self, tenant_id: TenantId, id: FindingId) -> Result<Option<FindingRecord>, Self::Error> {
        self.get(&GET_FINDING, tenant_id, id.as_bytes(), finding)
    }

    fn get_occurrence(&self, tenant_id: TenantId, id: OccurrenceId) -> Result<Option<OccurrenceRecord>, Self::Error> {
        self.get(&GET_OCCURRENCE, tenant_id, id.as_bytes(), occurrence)
    }

    fn get_observation(
        &self,
        tenant_id: TenantId,
        id: ObservationId,
    ) -> Result<Option<ObservationRecord>, Self::Error> {
        self.get(&GET_OBSERVATION, tenant_id, id.as_bytes(), observation)
    }

    fn findings_snapshot(&self) -> Result<Vec<FindingRecord>, Self::Error> {
        self.all(&ALL_FINDINGS, finding)
    }

    fn occurrences_snapshot(&self) -> Result<Vec<OccurrenceRecord>, Self::Error> {
        self.all(&ALL_OCCURRENCES, occurrence)
    }

    fn observations_snapshot(&self) -> Result<Vec<ObservationRecord>, Self::Error> {
        self.all(&ALL_OBSERVATIONS, observation)
    }
}

impl fmt::Debug for SqliteFindingsSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never takes the store lock: formatting must not block or deadlock.
        f.debug_struct("SqliteFindingsSink").finish_non_exhaustive()
    }
}
