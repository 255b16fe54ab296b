//! The Rust types of `gossip:persistence/types` (`wit/types.wit`), written
//! here instead of generated so that their `Debug` can redact: wasmtime's
//! bindgen always derives a `Debug` that prints every field, and a
//! `finding`'s `secret-hash` must never be printed (the native `SecretHash`
//! prints `[redacted]`).
//!
//! The host's bindings map the interface onto this module (`with` in
//! `crate::generated`), and it is public as
//! `gossip_host::bindings::exports::gossip::persistence::types`. Everything
//! else mirrors bindgen's output: field and case names as in the WIT, the
//! same derives, the same `Debug` format. The component model types records
//! structurally, so wasmtime checks these types against a component's when
//! it loads one, field names and order included; every type is also checked
//! against its generated twin's size and alignment below, at compile time.

use core::fmt;

use wasmtime::component::{ComponentType, Lift, Lower};

/// Stands in for a secret-derived value in `Debug` output.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A WIT record: the struct, with `Debug` as bindgen writes it (the type's
/// Rust name, the fields' WIT names).
macro_rules! record {
    (
        $(#[$attr:meta])*
        $name:ident {
            $($(#[$field_attr:meta])* $wit:literal $field:ident: $ty:ty,)+
        }
    ) => {
        $(#[$attr])*
        #[derive(ComponentType, Lift, Lower)]
        #[component(record)]
        pub struct $name {
            $($(#[$field_attr])* #[component(name = $wit)] pub $field: $ty,)+
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))$(.field($wit, &self.$field))+.finish()
            }
        }
    };
}

/// A 32-byte identifier (tenant, policy, ovid, finding, occurrence, ...)
/// as four little-endian 64-bit words: bytes 0..8 are the first word.
pub type Digest = (u64, u64, u64, u64);

/// A done-ledger status as its lattice rank: 1 failed-retryable,
/// 2 failed-permanent, 3 skipped, 10 scanned-clean, 11 scanned-with-findings.
/// Any other rank is rejected with `boundary-error.unknown-status-rank`.
pub type StatusRank = u8;

/// Which store raised an error.
#[derive(ComponentType, Lift, Lower)]
#[component(enum)]
#[derive(Clone, Copy, Eq, PartialEq)]
#[repr(u8)]
pub enum StoreKind {
    /// The done-ledger.
    #[component(name = "done-ledger")]
    DoneLedger,
    /// The findings sink.
    #[component(name = "findings")]
    Findings,
}

impl fmt::Debug for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DoneLedger => f.debug_tuple("StoreKind::DoneLedger").finish(),
            Self::Findings => f.debug_tuple("StoreKind::Findings").finish(),
        }
    }
}

/// Which end of the pending queue a release drains from.
#[derive(ComponentType, Lift, Lower)]
#[component(enum)]
#[derive(Clone, Copy, Eq, PartialEq)]
#[repr(u8)]
pub enum CompletionOrder {
    /// FIFO: the earliest accepted write first.
    #[component(name = "oldest-first")]
    OldestFirst,
    /// LIFO: the latest accepted write first.
    #[component(name = "newest-first")]
    NewestFirst,
}

impl fmt::Debug for CompletionOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OldestFirst => f.debug_tuple("CompletionOrder::OldestFirst").finish(),
            Self::NewestFirst => f.debug_tuple("CompletionOrder::NewestFirst").finish(),
        }
    }
}

record! {
    /// The done-ledger's dedup key; the shard is deliberately not part of it.
    #[derive(Clone, Copy)]
    DoneKey {
        /// Opaque tenant identity.
        "tenant-id" tenant_id: Digest,
        /// Digest of the detection policy in force.
        "policy-hash" policy_hash: Digest,
        /// The object version's key component.
        "ovid-hash" ovid_hash: Digest,
    }
}

record! {
    /// Who wrote a done-ledger row, and when (audit metadata, not part of the key).
    #[derive(Clone, Copy)]
    Provenance {
        /// The scan run.
        "run-id" run_id: u64,
        /// The shard of the run.
        "shard-id" shard_id: u64,
        /// The lease epoch the writer held.
        "fence-epoch" fence_epoch: u64,
        /// Logical start time; must not exceed `finished-at` on write.
        "started-at" started_at: u64,
        /// Logical finish time.
        "finished-at" finished_at: u64,
    }
}

record! {
    /// One done-ledger row.
    #[derive(Clone)]
    DoneRecord {
        /// The row's key.
        "key" key: DoneKey,
        /// The status, as its rank.
        "status" status: StatusRank,
        /// Bytes scanned for this object version.
        "bytes-scanned" bytes_scanned: u64,
        /// Findings reported; non-zero exactly for scanned-with-findings.
        "findings-count" findings_count: u32,
        /// Who wrote the row.
        "provenance" provenance: Provenance,
        /// Required for failed and skipped rows, forbidden for scanned ones:
        /// 1..=128 bytes of ASCII alphanumerics, space and `_ - . : /`.
        "error-code" error_code: Option<String>,
    }
}

record! {
    /// What a durable done-ledger write acknowledges, over the batch's distinct keys.
    #[derive(Clone, Copy)]
    DoneReceipt {
        /// Distinct keys written.
        "record-count" record_count: u64,
        /// How many of them are scanned.
        "scanned-count" scanned_count: u64,
        /// Sum of their findings counts (saturating).
        "findings-count" findings_count: u64,
    }
}

/// A distinct secret in an item under a rule. Immutable once durable.
///
/// Its `Debug` prints `secret-hash` as `[redacted]`, as the native
/// `SecretHash` does: this record is what a host logs or puts in an error.
#[derive(ComponentType, Lift, Lower)]
#[component(record)]
#[derive(Clone, Copy)]
pub struct Finding {
    /// Owning tenant.
    #[component(name = "tenant-id")]
    pub tenant_id: Digest,
    /// The finding id, taken as given.
    #[component(name = "finding-id")]
    pub finding_id: Digest,
    /// The item the secret was found in.
    #[component(name = "stable-item-id")]
    pub stable_item_id: Digest,
    /// The detection rule.
    #[component(name = "rule-fingerprint")]
    pub rule_fingerprint: Digest,
    /// Tenant-keyed hash of the secret; never printed by the store.
    #[component(name = "secret-hash")]
    pub secret_hash: Digest,
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("tenant-id", &self.tenant_id)
            .field("finding-id", &self.finding_id)
            .field("stable-item-id", &self.stable_item_id)
            .field("rule-fingerprint", &self.rule_fingerprint)
            .field("secret-hash", &Redacted)
            .finish()
    }
}

record! {
    /// Where a finding occurs in one object version. Immutable once durable.
    #[derive(Clone, Copy)]
    Occurrence {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The occurrence id, taken as given.
        "occurrence-id" occurrence_id: Digest,
        /// The parent finding.
        "finding-id" finding_id: Digest,
        /// The object version the span is in.
        "object-version-id" object_version_id: Digest,
        /// Start of the span.
        "byte-offset" byte_offset: u64,
        /// Length of the span; zero is rejected with `input-error.zero-span-length`.
        "byte-length" byte_length: u64,
    }
}

record! {
    /// Where an observation was seen: display-safe metadata.
    #[derive(Clone)]
    Location {
        /// A human-readable path, 1..=4096 bytes.
        "display" display: String,
        /// An optional URL of at most 4096 bytes; an empty one is stored as none.
        "url" url: Option<String>,
    }
}

record! {
    /// One sighting of an occurrence under a policy; provenance is upserted.
    #[derive(Clone)]
    Observation {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// Must equal the canonical derivation from (tenant, policy, occurrence).
        "observation-id" observation_id: Digest,
        /// The parent occurrence.
        "occurrence-id" occurrence_id: Digest,
        /// The policy the observation was made under.
        "policy-hash" policy_hash: Digest,
        /// The object version's done-ledger key component.
        "ovid-hash" ovid_hash: Digest,
        /// The scan run.
        "run-id" run_id: u64,
        /// The shard of the run.
        "shard-id" shard_id: u64,
        /// The lease epoch the writer held.
        "fence-epoch" fence_epoch: u64,
        /// Logical time of the sighting; the later one wins on upsert.
        "seen-at" seen_at: u64,
        /// Where it was seen, if known.
        "location" location: Option<Location>,
    }
}

record! {
    /// Distinct rows per layer of one findings batch, including rows that
    /// already existed, so a replay returns the same counts.
    #[derive(Clone, Copy)]
    FindingsReceipt {
        /// Distinct findings in the batch.
        "finding-count" finding_count: u64,
        /// Distinct occurrences in the batch.
        "occurrence-count" occurrence_count: u64,
        /// Distinct observations in the batch.
        "observation-count" observation_count: u64,
    }
}

record! {
    /// Total durable rows per findings layer, across all tenants.
    #[derive(Clone, Copy)]
    DurableCounts {
        /// Durable findings.
        "findings" findings: u64,
        /// Durable occurrences.
        "occurrences" occurrences: u64,
        /// Durable observations.
        "observations" observations: u64,
    }
}

record! {
    /// A size limit that was exceeded.
    #[derive(Clone)]
    SizeLimit {
        /// The offending field.
        "field" field: String,
        /// Its size in bytes.
        "size" size: u64,
        /// The maximum allowed.
        "max" max: u64,
    }
}

record! {
    /// A byte that is not allowed in a field.
    #[derive(Clone)]
    InvalidByte {
        /// The offending field.
        "field" field: String,
        /// Position of the byte.
        "index" index: u64,
        /// The byte itself.
        "byte" byte: u8,
    }
}

record! {
    /// An observation id that is not the canonical derivation.
    #[derive(Clone, Copy)]
    IdMismatch {
        /// The canonical id.
        "expected" expected: Digest,
        /// The id that was given.
        "actual" actual: Digest,
    }
}

record! {
    /// A findings count that does not fit the status.
    #[derive(Clone, Copy)]
    FindingsCountMismatch {
        /// The row's status.
        "status" status: StatusRank,
        /// The count that was given.
        "findings-count" findings_count: u32,
    }
}

/// A findings layer, as named in referential-integrity errors.
#[derive(ComponentType, Lift, Lower)]
#[component(enum)]
#[derive(Clone, Copy, Eq, PartialEq)]
#[repr(u8)]
pub enum RecordLayer {
    /// A finding record.
    #[component(name = "finding")]
    Finding,
    /// An occurrence record.
    #[component(name = "occurrence")]
    Occurrence,
    /// An observation record.
    #[component(name = "observation")]
    Observation,
}

impl fmt::Debug for RecordLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finding => f.debug_tuple("RecordLayer::Finding").finish(),
            Self::Occurrence => f.debug_tuple("RecordLayer::Occurrence").finish(),
            Self::Observation => f.debug_tuple("RecordLayer::Observation").finish(),
        }
    }
}

record! {
    /// A child record whose parent is not in the batch.
    #[derive(Clone, Copy)]
    OrphanedReference {
        /// The child's layer.
        "child-type" child_type: RecordLayer,
        /// The missing parent's layer.
        "parent-type" parent_type: RecordLayer,
    }
}

record! {
    /// A provenance whose start is after its finish.
    #[derive(Clone, Copy)]
    TimeRange {
        /// Logical start time.
        "started-at" started_at: u64,
        /// Logical finish time.
        "finished-at" finished_at: u64,
    }
}

record! {
    /// A merge of two rows with different keys.
    #[derive(Clone, Copy)]
    KeyMismatch {
        /// The stored row's key.
        "existing" existing: DoneKey,
        /// The incoming row's key.
        "incoming" incoming: DoneKey,
    }
}

record! {
    /// A batch over the store's record limit (10,000).
    #[derive(Clone, Copy)]
    BatchSize {
        /// Records in the batch.
        "size" size: u64,
        /// The maximum allowed.
        "max" max: u64,
    }
}

/// A record or batch that breaks the persistence contract.
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
#[derive(Clone)]
pub enum InputError {
    /// A field must not be empty (or blank).
    #[component(name = "empty")]
    Empty(String),
    /// A field is too large.
    #[component(name = "too-large")]
    TooLarge(SizeLimit),
    /// A field contains a forbidden byte.
    #[component(name = "invalid-byte")]
    InvalidByte(InvalidByte),
    /// An occurrence's byte length is zero.
    #[component(name = "zero-span-length")]
    ZeroSpanLength,
    /// An observation id is not the canonical derivation.
    #[component(name = "observation-id-mismatch")]
    ObservationIdMismatch(IdMismatch),
    /// A findings count is inconsistent with the status.
    #[component(name = "inconsistent-findings-count")]
    InconsistentFindingsCount(FindingsCountMismatch),
    /// A failed or skipped row lacks an error code.
    #[component(name = "missing-error-code")]
    MissingErrorCode(StatusRank),
    /// A scanned row carries an error code.
    #[component(name = "unexpected-error-code")]
    UnexpectedErrorCode(StatusRank),
    /// A child references a parent not present in the batch.
    #[component(name = "orphaned-reference")]
    OrphanedReference(OrphanedReference),
    /// Records in one findings batch belong to different tenants.
    #[component(name = "inconsistent-tenant")]
    InconsistentTenant,
    /// A provenance's `started-at` exceeds its `finished-at`.
    #[component(name = "provenance-ordering")]
    ProvenanceOrdering(TimeRange),
    /// Two rows with different keys were merged.
    #[component(name = "key-mismatch")]
    KeyMismatch(KeyMismatch),
    /// A batch has more records than the store accepts.
    #[component(name = "batch-too-large")]
    BatchTooLarge(BatchSize),
}

impl fmt::Debug for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty(e) => f.debug_tuple("InputError::Empty").field(e).finish(),
            Self::TooLarge(e) => f.debug_tuple("InputError::TooLarge").field(e).finish(),
            Self::InvalidByte(e) => f.debug_tuple("InputError::InvalidByte").field(e).finish(),
            Self::ZeroSpanLength => f.debug_tuple("InputError::ZeroSpanLength").finish(),
            Self::ObservationIdMismatch(e) => f.debug_tuple("InputError::ObservationIdMismatch").field(e).finish(),
            Self::InconsistentFindingsCount(e) => {
                f.debug_tuple("InputError::InconsistentFindingsCount").field(e).finish()
            }
            Self::MissingErrorCode(e) => f.debug_tuple("InputError::MissingErrorCode").field(e).finish(),
            Self::UnexpectedErrorCode(e) => f.debug_tuple("InputError::UnexpectedErrorCode").field(e).finish(),
            Self::OrphanedReference(e) => f.debug_tuple("InputError::OrphanedReference").field(e).finish(),
            Self::InconsistentTenant => f.debug_tuple("InputError::InconsistentTenant").finish(),
            Self::ProvenanceOrdering(e) => f.debug_tuple("InputError::ProvenanceOrdering").field(e).finish(),
            Self::KeyMismatch(e) => f.debug_tuple("InputError::KeyMismatch").field(e).finish(),
            Self::BatchTooLarge(e) => f.debug_tuple("InputError::BatchTooLarge").field(e).finish(),
        }
    }
}

/// A field error at the connector boundary (locations).
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
#[derive(Clone)]
pub enum FieldError {
    /// The field must not be empty.
    #[component(name = "empty")]
    Empty(String),
    /// The field is too large.
    #[component(name = "too-large")]
    TooLarge(SizeLimit),
    /// The field contains a forbidden byte.
    #[component(name = "invalid-byte")]
    InvalidByte(InvalidByte),
}

impl fmt::Debug for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty(e) => f.debug_tuple("FieldError::Empty").field(e).finish(),
            Self::TooLarge(e) => f.debug_tuple("FieldError::TooLarge").field(e).finish(),
            Self::InvalidByte(e) => f.debug_tuple("FieldError::InvalidByte").field(e).finish(),
        }
    }
}

/// Input that the native Rust types cannot even represent. The native
/// stores never raise these; a component raises them instead of trapping.
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
#[derive(Clone)]
pub enum BoundaryError {
    /// A status rank that names no status.
    #[component(name = "unknown-status-rank")]
    UnknownStatusRank(u8),
    /// A location that breaks its size rules.
    #[component(name = "invalid-location")]
    InvalidLocation(FieldError),
}

impl fmt::Debug for BoundaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownStatusRank(e) => f.debug_tuple("BoundaryError::UnknownStatusRank").field(e).finish(),
            Self::InvalidLocation(e) => f.debug_tuple("BoundaryError::InvalidLocation").field(e).finish(),
        }
    }
}

record! {
    /// An operation of one store.
    #[derive(Clone, Copy)]
    OperationRef {
        /// The store.
        "store" store: StoreKind,
        /// The write's operation id.
        "op-id" op_id: u64,
    }
}

record! {
    /// An occurrence whose finding is neither in the batch nor durable.
    #[derive(Clone, Copy)]
    MissingFinding {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The missing finding.
        "finding-id" finding_id: Digest,
        /// The orphaned occurrence.
        "occurrence-id" occurrence_id: Digest,
    }
}

record! {
    /// An observation whose occurrence is neither in the batch nor durable.
    #[derive(Clone, Copy)]
    MissingOccurrence {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The missing occurrence.
        "occurrence-id" occurrence_id: Digest,
        /// The orphaned observation.
        "observation-id" observation_id: Digest,
    }
}

record! {
    /// A finding id within a tenant.
    #[derive(Clone, Copy)]
    FindingRef {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The finding.
        "finding-id" finding_id: Digest,
    }
}

record! {
    /// An occurrence id within a tenant.
    #[derive(Clone, Copy)]
    OccurrenceRef {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The occurrence.
        "occurrence-id" occurrence_id: Digest,
    }
}

record! {
    /// An observation id within a tenant.
    #[derive(Clone, Copy)]
    ObservationRef {
        /// Owning tenant.
        "tenant-id" tenant_id: Digest,
        /// The observation.
        "observation-id" observation_id: Digest,
    }
}

record! {
    /// A write or read the store cannot hold: it reserved memory (or disk)
    /// before changing anything and was refused, so its state is unchanged.
    #[derive(Clone, Copy)]
    CapacityShortfall {
        /// The store.
        "store" store: StoreKind,
        /// Bytes the operation needed.
        "needed" needed: u64,
        /// Bytes still available to the store as far as it knows; 0 when it
        /// cannot tell (a wasmtime host fills in its own figure).
        "available" available: u64,
    }
}

/// Every error a store operation can report.
#[derive(ComponentType, Lift, Lower)]
#[component(variant)]
#[derive(Clone)]
pub enum StoreError {
    /// A submission was rejected by fault injection; nothing changed.
    #[component(name = "injected-submission-failure")]
    InjectedSubmissionFailure(StoreKind),
    /// A commit failed by fault injection; nothing changed.
    #[component(name = "injected-commit-failure")]
    InjectedCommitFailure(StoreKind),
    /// The store's state lock was poisoned.
    #[component(name = "poisoned")]
    Poisoned(StoreKind),
    /// The operation id is unknown or its outcome was already taken.
    #[component(name = "unknown-operation")]
    UnknownOperation(OperationRef),
    /// An occurrence references a finding that does not exist.
    #[component(name = "missing-finding")]
    MissingFinding(MissingFinding),
    /// An observation references an occurrence that does not exist.
    #[component(name = "missing-occurrence")]
    MissingOccurrence(MissingOccurrence),
    /// A finding differs from the stored finding with the same id.
    #[component(name = "finding-conflict")]
    FindingConflict(FindingRef),
    /// An occurrence differs from the stored occurrence with the same id.
    #[component(name = "occurrence-conflict")]
    OccurrenceConflict(OccurrenceRef),
    /// An observation's identity fields differ from the stored one's.
    #[component(name = "observation-conflict")]
    ObservationConflict(ObservationRef),
    /// A record or batch breaks the contract.
    #[component(name = "batch-validation")]
    BatchValidation(InputError),
    /// Input the native types cannot represent.
    #[component(name = "boundary")]
    Boundary(BoundaryError),
    /// The store cannot hold what the operation needs; nothing changed.
    #[component(name = "capacity-exceeded")]
    CapacityExceeded(CapacityShortfall),
    /// The store lost acknowledged state (its instance or database was
    /// lost) and refuses to answer as if it were empty until it is reset.
    #[component(name = "state-lost")]
    StateLost(StoreKind),
    /// A pending write whose store was dropped before it was released:
    /// it can never complete, and was never acknowledged.
    #[component(name = "write-abandoned")]
    WriteAbandoned(OperationRef),
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InjectedSubmissionFailure(e) => {
                f.debug_tuple("StoreError::InjectedSubmissionFailure").field(e).finish()
            }
            Self::InjectedCommitFailure(e) => f.debug_tuple("StoreError::InjectedCommitFailure").field(e).finish(),
            Self::Poisoned(e) => f.debug_tuple("StoreError::Poisoned").field(e).finish(),
            Self::UnknownOperation(e) => f.debug_tuple("StoreError::UnknownOperation").field(e).finish(),
            Self::MissingFinding(e) => f.debug_tuple("StoreError::MissingFinding").field(e).finish(),
            Self::MissingOccurrence(e) => f.debug_tuple("StoreError::MissingOccurrence").field(e).finish(),
            Self::FindingConflict(e) => f.debug_tuple("StoreError::FindingConflict").field(e).finish(),
            Self::OccurrenceConflict(e) => f.debug_tuple("StoreError::OccurrenceConflict").field(e).finish(),
            Self::ObservationConflict(e) => f.debug_tuple("StoreError::ObservationConflict").field(e).finish(),
            Self::BatchValidation(e) => f.debug_tuple("StoreError::BatchValidation").field(e).finish(),
            Self::Boundary(e) => f.debug_tuple("StoreError::Boundary").field(e).finish(),
            Self::CapacityExceeded(e) => f.debug_tuple("StoreError::CapacityExceeded").field(e).finish(),
            Self::StateLost(e) => f.debug_tuple("StoreError::StateLost").field(e).finish(),
            Self::WriteAbandoned(e) => f.debug_tuple("StoreError::WriteAbandoned").field(e).finish(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl core::error::Error for StoreError {}

/// Each type has its generated twin's canonical-ABI size and alignment (the
/// twin is still generated, unused, in the bindings' `types` module).
macro_rules! same_layout {
    ($($name:ident),+ $(,)?) => {
        const _: () = {
            use crate::generated::exports::gossip::persistence::types as generated;
            $(
                assert!(<$name as ComponentType>::SIZE32 == <generated::$name as ComponentType>::SIZE32);
                assert!(<$name as ComponentType>::ALIGN32 == <generated::$name as ComponentType>::ALIGN32);
            )+
        };
    };
}

same_layout!(
    Digest,
    StatusRank,
    StoreKind,
    CompletionOrder,
    DoneKey,
    Provenance,
    DoneRecord,
    DoneReceipt,
    Finding,
    Occurrence,
    Location,
    Observation,
    FindingsReceipt,
    DurableCounts,
    SizeLimit,
    InvalidByte,
    IdMismatch,
    FindingsCountMismatch,
    RecordLayer,
    OrphanedReference,
    TimeRange,
    KeyMismatch,
    BatchSize,
    InputError,
    FieldError,
    BoundaryError,
    OperationRef,
    MissingFinding,
    MissingOccurrence,
    FindingRef,
    OccurrenceRef,
    ObservationRef,
    CapacityShortfall,
    StoreError,
);
