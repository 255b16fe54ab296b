//! How the stores' values map onto SQLite columns.
//!
//! Digests are 32-byte BLOBs: SQLite compares BLOBs with memcmp, so an
//! `ORDER BY` over them is the byte order the snapshots promise. SQLite
//! integers are signed 64-bit, so an unsigned value the SQL compares (times,
//! epochs, byte counts) is stored with its sign bit flipped, which maps u64
//! order onto i64 order. Run and shard ids compare as signed values by
//! contract, so they are stored as their plain bit pattern.

use std::num::NonZeroU64;

use gossip_persistence::done_ledger::{DoneLedgerErrorCode, DoneLedgerStatus};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Type, ValueRef};

const SIGN: u64 = 1 << 63;

/// An unsigned value stored so that SQLite's integer order is u64 order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ordered(pub(crate) u64);

impl ToSql for Ordered {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from((self.0 ^ SIGN).cast_signed()))
    }
}

impl FromSql for Ordered {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|v| Self(v.cast_unsigned() ^ SIGN))
    }
}

/// A 64-bit id that orders as a signed value (run and shard ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Signed(pub(crate) u64);

impl ToSql for Signed {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.cast_signed()))
    }
}

impl FromSql for Signed {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|v| Self(v.cast_unsigned()))
    }
}

/// A span length: never zero, stored like any other unsigned value.
pub(crate) struct Length(pub(crate) NonZeroU64);

impl FromSql for Length {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let Ordered(raw) = Ordered::column_result(value)?;
        NonZeroU64::new(raw).map(Self).ok_or(FromSqlError::OutOfRange(0))
    }
}

/// A status stored as its lattice rank, so `max()` is the status join.
pub(crate) struct Rank(pub(crate) DoneLedgerStatus);

impl FromSql for Rank {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let raw = i64::column_result(value)?;
        u8::try_from(raw).ok().and_then(DoneLedgerStatus::from_rank).map(Self).ok_or(FromSqlError::OutOfRange(raw))
    }
}

/// An error code read back through its constructor, so a stored value that
/// is not a valid code surfaces as a decoding error.
pub(crate) struct Code(pub(crate) DoneLedgerErrorCode);

impl FromSql for Code {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        DoneLedgerErrorCode::try_new(text).map(Self).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A row whose columns decode one by one but not together (e.g. a status
/// and a findings count that contradict each other), reported at `column`.
pub(crate) fn invalid_row(
    column: usize,
    column_type: Type,
    error: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, column_type, Box::new(error))
}

/// A row count (`count(*)` is never negative).
pub(crate) struct Count(pub(crate) usize);

impl FromSql for Count {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let raw = i64::column_result(value)?;
        usize::try_from(raw).map(Self).map_err(|_| FromSqlError::OutOfRange(raw))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{Ordered, Signed};

    const EDGES: [u64; 8] = [0, 1, 41, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX];

    /// SQLite's own ORDER BY over the stored integers, read back.
    fn sorted_by_sqlite<T: rusqlite::ToSql + rusqlite::types::FromSql>(values: &[T]) -> Vec<T> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute("CREATE TABLE t (v INTEGER NOT NULL)", []).unwrap();
        for v in values {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [v]).unwrap();
        }
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn ordered_values_sort_in_sqlite_as_unsigned_and_round_trip() {
        let stored = sorted_by_sqlite(&EDGES.map(Ordered).iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(stored, EDGES.map(Ordered));
    }

    #[test]
    fn signed_ids_sort_in_sqlite_as_i64_and_round_trip() {
        let mut expected = EDGES;
        expected.sort_by_key(|v| v.cast_signed());
        assert_eq!(sorted_by_sqlite(&EDGES.map(Signed)), expected.map(Signed));
    }
}
