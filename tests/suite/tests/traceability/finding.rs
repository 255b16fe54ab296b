//! Everything the checker can report.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
pub enum Finding {
    #[error("{file}: cannot parse: {message}")]
    Parse { file: String, message: String },
    #[error("rivet.yaml: {problem}")]
    Config { problem: String },
    #[error("rivet.yaml: schema `{schema}` is not one this checker knows (common, dev)")]
    UnknownSchema { schema: String },
    #[error("{id}: unknown artifact type `{kind}` for the declared schemas")]
    UnknownType { id: String, kind: String },
    #[error("{id}: missing required field `{field}`")]
    MissingField { id: String, field: String },
    #[error("{id}: unknown key `{key}` (not a rivet base field)")]
    UnknownKey { id: String, key: String },
    #[error("{id}: unknown field `{field}` for its type")]
    UnknownField { id: String, field: String },
    #[error("{id}: field `{field}` must be {expected}")]
    FieldShape { id: String, field: String, expected: &'static str },
    #[error("{id}: field `{field}` has `{value}`, not one of its allowed values")]
    NotAllowed { id: String, field: String, value: String },
    #[error("{id}: duplicate id (also in {first_file})")]
    DuplicateId { id: String, first_file: String },
    #[error("{id}: a link needs both `type` and `target`")]
    MalformedLink { id: String },
    #[error("{id}: unknown link type `{link}`")]
    UnknownLinkType { id: String, link: String },
    #[error("{id}: {link} -> {target}: broken link (no such artifact)")]
    BrokenLink { id: String, link: String, target: String },
    #[error("{id}: {link} -> {target}: target is a {found}, expected one of {expected:?}")]
    LinkTargetType { id: String, link: String, target: String, found: String, expected: Vec<String> },
    #[error("{id}: needs at least one `{link}` link to a {expected:?}")]
    MissingRequiredLink { id: String, link: String, expected: Vec<String> },
    #[error("{id}: approved artifact without a description")]
    ApprovedWithoutDescription { id: String },
    #[error("{id}: description mentions {mentioned} without a typed link to it")]
    ProseMention { id: String, mentioned: String },
    #[error("{id}: requirement not satisfied by any design-decision or feature")]
    Unsatisfied { id: String },
    #[error("{id}: requirement has no verification (nothing `verifies` it)")]
    Unverified { id: String },
    #[error("{id}: requirement verified only by proofs of a model, by no test of the code")]
    ProvenOnly { id: String },
    #[error("{id}: verification artifact without any `verifies` link")]
    VerifiesNothing { id: String },
    #[error("{id}: method `{method}` needs a non-empty `{field}` list")]
    MissingEvidence { id: String, method: String, field: String },
    #[error("{id}: `{entry}` is not of the form `path/to/file.rs::function`")]
    BadTestRef { id: String, entry: String },
    #[error("{id}: test file {path} does not exist")]
    MissingTestFile { id: String, path: String },
    #[error("{id}: {path} defines no `fn {name}`")]
    MissingTestFn { id: String, path: String, name: String },
    #[error("{id}: {path}::{name} is in a test file but is not a #[test]")]
    NotATest { id: String, path: String, name: String },
    #[error("{id}: `{entry}` is not of the form `Module.theorem`")]
    BadProofRef { id: String, entry: String },
    #[error("{id}: {theorem}: no proofs/{module}.v")]
    MissingProofFile { id: String, theorem: String, module: String },
    #[error("{id}: {theorem}: no Theorem or Lemma of that name in its proof file")]
    UnknownTheorem { id: String, theorem: String },
    #[error("{id}: names {theorem} but has no traces-to link to a formal-verification artifact listing it")]
    ProofNotTraced { id: String, theorem: String },
    #[error("{id}: source-ref {path} does not exist")]
    MissingPath { id: String, path: String },
    #[error("{path}: test file traced by no artifact")]
    UntracedTestFile { path: String },
    #[error("{path}::{name}: loom harness test traced by no artifact")]
    UntracedLoomTest { path: String, name: String },
    #[error("{module}.{theorem}: Theorem traced by no formal-verification artifact")]
    UntracedTheorem { module: String, theorem: String },
    #[error(
        "{id}: proves a model that no differential test checks against the code (no artifact with an `extracted_models.rs` test traces to it)"
    )]
    ProofWithoutDifferential { id: String },
}

impl Finding {
    /// How `rivet validate` would rate this finding; this test fails on all.
    pub fn rivet_level(&self) -> &'static str {
        match self {
            Self::NotAllowed { .. }
            | Self::ApprovedWithoutDescription { .. }
            | Self::ProseMention { .. }
            | Self::Unsatisfied { .. } => "warning",
            Self::UnknownKey { .. } | Self::UnknownField { .. } => "info",
            Self::Parse { .. }
            | Self::Config { .. }
            | Self::UnknownSchema { .. }
            | Self::UnknownType { .. }
            | Self::MissingField { .. }
            | Self::DuplicateId { .. }
            | Self::MalformedLink { .. }
            | Self::UnknownLinkType { .. }
            | Self::BrokenLink { .. }
            | Self::LinkTargetType { .. }
            | Self::MissingRequiredLink { .. } => "error",
            _ => "project",
        }
    }
}
