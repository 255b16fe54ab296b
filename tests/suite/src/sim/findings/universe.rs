//! The fixed cast of a findings simulation, drawn from the seed once: tenants,
//! policies, and per tenant a pool of findings, their occurrences and the
//! observation slots. Batches are built from specs over these pools, so the
//! same spec always builds the same records.

use core::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;

use gossip_persistence::Location;
use gossip_persistence::findings::{FindingRecord, FindingsUpsertBatch, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{
    FenceEpoch, LogicalTime, ObjectVersionId, ObservationId, OvidHash, PolicyHash, RuleFingerprint, RunId, SecretHash,
    ShardId, StableItemId, TenantId,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::rows::{RowKey, ShortFinding, ShortObservation, ShortOccurrence};

pub const TENANTS: usize = 2;
pub const POLICIES: usize = 2;
pub const FINDINGS_PER_TENANT: usize = 8;
pub const OCCURRENCES_PER_FINDING: usize = 2;
pub const OCCURRENCES_PER_TENANT: usize = FINDINGS_PER_TENANT * OCCURRENCES_PER_FINDING;
pub const LOCATIONS: usize = 4;

/// Provenance of one sighting of an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    pub run: u64,
    pub shard: u64,
    pub fence: u64,
    pub seen_at: u64,
    /// Index into the location pool, or none.
    pub location: Option<usize>,
}

impl Sighting {
    /// Small ranges on purpose: equal `seen_at`s and repeated locations make
    /// the merge's tie-breaks happen.
    pub fn draw(rng: &mut ChaCha8Rng) -> Self {
        let run = rng.random_range(1u64..=6);
        let shard = rng.random_range(1u64..=3);
        let fence = rng.random_range(1u64..=2);
        let seen_at = rng.random_range(1u64..=30);
        let loc = rng.random_range(0usize..6);
        Self { run, shard, fence, seen_at, location: (loc < LOCATIONS).then_some(loc) }
    }
}

/// One occurrence slot of a tenant, under one policy, maybe with a sighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub occurrence: usize,
    pub policy: usize,
    pub sighting: Option<Sighting>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictLayer {
    Finding,
    Occurrence,
    Observation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchShape {
    /// Parents with their children: finding, occurrence and the sighting.
    FullChain,
    /// Observations only: re-sightings, or orphans if never committed.
    Sightings,
    /// Occurrences (and their sightings) without their findings.
    Children,
    /// The first pick's record in the given layer with other content under
    /// the same id, after the canonical record when `salt` is odd.
    Conflict(ConflictLayer),
    /// A full chain plus a finding of another tenant: rejected at submit.
    MixedTenant,
    /// A full chain whose last observation carries a non-canonical id:
    /// rejected at submit.
    BadObservationId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSpec {
    pub tenant: usize,
    pub shape: BatchShape,
    pub picks: Vec<Pick>,
    /// Varies crafted content (conflicting variants, bad ids) deterministically.
    pub salt: u8,
}

/// An owned findings batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimBatch {
    pub findings: Vec<FindingRecord>,
    pub occurrences: Vec<OccurrenceRecord>,
    pub observations: Vec<ObservationRecord>,
}

impl SimBatch {
    pub fn as_batch(&self) -> FindingsUpsertBatch<'_> {
        FindingsUpsertBatch::new(&self.findings, &self.occurrences, &self.observations)
    }

    /// Every key the batch touches, parents first, without duplicates.
    pub fn keys(&self) -> Vec<RowKey> {
        let mut keys: Vec<RowKey> =
            Vec::with_capacity(self.findings.len() + self.occurrences.len() + self.observations.len());
        let all = self
            .findings
            .iter()
            .map(super::rows::finding_key)
            .chain(self.occurrences.iter().map(super::rows::occurrence_key))
            .chain(self.observations.iter().map(super::rows::observation_key));
        for key in all {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}

impl fmt::Display for SimBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let s = if first { "" } else { " " };
            first = false;
            f.write_str(s)
        };
        for r in &self.findings {
            sep(f)?;
            write!(f, "t{}:{}", super::rows::tag(r.tenant_id().as_bytes()), ShortFinding(r))?;
        }
        for r in &self.occurrences {
            sep(f)?;
            ShortOccurrence(r).fmt(f)?;
        }
        for r in &self.observations {
            sep(f)?;
            ShortObservation(r).fmt(f)?;
        }
        f.write_str("]")
    }
}

struct TenantPool {
    tenant: TenantId,
    findings: Vec<FindingRecord>,
    occurrences: Vec<OccurrenceRecord>,
    /// The object version each occurrence was found in, as its done-ledger key.
    ovids: Vec<OvidHash>,
}

pub struct Universe {
    tenants: Vec<TenantPool>,
    policies: Vec<PolicyHash>,
    locations: Vec<Arc<Location>>,
}

fn bytes32(rng: &mut ChaCha8Rng) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    b
}

/// Other content under the same id: a byte of `bytes` changed by `salt`.
fn perturb(mut bytes: [u8; 32], salt: u8) -> [u8; 32] {
    bytes[31] ^= salt | 1;
    bytes
}

impl Universe {
    /// Draws tenants, then policies, then each tenant's pool, in that order.
    pub fn draw(rng: &mut ChaCha8Rng) -> Self {
        let tenant_ids: Vec<TenantId> = (0..TENANTS).map(|_| TenantId::from_bytes(bytes32(rng))).collect();
        let policies = (0..POLICIES).map(|_| PolicyHash::from_bytes(bytes32(rng))).collect();
        let tenants = tenant_ids
            .into_iter()
            .map(|tenant| {
                let findings: Vec<FindingRecord> = (0..FINDINGS_PER_TENANT)
                    .map(|_| {
                        let item = StableItemId::from_bytes(bytes32(rng));
                        let rule = RuleFingerprint::from_bytes(bytes32(rng));
                        let secret = SecretHash::from_persisted_bytes(bytes32(rng));
                        FindingRecord::new(tenant, item, rule, secret)
                    })
                    .collect();
                let mut occurrences = Vec::with_capacity(OCCURRENCES_PER_TENANT);
                let mut ovids = Vec::with_capacity(OCCURRENCES_PER_TENANT);
                for i in 0..OCCURRENCES_PER_TENANT {
                    let finding = &findings[i / OCCURRENCES_PER_FINDING];
                    let version = ObjectVersionId::from_bytes(bytes32(rng));
                    let offset = rng.random_range(0u64..4096);
                    let length = NonZeroU64::new(rng.random_range(1u64..=256)).unwrap_or(NonZeroU64::MIN);
                    occurrences.push(OccurrenceRecord::new(tenant, finding.finding_id(), version, offset, length));
                    ovids.push(OvidHash::from_bytes(bytes32(rng)));
                }
                TenantPool { tenant, findings, occurrences, ovids }
            })
            .collect();
        let locations = (0..LOCATIONS)
            .map(|k| {
                Arc::new(
                    Location::try_new(format!("src/file-{k}.rs"), Some(format!("https://example.invalid/src/{k}")))
                        .expect("a valid location"),
                )
            })
            .collect();
        Self { tenants, policies, locations }
    }

    fn pool(&self, tenant: usize) -> &TenantPool {
        &self.tenants[tenant % TENANTS]
    }

    pub fn tenant(&self, tenant: usize) -> TenantId {
        self.pool(tenant).tenant
    }

    pub fn finding(&self, tenant: usize, finding: usize) -> &FindingRecord {
        &self.pool(tenant).findings[finding % FINDINGS_PER_TENANT]
    }

    pub fn occurrence(&self, tenant: usize, occurrence: usize) -> &OccurrenceRecord {
        &self.pool(tenant).occurrences[occurrence % OCCURRENCES_PER_TENANT]
    }

    /// The canonical sighting of `pick`: its identity from the pools, its
    /// provenance from the pick (or a fixed default).
    pub fn observation(&self, tenant: usize, pick: &Pick) -> ObservationRecord {
        self.observation_with_ovid(tenant, pick, self.pool(tenant).ovids[pick.occurrence % OCCURRENCES_PER_TENANT])
    }

    fn observation_with_ovid(&self, tenant: usize, pick: &Pick, ovid: OvidHash) -> ObservationRecord {
        let s = pick.sighting.unwrap_or(Sighting { run: 1, shard: 1, fence: 1, seen_at: 1, location: None });
        let record = ObservationRecord::new(
            self.tenant(tenant),
            self.occurrence(tenant, pick.occurrence).occurrence_id(),
            self.policies[pick.policy % POLICIES],
            ovid,
            RunId::from_raw(s.run),
            ShardId::from_raw(s.shard),
            FenceEpoch::from_raw(s.fence),
            LogicalTime::from_raw(s.seen_at),
        );
        match s.location {
            Some(i) => record.with_location(Arc::clone(&self.locations[i % LOCATIONS])),
            None => record,
        }
    }

    pub fn observation_id(&self, tenant: usize, occurrence: usize, policy: usize) -> ObservationId {
        self.observation(tenant, &Pick { occurrence, policy, sighting: None }).observation_id()
    }

    fn finding_variant(&self, tenant: usize, finding: usize, salt: u8) -> FindingRecord {
        let f = self.finding(tenant, finding);
        FindingRecord::from_persisted_unchecked(
            f.tenant_id(),
            f.finding_id(),
            f.stable_item_id(),
            RuleFingerprint::from_bytes(perturb(*f.rule_fingerprint().as_bytes(), salt)),
            f.secret_hash(),
        )
    }

    fn occurrence_variant(&self, tenant: usize, occurrence: usize, salt: u8) -> OccurrenceRecord {
        let o = self.occurrence(tenant, occurrence);
        OccurrenceRecord::from_persisted_unchecked(
            o.tenant_id(),
            o.occurrence_id(),
            o.finding_id(),
            o.object_version_id(),
            o.byte_offset().wrapping_add(u64::from(salt) + 1),
            o.byte_length(),
        )
    }

    /// Same observation id (tenant, policy, occurrence) but another object
    /// version: a conflict on the identity fields.
    fn observation_variant(&self, tenant: usize, pick: &Pick, salt: u8) -> ObservationRecord {
        let ovid = self.pool(tenant).ovids[pick.occurrence % OCCURRENCES_PER_TENANT];
        self.observation_with_ovid(tenant, pick, OvidHash::from_bytes(perturb(*ovid.as_bytes(), salt)))
    }

    fn bad_id_observation(&self, tenant: usize, pick: &Pick, salt: u8) -> ObservationRecord {
        let o = self.observation(tenant, pick);
        ObservationRecord::from_persisted_unchecked(
            o.tenant_id(),
            ObservationId::from_bytes(perturb(*o.observation_id().as_bytes(), salt)),
            o.occurrence_id(),
            o.policy_hash(),
            o.ovid_hash(),
            o.run_id(),
            o.shard_id(),
            o.fence_epoch(),
            o.seen_at(),
            o.location_arc(),
        )
    }

    fn push_chain(&self, batch: &mut SimBatch, tenant: usize, pick: &Pick) {
        let finding = self.finding(tenant, pick.occurrence / OCCURRENCES_PER_FINDING).clone();
        if !batch.findings.contains(&finding) {
            batch.findings.push(finding);
        }
        batch.occurrences.push(self.occurrence(tenant, pick.occurrence).clone());
        if pick.sighting.is_some() {
            batch.observations.push(self.observation(tenant, pick));
        }
    }

    /// The records `spec` stands for. Draws nothing: a spec builds one batch.
    pub fn build(&self, spec: &BatchSpec) -> SimBatch {
        let t = spec.tenant;
        let mut batch = SimBatch::default();
        match spec.shape {
            BatchShape::FullChain => spec.picks.iter().for_each(|p| self.push_chain(&mut batch, t, p)),
            BatchShape::Sightings => {
                batch.observations = spec.picks.iter().map(|p| self.observation(t, p)).collect();
            }
            BatchShape::Children => {
                for p in &spec.picks {
                    batch.occurrences.push(self.occurrence(t, p.occurrence).clone());
                    if p.sighting.is_some() {
                        batch.observations.push(self.observation(t, p));
                    }
                }
            }
            BatchShape::Conflict(layer) => {
                let Some(p) = spec.picks.first() else { return batch };
                let with_canonical = spec.salt % 2 == 1;
                match layer {
                    ConflictLayer::Finding => {
                        let fi = p.occurrence / OCCURRENCES_PER_FINDING;
                        if with_canonical {
                            batch.findings.push(self.finding(t, fi).clone());
                        }
                        batch.findings.push(self.finding_variant(t, fi, spec.salt));
                    }
                    ConflictLayer::Occurrence => {
                        if with_canonical {
                            batch.occurrences.push(self.occurrence(t, p.occurrence).clone());
                        }
                        batch.occurrences.push(self.occurrence_variant(t, p.occurrence, spec.salt));
                    }
                    ConflictLayer::Observation => {
                        if with_canonical {
                            batch.observations.push(self.observation(t, p));
                        }
                        batch.observations.push(self.observation_variant(t, p, spec.salt));
                    }
                }
            }
            BatchShape::MixedTenant => {
                spec.picks.iter().for_each(|p| self.push_chain(&mut batch, t, p));
                let other = (t + 1) % TENANTS;
                batch.findings.push(self.finding(other, usize::from(spec.salt)).clone());
            }
            BatchShape::BadObservationId => {
                spec.picks.iter().for_each(|p| self.push_chain(&mut batch, t, p));
                let last = spec.picks.last().copied().unwrap_or(Pick { occurrence: 0, policy: 0, sighting: None });
                batch.observations.push(self.bad_id_observation(t, &last, spec.salt));
            }
        }
        batch
    }
}
