//! Paged reads: every read of a whole store is a sequence of bounded pages,
//! so no single guest call needs an unbounded buffer.

use gossip_persistence::{MAX_PAGE_SIZE, StoreKind};

use crate::decode::Decoder;
use crate::error::ComponentStoreError;

/// Protects the host from a component answering with more than it asked.
pub(crate) fn check_page_len(d: &Decoder, len: usize, limit: usize) -> Result<(), ComponentStoreError> {
    if len > limit {
        return Err(d.protocol(format!("{len} rows for a page of at most {limit}")));
    }
    Ok(())
}

/// Reads every page: each starts strictly after the last row of the one
/// before; a short page is the last. A cursor that does not advance is a
/// broken component, not a reason to loop forever.
pub(crate) fn collect_pages<T, K: Ord + Copy>(
    store: StoreKind,
    mut page: impl FnMut(Option<K>) -> Result<Vec<T>, ComponentStoreError>,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, ComponentStoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let rows = page(after)?;
        let full = rows.len() == MAX_PAGE_SIZE;
        let last = rows.last().map(&key);
        if let (Some(last), Some(previous)) = (last, after)
            && last <= previous
        {
            return Err(ComponentStoreError::Protocol {
                store,
                operation: "paged read",
                detail: "a page did not advance past its cursor".to_owned(),
            });
        }
        all.extend(rows);
        if !full {
            return Ok(all);
        }
        after = last;
    }
}
