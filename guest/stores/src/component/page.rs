//! Reads' pages and lists on their way out.

use crate::store::{StoreError, StoreKind};

/// A page's `limit` as the native reads take it. wasm32's `usize` holds
/// every `u32`; elsewhere a larger one saturates, and is rejected as too
/// large all the same.
pub fn limit_in(limit: u32) -> usize {
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// `rows` converted into a list whose buffer is reserved fallibly, like the
/// native stores' read buffers: in a guest an allocation failure would
/// otherwise trap the whole instance.
pub fn list_out<T, U>(store: StoreKind, rows: &[T], convert: impl Fn(&T) -> U) -> Result<Vec<U>, StoreError> {
    let mut out = Vec::new();
    if out.try_reserve_exact(rows.len()).is_err() {
        let needed = (rows.len() as u64).saturating_mul(size_of::<U>() as u64);
        return Err(StoreError::CapacityExceeded { store, needed, available: 0 });
    }
    out.extend(rows.iter().map(convert));
    Ok(out)
}
