//! `PgDoneLedger`: the done-ledger as one table, each batch merged by one
//! `INSERT … ON CONFLICT DO UPDATE` over arrays.

use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use gossip_persistence::done_ledger::{
    DoneLedgerCommitReceipt, DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, dedupe_batch,
    receipt_for,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};
use gossip_persistence::store::{SharedCore, StoreBackend, StoreCore, StoreHandle};
use gossip_persistence::{DoneLedger, DoneLedgerInspect, StoreKind, check_batch_size, check_read_size};
use postgres::Row;

use crate::encoding::{column, digest_column, ordered, signed, status, unordered, unsigned};
use crate::error::PgError;
use crate::pool::PgPool;

const TABLE: &str = "done_ledger";

/// The lattice join (`DoneLedgerRecord::merge`, `docs/contract.md §4`) of
/// the stored row `d` and the incoming row `EXCLUDED`, column by column:
/// status, bytes and findings count join on their own; provenance and error
/// code come together from the winner, the row with the larger tuple
/// (rank, finished, started, fence, run, shard, code), ties to the stored
/// row. Times and epochs are stored sign-flipped and run and shard ids as
/// signed bigints, so bigint comparison is exactly the contract's order;
/// codes compare under "C" (bytes), an absent code as ''. In `DO UPDATE`
/// every `d.` column is the stored value, so the assignments cannot see
/// each other. The batch arrives as parallel arrays, so a batch of any size
/// is one statement, prepared once per connection: one round trip.
const UPSERT: &str = r#"
INSERT INTO done_ledger AS d
    (tenant, policy, ovid, status, bytes_scanned, findings_count,
     run_id, shard_id, fence_epoch, started_at, finished_at, error_code)
SELECT * FROM UNNEST($1::bytea[], $2::bytea[], $3::bytea[], $4::int2[], $5::int8[], $6::int8[],
                     $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::text[])
ON CONFLICT (tenant, policy, ovid) DO UPDATE SET
    status = GREATEST(d.status, EXCLUDED.status),
    bytes_scanned = GREATEST(d.bytes_scanned, EXCLUDED.bytes_scanned),
    findings_count = CASE GREATEST(d.status, EXCLUDED.status)
        WHEN 10 THEN 0
        WHEN 11 THEN GREATEST(CASE WHEN d.status = 11 THEN d.findings_count ELSE 0 END,
                              CASE WHEN EXCLUDED.status = 11 THEN EXCLUDED.findings_count ELSE 0 END, 1)
        ELSE GREATEST(d.findings_count, EXCLUDED.findings_count)
    END,
    run_id = CASE WHEN wins THEN EXCLUDED.run_id ELSE d.run_id END,
    shard_id = CASE WHEN wins THEN EXCLUDED.shard_id ELSE d.shard_id END,
    fence_epoch = CASE WHEN wins THEN EXCLUDED.fence_epoch ELSE d.fence_epoch END,
    started_at = CASE WHEN wins THEN EXCLUDED.started_at ELSE d.started_at END,
    finished_at = CASE WHEN wins THEN EXCLUDED.finished_at ELSE d.finished_at END,
    error_code = CASE
        WHEN GREATEST(d.status, EXCLUDED.status) IN (10, 11) THEN NULL
        WHEN wins THEN coalesce(EXCLUDED.error_code, d.error_code)
        ELSE coalesce(d.error_code, EXCLUDED.error_code)
    END
"#;

/// `wins`, spelled out where `UPSERT` names it (SQL has no local names in
/// an `ON CONFLICT` clause).
const WINS: &str = r#"((EXCLUDED.status, EXCLUDED.finished_at, EXCLUDED.started_at, EXCLUDED.fence_epoch,
      EXCLUDED.run_id, EXCLUDED.shard_id, coalesce(EXCLUDED.error_code, '') COLLATE "C")
    > (d.status, d.finished_at, d.started_at, d.fence_epoch,
       d.run_id, d.shard_id, coalesce(d.error_code, '') COLLATE "C"))"#;

const COLUMNS: &str = "tenant, policy, ovid, status, bytes_scanned, findings_count, \
    run_id, shard_id, fence_epoch, started_at, finished_at, error_code";

/// Built once: the statements are `&'static str` so each connection's
/// statement cache is keyed by them.
struct Sql {
    upsert: String,
    get_many: String,
    snapshot: String,
    snapshot_first: String,
    snapshot_after: String,
}

fn sql() -> &'static Sql {
    static SQL: std::sync::OnceLock<Sql> = std::sync::OnceLock::new();
    SQL.get_or_init(|| Sql {
        upsert: UPSERT.replace("wins", WINS),
        get_many: format!("SELECT {COLUMNS} FROM done_ledger WHERE tenant = $1 AND policy = $2 AND ovid = ANY($3)"),
        snapshot: format!("SELECT {COLUMNS} FROM done_ledger ORDER BY tenant, policy, ovid"),
        snapshot_first: format!("SELECT {COLUMNS} FROM done_ledger ORDER BY tenant, policy, ovid LIMIT $1"),
        snapshot_after: format!(
            "SELECT {COLUMNS} FROM done_ledger WHERE (tenant, policy, ovid) > ($1, $2, $3) \
             ORDER BY tenant, policy, ovid LIMIT $4"
        ),
    })
}

const LIST_DONE: &str = "SELECT ovid FROM done_ledger WHERE tenant = $1 AND policy = $2 AND status <> 1 ORDER BY ovid";
const LIST_DONE_FIRST: &str =
    "SELECT ovid FROM done_ledger WHERE tenant = $1 AND policy = $2 AND status <> 1 ORDER BY ovid LIMIT $3";
const LIST_DONE_AFTER: &str = "SELECT ovid FROM done_ledger WHERE tenant = $1 AND policy = $2 AND status <> 1 \
     AND ovid > $3 ORDER BY ovid LIMIT $4";
const COUNT_DONE: &str = "SELECT count(*) FROM done_ledger WHERE tenant = $1 AND policy = $2 AND status <> 1";
const COUNT_ALL: &str = "SELECT count(*) FROM done_ledger";

/// Decodes one row selected as `COLUMNS`.
fn record(row: &Row) -> Result<DoneLedgerRecord, PgError> {
    let key = DoneLedgerKey::new(
        TenantId::from_bytes(digest_column(TABLE, row, 0)?),
        PolicyHash::from_bytes(digest_column(TABLE, row, 1)?),
        OvidHash::from_bytes(digest_column(TABLE, row, 2)?),
    );
    let int = |i| column::<i64>(TABLE, row, i);
    let provenance = DoneLedgerProvenance::new(
        RunId::from_raw(unsigned(int(6)?)),
        ShardId::from_raw(unsigned(int(7)?)),
        FenceEpoch::from_raw(unordered(int(8)?)),
        LogicalTime::from_raw(unordered(int(9)?)),
        LogicalTime::from_raw(unordered(int(10)?)),
    );
    let corrupt = |reason: String| PgError::Corrupt { table: TABLE, reason };
    let count = u32::try_from(int(5)?).map_err(|e| corrupt(format!("findings_count: {e}")))?;
    let code = column::<Option<&str>>(TABLE, row, 11)?
        .map(DoneLedgerErrorCode::try_new)
        .transpose()
        .map_err(|e| corrupt(format!("error_code: {e}")))?;
    let status = status(TABLE, column(TABLE, row, 3)?)?;
    DoneLedgerRecord::try_new(key, status, unordered(int(4)?), count, provenance, code)
        .map_err(|e| corrupt(format!("{e}")))
}

fn records(rows: &[Row]) -> Result<Vec<DoneLedgerRecord>, PgError> {
    rows.iter().map(record).collect()
}

fn ovids(rows: &[Row]) -> Result<Vec<OvidHash>, PgError> {
    rows.iter().map(|row| digest_column(TABLE, row, 0).map(OvidHash::from_bytes)).collect()
}

fn count(rows: &[Row]) -> Result<usize, PgError> {
    let n: i64 = rows.first().map_or(Ok(0), |row| column(TABLE, row, 0))?;
    usize::try_from(n).map_err(|e| PgError::Corrupt { table: TABLE, reason: format!("count: {e}") })
}

fn limit(limit: usize) -> i64 {
    // At most MAX_PAGE_SIZE once `check_read_size` has passed.
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A batch as the parallel arrays `UPSERT` takes.
struct Columns<'a> {
    tenant: Vec<Vec<u8>>,
    policy: Vec<Vec<u8>>,
    ovid: Vec<Vec<u8>>,
    status: Vec<i16>,
    bytes: Vec<i64>,
    findings: Vec<i64>,
    run: Vec<i64>,
    shard: Vec<i64>,
    fence: Vec<i64>,
    started: Vec<i64>,
    finished: Vec<i64>,
    code: Vec<Option<&'a str>>,
}

impl<'a> Columns<'a> {
    fn new(rows: &'a [DoneLedgerRecord]) -> Self {
        let keys = rows.iter().map(DoneLedgerRecord::key);
        let provenance = || rows.iter().map(DoneLedgerRecord::provenance);
        Self {
            tenant: keys.clone().map(|k| k.tenant_id().as_bytes().to_vec()).collect(),
            policy: keys.clone().map(|k| k.policy_hash().as_bytes().to_vec()).collect(),
            ovid: keys.map(|k| k.ovid_hash().as_bytes().to_vec()).collect(),
            status: rows.iter().map(|r| i16::from(r.status().rank())).collect(),
            bytes: rows.iter().map(|r| ordered(r.bytes_scanned())).collect(),
            findings: rows.iter().map(|r| i64::from(r.findings_count())).collect(),
            run: provenance().map(|p| signed(p.run_id().as_raw())).collect(),
            shard: provenance().map(|p| signed(p.shard_id().as_raw())).collect(),
            fence: provenance().map(|p| ordered(p.fence_epoch().as_raw())).collect(),
            started: provenance().map(|p| ordered(p.started_at().as_raw())).collect(),
            finished: provenance().map(|p| ordered(p.finished_at().as_raw())).collect(),
            code: rows.iter().map(|r| r.error_code().map(DoneLedgerErrorCode::as_str)).collect(),
        }
    }
}

/// The done-ledger's rows in PostgreSQL, behind the store core.
pub struct DoneLedgerPg;

impl StoreBackend for DoneLedgerPg {
    type Payload = Vec<DoneLedgerRecord>;
    type Receipt = DoneLedgerCommitReceipt;
    type Durable = Arc<PgPool>;
    type Error = PgError;
    const STORE_KIND: StoreKind = StoreKind::DoneLedger;

    /// Validation and in-batch merging are the contract library's (so the
    /// receipt counts distinct keys and the first invalid row is reported
    /// exactly as in memory); the merge into durable rows is the upsert,
    /// one statement and so atomic on its own.
    fn apply(db: &mut Arc<PgPool>, records: &Vec<DoneLedgerRecord>) -> Result<DoneLedgerCommitReceipt, PgError> {
        records.iter().try_for_each(DoneLedgerRecord::validate_for_write)?;
        let mut deduped = dedupe_batch(records)?;
        let receipt = receipt_for(&deduped);
        if deduped.is_empty() {
            return Ok(receipt);
        }
        // Concurrent batches lock their rows in key order, so two of them
        // over the same keys queue instead of deadlocking.
        deduped.sort_unstable_by(|a, b| a.key().cmp(b.key()));
        let c = Columns::new(&deduped);
        let upsert: &'static str = &sql().upsert;
        db.with_retry(|session| {
            session.execute(
                upsert,
                &[
                    &c.tenant,
                    &c.policy,
                    &c.ovid,
                    &c.status,
                    &c.bytes,
                    &c.findings,
                    &c.run,
                    &c.shard,
                    &c.fence,
                    &c.started,
                    &c.finished,
                    &c.code,
                ],
            )
        })?;
        Ok(receipt)
    }
}

/// A claim on one accepted done-ledger write.
pub type PgDoneLedgerHandle = StoreHandle<DoneLedgerPg>;

/// The done-ledger over PostgreSQL. Clones share one store (one core: one
/// sequence of operation ids, one set of pending writes and armed faults);
/// separate stores over the same schema are separate writers of the same
/// rows, and converge because the merge is a lattice join.
#[derive(Clone)]
pub struct PgDoneLedger {
    core: SharedCore<DoneLedgerPg>,
    db: Arc<PgPool>,
}

impl PgDoneLedger {
    pub(crate) fn new(db: Arc<PgPool>, auto_complete: bool) -> Self {
        Self { core: SharedCore::new(StoreCore::new(Arc::clone(&db), auto_complete)), db }
    }

    pub(crate) fn core(&self) -> &StoreCore<DoneLedgerPg> {
        &self.core
    }

    /// Round trips to the server made through this store's pool (shared with
    /// the sink it was connected with).
    pub fn round_trips(&self) -> u64 {
        self.db.round_trips()
    }

    /// Reads take a pooled connection of their own, outside the core's lock:
    /// durable state is the database's, and a pending write is not in it.
    fn query<T>(
        &self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        decode: impl FnOnce(&[Row]) -> Result<T, PgError>,
    ) -> Result<T, PgError> {
        let rows = self.db.with(|session| session.query(sql, params).map_err(PgError::from_driver))?;
        decode(&rows)
    }

    /// Number of durable rows.
    pub fn len(&self) -> Result<usize, PgError> {
        self.query(COUNT_ALL, &[], count)
    }

    /// Whether the ledger holds no durable row.
    pub fn is_empty(&self) -> Result<bool, PgError> {
        self.len().map(|n| n == 0)
    }
}

impl DoneLedger for PgDoneLedger {
    type Error = PgError;
    type CommitHandle = PgDoneLedgerHandle;

    fn batch_get(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: &[OvidHash],
    ) -> Result<Vec<Option<DoneLedgerRecord>>, PgError> {
        check_read_size(ovid_hashes.len())?;
        if ovid_hashes.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<&[u8]> = ovid_hashes.iter().map(|o| o.as_bytes().as_slice()).collect();
        let found = self.query(
            &sql().get_many,
            &[&tenant_id.as_bytes().as_slice(), &policy_hash.as_bytes().as_slice(), &wanted],
            records,
        )?;
        let mut by_ovid: HashMap<OvidHash, DoneLedgerRecord> =
            found.into_iter().map(|r| (r.key().ovid_hash(), r)).collect();
        // Positional: a repeated ovid is answered each time it is asked.
        let last = ovid_hashes.iter().enumerate().map(|(i, o)| (*o, i)).collect::<HashMap<_, _>>();
        Ok(ovid_hashes
            .iter()
            .enumerate()
            .map(|(i, o)| if last[o] == i { by_ovid.remove(o) } else { by_ovid.get(o).cloned() })
            .collect())
    }

    fn list_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Vec<OvidHash>, PgError> {
        self.query(LIST_DONE, &[&tenant_id.as_bytes().as_slice(), &policy_hash.as_bytes().as_slice()], ovids)
    }

    /// A seek on the terminal index rather than a sorted whole listing.
    fn list_done_hashes_page(
        &self,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        after: Option<OvidHash>,
        page: usize,
    ) -> Result<Vec<OvidHash>, PgError> {
        check_read_size(page)?;
        let (t, p, n) = (tenant_id.as_bytes().as_slice(), policy_hash.as_bytes().as_slice(), limit(page));
        match after {
            None => self.query(LIST_DONE_FIRST, &[&t, &p, &n], ovids),
            Some(after) => self.query(LIST_DONE_AFTER, &[&t, &p, &after.as_bytes().as_slice(), &n], ovids),
        }
    }

    fn count_done_hashes(&self, tenant_id: TenantId, policy_hash: PolicyHash) -> Result<Option<usize>, PgError> {
        self.query(COUNT_DONE, &[&tenant_id.as_bytes().as_slice(), &policy_hash.as_bytes().as_slice()], count).map(Some)
    }

    fn batch_upsert(&self, records: &[DoneLedgerRecord]) -> Result<PgDoneLedgerHandle, PgError> {
        check_batch_size(records.len())?;
        Ok(StoreCore::submit(&self.core, records.to_vec())?)
    }
}

impl DoneLedgerInspect for PgDoneLedger {
    fn get_record(&self, key: &DoneLedgerKey) -> Result<Option<DoneLedgerRecord>, PgError> {
        Ok(self.batch_get(key.tenant_id(), key.policy_hash(), &[key.ovid_hash()])?.into_iter().flatten().next())
    }

    fn snapshot(&self) -> Result<Vec<DoneLedgerRecord>, PgError> {
        self.query(&sql().snapshot, &[], records)
    }

    /// A seek on the primary key rather than a slice of the whole snapshot.
    fn snapshot_page(&self, after: Option<&DoneLedgerKey>, page: usize) -> Result<Vec<DoneLedgerRecord>, PgError> {
        check_read_size(page)?;
        let n = limit(page);
        match after {
            None => self.query(&sql().snapshot_first, &[&n], records),
            Some(k) => self.query(
                &sql().snapshot_after,
                &[
                    &k.tenant_id().as_bytes().as_slice(),
                    &k.policy_hash().as_bytes().as_slice(),
                    &k.ovid_hash().as_bytes().as_slice(),
                    &n,
                ],
                records,
            ),
        }
    }
}

impl fmt::Debug for PgDoneLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never takes the store lock: formatting must not block or deadlock.
        f.debug_struct("PgDoneLedger").finish_non_exhaustive()
    }
}
