//! Paged reads and read limits of the in-memory stores: every paged read,
//! followed page by page, yields exactly the matching snapshot, from any
//! cursor (stored or not), for small and maximal pages; over-large reads are
//! rejected before the store is even looked at.

mod common;

use std::num::NonZeroU64;

use common::{done_record, provenance, upsert_done, upsert_findings};
use gossip_persistence::done_ledger::DoneLedgerStatus::*;
use gossip_persistence::done_ledger::{DoneLedgerKey, DoneLedgerRecord, DoneLedgerStatus};
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, FindingId, LogicalTime, NormHash, ObjectVersionId, ObservationId, OccurrenceId, OvidHash, PolicyHash,
    RuleFingerprint, RunId, ShardId, StableItemId, TenantId, TenantSecretKey, key_secret_hash,
};
use gossip_persistence::{
    DoneLedger, DoneLedgerInspect, FindingsInspect, InMemoryDoneLedger, InMemoryFindingsSink, MAX_PAGE_SIZE,
    PersistenceInputError, RECOMMENDED_MAX_BATCH_SIZE, StoreError,
};

const PAGE_SIZES: [usize; 3] = [1, 7, MAX_PAGE_SIZE];

/// splitmix64: deterministic keys spread over all 32 bytes, so the pages'
/// order is checked on more than a leading seed byte.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn bytes(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Follows a paged read from the start until a short page, checking each
/// page's bound, and returns the concatenation.
fn follow<T, K>(limit: usize, mut fetch: impl FnMut(Option<&K>, usize) -> Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut all = Vec::new();
    let mut after: Option<K> = None;
    loop {
        let page = fetch(after.as_ref(), limit);
        assert!(page.len() <= limit, "a page of {} rows for limit {limit}", page.len());
        let full = page.len() == limit;
        if let Some(last) = page.last() {
            after = Some(key(last));
        }
        all.extend(page);
        if !full {
            return all;
        }
    }
}

/// What a page after `after` must be: the next `limit` rows of the snapshot.
fn expected_page<T: Clone, K: Ord>(snapshot: &[T], after: Option<&K>, limit: usize, key: impl Fn(&T) -> K) -> Vec<T> {
    snapshot.iter().filter(|row| after.is_none_or(|after| key(row) > *after)).take(limit).cloned().collect()
}

const SCOPES: [(u8, u8); 4] = [(1, 1), (1, 2), (2, 1), (0xff, 0)];

fn scope(i: usize) -> (TenantId, PolicyHash) {
    let (t, p) = SCOPES[i];
    (TenantId::from_bytes([t; 32]), PolicyHash::from_bytes([p; 32]))
}

/// `n` rows over a few scopes with random ovids and every status, so a
/// scope's listing skips the non-terminal rows.
fn random_ledger(rng: &mut Rng, n: usize) -> InMemoryDoneLedger {
    let ledger = InMemoryDoneLedger::new();
    let rows: Vec<DoneLedgerRecord> = (0..n)
        .map(|_| {
            let (tenant, policy) = scope(rng.below(SCOPES.len()));
            let key = DoneLedgerKey::new(tenant, policy, OvidHash::from_bytes(rng.bytes()));
            let status = DoneLedgerStatus::ALL[rng.below(DoneLedgerStatus::ALL.len())];
            let findings = u32::from(status == ScannedWithFindings);
            let code = (!status.is_scanned()).then(|| common::code("E"));
            DoneLedgerRecord::try_new(key, status, 1, findings, provenance(1, 1, 1, 1, 2), code).expect("valid row")
        })
        .collect();
    for batch in rows.chunks(RECOMMENDED_MAX_BATCH_SIZE) {
        upsert_done(&ledger, batch);
    }
    assert_eq!(ledger.len().expect("len"), n, "random ovids do not collide");
    ledger
}

/// Cursors worth trying against `snapshot`: stored keys at the edges and in
/// the middle, keys no row has, and keys before and after every row.
fn cursors<T, K: Clone>(
    snapshot: &[T],
    key: impl Fn(&T) -> K,
    unstored: impl Fn(&mut Rng) -> K,
    rng: &mut Rng,
) -> Vec<K> {
    let mut out = Vec::new();
    let n = snapshot.len();
    for i in [0, 1, n / 3, n / 2, n.saturating_sub(2), n.saturating_sub(1)] {
        if let Some(row) = snapshot.get(i) {
            out.push(key(row));
        }
    }
    out.extend((0..5).map(|_| unstored(rng)));
    out
}

fn assert_ledger_pages(ledger: &InMemoryDoneLedger, sizes: &[usize], rng: &mut Rng) {
    let snapshot = ledger.snapshot().expect("snapshot");
    for &limit in sizes {
        let all = follow(limit, |after, limit| ledger.snapshot_page(after, limit).expect("page"), |r| *r.key());
        assert_eq!(all, snapshot, "snapshot pages of {limit}");
    }
    let unstored = |rng: &mut Rng| {
        let (tenant, policy) = scope(rng.below(SCOPES.len()));
        DoneLedgerKey::new(tenant, policy, OvidHash::from_bytes(rng.bytes()))
    };
    let mut keys = cursors(&snapshot, |r| *r.key(), unstored, rng);
    let (low, high) = (TenantId::from_bytes([0; 32]), TenantId::from_bytes([0xff; 32]));
    keys.push(DoneLedgerKey::new(low, PolicyHash::from_bytes([0; 32]), OvidHash::from_bytes([0; 32])));
    keys.push(DoneLedgerKey::new(high, PolicyHash::from_bytes([0xff; 32]), OvidHash::from_bytes([0xff; 32])));
    for after in &keys {
        for &limit in sizes {
            assert_eq!(
                ledger.snapshot_page(Some(after), limit).expect("page"),
                expected_page(&snapshot, Some(after), limit, |r| *r.key()),
                "snapshot page of {limit} after {after:?}"
            );
        }
    }

    for i in 0..SCOPES.len() {
        let (tenant, policy) = scope(i);
        let mut listed = ledger.list_done_hashes(tenant, policy).expect("list");
        listed.sort_unstable();
        assert!(!listed.is_empty(), "every scope has terminal rows");
        for &limit in sizes {
            let all = follow(
                limit,
                |after, limit| ledger.list_done_hashes_page(tenant, policy, after.copied(), limit).expect("page"),
                |h| *h,
            );
            assert_eq!(all, listed, "done-hash pages of {limit} in scope {i}");
        }
        let mut hashes = cursors(&listed, |h| *h, |rng| OvidHash::from_bytes(rng.bytes()), rng);
        // A non-terminal row's ovid is a valid cursor too, though never listed.
        hashes.extend(
            snapshot
                .iter()
                .filter(|r| (r.key().tenant_id(), r.key().policy_hash()) == (tenant, policy))
                .filter(|r| !r.status().is_terminal())
                .map(|r| r.key().ovid_hash())
                .take(2),
        );
        for after in hashes {
            for &limit in sizes {
                assert_eq!(
                    ledger.list_done_hashes_page(tenant, policy, Some(after), limit).expect("page"),
                    expected_page(&listed, Some(&after), limit, |h| *h),
                    "done-hash page of {limit} after {after:?}"
                );
            }
        }
    }
}

#[test]
fn ledger_pages_concatenate_to_the_snapshot() {
    let mut rng = Rng(7);
    let ledger = random_ledger(&mut rng, 300);
    assert_ledger_pages(&ledger, &PAGE_SIZES, &mut rng);
}

/// More rows than two maximal pages, so a page is selected out of a table
/// far larger than itself and the last page is a partial one.
#[test]
fn ledger_pages_of_the_maximal_size_over_a_large_ledger() {
    let mut rng = Rng(11);
    let ledger = random_ledger(&mut rng, 2 * MAX_PAGE_SIZE + 345);
    assert_ledger_pages(&ledger, &[MAX_PAGE_SIZE], &mut rng);
    let first = ledger.snapshot_page(None, MAX_PAGE_SIZE).expect("page");
    assert_eq!(first.len(), MAX_PAGE_SIZE);
}

#[test]
fn a_scope_without_rows_or_a_zero_limit_pages_nothing() {
    let mut rng = Rng(3);
    let ledger = random_ledger(&mut rng, 50);
    let nobody = TenantId::from_bytes([9; 32]);
    assert!(ledger.list_done_hashes_page(nobody, PolicyHash::from_bytes([1; 32]), None, 10).expect("page").is_empty());
    let (tenant, policy) = scope(0);
    assert!(ledger.list_done_hashes_page(tenant, policy, None, 0).expect("page").is_empty());
    assert!(ledger.snapshot_page(None, 0).expect("page").is_empty());
    assert!(InMemoryDoneLedger::new().snapshot_page(None, 5).expect("page").is_empty());
}

/// A sink with findings of several tenants, some with two occurrences, and
/// observations under two policies.
fn random_sink(rng: &mut Rng, chains_per_tenant: usize) -> InMemoryFindingsSink {
    let sink = InMemoryFindingsSink::new();
    for t in [1u8, 2, 0xff] {
        let tenant = TenantId::from_bytes([t; 32]);
        let key = TenantSecretKey::from_bytes([t; 32]);
        let (mut findings, mut occurrences, mut observations) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..chains_per_tenant {
            let finding = FindingRecord::new(
                tenant,
                StableItemId::from_bytes(rng.bytes()),
                RuleFingerprint::from_bytes(rng.bytes()),
                key_secret_hash(&key, &NormHash::from_digest(rng.bytes())),
            );
            for _ in 0..1 + i % 2 {
                let occurrence = OccurrenceRecord::new(
                    tenant,
                    finding.finding_id(),
                    ObjectVersionId::from_bytes(rng.bytes()),
                    rng.next() % 1000,
                    NonZeroU64::new(1 + rng.next() % 50).expect("non-zero"),
                );
                for p in [1u8, 2] {
                    observations.push(ObservationRecord::new(
                        tenant,
                        occurrence.occurrence_id(),
                        PolicyHash::from_bytes([p; 32]),
                        OvidHash::from_bytes(rng.bytes()),
                        RunId::from_raw(1),
                        ShardId::from_raw(1),
                        FenceEpoch::from_raw(1),
                        LogicalTime::from_raw(rng.next() % 100),
                    ));
                }
                occurrences.push(occurrence);
            }
            findings.push(finding);
        }
        upsert_findings(&sink, FindingsUpsertBatch::new(&findings, &occurrences, &observations));
    }
    sink
}

fn assert_layer_pages<T: Clone + PartialEq + core::fmt::Debug, I: Copy + core::fmt::Debug + Ord>(
    layer: &str,
    snapshot: &[T],
    page: impl Fn(Option<(TenantId, I)>, usize) -> Vec<T>,
    key: impl Fn(&T) -> (TenantId, I),
    unstored: impl Fn([u8; 32]) -> I,
    rng: &mut Rng,
) {
    for limit in PAGE_SIZES {
        let all = follow(limit, |after, limit| page(after.copied(), limit), &key);
        assert_eq!(all, snapshot, "{layer} pages of {limit}");
    }
    let random = |rng: &mut Rng| (TenantId::from_bytes([[1u8, 2, 0xff][rng.below(3)]; 32]), unstored(rng.bytes()));
    let mut keys = cursors(snapshot, &key, random, rng);
    keys.push((TenantId::from_bytes([0; 32]), unstored([0; 32])));
    keys.push((TenantId::from_bytes([0xff; 32]), unstored([0xff; 32])));
    for after in keys {
        for limit in PAGE_SIZES {
            assert_eq!(
                page(Some(after), limit),
                expected_page(snapshot, Some(&after), limit, &key),
                "{layer} page of {limit} after {after:?}"
            );
        }
    }
}

#[test]
fn findings_pages_concatenate_to_the_snapshots() {
    let mut rng = Rng(5);
    let sink = random_sink(&mut rng, 40);
    let findings = sink.findings_snapshot().expect("snapshot");
    let occurrences = sink.occurrences_snapshot().expect("snapshot");
    let observations = sink.observations_snapshot().expect("snapshot");
    assert_eq!((findings.len(), occurrences.len(), observations.len()), (120, 180, 360));
    assert_layer_pages(
        "findings",
        &findings,
        |after, limit| sink.findings_page(after, limit).expect("page"),
        |r| (r.tenant_id(), r.finding_id()),
        FindingId::from_bytes,
        &mut rng,
    );
    assert_layer_pages(
        "occurrences",
        &occurrences,
        |after, limit| sink.occurrences_page(after, limit).expect("page"),
        |r| (r.tenant_id(), r.occurrence_id()),
        OccurrenceId::from_bytes,
        &mut rng,
    );
    assert_layer_pages(
        "observations",
        &observations,
        |after, limit| sink.observations_page(after, limit).expect("page"),
        |r| (r.tenant_id(), r.observation_id()),
        ObservationId::from_bytes,
        &mut rng,
    );
}

fn too_large(size: usize) -> StoreError {
    StoreError::BatchValidation(PersistenceInputError::BatchTooLarge { size, max: MAX_PAGE_SIZE })
}

#[test]
fn a_limit_over_the_maximum_page_is_rejected_by_every_paged_read() {
    let mut rng = Rng(13);
    let ledger = random_ledger(&mut rng, 20);
    let sink = random_sink(&mut rng, 3);
    let (tenant, policy) = scope(0);
    for limit in [MAX_PAGE_SIZE + 1, usize::MAX] {
        assert_eq!(ledger.snapshot_page(None, limit), Err(too_large(limit)));
        assert_eq!(ledger.list_done_hashes_page(tenant, policy, None, limit), Err(too_large(limit)));
        assert_eq!(sink.findings_page(None, limit), Err(too_large(limit)));
        assert_eq!(sink.occurrences_page(None, limit), Err(too_large(limit)));
        assert_eq!(sink.observations_page(None, limit), Err(too_large(limit)));
    }
    assert_eq!(ledger.snapshot_page(None, MAX_PAGE_SIZE).expect("page"), ledger.snapshot().expect("snapshot"));
}

/// The size checks come before the lock: a poisoned store still reports the
/// size, so nothing was read.
#[test]
fn read_limits_are_checked_before_anything_is_read() {
    let ledger = random_ledger(&mut Rng(17), 10);
    ledger.poison_for_tests();
    let (tenant, policy) = scope(0);
    let keys = vec![OvidHash::from_bytes([1; 32]); MAX_PAGE_SIZE + 1];
    assert_eq!(ledger.batch_get(tenant, policy, &keys), Err(too_large(MAX_PAGE_SIZE + 1)));
    assert_eq!(ledger.snapshot_page(None, MAX_PAGE_SIZE + 1), Err(too_large(MAX_PAGE_SIZE + 1)));
    assert!(matches!(ledger.batch_get(tenant, policy, &keys[1..]), Err(StoreError::Poisoned { .. })));

    let sink = InMemoryFindingsSink::new();
    sink.poison_for_tests();
    assert_eq!(sink.observations_page(None, MAX_PAGE_SIZE + 1), Err(too_large(MAX_PAGE_SIZE + 1)));
    assert!(matches!(sink.observations_page(None, MAX_PAGE_SIZE), Err(StoreError::Poisoned { .. })));
}

#[test]
fn batch_get_takes_at_most_a_maximal_page_of_keys() {
    let ledger = InMemoryDoneLedger::new();
    upsert_done(&ledger, &[done_record(1, 2, 3, ScannedClean, 5, 0, provenance(1, 1, 1, 1, 2), None)]);
    let (tenant, policy) = (TenantId::from_bytes([1; 32]), PolicyHash::from_bytes([2; 32]));
    let mut keys = vec![OvidHash::from_bytes([4; 32]); MAX_PAGE_SIZE];
    keys[MAX_PAGE_SIZE - 1] = OvidHash::from_bytes([3; 32]);
    let rows = ledger.batch_get(tenant, policy, &keys).expect("a maximal read");
    assert_eq!(rows.len(), MAX_PAGE_SIZE);
    assert!(rows[..MAX_PAGE_SIZE - 1].iter().all(Option::is_none));
    assert_eq!(rows[MAX_PAGE_SIZE - 1].as_ref().map(DoneLedgerRecord::bytes_scanned), Some(5));
    keys.push(OvidHash::from_bytes([3; 32]));
    assert_eq!(ledger.batch_get(tenant, policy, &keys), Err(too_large(MAX_PAGE_SIZE + 1)));
}
