//! Paged reads: after a few hundred rows (the done-ledger over three scopes,
//! findings in all three layers over two tenants), pages of 1, 7 and
//! `MAX_PAGE_SIZE` rows concatenate to exactly the full snapshot (for
//! `list_done_hashes_page`, to the sorted listing of each scope); a page
//! starts strictly after its cursor, wherever the cursor falls (on a row,
//! between rows, before the first, after the last); a limit of
//! `MAX_PAGE_SIZE + 1` is refused with `BatchTooLarge`; a limit of 0 reads
//! nothing. These are contract checks: they need no test machinery.

use core::fmt::Debug;

use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, SecretHash, ShardId, StableItemId, TenantId,
};
use gossip_persistence::{AsStoreError, DoneLedgerInspect, FindingsInspect, MAX_PAGE_SIZE, PersistenceInputError};

use super::error::{BoxError, CheckFailure};
use super::fixture::{FixtureError, done_record, fill32, indexed_ovid, provenance};
use super::harness::{
    expect_store_error, findings_invariant, findings_read, fixture_failed, ledger_invariant, ledger_read,
    ledger_snapshot, new_ledger, new_sink, read_refused, submit_ledger, submit_sink,
};
use crate::backend::{Backend, SuiteLedger};

/// The page sizes every paged read is read back with.
const PAGE_SIZES: [usize; 3] = [1, 7, MAX_PAGE_SIZE];
/// The page size of the cursor probes.
const PROBE_LIMIT: usize = 7;
/// Rows per done-ledger scope.
const LEDGER_ROWS: u32 = 110;
/// Findings per tenant (each with one or two occurrences, each of those
/// seen under two policies).
const FINDINGS_PER_TENANT: u32 = 80;

const T1: TenantId = TenantId::from_bytes(fill32(0xE1));
const T2: TenantId = TenantId::from_bytes(fill32(0xE2));
const P1: PolicyHash = PolicyHash::from_bytes(fill32(0xE5));
const P2: PolicyHash = PolicyHash::from_bytes(fill32(0xE6));

/// The cases of one paging check.
struct Cases {
    setup: &'static str,
    pages: &'static str,
    cursor: &'static str,
    over: &'static str,
    zero: &'static str,
}

macro_rules! cases {
    ($name:literal) => {
        Cases {
            setup: concat!("paging/", $name, ":setup"),
            pages: concat!("paging/", $name, ":pages"),
            cursor: concat!("paging/", $name, ":cursor"),
            over: concat!("paging/", $name, ":over-limit"),
            zero: concat!("paging/", $name, ":zero-limit"),
        }
    };
}

/// The 32 bytes plus one, as a big-endian number; `None` past the top.
fn bump(mut bytes: [u8; 32]) -> Option<[u8; 32]> {
    for b in bytes.iter_mut().rev() {
        let (next, carry) = b.overflowing_add(1);
        *b = next;
        if !carry {
            return Some(bytes);
        }
    }
    None
}

/// A paged read: `page(after, limit)`.
type PageFn<'a, K, T, E> = dyn Fn(Option<K>, usize) -> Result<Vec<T>, E> + 'a;

/// One paged read under test: `page(after, limit)` over rows whose full,
/// ascending listing is `full`.
struct Paged<'a, T, K, E> {
    /// The method, for messages (e.g. "snapshot_page").
    what: &'static str,
    cases: &'a Cases,
    full: &'a [T],
    key: fn(&T) -> K,
    page: &'a PageFn<'a, K, T, E>,
    /// Cursors besides the rows' own keys: between rows, before and after all.
    extra_cursors: Vec<K>,
    invariant: fn(&'static str, String) -> CheckFailure,
    read: fn(&'static str, BoxError) -> CheckFailure,
}

impl<T, K, E> Paged<'_, T, K, E>
where
    T: PartialEq + Debug,
    K: Ord + Copy + Debug,
    E: AsStoreError + std::error::Error + Send + Sync + 'static,
{
    fn call(&self, after: Option<K>, limit: usize, case: &'static str) -> Result<Vec<T>, CheckFailure> {
        (self.page)(after, limit).map_err(|e| (self.read)(case, Box::new(e)))
    }

    fn ensure(&self, ok: bool, case: &'static str, message: impl FnOnce() -> String) -> Result<(), CheckFailure> {
        if ok { Ok(()) } else { Err((self.invariant)(case, message())) }
    }

    /// The rows the contract puts on the page after `after`.
    fn expected_page(&self, after: Option<K>, limit: usize) -> Vec<&T> {
        self.full.iter().filter(|r| after.is_none_or(|a| (self.key)(r) > a)).take(limit).collect()
    }

    /// One page, which must be exactly the contract's page.
    fn expect_page(&self, after: Option<K>, limit: usize, case: &'static str) -> Result<Vec<T>, CheckFailure> {
        let page = self.call(after, limit, case)?;
        let want = self.expected_page(after, limit);
        self.ensure(page.iter().eq(want.iter().copied()), case, || {
            let first = page.iter().zip(&want).position(|(a, b)| a != *b).unwrap_or(page.len().min(want.len()));
            format!(
                "{}(after {after:?}, limit {limit}) returned {} rows, expected {}; first difference at row {first}: \
                 {:?}, expected {:?}",
                self.what,
                page.len(),
                want.len(),
                page.get(first),
                want.get(first)
            )
        })?;
        Ok(page)
    }

    /// Every page of `limit` rows from the start, each checked against the
    /// contract, until the first page shorter than `limit`.
    fn read_all(&self, limit: usize) -> Result<Vec<T>, CheckFailure> {
        let case = self.cases.pages;
        let most_pages = self.full.len() / limit + 1;
        let mut rows = Vec::new();
        let mut after = None;
        for _ in 0..most_pages {
            let page = self.expect_page(after, limit, case)?;
            let last = page.len() < limit;
            after = page.last().map(self.key).or(after);
            rows.extend(page);
            if last {
                return Ok(rows);
            }
        }
        Err((self.invariant)(
            case,
            format!(
                "{} with limit {limit} over {} rows did not end after {most_pages} full pages",
                self.what,
                self.full.len()
            ),
        ))
    }

    fn check(&self) -> Result<(), CheckFailure> {
        let key = self.key;
        if let Some(i) = self.full.windows(2).position(|w| key(&w[0]) >= key(&w[1])) {
            return Err((self.invariant)(
                self.cases.pages,
                format!(
                    "the full listing paged by {} is not strictly ascending (a duplicate or a row out of order): \
                     row {i} has key {:?}, row {} has key {:?}",
                    self.what,
                    key(&self.full[i]),
                    i + 1,
                    key(&self.full[i + 1])
                ),
            ));
        }
        for limit in PAGE_SIZES {
            let rows = self.read_all(limit)?;
            self.ensure(rows == self.full, self.cases.pages, || {
                format!("{} pages of {limit} gave {} rows, the full listing {}", self.what, rows.len(), self.full.len())
            })?;
        }

        let middle = self.full.len() / 2;
        let mut cursors: Vec<K> = [0, middle, self.full.len().saturating_sub(1)]
            .into_iter()
            .filter_map(|i| self.full.get(i).map(key))
            .collect();
        cursors.extend(self.extra_cursors.iter().copied());
        for cursor in cursors {
            self.expect_page(Some(cursor), PROBE_LIMIT, self.cases.cursor)?;
        }

        let over = MAX_PAGE_SIZE + 1;
        let error = read_refused((self.page)(None, over), self.cases.over, self.invariant)?;
        let expected = PersistenceInputError::BatchTooLarge { size: over, max: MAX_PAGE_SIZE };
        expect_store_error(self.cases.over, &error, &expected.into())?;

        for after in [None, self.full.get(middle).map(key)] {
            let page = self.call(after, 0, self.cases.zero)?;
            self.ensure(page.is_empty(), self.cases.zero, || {
                format!("{}(after {after:?}, limit 0) returned {} rows", self.what, page.len())
            })?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The done-ledger.

/// `LEDGER_ROWS` rows in each of three scopes, sharing ovids across scopes,
/// every status in turn (so a fifth of each scope is not terminal).
fn ledger_rows() -> Result<Vec<DoneLedgerRecord>, FixtureError> {
    use DoneLedgerStatus::{FailedPermanent, FailedRetryable, ScannedClean, ScannedWithFindings, Skipped};
    let mut rows = Vec::new();
    for (tenant, policy) in [(T1, P1), (T1, P2), (T2, P1)] {
        for i in 0..LEDGER_ROWS {
            let key = DoneLedgerKey::new(tenant, policy, indexed_ovid(i));
            let p = provenance(1, 2, 3, 4, 5);
            rows.push(match i % 5 {
                0 => done_record(key, ScannedClean, 64, 0, p, None)?,
                1 => done_record(key, ScannedWithFindings, 64, 2, p, None)?,
                2 => done_record(key, FailedRetryable, 64, 0, p, Some("TIMEOUT"))?,
                3 => done_record(key, FailedPermanent, 64, 0, p, Some("PERM_FAILURE"))?,
                _ => done_record(key, Skipped, 64, 0, p, Some("UNSUPPORTED_FORMAT"))?,
            });
        }
    }
    Ok(rows)
}

fn written_ledger<B: Backend>(backend: &B, cases: &Cases) -> Result<(B::Ledger, Vec<DoneLedgerRecord>), CheckFailure> {
    let rows = ledger_rows().map_err(|e| fixture_failed(cases.setup, e))?;
    let ledger = new_ledger(backend, cases.setup)?;
    submit_ledger(&ledger, &rows, cases.setup)?;
    let snapshot = ledger_snapshot(&ledger, cases.setup)?;
    if snapshot.len() != rows.len() {
        return Err(ledger_invariant(
            cases.setup,
            format!("{} durable rows after writing {} distinct keys", snapshot.len(), rows.len()),
        ));
    }
    Ok((ledger, snapshot))
}

pub(crate) fn done_ledger_hashes<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let cases = cases!("done-ledger-hashes");
    let (ledger, _) = written_ledger(backend, &cases)?;
    // The three written scopes, and one (T2, P2) that holds nothing.
    for (tenant, policy) in [(T1, P1), (T1, P2), (T2, P1), (T2, P2)] {
        check_hashes(&ledger, tenant, policy, &cases)?;
    }
    Ok(())
}

fn check_hashes<L: SuiteLedger>(
    ledger: &L,
    tenant: TenantId,
    policy: PolicyHash,
    cases: &Cases,
) -> Result<(), CheckFailure> {
    let mut full = ledger_read(ledger.list_done_hashes(tenant, policy), cases.setup)?;
    full.sort_unstable();
    let middle = full.get(full.len() / 2).copied().unwrap_or(OvidHash::ZERO);
    let page = |after: Option<OvidHash>, limit| ledger.list_done_hashes_page(tenant, policy, after, limit);
    let between = bump(*middle.as_bytes()).map(OvidHash::from_bytes);
    Paged {
        what: "list_done_hashes_page",
        cases,
        full: &full,
        key: |h| *h,
        page: &page,
        extra_cursors: [Some(OvidHash::ZERO), between, Some(OvidHash::from_bytes([0xFF; 32]))]
            .into_iter()
            .flatten()
            .collect(),
        invariant: ledger_invariant,
        read: |case, source| CheckFailure::DoneLedgerGet { case, source },
    }
    .check()
}

pub(crate) fn done_ledger_snapshot<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let cases = cases!("done-ledger-snapshot");
    let (ledger, full) = written_ledger(backend, &cases)?;
    let page = |after: Option<DoneLedgerKey>, limit| ledger.snapshot_page(after.as_ref(), limit);
    let middle = *full[full.len() / 2].key();
    let mut extra = vec![
        // Before every row, inside a written scope past its rows, and after all.
        DoneLedgerKey::new(TenantId::ZERO, PolicyHash::ZERO, OvidHash::ZERO),
        DoneLedgerKey::new(T1, P1, OvidHash::from_bytes([0xFF; 32])),
        DoneLedgerKey::new(TenantId::from_bytes([0xFF; 32]), P1, OvidHash::ZERO),
    ];
    if let Some(ovid) = bump(*middle.ovid_hash().as_bytes()) {
        extra.push(DoneLedgerKey::new(middle.tenant_id(), middle.policy_hash(), OvidHash::from_bytes(ovid)));
    }
    Paged {
        what: "snapshot_page",
        cases: &cases,
        full: &full,
        key: |r| *r.key(),
        page: &page,
        extra_cursors: extra,
        invariant: ledger_invariant,
        read: |case, source| CheckFailure::DoneLedgerGet { case, source },
    }
    .check()
}

// ---------------------------------------------------------------------------
// Findings.

/// Per tenant, `FINDINGS_PER_TENANT` findings; every finding has one
/// occurrence and every other finding a second; every occurrence is seen
/// under both policies. One batch per tenant.
/// One tenant's rows of every layer.
struct TenantRows {
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    observations: Vec<ObservationRecord>,
}

fn findings_batches() -> Result<Vec<TenantRows>, FixtureError> {
    let mut batches = Vec::new();
    for tenant in [T1, T2] {
        let (mut findings, mut occurrences, mut observations) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..FINDINGS_PER_TENANT {
            let mut item = fill32(0xE8);
            item[..4].copy_from_slice(&i.to_le_bytes());
            let finding = FindingRecord::new(
                tenant,
                StableItemId::from_bytes(item),
                RuleFingerprint::from_bytes(fill32(0xE9)),
                SecretHash::from_persisted_bytes(fill32(0xEA)),
            );
            for version in 0..1 + i % 2 {
                let version_id = ObjectVersionId::from_version_bytes(format!("paging-{i}-{version}").as_bytes())?;
                let occurrence = OccurrenceRecord::try_new(tenant, finding.finding_id(), version_id, u64::from(i), 16)?;
                for policy in [P1, P2] {
                    observations.push(ObservationRecord::new(
                        tenant,
                        occurrence.occurrence_id(),
                        policy,
                        indexed_ovid(i),
                        RunId::from_raw(1),
                        ShardId::from_raw(2),
                        FenceEpoch::from_raw(3),
                        LogicalTime::from_raw(u64::from(i)),
                    ));
                }
                occurrences.push(occurrence);
            }
            findings.push(finding);
        }
        batches.push(TenantRows { findings, occurrences, observations });
    }
    Ok(batches)
}

fn written_sink<B: Backend>(backend: &B, cases: &Cases) -> Result<B::Sink, CheckFailure> {
    let batches = findings_batches().map_err(|e| fixture_failed(cases.setup, e))?;
    let sink = new_sink(backend, cases.setup)?;
    for rows in &batches {
        let batch = FindingsUpsertBatch::new(&rows.findings, &rows.occurrences, &rows.observations);
        submit_sink(&sink, batch, cases.setup)?;
    }
    Ok(sink)
}

/// The 32-byte row ids of the findings layers.
trait RowId: Ord + Copy + Debug {
    fn bytes(&self) -> [u8; 32];
    fn of(bytes: [u8; 32]) -> Self;
}

macro_rules! row_id {
    ($($id:ty),+) => {$(
        impl RowId for $id {
            fn bytes(&self) -> [u8; 32] {
                *self.as_bytes()
            }

            fn of(bytes: [u8; 32]) -> Self {
                Self::from_bytes(bytes)
            }
        }
    )+};
}

row_id!(FindingId, OccurrenceId, ObservationId);

/// One findings layer: its snapshot must hold `want` rows, then pages.
/// Besides the rows' keys, cursors fall before all rows, between two rows
/// (the middle id plus one), past tenant 1's rows, and after all.
fn check_layer<T, I, E>(
    what: &'static str,
    cases: &Cases,
    full: Vec<T>,
    want: usize,
    key: fn(&T) -> (TenantId, I),
    page: &PageFn<'_, (TenantId, I), T, E>,
) -> Result<(), CheckFailure>
where
    T: PartialEq + Debug,
    I: RowId,
    E: AsStoreError + std::error::Error + Send + Sync + 'static,
{
    if full.len() != want {
        return Err(findings_invariant(cases.setup, format!("{} rows durable, expected {want}", full.len())));
    }
    let mut extra = vec![
        (TenantId::ZERO, I::of([0; 32])),
        (T1, I::of([0xFF; 32])),
        (TenantId::from_bytes([0xFF; 32]), I::of([0xFF; 32])),
    ];
    if let Some((tenant, id)) = full.get(full.len() / 2).map(key)
        && let Some(next) = bump(id.bytes())
    {
        extra.push((tenant, I::of(next)));
    }
    Paged {
        what,
        cases,
        full: &full,
        key,
        page,
        extra_cursors: extra,
        invariant: findings_invariant,
        read: |case, source| CheckFailure::FindingsRead { case, source },
    }
    .check()
}

/// Rows per layer over both tenants.
const FINDINGS_ROWS: usize = 2 * FINDINGS_PER_TENANT as usize;
const OCCURRENCE_ROWS: usize = 2 * (FINDINGS_PER_TENANT as usize + FINDINGS_PER_TENANT as usize / 2);
const OBSERVATION_ROWS: usize = 2 * OCCURRENCE_ROWS;

pub(crate) fn findings<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let cases = cases!("findings");
    let sink = written_sink(backend, &cases)?;
    let full = findings_read(sink.findings_snapshot(), cases.setup)?;
    let page = |after: Option<(TenantId, FindingId)>, limit| sink.findings_page(after, limit);
    check_layer("findings_page", &cases, full, FINDINGS_ROWS, |r| (r.tenant_id(), r.finding_id()), &page)
}

pub(crate) fn occurrences<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let cases = cases!("occurrences");
    let sink = written_sink(backend, &cases)?;
    let full = findings_read(sink.occurrences_snapshot(), cases.setup)?;
    let page = |after: Option<(TenantId, OccurrenceId)>, limit| sink.occurrences_page(after, limit);
    check_layer("occurrences_page", &cases, full, OCCURRENCE_ROWS, |r| (r.tenant_id(), r.occurrence_id()), &page)
}

pub(crate) fn observations<B: Backend>(backend: &B) -> Result<(), CheckFailure> {
    let cases = cases!("observations");
    let sink = written_sink(backend, &cases)?;
    let full = findings_read(sink.observations_snapshot(), cases.setup)?;
    let page = |after: Option<(TenantId, ObservationId)>, limit| sink.observations_page(after, limit);
    check_layer("observations_page", &cases, full, OBSERVATION_ROWS, |r| (r.tenant_id(), r.observation_id()), &page)
}

#[cfg(test)]
mod tests {
    use super::bump;

    #[test]
    fn bump_carries_and_stops_at_the_top() {
        let mut low = [0u8; 32];
        low[31] = 0xFF;
        let mut want = [0u8; 32];
        want[30] = 1;
        assert_eq!(bump(low), Some(want));
        assert_eq!(bump([0xFF; 32]), None);
        assert!(bump([7; 32]).is_some_and(|b| b > [7; 32]));
    }
}
