//! The done-ledger merge, field by field (docs/contract.md §4.1), every
//! tie-break of the winner (§4.2) and the receipt counts (§5.5), each
//! compared with a row written out by hand, never with the library's own
//! `merge`: a backend (or a mutant of the reference) that merges wrongly
//! cannot agree with itself here.
//!
//! Every pair of rows is written four ways on its own key: as two writes in
//! either order (the durable merge) and as one batch in either order (the
//! in-batch merge, §4.5). All four must give the same row.

use gossip_persistence::done_ledger::{DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::identity::{PolicyHash, TenantId};

use super::error::CheckFailure;
use super::fixture::{FixtureError, done_record, fill32, indexed_ovid, provenance};
use super::harness::{ensure_ledger, fixture_failed, get_single, ledger_snapshot, new_ledger, submit_ledger};
use crate::backend::Backend;

use DoneLedgerStatus::{FailedPermanent, FailedRetryable, ScannedClean, ScannedWithFindings, Skipped};

/// One row's fields, without its key.
#[derive(Clone, Copy, Debug)]
struct Row {
    status: DoneLedgerStatus,
    bytes: u64,
    count: u32,
    /// run, shard, fence, started, finished.
    prov: (u64, u64, u64, u64, u64),
    code: Option<&'static str>,
}

const fn row(
    status: DoneLedgerStatus,
    bytes: u64,
    count: u32,
    prov: (u64, u64, u64, u64, u64),
    code: Option<&'static str>,
) -> Row {
    Row { status, bytes, count, prov, code }
}

/// Two rows and the one row every order of them must merge to.
struct Case {
    name: &'static str,
    a: Row,
    b: Row,
    merged: Row,
}

impl Row {
    fn record(&self, key: DoneLedgerKey) -> Result<DoneLedgerRecord, FixtureError> {
        let (run, shard, fence, started, finished) = self.prov;
        done_record(
            key,
            self.status,
            self.bytes,
            self.count,
            provenance(run, shard, fence, started, finished),
            self.code,
        )
    }
}

/// `u64` bits that read as a negative `i64` (§4.2 items 5 and 6).
const MINUS_ONE: u64 = u64::MAX;
const MOST_NEGATIVE: u64 = 1 << 63;

/// The winner tuple, one level at a time: `b` is the fresher row and wins on
/// exactly the level the case names, while `a` is larger on every later
/// level (and carries the larger bytes and count), so comparing a later
/// level first, comparing the wrong way, or taking a field from the loser
/// gives a different row.
fn winner_cases() -> Vec<Case> {
    vec![
        Case {
            name: "rank",
            a: row(FailedPermanent, 9000, 8, (900, 900, 900, 500, 900), Some("ZZZ")),
            b: row(Skipped, 100, 2, (1, 1, 1, 10, 20), Some("AAA")),
            merged: row(Skipped, 9000, 8, (1, 1, 1, 10, 20), Some("AAA")),
        },
        Case {
            name: "finished-at",
            a: row(FailedPermanent, 9000, 8, (900, 900, 900, 150, 150), Some("ZZZ")),
            b: row(FailedPermanent, 100, 2, (1, 1, 1, 10, 200), Some("AAA")),
            merged: row(FailedPermanent, 9000, 8, (1, 1, 1, 10, 200), Some("AAA")),
        },
        Case {
            name: "started-at",
            a: row(Skipped, 9000, 8, (900, 900, 900, 10, 200), Some("ZZZ")),
            b: row(Skipped, 100, 2, (1, 1, 1, 20, 200), Some("AAA")),
            merged: row(Skipped, 9000, 8, (1, 1, 1, 20, 200), Some("AAA")),
        },
        Case {
            name: "fence-epoch",
            a: row(FailedRetryable, 9000, 8, (900, 900, 3, 20, 200), Some("ZZZ")),
            b: row(FailedRetryable, 100, 2, (1, 1, 4, 20, 200), Some("AAA")),
            merged: row(FailedRetryable, 9000, 8, (1, 1, 4, 20, 200), Some("AAA")),
        },
        Case {
            name: "run-id-signed",
            a: row(FailedPermanent, 9000, 8, (MINUS_ONE, 900, 4, 20, 200), Some("ZZZ")),
            b: row(FailedPermanent, 100, 2, (5, 1, 4, 20, 200), Some("AAA")),
            merged: row(FailedPermanent, 9000, 8, (5, 1, 4, 20, 200), Some("AAA")),
        },
        Case {
            name: "run-id-unsigned-below",
            a: row(FailedPermanent, 9000, 8, (5, 900, 4, 20, 200), Some("ZZZ")),
            b: row(FailedPermanent, 100, 2, (6, 1, 4, 20, 200), Some("AAA")),
            merged: row(FailedPermanent, 9000, 8, (6, 1, 4, 20, 200), Some("AAA")),
        },
        Case {
            name: "shard-id-signed",
            a: row(Skipped, 9000, 8, (5, MOST_NEGATIVE, 4, 20, 200), Some("ZZZ")),
            b: row(Skipped, 100, 2, (5, 1, 4, 20, 200), Some("AAA")),
            merged: row(Skipped, 9000, 8, (5, 1, 4, 20, 200), Some("AAA")),
        },
        Case {
            name: "shard-id-unsigned-below",
            a: row(Skipped, 9000, 8, (5, 1, 4, 20, 200), Some("ZZZ")),
            b: row(Skipped, 100, 2, (5, 2, 4, 20, 200), Some("AAA")),
            merged: row(Skipped, 9000, 8, (5, 2, 4, 20, 200), Some("AAA")),
        },
        Case {
            name: "error-code-prefix",
            a: row(Skipped, 9000, 8, (5, 2, 4, 20, 200), Some("A")),
            b: row(Skipped, 100, 2, (5, 2, 4, 20, 200), Some("AB")),
            merged: row(Skipped, 9000, 8, (5, 2, 4, 20, 200), Some("AB")),
        },
        Case {
            name: "error-code-bytes",
            a: row(FailedRetryable, 9000, 8, (5, 2, 4, 20, 200), Some("AB")),
            b: row(FailedRetryable, 100, 2, (5, 2, 4, 20, 200), Some("B")),
            merged: row(FailedRetryable, 9000, 8, (5, 2, 4, 20, 200), Some("B")),
        },
        Case {
            name: "scanned-finished-at",
            a: row(ScannedClean, 9000, 0, (900, 900, 900, 150, 150), None),
            b: row(ScannedClean, 100, 0, (1, 1, 1, 10, 200), None),
            merged: row(ScannedClean, 9000, 0, (1, 1, 1, 10, 200), None),
        },
        Case {
            name: "scanned-with-findings-started-at",
            a: row(ScannedWithFindings, 100, 7, (900, 900, 900, 10, 200), None),
            b: row(ScannedWithFindings, 9000, 3, (1, 1, 1, 20, 200), None),
            merged: row(ScannedWithFindings, 9000, 7, (1, 1, 1, 20, 200), None),
        },
        Case {
            name: "identical",
            a: row(FailedPermanent, 77, 3, (5, 2, 4, 20, 200), Some("SAME")),
            b: row(FailedPermanent, 77, 3, (5, 2, 4, 20, 200), Some("SAME")),
            merged: row(FailedPermanent, 77, 3, (5, 2, 4, 20, 200), Some("SAME")),
        },
    ]
}

/// The findings count by merged status (§4.1, and the worked examples of
/// §4.4): 0 when clean, the larger ScannedWithFindings count (at least 1)
/// when with findings, else the maximum of both.
fn count_cases() -> Vec<Case> {
    vec![
        Case {
            name: "failed-then-with-findings",
            a: row(FailedRetryable, 5000, 4, (1, 1, 1, 10, 20), Some("TIMEOUT")),
            b: row(ScannedWithFindings, 800, 2, (2, 2, 2, 30, 40), None),
            merged: row(ScannedWithFindings, 5000, 2, (2, 2, 2, 30, 40), None),
        },
        Case {
            name: "with-findings-over-clean",
            a: row(ScannedWithFindings, 10, 3, (1, 1, 1, 10, 20), None),
            b: row(ScannedClean, 20, 0, (2, 2, 2, 30, 40), None),
            merged: row(ScannedWithFindings, 20, 3, (1, 1, 1, 10, 20), None),
        },
        Case {
            name: "permanent-then-clean",
            a: row(FailedPermanent, 10, 9, (1, 1, 1, 10, 20), Some("PERM")),
            b: row(ScannedClean, 5, 0, (2, 2, 2, 5, 5), None),
            merged: row(ScannedClean, 10, 0, (2, 2, 2, 5, 5), None),
        },
        Case {
            name: "retryable-then-clean",
            a: row(FailedRetryable, 10, 6, (1, 1, 1, 10, 90), Some("RETRY")),
            b: row(ScannedClean, 5, 0, (2, 2, 2, 5, 5), None),
            merged: row(ScannedClean, 10, 0, (2, 2, 2, 5, 5), None),
        },
        Case {
            name: "skipped-then-clean",
            a: row(Skipped, 10, 5, (1, 1, 1, 10, 90), Some("SKIP")),
            b: row(ScannedClean, 5, 0, (2, 2, 2, 5, 5), None),
            merged: row(ScannedClean, 10, 0, (2, 2, 2, 5, 5), None),
        },
        Case {
            name: "both-with-findings",
            a: row(ScannedWithFindings, 10, 2, (1, 1, 1, 10, 90), None),
            b: row(ScannedWithFindings, 5, 5, (2, 2, 2, 5, 5), None),
            merged: row(ScannedWithFindings, 10, 5, (1, 1, 1, 10, 90), None),
        },
        Case {
            name: "failed-count-below-scan",
            a: row(FailedPermanent, 10, 9, (1, 1, 1, 10, 20), Some("PERM")),
            b: row(ScannedWithFindings, 5, 1, (2, 2, 2, 5, 5), None),
            merged: row(ScannedWithFindings, 10, 1, (2, 2, 2, 5, 5), None),
        },
        Case {
            name: "failed-over-skipped-count",
            a: row(Skipped, 10, 2, (1, 1, 1, 10, 20), Some("SKIP")),
            b: row(FailedRetryable, 5, 7, (2, 2, 2, 50, 50), Some("RETRY")),
            merged: row(Skipped, 10, 7, (1, 1, 1, 10, 20), Some("SKIP")),
        },
        Case {
            name: "failed-both-counts",
            a: row(FailedRetryable, 10, 7, (1, 1, 1, 10, 20), Some("RETRY")),
            b: row(FailedPermanent, 5, 3, (2, 2, 2, 50, 50), Some("PERM")),
            merged: row(FailedPermanent, 10, 7, (2, 2, 2, 50, 50), Some("PERM")),
        },
        Case {
            name: "failed-zero-counts",
            a: row(FailedRetryable, 0, 0, (1, 1, 1, 10, 20), Some("RETRY")),
            b: row(FailedRetryable, 0, 0, (1, 1, 1, 10, 21), Some("RETRY")),
            merged: row(FailedRetryable, 0, 0, (1, 1, 1, 10, 21), Some("RETRY")),
        },
    ]
}

/// The four ways of writing one pair.
const WAYS: [&str; 4] = ["a-then-b", "b-then-a", "batch-a-b", "batch-b-a"];

/// Writes every case four ways, each on its own key, then compares each
/// durable row with the case's expected row.
fn run_cases<B: Backend>(
    backend: &B,
    cases: &[Case],
    seed: u8,
    store_case: &'static str,
    write_case: &'static str,
    fetch_case: &'static str,
    merged_case: &'static str,
) -> Result<(), CheckFailure> {
    let tenant = TenantId::from_bytes(fill32(seed));
    let policy = PolicyHash::from_bytes(fill32(seed.wrapping_add(1)));
    let ledger = new_ledger(backend, store_case)?;
    let key_of = |i: usize, way: usize| {
        let index = u32::try_from(i * WAYS.len() + way).unwrap_or(u32::MAX);
        DoneLedgerKey::new(tenant, policy, indexed_ovid(index))
    };
    let mut expected = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        for (way, _) in WAYS.iter().enumerate() {
            let key = key_of(i, way);
            let build = |r: &Row| r.record(key).map_err(|e| fixture_failed(store_case, e));
            let (a, b) = (build(&case.a)?, build(&case.b)?);
            match way {
                0 => {
                    submit_ledger(&ledger, core::slice::from_ref(&a), write_case)?;
                    submit_ledger(&ledger, core::slice::from_ref(&b), write_case)?;
                }
                1 => {
                    submit_ledger(&ledger, core::slice::from_ref(&b), write_case)?;
                    submit_ledger(&ledger, core::slice::from_ref(&a), write_case)?;
                }
                2 => {
                    submit_ledger(&ledger, &[a, b], write_case)?;
                }
                _ => {
                    submit_ledger(&ledger, &[b, a], write_case)?;
                }
            }
            expected.push((case.name, WAYS[way], build(&case.merged)?, case.merged));
        }
    }
    for (name, way, want, fields) in &expected {
        let got = get_single(&ledger, want.key(), fetch_case)?;
        ensure_ledger(&got == want, merged_case, || {
            format!("case {name}, written {way}: expected {}, got {}", describe(want), describe(&got))
        })?;
        // Each accessor, against the literal (never against another accessor).
        let p = got.provenance();
        let read = (
            got.status().rank(),
            got.bytes_scanned(),
            got.findings_count(),
            (p.run_id().as_raw(), p.shard_id().as_raw(), p.fence_epoch().as_raw()),
            (p.started_at().as_raw(), p.finished_at().as_raw()),
            got.error_code().map(|c| c.as_str().to_owned()),
            *got.key() == *want.key(),
        );
        let (run, shard, fence, started, finished) = fields.prov;
        let literal = (
            fields.status.rank(),
            fields.bytes,
            fields.count,
            (run, shard, fence),
            (started, finished),
            fields.code.map(str::to_owned),
            true,
        );
        ensure_ledger(read == literal, merged_case, || {
            format!("case {name}, written {way}: accessors read {read:?}, expected {literal:?}")
        })?;
    }
    // The snapshot holds exactly those rows, nothing extra.
    let snapshot = ledger_snapshot(&ledger, fetch_case)?;
    ensure_ledger(snapshot.len() == expected.len(), merged_case, || {
        format!("snapshot holds {} rows, expected {}", snapshot.len(), expected.len())
    })
}

fn describe(r: &DoneLedgerRecord) -> String {
    let p = r.provenance();
    format!(
        "{:?} bytes {} count {} run {} shard {} fence {} started {} finished {} code {:?}",
        r.status(),
        r.bytes_scanned(),
        r.findings_count(),
        p.run_id().as_raw(),
        p.shard_id().as_raw(),
        p.fence_epoch().as_raw(),
        p.started_at().as_raw(),
        p.finished_at().as_raw(),
        r.error_code().map(|c| c.as_str())
    )
}

/// The winner's provenance and error code travel together, whichever order
/// the rows arrive in (§4.2), while bytes and counts join on their own.
pub(crate) fn provenance_winner<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    run_cases(
        backend,
        &winner_cases(),
        0x61,
        "merge/provenance-winner:store",
        "merge/provenance-winner:upsert",
        "merge/provenance-winner:fetch",
        "merge/provenance-winner:merged",
    )
}

/// The merged findings count follows the merged status (§4.1).
pub(crate) fn findings_count<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    run_cases(
        backend,
        &count_cases(),
        0x71,
        "merge/findings-count:store",
        "merge/findings-count:upsert",
        "merge/findings-count:fetch",
        "merge/findings-count:merged",
    )
}

/// Receipts count the batch's distinct keys after in-batch merging, the
/// scanned ones among them, and the sum of their findings counts including
/// failed and skipped rows' (§5.5), never the durable rows they merged into.
pub(crate) fn receipt_counts<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    const STORE: &str = "merge/receipt-counts:store";
    const CASE: &str = "merge/receipt-counts:receipt";
    let tenant = TenantId::from_bytes(fill32(0x81));
    let policy = PolicyHash::from_bytes(fill32(0x82));
    let key = |i: u32| DoneLedgerKey::new(tenant, policy, indexed_ovid(i));
    let build = |i: u32, r: Row| r.record(key(i)).map_err(|e| fixture_failed(STORE, e));
    let ledger = new_ledger(backend, STORE)?;
    // The empty batch is acknowledged with zeros.
    let receipt = submit_ledger(&ledger, &[], CASE)?;
    expect_receipt(receipt, DoneLedgerCommitReceipt::new(0, 0, 0), "empty batch")?;
    // Distinct keys of every status: counts 4 (failed), 3 (skipped), 0, 2.
    let first = [
        build(0, row(FailedRetryable, 1, 4, (1, 1, 1, 1, 1), Some("RETRY")))?,
        build(1, row(Skipped, 1, 3, (1, 1, 1, 1, 1), Some("SKIP")))?,
        build(2, row(ScannedClean, 1, 0, (1, 1, 1, 1, 1), None))?,
        build(3, row(ScannedWithFindings, 1, 2, (1, 1, 1, 1, 1), None))?,
        build(4, row(FailedPermanent, 1, 0, (1, 1, 1, 1, 1), Some("PERM")))?,
    ];
    let receipt = submit_ledger(&ledger, &first, CASE)?;
    expect_receipt(receipt, DoneLedgerCommitReceipt::new(5, 2, 9), "five distinct keys")?;
    // In-batch duplicates merge first: key 5 twice (a failure with count 6,
    // then a scan with 1) is one scanned key with count 1; key 0 again is
    // counted from this batch alone (count 8), not from its durable row.
    let second = [
        build(5, row(FailedPermanent, 1, 6, (1, 1, 1, 1, 1), Some("PERM")))?,
        build(0, row(FailedRetryable, 1, 8, (2, 2, 2, 2, 2), Some("RETRY")))?,
        build(5, row(ScannedWithFindings, 1, 1, (2, 2, 2, 2, 2), None))?,
    ];
    let receipt = submit_ledger(&ledger, &second, CASE)?;
    expect_receipt(receipt, DoneLedgerCommitReceipt::new(2, 1, 9), "duplicates merged in the batch")?;
    // A replay of the first batch: the same receipt.
    let receipt = submit_ledger(&ledger, &first, CASE)?;
    expect_receipt(receipt, DoneLedgerCommitReceipt::new(5, 2, 9), "replay of the first batch")?;
    // Counts near u32::MAX sum without overflow in a u64.
    let big = [
        build(10, row(ScannedWithFindings, 1, u32::MAX, (1, 1, 1, 1, 1), None))?,
        build(11, row(ScannedWithFindings, 1, u32::MAX, (1, 1, 1, 1, 1), None))?,
    ];
    let receipt = submit_ledger(&ledger, &big, CASE)?;
    expect_receipt(receipt, DoneLedgerCommitReceipt::new(2, 2, 2 * u64::from(u32::MAX)), "two maximal counts")
}

fn expect_receipt(got: DoneLedgerCommitReceipt, want: DoneLedgerCommitReceipt, what: &str) -> Result<(), CheckFailure> {
    ensure_ledger(got == want, "merge/receipt-counts:receipt", || format!("{what}: expected {want:?}, got {got:?}"))
}
