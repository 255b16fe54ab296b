//! The tables of each store, and opening a fresh in-memory database.
//!
//! Every table is `WITHOUT ROWID` and keyed by its contract key, so a point
//! lookup is one B-tree search and a key-ordered scan is the snapshot order.

use std::sync::LazyLock;

use gossip_persistence::done_ledger::DoneLedgerStatus;
use rusqlite::Connection;

/// Each store prepares fewer statements than this, so none is ever evicted.
const STATEMENT_CACHE: usize = 32;

/// The one status that does not suppress a rescan. The partial index holds
/// only the other (terminal) rows of each (tenant, policy) scope; `status`
/// is in it so the done-hash queries, which filter on exactly
/// `status <> {RETRYABLE}`, never touch the table (a covering index).
pub(crate) const RETRYABLE: u8 = DoneLedgerStatus::FailedRetryable.rank();

static DONE_LEDGER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CREATE TABLE done_ledger (
            tenant         BLOB    NOT NULL,
            policy         BLOB    NOT NULL,
            ovid           BLOB    NOT NULL,
            status         INTEGER NOT NULL,
            bytes_scanned  INTEGER NOT NULL,
            findings_count INTEGER NOT NULL,
            run_id         INTEGER NOT NULL,
            shard_id       INTEGER NOT NULL,
            fence_epoch    INTEGER NOT NULL,
            started_at     INTEGER NOT NULL,
            finished_at    INTEGER NOT NULL,
            error_code     TEXT,
            PRIMARY KEY (tenant, policy, ovid)
        ) WITHOUT ROWID;
        CREATE INDEX done_ledger_terminal ON done_ledger (tenant, policy, status) WHERE status <> {RETRYABLE};"
    )
});

const FINDINGS: &str = "
    CREATE TABLE findings (
        tenant           BLOB NOT NULL,
        finding_id       BLOB NOT NULL,
        stable_item_id   BLOB NOT NULL,
        rule_fingerprint BLOB NOT NULL,
        secret_hash      BLOB NOT NULL,
        PRIMARY KEY (tenant, finding_id)
    ) WITHOUT ROWID;
    CREATE TABLE occurrences (
        tenant            BLOB    NOT NULL,
        occurrence_id     BLOB    NOT NULL,
        finding_id        BLOB    NOT NULL,
        object_version_id BLOB    NOT NULL,
        byte_offset       INTEGER NOT NULL,
        byte_length       INTEGER NOT NULL,
        PRIMARY KEY (tenant, occurrence_id)
    ) WITHOUT ROWID;
    CREATE TABLE observations (
        tenant           BLOB    NOT NULL,
        observation_id   BLOB    NOT NULL,
        occurrence_id    BLOB    NOT NULL,
        policy_hash      BLOB    NOT NULL,
        ovid_hash        BLOB    NOT NULL,
        run_id           INTEGER NOT NULL,
        shard_id         INTEGER NOT NULL,
        fence_epoch      INTEGER NOT NULL,
        seen_at          INTEGER NOT NULL,
        location_display TEXT,
        location_url     TEXT,
        PRIMARY KEY (tenant, observation_id)
    ) WITHOUT ROWID;";

fn open(schema: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(schema)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A fresh, empty done-ledger database.
pub(crate) fn open_done_ledger() -> rusqlite::Result<Connection> {
    open(&DONE_LEDGER)
}

/// A fresh, empty findings database.
pub(crate) fn open_findings() -> rusqlite::Result<Connection> {
    open(FINDINGS)
}
