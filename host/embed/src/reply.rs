//! How much a guest's answer may make the host allocate.
//!
//! Lifting a reply copies every list and string out of guest memory, and a
//! hostile component can answer with far more than it was asked for (a page
//! of millions of rows, a million-byte error string, the same long string
//! referenced by every row). Wasmtime charges each lifted list and string
//! against the store's "hostcall fuel"; every call sets that fuel to what
//! the contract allows its reply to hold, so an oversized answer fails
//! before the host allocates it, whatever the guest memory cap.

use core::mem::size_of;

/// Replies without a list: a receipt, a count, one row, an error message.
pub(crate) const SMALL_REPLY: usize = 1 << 20;

/// String bytes a done-ledger row may carry: its error code, one of a few
/// short names (`docs/contract.md §3.3`).
pub(crate) const DONE_ROW_STRINGS: usize = 64;

/// String bytes an observation may carry: a location's display text and URL,
/// 4 KiB each at most (`docs/contract.md §6.4`).
pub(crate) const OBSERVATION_STRINGS: usize = 2 * 4096;

/// Host bytes for a reply of at most `rows` values of `T`, each carrying up
/// to `strings` bytes of strings, plus room for an error.
pub(crate) const fn rows<T>(rows: usize, strings: usize) -> usize {
    SMALL_REPLY.saturating_add(rows.saturating_mul(size_of::<T>().saturating_add(strings)))
}

/// Whether a wasmtime error is a reply that ran out of its allowance.
pub(crate) fn is_oversized(error: &wasmtime::Error) -> bool {
    // Wasmtime's error type for this is private; its message is pinned with
    // wasmtime's version, and a test on an oversized reply keeps it honest.
    format!("{error:#}").contains("too much data is being copied between the host and the guest")
}
