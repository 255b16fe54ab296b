//! `SqliteDoneLedger`: the done-ledger as one SQLite table, with the lattice
//! join written as an upsert.

use core::fmt;
use std::sync::LazyLock;

use gossip_persistence::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus, dedupe_batch,
    receipt_for,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::store::{SharedCore, StoreBackend, StoreCore};
use gossip_persistence::{DoneLedger, DoneLedgerInspect, StoreKind, check_batch_size, check_read_size};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::encoding::{Code, Count, Ordered, Rank, Signed, invalid_row};
use crate::error::SqlitePersistenceError;
use crate::handle::SqliteDoneLedgerHandle;
use crate::schema::{self, RETRYABLE};

const COLUMNS: &str = "tenant, policy, ovid, status, bytes_scanned, findings_count, \
    run_id, shard_id, fence_epoch, started_at, finished_at, error_code";

/// The lattice join of the stored row and an incoming one, column by column
/// (`DoneLedgerRecord::merge`): status, byte count and findings count join
/// on their own; provenance and error code come together from the fresher
/// row. In `DO UPDATE` every bare column name is the stored value, so the
/// assignments cannot see each other.
static UPSERT: LazyLock<String> = LazyLock::new(|| upsert_sql(None));

/// A bug planted in the lattice upsert, for `tests/planted_sql_bugs.rs`
/// only: each must make a named conformance check fail
/// (docs/mutation.md). Not part of the backend.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedSqlBug {
    /// The winner comparison flipped: the older writer's provenance and
    /// error code win every tie-break and every out-of-order merge.
    ProvenanceWinnerFlipped,
    /// `findings_count` kept (the maximum of both rows) whatever the merged
    /// status: a failure's count survives into a `ScannedClean` row.
    FindingsCountKeptOnClean,
    /// `findings_count` of a merged failed or skipped row is the stored
    /// row's, not the maximum of both.
    FindingsCountStoredKept,
}

static PLANTED_FLIPPED: LazyLock<String> = LazyLock::new(|| upsert_sql(Some(PlantedSqlBug::ProvenanceWinnerFlipped)));
static PLANTED_KEPT_ON_CLEAN: LazyLock<String> =
    LazyLock::new(|| upsert_sql(Some(PlantedSqlBug::FindingsCountKeptOnClean)));
static PLANTED_STORED_KEPT: LazyLock<String> =
    LazyLock::new(|| upsert_sql(Some(PlantedSqlBug::FindingsCountStoredKept)));

fn upsert_sql(planted: Option<PlantedSqlBug>) -> String {
    let clean = DoneLedgerStatus::ScannedClean.rank();
    let found = DoneLedgerStatus::ScannedWithFindings.rank();
    // Freshness order (rank, finished, started, fence, run, shard, error
    // code), ties to the stored row; no error code compares as empty.
    let order = if planted == Some(PlantedSqlBug::ProvenanceWinnerFlipped) { "<" } else { ">" };
    let wins = format!(
        "(excluded.status, excluded.finished_at, excluded.started_at, excluded.fence_epoch, \
                 excluded.run_id, excluded.shard_id, coalesce(excluded.error_code, '')) \
              {order} (status, finished_at, started_at, fence_epoch, run_id, shard_id, coalesce(error_code, ''))"
    );
    let clean_count = if planted == Some(PlantedSqlBug::FindingsCountKeptOnClean) {
        "max(findings_count, excluded.findings_count)".to_owned()
    } else {
        "0".to_owned()
    };
    let other_count = if planted == Some(PlantedSqlBug::FindingsCountStoredKept) {
        "findings_count"
    } else {
        "max(findings_count, excluded.findings_count)"
    };
    format!(
        "INSERT INTO done_ledger ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (tenant, policy, ovid) DO UPDATE SET
            status = max(status, excluded.status),
            bytes_scanned = max(bytes_scanned, excluded.bytes_scanned),
            findings_count = CASE max(status, excluded.status)
                WHEN {clean} THEN {clean_count}
                WHEN {found} THEN max(iif(status = {found}, findings_count, 0),
                                      iif(excluded.status = {found}, excluded.findings_count, 0), 1)
                ELSE {other_count}
            END,
            run_id = iif({wins}, excluded.run_id, run_id),
            shard_id = iif({wins}, excluded.shard_id, shard_id),
            fence_epoch = iif({wins}, excluded.fence_epoch, fence_epoch),
            started_at = iif({wins}, excluded.started_at, started_at),
            finished_at = iif({wins}, excluded.finished_at, finished_at),
            error_code = CASE
                WHEN max(status, excluded.status) IN ({clean}, {found}) THEN NULL
                WHEN {wins} THEN coalesce(excluded.error_code, error_code)
                ELSE coalesce(error_code, excluded.error_code)
            END"
    )
}

/// The done-ledger's durable state: the database and the upsert it merges
/// with (always [`UPSERT`] outside `tests/planted_sql_bugs.rs`).
#[doc(hidden)]
pub struct LedgerDb {
    conn: Connection,
    upsert: &'static str,
}

static GET: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM done_ledger WHERE tenant = ?1 AND policy = ?2 AND ovid = ?3"));

static SNAPSHOT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM done_ledger ORDER BY tenant, policy, ovid"));

/// Without statistics the planner would search the primary key and filter
/// every row of the scope; the partial index holds only the terminal rows,
/// so it is named (SQLite refuses to prepare the query if it cannot use it).
static LIST_DONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT ovid FROM done_ledger INDEXED BY done_ledger_terminal \
         WHERE tenant = ?1 AND policy = ?2 AND status <> {RETRYABLE}"
    )
});

static COUNT_DONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT count(*) FROM done_ledger INDEXED BY done_ledger_terminal \
         WHERE tenant = ?1 AND policy = ?2 AND status <> {RETRYABLE}"
    )
});

/// Decodes one row selected as `COLUMNS`.
fn record(row: &Row<'_>) -> rusqlite::Result<DoneLedgerRecord> {
    let key = DoneLedgerKey::new(
        TenantId::from_bytes(row.get(0)?),
        PolicyHash::from_bytes(row.get(1)?),
        OvidHash::from_bytes(row.get(2)?),
    );
    let Rank(status) = row.get(3)?;
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(row.get::<_, Signed>(6)?.0),
        ShardId::from_raw(row.get::<_, Signed>(7)?.0),
        FenceEpoch::from_raw(row.get::<_, Ordered>(8)?.0),
        LogicalTime::from_raw(row.get::<_, Ordered>(9)?.0),
        LogicalTime::from_raw(row.get::<_, Ordered>(10)?.0),
    );
    let code = row.get::<_, Option<Code>>(11)?.map(|Code(c)| c);
    DoneLedgerRecord::try_new(key, status, row.get::<_, Ordered>(4)?.0, row.get(5)?, provenance, code)
        .map_err(|e| invalid_row(5, Type::Integer, e))
}

/// The done-ledger's rows in SQL, behind the store core.
pub struct DoneLedgerSql;

impl StoreBackend for DoneLedgerSql {
    type Payload = Vec<DoneLedgerRecord>;
    type Receipt = DoneLedgerCommitReceipt;
    type Durable = LedgerDb;
    type Error = SqlitePersistenceError;
    const STORE_KIND: StoreKind = StoreKind::DoneLedger;

    /// In-batch duplicates are merged by the shared `dedupe_batch` (so the
    /// receipt counts distinct keys); the merge into durable rows is the
    /// upsert, all in one transaction that any error rolls back.
    fn apply(
        db: &mut LedgerDb,
        records: &Vec<DoneLedgerRecord>,
    ) -> Result<DoneLedgerCommitReceipt, SqlitePersistenceError> {
        records.iter().try_for_each(DoneLedgerRecord::validate_for_write)?;
        let deduped = dedupe_batch(records)?;
        let tx = db.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(db.upsert)?;
            for r in &deduped {
                let (key, p) = (r.key(), r.provenance());
                upsert.execute(params![
                    key.tenant_id().as_bytes(),
                    key.policy_hash().as_bytes(),
                    key.ovid_hash().as_bytes(),
                    r.status().rank(),
                    Ordered(r.bytes_scanned()),
                    r.findings_count(),
                    Signed(p.run_id().as_raw()),
                    Signed(p.shard_id().as_raw()),
                    Ordered(p.fence_epoch().as_raw()),
                    Ordered(p.started_at().as_raw()),
                    Ordered(p.finished_at().as_raw()),
                    r.error_code().map(|c| c.as_str()),
                ])?;
            }
        }
        tx.commit()?;
        Ok(receipt_for(&deduped))
    }
}

/// The done-ledger over an in-memory SQLite database. Clones share one
/// store; pending writes, releases and fault injection come from the same
/// store core as the native ledger.
#[derive(Clone)]
pub struct SqliteDoneLedger {
    core: SharedCore<DoneLedgerSql>,
}

impl SqliteDoneLedger {
    /// A fresh ledger that applies writes at submit (auto-complete).
    pub fn open() -> Result<Self, SqlitePersistenceError> {
        Self::with_auto_complete(true)
    }

    /// A fresh ledger; with `auto_complete` off every write waits for a release.
    /// Fails only if SQLite cannot open the database or create the schema.
    pub fn with_auto_complete(auto_complete: bool) -> Result<Self, SqlitePersistenceError> {
        Self::with_upsert(&UPSERT, auto_complete)
    }

    /// A fresh ledger whose upsert carries `bug`: a test hook for
    /// `tests/planted_sql_bugs.rs`, which shows the conformance suite
    /// catches it. Never use it for anything else.
    #[doc(hidden)]
    pub fn open_with_planted_bug(bug: PlantedSqlBug) -> Result<Self, SqlitePersistenceError> {
        let upsert = match bug {
            PlantedSqlBug::ProvenanceWinnerFlipped => &PLANTED_FLIPPED,
            PlantedSqlBug::FindingsCountKeptOnClean => &PLANTED_KEPT_ON_CLEAN,
            PlantedSqlBug::FindingsCountStoredKept => &PLANTED_STORED_KEPT,
        };
        Self::with_upsert(upsert, true)
    }

    fn with_upsert(upsert: &'static LazyLock<String>, auto_complete: bool) -> Result<Self, SqlitePersistenceError> {
        let db = LedgerDb { conn: schema::open_done_ledger()?, upsert: upsert.as_str() };
        Ok(Self { core: SharedCore::new(StoreCore::new(db, auto_complete)) })
    }

    pub(crate) fn core(&self) -> &StoreCore<DoneLedgerSql> {
        &self.core
    }

    fn query<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, SqlitePersistenceError> {
        Ok(self.core.read(|db| f(&db.conn))??)
    }

    /// Number of durable rows.
    pub fn len(&self) -> Result<usize, SqlitePersistenceError> {
        self.query(|conn| {
            conn.prepare_cached("SELECT count(*) FROM done_ledger")?.query_row([], |r| Ok(r.get::<_, Count>(0)?.0))
        })
    }

    /// Whether the ledger holds no durable row.
    pub fn is_empty(&self) -> Result<bool, SqlitePersistenceError> {
        self.len().map(|n| n == 0)
    }
}

impl DoneLedger for SqliteDoneLedger {
    type Error = SqlitePersistenceError;
    type CommitHandle = SqliteDoneLedgerHandle;

    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, Self::Error> {
        check_read_size(ovid_hashes.len())?;
        self.query(|conn| {
            let mut get = conn.prepare_cached(&GET)?;
            ovid_hashes
                .iter()
                .map(|ovid| {
                    get.query_row(params![tenant_id.as_bytes(), policy_hash.as_bytes(), ovid.as_bytes()], record)
                        .optional()
                })
                .collect()
        })
    }

    fn list_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Vec<OvidHash>, Self::Error> {
        self.query(|conn| {
            let mut list = conn.prepare_cached(&LIST_DONE)?;
            let rows = list.query_map(params![tenant_id.as_bytes(), policy_hash.as_bytes()], |row| {
                row.get(0).map(OvidHash::from_bytes)
            })?;
            rows.collect()
        })
    }

    fn count_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Option<usize>, Self::Error> {
        self.query(|conn| {
            conn.prepare_cached(&COUNT_DONE)?
                .query_row(params![tenant_id.as_bytes(), policy_hash.as_bytes()], |row| row.get::<_, Count>(0))
                .map(|Count(n)| Some(n))
        })
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<SqliteDoneLedgerHandle, Self::Error> {
        check_batch_size(records.len())?;
        Ok(StoreCore::submit(&self.core, records.to_vec())?)
    }
}

impl DoneLedgerInspect for SqliteDoneLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, Self::Error> {
        Ok(self.batch_get(key.tenant_id(), key.policy_hash(), &[key.ovid_hash()])?.into_iter().flatten().next())
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, Self::Error> {
        self.query(|conn| conn.prepare_cached(&SNAPSHOT)?.query_map([], record)?.collect())
    }
}

impl fmt::Debug for SqliteDoneLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never takes the store lock: formatting must not block or deadlock.
        f.debug_struct("SqliteDoneLedger").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{COUNT_DONE, LIST_DONE, schema};

    /// The terminal listing and count read the partial index, never the table.
    #[test]
    fn done_hash_queries_use_the_terminal_index() {
        let conn = schema::open_done_ledger().unwrap();
        for sql in [&*LIST_DONE, &*COUNT_DONE] {
            let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps: Vec<String> =
                plan.query_map([b"t", b"p"], |row| row.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(steps.iter().any(|s| s.contains("USING COVERING INDEX done_ledger_terminal")), "{sql}: {steps:?}");
        }
    }
}
