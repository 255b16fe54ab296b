//! One key and one durable row of any findings layer, so checks can treat
//! the three layers alike, plus the short renderings the event log uses.

use core::fmt;

use gossip_persistence::FindingsInspect;
use gossip_persistence::findings::{FindingRecord, ObservationRecord, OccurrenceRecord};
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, TenantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Finding,
    Occurrence,
    Observation,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Finding => "finding",
            Self::Occurrence => "occurrence",
            Self::Observation => "observation",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKey {
    Finding(TenantId, FindingId),
    Occurrence(TenantId, OccurrenceId),
    Observation(TenantId, ObservationId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Finding(FindingRecord),
    Occurrence(OccurrenceRecord),
    Observation(ObservationRecord),
}

pub(crate) fn tag(bytes: &[u8; 32]) -> String {
    bytes[..3].iter().map(|b| format!("{b:02x}")).collect()
}

fn tenant_tag(t: TenantId) -> String {
    format!("t{}", tag(t.as_bytes()))
}

impl RowKey {
    pub const fn layer(&self) -> Layer {
        match self {
            Self::Finding(..) => Layer::Finding,
            Self::Occurrence(..) => Layer::Occurrence,
            Self::Observation(..) => Layer::Observation,
        }
    }

    /// Reads this key's durable row from `sink`.
    pub fn read<S: FindingsInspect>(&self, sink: &S) -> Result<Option<Row>, S::Error> {
        Ok(match *self {
            Self::Finding(t, id) => sink.get_finding(t, id)?.map(Row::Finding),
            Self::Occurrence(t, id) => sink.get_occurrence(t, id)?.map(Row::Occurrence),
            Self::Observation(t, id) => sink.get_observation(t, id)?.map(Row::Observation),
        })
    }
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finding(t, id) => write!(f, "{}/F{}", tenant_tag(*t), tag(id.as_bytes())),
            Self::Occurrence(t, id) => write!(f, "{}/O{}", tenant_tag(*t), tag(id.as_bytes())),
            Self::Observation(t, id) => write!(f, "{}/B{}", tenant_tag(*t), tag(id.as_bytes())),
        }
    }
}

impl Row {
    pub fn key(&self) -> RowKey {
        match self {
            Self::Finding(r) => finding_key(r),
            Self::Occurrence(r) => occurrence_key(r),
            Self::Observation(r) => observation_key(r),
        }
    }
}

pub fn finding_key(r: &FindingRecord) -> RowKey {
    RowKey::Finding(r.tenant_id(), r.finding_id())
}

pub fn occurrence_key(r: &OccurrenceRecord) -> RowKey {
    RowKey::Occurrence(r.tenant_id(), r.occurrence_id())
}

pub fn observation_key(r: &ObservationRecord) -> RowKey {
    RowKey::Observation(r.tenant_id(), r.observation_id())
}

pub struct ShortFinding<'a>(pub &'a FindingRecord);

impl fmt::Display for ShortFinding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(f, "F{}:{}", tag(r.finding_id().as_bytes()), tag(r.rule_fingerprint().as_bytes()))
    }
}

pub struct ShortOccurrence<'a>(pub &'a OccurrenceRecord);

impl fmt::Display for ShortOccurrence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "O{}<F{}@{}+{}",
            tag(r.occurrence_id().as_bytes()),
            tag(r.finding_id().as_bytes()),
            r.byte_offset(),
            r.byte_length()
        )
    }
}

pub struct ShortObservation<'a>(pub &'a ObservationRecord);

impl fmt::Display for ShortObservation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "B{}<O{}/v{}/s{}/r{}.{}.{}/",
            tag(r.observation_id().as_bytes()),
            tag(r.occurrence_id().as_bytes()),
            tag(r.ovid_hash().as_bytes()),
            r.seen_at().as_raw(),
            r.run_id().as_raw(),
            r.shard_id().as_raw(),
            r.fence_epoch().as_raw()
        )?;
        match r.location() {
            Some(loc) => f.write_str(loc.display()),
            None => f.write_str("-"),
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:",
            tenant_tag(match self {
                Self::Finding(r) => r.tenant_id(),
                Self::Occurrence(r) => r.tenant_id(),
                Self::Observation(r) => r.tenant_id(),
            })
        )?;
        match self {
            Self::Finding(r) => ShortFinding(r).fmt(f),
            Self::Occurrence(r) => ShortOccurrence(r).fmt(f),
            Self::Observation(r) => ShortObservation(r).fmt(f),
        }
    }
}

/// A row or "none", for violation messages.
pub(crate) fn show(row: Option<&Row>) -> String {
    row.map_or_else(|| "none".to_owned(), Row::to_string)
}
