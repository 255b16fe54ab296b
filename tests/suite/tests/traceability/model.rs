//! The artifact model: `rivet.yaml` and generic-yaml artifact files.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::schema::{METHOD, PROOFS, TESTS, VERIFIES};

/// `rivet.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RivetConfig {
    pub project: ProjectInfo,
    pub sources: Vec<SourceDir>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectInfo {
    pub name: String,
    pub version: String,
    pub schemas: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDir {
    pub path: String,
    pub format: String,
}

/// One generic-yaml artifact file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactFile {
    pub artifacts: Vec<Artifact>,
}

/// Optional everywhere, so a missing id or title is a finding rather than a
/// parse error that would hide every other finding of the file.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Artifact {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // part of rivet's base fields; nothing checks tags
    pub tags: Vec<String>,
    #[allow(dead_code)]
    pub provenance: Option<Value>,
    #[serde(default)]
    pub links: Vec<Link>,
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    /// Anything that is not a rivet base field.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub target: Option<String>,
}

impl Artifact {
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("")
    }

    pub fn targets<'a>(&'a self, link: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.links.iter().filter(move |l| l.kind.as_deref() == Some(link)).filter_map(|l| l.target.as_deref())
    }

    pub fn method(&self) -> Option<&str> {
        self.fields.get(METHOD).and_then(Value::as_str)
    }

    /// A string-list field, or None when absent or of another shape.
    pub fn list(&self, field: &str) -> Option<Vec<&str>> {
        self.fields.get(field)?.as_sequence()?.iter().map(Value::as_str).collect()
    }

    pub fn is_verification(&self) -> bool {
        [METHOD, TESTS, PROOFS].iter().any(|f| self.fields.contains_key(*f)) || self.targets(VERIFIES).next().is_some()
    }
}

/// The project as loaded: the config and every artifact file, in order.
#[derive(Clone, Debug)]
pub struct Project {
    pub config: Option<RivetConfig>,
    pub files: Vec<(String, Vec<Artifact>)>,
}

impl Project {
    pub fn artifacts(&self) -> impl Iterator<Item = &Artifact> {
        self.files.iter().flat_map(|(_, a)| a)
    }

    pub fn artifact_mut(&mut self, id: &str) -> &mut Artifact {
        self.files.iter_mut().flat_map(|(_, a)| a).find(|a| a.id() == id).unwrap_or_else(|| panic!("no artifact {id}"))
    }
}
