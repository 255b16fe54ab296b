//! Delayed completion: a delayed write is invisible until released, releases
//! follow the requested order (oldest, newest, by id), `delay_next_writes`
//! delays exactly as many writes as armed, auto-complete toggling affects
//! only later writes, and `wait` blocks until another thread releases.
//!
//! Every wait goes through `settle`, which refuses to wait on a write the
//! store still lists as pending, so a broken backend fails instead of hanging.

use std::sync::mpsc;
use std::time::Duration;

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerRecord};
use gossip_persistence::findings::{DurableFindingsCounts, FindingsCommitReceipt};
use gossip_persistence::identity::{PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, PendingWriteId, StoreControl, StoreError, StoreKind, TrackedHandle,
};

use super::error::CheckFailure;
use super::fixture::{clean_rows, fill32};
use super::harness::{
    control, ensure_control, ensure_findings, ensure_ledger, expect_store_error, fixture, fixture_failed, get_finding,
    get_single, is_durable, ledger_invariant, ledger_snapshot, ledger_submit_only, list_done, new_ledger, new_sink,
    pending_ids, probe, settle, sink_submit_only, wait_ledger, wait_sink,
};
use crate::backend::{Backend, SuiteLedger};

const ONE_CLEAN: DoneLedgerCommitReceipt = DoneLedgerCommitReceipt::new(1, 1, 0);

/// A fresh ledger with `n` distinct one-row writes ready to submit.
fn ledger_and_rows<B: Backend>(
    backend: &B,
    seed: u8,
    n: usize,
    case: &'static str,
) -> Result<(B::Ledger, Vec<DoneLedgerRecord>), CheckFailure> {
    let tenant = TenantId::from_bytes(fill32(seed));
    let policy = PolicyHash::from_bytes(fill32(seed.wrapping_add(1)));
    let rows = clean_rows(tenant, policy, 0, n).map_err(|e| fixture_failed(case, e))?;
    Ok((new_ledger(backend, case)?, rows))
}

fn submit_each<L: SuiteLedger>(
    ledger: &L,
    rows: &[DoneLedgerRecord],
    case: &'static str,
) -> Result<Vec<L::CommitHandle>, CheckFailure> {
    rows.iter().map(|r| ledger_submit_only(ledger, core::slice::from_ref(r), case)).collect()
}

fn ids<H: TrackedHandle>(handles: &[H]) -> Vec<PendingWriteId> {
    handles.iter().map(TrackedHandle::operation_id).collect()
}

fn expect_pending<C: StoreControl>(store: &C, want: &[PendingWriteId], case: &'static str) -> Result<(), CheckFailure> {
    let got = pending_ids(store, case)?;
    ensure_control(got == want, case, || format!("pending_ids is {got:?}, expected {want:?}"))?;
    let count = control(store.pending_count(), case)?;
    ensure_control(count == want.len(), case, || format!("pending_count is {count}, expected {}", want.len()))
}

fn expect_released(
    got: Option<PendingWriteId>,
    want: Option<PendingWriteId>,
    case: &'static str,
) -> Result<(), CheckFailure> {
    ensure_control(got == want, case, || format!("release returned {got:?}, expected {want:?}"))
}

/// Which of `rows` are durable, in order.
fn durable_mask<L: SuiteLedger>(
    ledger: &L,
    rows: &[DoneLedgerRecord],
    case: &'static str,
) -> Result<Vec<bool>, CheckFailure> {
    rows.iter().map(|r| is_durable(ledger, r.key(), case)).collect()
}

fn expect_mask<L: SuiteLedger>(
    ledger: &L,
    rows: &[DoneLedgerRecord],
    want: &[bool],
    case: &'static str,
) -> Result<(), CheckFailure> {
    let got = durable_mask(ledger, rows, case)?;
    ensure_ledger(got == want, case, || format!("rows durable {got:?}, expected {want:?}"))
}

fn wait_all<L: SuiteLedger>(ledger: &L, handles: Vec<L::CommitHandle>, case: &'static str) -> Result<(), CheckFailure> {
    for handle in handles {
        let receipt = wait_ledger(ledger, handle, case)?;
        ensure_ledger(receipt == ONE_CLEAN, case, || format!("receipt {receipt:?}, expected {ONE_CLEAN:?}"))?;
    }
    Ok(())
}

pub(crate) fn done_ledger_delayed_until_release<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const PENDING: &str = "completion/done-ledger-delayed-until-release:pending";
    const RELEASE: &str = "completion/done-ledger-delayed-until-release:release";
    let (ledger, rows) = ledger_and_rows(backend, 0x13, 1, "completion/done-ledger-delayed-until-release:setup")?;
    control(ledger.set_auto_complete(false), PENDING)?;
    let handle = ledger_submit_only(&ledger, &rows, PENDING)?;
    let id = handle.operation_id();
    expect_pending(&ledger, &[id], PENDING)?;
    expect_mask(&ledger, &rows, &[false], PENDING)?;
    let key = rows[0].key();
    let listed = list_done(&ledger, key.tenant_id(), key.policy_hash(), PENDING)?;
    ensure_ledger(listed.is_empty(), PENDING, || format!("a pending write is listed: {listed:?}"))?;
    let snapshot = ledger_snapshot(&ledger, PENDING)?;
    ensure_ledger(snapshot.is_empty(), PENDING, || format!("a pending write is in the snapshot: {snapshot:?}"))?;

    expect_released(control(ledger.release_next(CompletionOrder::OldestFirst), RELEASE)?, Some(id), RELEASE)?;
    expect_pending(&ledger, &[], RELEASE)?;
    let receipt = wait_ledger(&ledger, handle, RELEASE)?;
    ensure_ledger(receipt == ONE_CLEAN, RELEASE, || format!("receipt {receipt:?}, expected {ONE_CLEAN:?}"))?;
    let row = get_single(&ledger, key, RELEASE)?;
    ensure_ledger(row == rows[0], RELEASE, || format!("released row {row:?} differs from {:?}", rows[0]))
}

pub(crate) fn findings_delayed_until_release<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const PENDING: &str = "completion/findings-delayed-until-release:pending";
    const RELEASE: &str = "completion/findings-delayed-until-release:release";
    let fx = fixture(0x14, "completion/findings-delayed-until-release:fixture")?;
    let sink = new_sink(backend, "completion/findings-delayed-until-release:store")?;
    control(sink.set_auto_complete(false), PENDING)?;
    let handle = sink_submit_only(&sink, fx.full_batch(), PENDING)?;
    let id = handle.operation_id();
    expect_pending(&sink, &[id], PENDING)?;
    let counts = probe(&sink, PENDING)?;
    ensure_findings(counts == DurableFindingsCounts::default(), PENDING, || {
        format!("a pending write is counted as durable: {counts:?}")
    })?;
    ensure_findings(get_finding(&sink, fx.tenant_id, &fx.finding, PENDING)?.is_none(), PENDING, || {
        "a pending finding is readable".to_owned()
    })?;

    let released = control(sink.release_specific(id), RELEASE)?;
    ensure_control(released, RELEASE, || format!("release_specific({id}) of a pending write returned false"))?;
    expect_pending(&sink, &[], RELEASE)?;
    let receipt = wait_sink(&sink, handle, RELEASE)?;
    let expected = FindingsCommitReceipt::new(1, 1, 1);
    ensure_findings(receipt == expected, RELEASE, || format!("receipt {receipt:?}, expected {expected:?}"))?;
    let counts = probe(&sink, RELEASE)?;
    ensure_findings(counts == DurableFindingsCounts::new(1, 1, 1), RELEASE, || {
        format!("after release the counts are {counts:?}")
    })
}

pub(crate) fn release_next_both_orders<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "completion/release-next-both-orders:submit";
    const RELEASE: &str = "completion/release-next-both-orders:release";
    let (ledger, rows) = ledger_and_rows(backend, 0x15, 3, "completion/release-next-both-orders:setup")?;
    control(ledger.set_auto_complete(false), SUBMIT)?;
    let handles = submit_each(&ledger, &rows, SUBMIT)?;
    let ids = ids(&handles);
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    ensure_control(a < b && b < c, SUBMIT, || format!("operation ids {a}, {b}, {c} are not strictly increasing"))?;
    expect_pending(&ledger, &[a, b, c], SUBMIT)?;
    expect_mask(&ledger, &rows, &[false, false, false], SUBMIT)?;

    let steps = [
        (CompletionOrder::NewestFirst, Some(c), [false, false, true], vec![a, b]),
        (CompletionOrder::OldestFirst, Some(a), [true, false, true], vec![b]),
        (CompletionOrder::NewestFirst, Some(b), [true, true, true], vec![]),
        (CompletionOrder::OldestFirst, None, [true, true, true], vec![]),
    ];
    for (order, want, mask, pending) in steps {
        expect_released(control(ledger.release_next(order), RELEASE)?, want, RELEASE)?;
        expect_pending(&ledger, &pending, RELEASE)?;
        expect_mask(&ledger, &rows, &mask, RELEASE)?;
    }
    expect_released(control(ledger.release_next(CompletionOrder::NewestFirst), RELEASE)?, None, RELEASE)?;
    wait_all(&ledger, handles, RELEASE)
}

pub(crate) fn release_specific_and_unknown<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "completion/release-specific-and-unknown:submit";
    const SPECIFIC: &str = "completion/release-specific-and-unknown:specific";
    const UNKNOWN: &str = "completion/release-specific-and-unknown:unknown";
    const REST: &str = "completion/release-specific-and-unknown:rest";
    let (ledger, rows) = ledger_and_rows(backend, 0x16, 3, "completion/release-specific-and-unknown:setup")?;
    control(ledger.set_auto_complete(false), SUBMIT)?;
    let handles = submit_each(&ledger, &rows, SUBMIT)?;
    let ids = ids(&handles);
    let (a, b, c) = (ids[0], ids[1], ids[2]);

    let released = control(ledger.release_specific(b), SPECIFIC)?;
    ensure_control(released, SPECIFIC, || format!("release_specific({b}) of a pending write returned false"))?;
    expect_pending(&ledger, &[a, c], SPECIFIC)?;
    expect_mask(&ledger, &rows, &[false, true, false], SPECIFIC)?;

    let unknown = [b, PendingWriteId::from_raw(c.as_raw().saturating_add(1000)), PendingWriteId::from_raw(0)];
    for id in unknown {
        let released = control(ledger.release_specific(id), UNKNOWN)?;
        ensure_control(!released, UNKNOWN, || {
            format!("release_specific({id}) of a write that is not pending returned true")
        })?;
    }
    expect_pending(&ledger, &[a, c], UNKNOWN)?;
    expect_mask(&ledger, &rows, &[false, true, false], UNKNOWN)?;

    // The queue must skip the already-released middle write.
    expect_released(control(ledger.release_next(CompletionOrder::OldestFirst), REST)?, Some(a), REST)?;
    expect_released(control(ledger.release_next(CompletionOrder::OldestFirst), REST)?, Some(c), REST)?;
    expect_released(control(ledger.release_next(CompletionOrder::OldestFirst), REST)?, None, REST)?;
    let count = control(ledger.release_all(CompletionOrder::OldestFirst), REST)?;
    ensure_control(count == 0, REST, || format!("release_all with nothing pending released {count}"))?;
    wait_all(&ledger, handles, REST)
}

/// The apply order of `release_all` is observed through one armed commit
/// fault, which hits whichever write is applied first.
pub(crate) fn release_all_both_orders<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "completion/release-all-both-orders:submit";
    const RELEASE: &str = "completion/release-all-both-orders:release";
    const WAIT: &str = "completion/release-all-both-orders:wait";
    for (order, failing) in [(CompletionOrder::OldestFirst, 0), (CompletionOrder::NewestFirst, 2)] {
        let (ledger, rows) = ledger_and_rows(backend, 0x17, 3, "completion/release-all-both-orders:setup")?;
        control(ledger.set_auto_complete(false), SUBMIT)?;
        let handles = submit_each(&ledger, &rows, SUBMIT)?;
        control(ledger.fail_next_commits(1), SUBMIT)?;
        let count = control(ledger.release_all(order), RELEASE)?;
        // A release counts a write even when its commit fails.
        ensure_control(count == 3, RELEASE, || format!("release_all({order:?}) released {count}, expected 3"))?;
        expect_pending(&ledger, &[], RELEASE)?;
        let mask: Vec<bool> = (0..3).map(|i| i != failing).collect();
        expect_mask(&ledger, &rows, &mask, RELEASE)?;
        for (i, handle) in handles.into_iter().enumerate() {
            match settle(&ledger, handle, WAIT)? {
                Ok(receipt) if i != failing => {
                    ensure_ledger(receipt == ONE_CLEAN, WAIT, || {
                        format!("receipt {receipt:?}, expected {ONE_CLEAN:?}")
                    })?;
                }
                Ok(receipt) => {
                    return Err(ledger_invariant(
                        WAIT,
                        format!(
                            "release_all({order:?}): write {i} should have been applied first and failed, got {receipt:?}"
                        ),
                    ));
                }
                Err(error) if i == failing => expect_store_error(
                    WAIT,
                    &error,
                    &StoreError::InjectedCommitFailure { store: StoreKind::DoneLedger },
                )?,
                Err(error) => {
                    return Err(ledger_invariant(
                        WAIT,
                        format!("release_all({order:?}): write {i} failed unexpectedly: {error}"),
                    ));
                }
            }
        }
        let again = control(ledger.release_all(order), RELEASE)?;
        ensure_control(again == 0, RELEASE, || format!("a second release_all released {again}"))?;
    }
    Ok(())
}

pub(crate) fn delay_next_writes_exact<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const SUBMIT: &str = "completion/delay-next-writes-exact:submit";
    const RELEASE: &str = "completion/delay-next-writes-exact:release";
    let (ledger, rows) = ledger_and_rows(backend, 0x18, 5, "completion/delay-next-writes-exact:setup")?;
    // Arming adds up: 2 + 1 delays the next three writes, not the next one or two.
    control(ledger.delay_next_writes(2), SUBMIT)?;
    control(ledger.delay_next_writes(1), SUBMIT)?;
    let mut handles = submit_each(&ledger, &rows[..4], SUBMIT)?;
    let ids = ids(&handles);
    expect_pending(&ledger, &ids[..3], SUBMIT)?;
    expect_mask(&ledger, &rows[..4], &[false, false, false, true], SUBMIT)?;
    let fourth = handles.pop().ok_or_else(|| ledger_invariant(SUBMIT, "no handle"))?;
    let receipt = wait_ledger(&ledger, fourth, SUBMIT)?;
    ensure_ledger(receipt == ONE_CLEAN, SUBMIT, || format!("receipt {receipt:?}, expected {ONE_CLEAN:?}"))?;

    let count = control(ledger.release_all(CompletionOrder::OldestFirst), RELEASE)?;
    ensure_control(count == 3, RELEASE, || format!("release_all released {count}, expected 3"))?;
    wait_all(&ledger, handles, RELEASE)?;
    // The counter is spent: the fifth write completes at once.
    let fifth = ledger_submit_only(&ledger, &rows[4..], RELEASE)?;
    expect_pending(&ledger, &[], RELEASE)?;
    wait_all(&ledger, vec![fifth], RELEASE)?;
    expect_mask(&ledger, &rows, &[true; 5], RELEASE)
}

pub(crate) fn auto_complete_toggle<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const ON: &str = "completion/auto-complete-toggle:on";
    const OFF: &str = "completion/auto-complete-toggle:off";
    const BACK_ON: &str = "completion/auto-complete-toggle:back-on";
    let (ledger, rows) = ledger_and_rows(backend, 0x19, 3, "completion/auto-complete-toggle:setup")?;
    let first = ledger_submit_only(&ledger, &rows[..1], ON)?;
    expect_pending(&ledger, &[], ON)?;
    wait_all(&ledger, vec![first], ON)?;

    control(ledger.set_auto_complete(false), OFF)?;
    let second = ledger_submit_only(&ledger, &rows[1..2], OFF)?;
    let second_id = second.operation_id();
    expect_pending(&ledger, &[second_id], OFF)?;

    // Turning auto-complete back on releases nothing already pending.
    control(ledger.set_auto_complete(true), BACK_ON)?;
    expect_pending(&ledger, &[second_id], BACK_ON)?;
    expect_mask(&ledger, &rows[..2], &[true, false], BACK_ON)?;
    let third = ledger_submit_only(&ledger, &rows[2..], BACK_ON)?;
    expect_pending(&ledger, &[second_id], BACK_ON)?;
    expect_mask(&ledger, &rows, &[true, false, true], BACK_ON)?;
    wait_all(&ledger, vec![third], BACK_ON)?;

    expect_released(control(ledger.release_next(CompletionOrder::NewestFirst), BACK_ON)?, Some(second_id), BACK_ON)?;
    wait_all(&ledger, vec![second], BACK_ON)?;
    expect_mask(&ledger, &rows, &[true, true, true], BACK_ON)
}

/// How long a correct `wait` is given to stay blocked before the release,
/// and to return after it. Neither is a speed target: an early return is a
/// bug whatever the timing, and the second bound only keeps a broken
/// backend from hanging the suite.
const STILL_BLOCKED: Duration = Duration::from_millis(100);
const RETURNS_AFTER_RELEASE: Duration = Duration::from_secs(30);

pub(crate) fn wait_blocks_until_release<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const BLOCKED: &str = "completion/wait-blocks-until-release:blocked";
    const RELEASED: &str = "completion/wait-blocks-until-release:released";
    let (ledger, rows) = ledger_and_rows(backend, 0x1A, 1, "completion/wait-blocks-until-release:setup")?;
    control(ledger.set_auto_complete(false), BLOCKED)?;
    let handle = ledger_submit_only(&ledger, &rows, BLOCKED)?;
    let id = handle.operation_id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        // The receiver may be gone if the check already failed.
        let _ = tx.send(handle.wait());
    });
    match rx.recv_timeout(STILL_BLOCKED) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        Ok(result) => {
            return Err(CheckFailure::ControlInvariant {
                case: BLOCKED,
                message: format!("wait() returned before the write was released: {result:?}"),
            });
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(CheckFailure::ControlInvariant {
                case: BLOCKED,
                message: "the waiting thread died".to_owned(),
            });
        }
    }
    expect_released(control(ledger.release_next(CompletionOrder::OldestFirst), RELEASED)?, Some(id), RELEASED)?;
    let result = rx.recv_timeout(RETURNS_AFTER_RELEASE).map_err(|e| CheckFailure::ControlInvariant {
        case: RELEASED,
        message: format!("wait() did not return after the release ({e})"),
    })?;
    // The sender has sent, so the thread is finishing; a panic there was already reported as a lost send.
    let _ = waiter.join();
    let receipt = result.map_err(|e| CheckFailure::DoneLedgerWait { case: RELEASED, source: Box::new(e) })?;
    ensure_ledger(receipt == ONE_CLEAN, RELEASED, || format!("receipt {receipt:?}, expected {ONE_CLEAN:?}"))?;
    expect_mask(&ledger, &rows, &[true], RELEASED)
}
