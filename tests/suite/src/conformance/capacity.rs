//! Capacity: a store that cannot hold a write refuses it with
//! `CapacityExceeded` and keeps every row it acknowledged before
//! (`docs/contract.md` §10.4). Run on a backend's bounded store (one small
//! enough to fill in a check, e.g. a component under a tight memory cap);
//! skipped on a backend that has none.

use gossip_persistence::identity::{PolicyHash, TenantId};
use gossip_persistence::{AsStoreError, CommitHandle, StoreError};

use super::error::CheckFailure;
use super::fixture::{clean_rows, fill32};
use super::harness::{ensure_ledger, fixture_failed, ledger_invariant, ledger_snapshot};
use crate::backend::{Backend, SuiteLedger};

/// Rows per write while filling: large writes reach the cap quickly.
const BATCH: usize = 10_000;
/// A bounded store that takes more than this many rows is not bounded
/// enough to be checked (and the check must end).
const MAX_ROWS: usize = 5_000_000;

const SETUP: &str = "capacity/done-ledger-fill:setup";
const FILL: &str = "capacity/done-ledger-fill:fill";
const FULL: &str = "capacity/done-ledger-fill:full";

fn is_capacity<E: AsStoreError>(error: &E) -> bool {
    matches!(error.as_store_error(), Some(StoreError::CapacityExceeded { .. }))
}

/// Submits and waits: the receipt, or the error from whichever stage
/// refused (the contract lets a store refuse at either).
fn write<L: SuiteLedger>(ledger: &L, first: usize) -> Result<Result<(), L::E>, CheckFailure> {
    let tenant = TenantId::from_bytes(fill32(0xE1));
    let policy = PolicyHash::from_bytes(fill32(0xE2));
    let rows = clean_rows(tenant, policy, first as u32, BATCH).map_err(|e| fixture_failed(SETUP, e))?;
    Ok(ledger.batch_upsert(&rows).and_then(CommitHandle::wait).map(|_| ()))
}

pub(crate) fn done_ledger_fill_to_cap<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let Some(ledger) = backend.new_bounded_ledger() else {
        return Err(ledger_invariant(SETUP, "the runner runs this check only on a backend with a bounded ledger"));
    };
    let ledger = ledger.map_err(|e| CheckFailure::Backend { case: SETUP, source: e.into() })?;

    let mut acknowledged = 0usize;
    let refusal = loop {
        ensure_ledger(acknowledged < MAX_ROWS, FILL, || {
            format!("{acknowledged} rows acknowledged and no CapacityExceeded yet")
        })?;
        match write(&ledger, acknowledged)? {
            Ok(()) => acknowledged += BATCH,
            Err(error) => break error,
        }
    };
    ensure_ledger(is_capacity(&refusal), FILL, || {
        format!("the write that did not fit failed with {refusal}, not CapacityExceeded")
    })?;
    ensure_ledger(acknowledged > 0, FULL, || "the bounded ledger refused the very first write".to_owned())?;

    // Every acknowledged row is still there, read through the paged snapshot.
    let held = ledger_snapshot(&ledger, FULL)?.len();
    ensure_ledger(held == acknowledged, FULL, || {
        format!("{acknowledged} rows were acknowledged but {held} are held after the refusal")
    })?;
    // A further write of the same size is refused the same way, and changes nothing.
    match write(&ledger, acknowledged + 1_000_000)? {
        Err(error) if is_capacity(&error) => {}
        Err(error) => {
            return Err(ledger_invariant(FULL, format!("a second write to the full ledger failed with {error}")));
        }
        Ok(()) => return Err(ledger_invariant(FULL, "a write as large as the refused one fit right after it")),
    }
    let after = ledger_snapshot(&ledger, FULL)?.len();
    ensure_ledger(after == acknowledged, FULL, || {
        format!("{after} rows held after a refused write, {acknowledged} acknowledged")
    })
}
