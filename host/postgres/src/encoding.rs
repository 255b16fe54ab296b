//! How contract values map onto PostgreSQL columns.
//!
//! Digests are 32-byte `bytea`s: PostgreSQL compares `bytea` with memcmp, so
//! `ORDER BY` over them is the byte order the snapshots promise. PostgreSQL
//! has no unsigned integers, so an unsigned value the SQL compares (times,
//! epochs, byte counts) is stored in a `bigint` with its sign bit flipped,
//! i.e. as `value - 2^63`, which maps u64 order onto i64 order. Run and shard
//! ids compare as signed values by contract (`docs/contract.md §4.2`), so
//! they are stored as their plain bit pattern.

use gossip_persistence::done_ledger::DoneLedgerStatus;

use crate::error::PgError;

const SIGN: u64 = 1 << 63;

/// An unsigned value as stored: bigint order is u64 order.
pub(crate) const fn ordered(value: u64) -> i64 {
    (value ^ SIGN).cast_signed()
}

/// The inverse of [`ordered`].
pub(crate) const fn unordered(stored: i64) -> u64 {
    stored.cast_unsigned() ^ SIGN
}

/// A run or shard id: its bits read as signed, the contract's tie-break order.
pub(crate) const fn signed(value: u64) -> i64 {
    value.cast_signed()
}

/// The inverse of [`signed`].
pub(crate) const fn unsigned(stored: i64) -> u64 {
    stored.cast_unsigned()
}

/// A stored 32-byte id, or a typed error naming the table.
pub(crate) fn digest(table: &'static str, bytes: &[u8]) -> Result<[u8; 32], PgError> {
    bytes.try_into().map_err(|_| PgError::Corrupt { table, reason: format!("an id of {} bytes, not 32", bytes.len()) })
}

/// A stored status rank.
pub(crate) fn status(table: &'static str, rank: i16) -> Result<DoneLedgerStatus, PgError> {
    u8::try_from(rank)
        .ok()
        .and_then(DoneLedgerStatus::from_rank)
        .ok_or_else(|| PgError::Corrupt { table, reason: format!("unknown status rank {rank}") })
}

/// Column `index` of `row`, or a typed error naming the table (a column of
/// an unexpected type or a NULL where none belongs means the table is not
/// the one the migrations made).
pub(crate) fn column<'a, T: postgres::types::FromSql<'a>>(
    table: &'static str,
    row: &'a postgres::Row,
    index: usize,
) -> Result<T, PgError> {
    row.try_get(index).map_err(|e| PgError::Corrupt { table, reason: format!("column {index}: {e}") })
}

/// A stored 32-byte id column.
pub(crate) fn digest_column(table: &'static str, row: &postgres::Row, index: usize) -> Result<[u8; 32], PgError> {
    digest(table, column(table, row, index)?)
}

#[cfg(test)]
mod tests {
    use super::{ordered, signed, unordered, unsigned};

    const EDGES: [u64; 8] = [0, 1, 41, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX];

    #[test]
    fn ordered_values_keep_unsigned_order_and_round_trip() {
        for pair in EDGES.windows(2) {
            assert!(ordered(pair[0]) < ordered(pair[1]), "{pair:?}");
        }
        assert!(EDGES.iter().all(|v| unordered(ordered(*v)) == *v));
    }

    #[test]
    fn run_and_shard_ids_order_as_signed_and_round_trip() {
        assert!(signed(u64::MAX) < signed(0), "u64::MAX is -1");
        assert!(signed(1 << 63) < signed(u64::MAX));
        assert!(EDGES.iter().all(|v| unsigned(signed(*v)) == *v));
    }
}
