//! Sorted pages of a hash table that neither sort nor clone the whole table.

use super::error::StoreError;
use super::reserve::Reserver;

/// The `limit` smallest `candidates` by key, ascending. `bound` is an upper
/// bound on the number of candidates; the buffer never holds more than
/// `min(bound, 2 * limit)` of them, so a page costs memory for the page, not
/// for the table.
pub(crate) fn smallest<K: Ord, T>(
    reserve: &Reserver,
    candidates: impl IntoIterator<Item = (K, T)>,
    bound: usize,
    limit: usize,
) -> Result<Vec<(K, T)>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let window = limit.saturating_mul(2);
    let mut buffer: Vec<(K, T)> = Vec::new();
    reserve.vec(&mut buffer, window.min(bound))?;
    for candidate in candidates {
        if buffer.len() == window {
            // Halving a full window keeps the selection linear overall: each
            // compaction pays for the `limit` pushes that refilled it.
            buffer.select_nth_unstable_by(limit, |a, b| a.0.cmp(&b.0));
            buffer.truncate(limit);
        }
        buffer.push(candidate);
    }
    buffer.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    buffer.truncate(limit);
    Ok(buffer)
}

/// The rows of a page, cloned into a buffer reserved for exactly them.
pub(crate) fn cloned<K, V: Clone>(reserve: &Reserver, page: Vec<(K, &V)>) -> Result<Vec<V>, StoreError> {
    let mut rows = Vec::new();
    reserve.vec(&mut rows, page.len())?;
    rows.extend(page.into_iter().map(|(_, row)| row.clone()));
    Ok(rows)
}
