//! rivet traceability without the rivet CLI, which cannot be installed on
//! these machines (verification.md §6.4). This test parses `rivet.yaml` and
//! every artifact file of its generic-yaml sources and fails on
//! - every error-level rule of `rivet validate` for the `common` + `dev`
//!   schemas: unknown schema or artifact type, missing required field,
//!   duplicate id, broken link, unknown link type, link-target-type, and the
//!   required `satisfies` link of a design decision;
//! - rivet's warnings too (allowed values, requirement coverage, an approved
//!   artifact without description, a prose mention without a typed link),
//!   and unknown keys and fields, which rivet only reports as info, because
//!   here they are typos;
//! - this project's rules for verification artifacts (`feature`s carrying
//!   `verifies` links, as rivet's own repository records its tests): every
//!   requirement is verified, and not by proofs of a model alone; every named
//!   test function exists in its file (as a `#[test]` in a test file); every
//!   named Coq theorem is defined in `proofs/`; and every loom harness test,
//!   integration test file and Coq theorem is traced by some artifact.
//!
//! The tests at the end plant each kind of defect into an in-memory copy of
//! the real artifacts (or of a source file) and assert the checker reports it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Deserialize;
use serde_yaml_ng::Value;

// ---------------------------------------------------------------- model

/// `rivet.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RivetConfig {
    project: ProjectInfo,
    sources: Vec<SourceDir>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectInfo {
    name: String,
    version: String,
    schemas: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceDir {
    path: String,
    format: String,
}

/// One generic-yaml artifact file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactFile {
    artifacts: Vec<Artifact>,
}

/// Optional everywhere, so a missing id or title is a finding rather than a
/// parse error that would hide every other finding of the file.
#[derive(Clone, Debug, Default, Deserialize)]
struct Artifact {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    title: Option<String>,
    description: Option<String>,
    status: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // part of rivet's base fields; nothing checks tags
    tags: Vec<String>,
    #[allow(dead_code)]
    provenance: Option<Value>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default)]
    fields: BTreeMap<String, Value>,
    /// Anything that is not a rivet base field.
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    #[serde(rename = "type")]
    kind: Option<String>,
    target: Option<String>,
}

impl Artifact {
    fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }

    fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("")
    }

    fn targets<'a>(&'a self, link: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.links.iter().filter(move |l| l.kind.as_deref() == Some(link)).filter_map(|l| l.target.as_deref())
    }

    fn method(&self) -> Option<&str> {
        self.fields.get(METHOD).and_then(Value::as_str)
    }

    /// A string-list field, or None when absent or of another shape.
    fn list(&self, field: &str) -> Option<Vec<&str>> {
        self.fields.get(field)?.as_sequence()?.iter().map(Value::as_str).collect()
    }

    fn is_verification(&self) -> bool {
        [METHOD, TESTS, PROOFS].iter().any(|f| self.fields.contains_key(*f)) || self.targets(VERIFIES).next().is_some()
    }
}

/// The project as loaded: the config and every artifact file, in order.
#[derive(Clone, Debug)]
struct Project {
    config: Option<RivetConfig>,
    files: Vec<(String, Vec<Artifact>)>,
}

impl Project {
    fn artifacts(&self) -> impl Iterator<Item = &Artifact> {
        self.files.iter().flat_map(|(_, a)| a)
    }

    fn artifact_mut(&mut self, id: &str) -> &mut Artifact {
        self.files.iter_mut().flat_map(|(_, a)| a).find(|a| a.id() == id).unwrap_or_else(|| panic!("no artifact {id}"))
    }
}

// ---------------------------------------------------------------- schemas

const VERIFIES: &str = "verifies";
const SATISFIES: &str = "satisfies";
const TRACES_TO: &str = "traces-to";
const METHOD: &str = "method";
const TESTS: &str = "tests";
const PROOFS: &str = "proofs";
const SOURCE_REF: &str = "source-ref";
const REQUIREMENT: &str = "requirement";
const FORMAL: &str = "formal-verification";

/// The link types of rivet's `common` schema (the inverses are computed).
const COMMON_LINKS: &[&str] = &[
    "traces-to",
    "satisfies",
    "refines",
    "verifies",
    "implements",
    "derives-from",
    "mitigates",
    "allocated-to",
    "constrained-by",
];

/// aspice's verification methods, used by our verification features.
const METHODS: &[&str] =
    &["automated-test", "manual-test", "review", "static-analysis", FORMAL, "simulation", "inspection", "walkthrough"];

struct LinkField {
    link: &'static str,
    targets: &'static [&'static str],
    required: bool,
}

struct TypeDef {
    name: &'static str,
    required: &'static [&'static str],
    /// Every field the type knows, with its allowed values (empty: any).
    fields: &'static [(&'static str, &'static [&'static str])],
    links: &'static [LinkField],
}

struct Schema {
    name: &'static str,
    types: &'static [TypeDef],
    links: &'static [&'static str],
}

/// rivet's `dev` schema (0.1.0), plus this project's extension fields on
/// `feature` (`method`, `tests`, `proofs`, `source-ref`), declared in a
/// comment of `rivet.yaml`.
const DEV_TYPES: &[TypeDef] = &[
    TypeDef {
        name: REQUIREMENT,
        required: &[],
        fields: &[
            ("priority", &["must", "should", "could", "wont"]),
            ("category", &["functional", "non-functional", "constraint", "interface"]),
            ("cited-source", &[]),
        ],
        links: &[
            LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: false },
            LinkField { link: "derives-from", targets: &[REQUIREMENT], required: false },
        ],
    },
    TypeDef {
        name: "design-decision",
        required: &["rationale"],
        fields: &[("rationale", &[]), ("alternatives", &[]), (SOURCE_REF, &[])],
        links: &[LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: true }],
    },
    TypeDef {
        name: "feature",
        required: &[],
        fields: &[
            ("phase", &["phase-1", "phase-2", "phase-3", "future"]),
            ("acceptance-criteria", &[]),
            (SOURCE_REF, &[]),
            (METHOD, METHODS),
            (TESTS, &[]),
            (PROOFS, &[]),
        ],
        links: &[
            LinkField { link: SATISFIES, targets: &[REQUIREMENT], required: false },
            LinkField { link: "implements", targets: &[REQUIREMENT, "design-decision"], required: false },
        ],
    },
];

const SCHEMAS: &[Schema] = &[
    Schema { name: "common", types: &[], links: COMMON_LINKS },
    Schema { name: "dev", types: DEV_TYPES, links: &["depends-on"] },
];

// ---------------------------------------------------------------- findings

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
enum Finding {
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
}

impl Finding {
    /// How `rivet validate` would rate this finding; this test fails on all.
    fn rivet_level(&self) -> &'static str {
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

// ---------------------------------------------------------------- source tree

/// The workspace's files, with an in-memory overlay (`None`: deleted) so the
/// planted tests can change a file without touching the disk.
struct Tree {
    root: PathBuf,
    overlay: BTreeMap<String, Option<String>>,
    cache: RefCell<HashMap<String, Option<Rc<str>>>>,
}

impl Tree {
    fn workspace() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the suite crate sits in the workspace");
        Self::at(root.to_path_buf())
    }

    fn at(root: PathBuf) -> Self {
        Self { root, overlay: BTreeMap::new(), cache: RefCell::default() }
    }

    fn with_file(mut self, path: &str, text: Option<&str>) -> Self {
        self.overlay.insert(path.to_owned(), text.map(str::to_owned));
        self
    }

    fn read(&self, path: &str) -> Option<Rc<str>> {
        if let Some(text) = self.overlay.get(path) {
            return text.as_deref().map(Rc::from);
        }
        let mut cache = self.cache.borrow_mut();
        cache
            .entry(path.to_owned())
            .or_insert_with(|| std::fs::read_to_string(self.root.join(path)).ok().map(Rc::from))
            .clone()
    }

    fn exists(&self, path: &str) -> bool {
        match self.overlay.get(path) {
            Some(text) => text.is_some(),
            None => self.root.join(path).exists(),
        }
    }

    /// Files under `dir` (relative, `/`-separated), recursively, that end in
    /// one of `suffixes`; skips build output and hidden directories.
    fn files_under(&self, dir: &str, suffixes: &[&str]) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut stack = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(rel) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&rel)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if name != "target" && !name.starts_with('.') {
                        stack.push(child);
                    }
                } else if suffixes.iter().any(|s| name.ends_with(s)) {
                    found.insert(child);
                }
            }
        }
        let prefix = if dir.is_empty() { String::new() } else { format!("{}/", dir.trim_end_matches('/')) };
        for (path, text) in &self.overlay {
            if path.starts_with(&prefix) && suffixes.iter().any(|s| path.ends_with(s)) {
                if text.is_some() {
                    found.insert(path.clone());
                } else {
                    found.remove(path);
                }
            }
        }
        found
    }

    /// A file of a crate's `tests/` directory (an integration test or its
    /// helpers), as opposed to library sources.
    fn is_test_file(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        (0..parts.len().saturating_sub(1)).any(|i| {
            parts[i] == "tests"
                && self
                    .read(&join(&parts[..i], "Cargo.toml"))
                    .is_some_and(|manifest| manifest.lines().any(|l| l.trim() == "[package]"))
        })
    }

    /// Every Rust file under a crate's `tests/` directory.
    fn test_files(&self) -> BTreeSet<String> {
        self.files_under("", &[".rs"]).into_iter().filter(|p| self.is_test_file(p)).collect()
    }
}

fn join(dirs: &[&str], file: &str) -> String {
    dirs.iter().chain([&file]).copied().collect::<Vec<_>>().join("/")
}

// ---------------------------------------------------------------- source scanning

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rust source with comments and the contents of string and char literals
/// blanked, so a name mentioned there is not taken for a definition.
fn scrub_rust(src: &str) -> String {
    let b = src.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                blank(&mut out, b[i]);
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r#"..."# (or br"..."): skip to the quote and its hashes.
            let open = i + rest.iter().position(|&c| c == b'"').unwrap_or(0) + 1;
            out.extend_from_slice(&b[i..open]);
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            i = open;
            while i < b.len() && !b[i..].starts_with(&close) {
                blank(&mut out, b[i]);
                i += 1;
            }
            let end = (i + close.len()).min(b.len());
            out.extend_from_slice(&b[i..end]);
            i = end;
        } else if b[i] == b'"' {
            out.push(b'"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                let step = if b[i] == b'\\' { 2 } else { 1 };
                for &c in &b[i..(i + step).min(b.len())] {
                    blank(&mut out, c);
                }
                i += step;
            }
            if i < b.len() {
                out.push(b'"');
                i += 1;
            }
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', 'é') or a lifetime ('a).
            let len = char_literal_len(&src[i..]);
            out.push(b'\'');
            for &c in &b[i + 1..i + len] {
                blank(&mut out, c);
            }
            i += len;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII blanks replace whole characters")
}

/// At `i`, the number of `#` of a raw string literal that starts there.
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    let prefix_ok = |start: usize| start == 0 || !is_ident(b[start - 1]);
    let r = if b[i] == b'r' && prefix_ok(i) {
        i
    } else if b[i] == b'b' && b.get(i + 1) == Some(&b'r') && prefix_ok(i) {
        i + 1
    } else {
        return None;
    };
    let hashes = b[r + 1..].iter().take_while(|&&c| c == b'#').count();
    (b.get(r + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// Bytes of the char literal (quotes included) at the start of `s`, or 1
/// for a lifetime's quote.
fn char_literal_len(s: &str) -> usize {
    let len = match s.chars().nth(1) {
        // '\n', '\'', '\u{..}': the closing quote after the escaped character.
        Some('\\') => s.get(3..).and_then(|t| t.find('\'')).map(|end| 3 + end + 1),
        Some(c) => {
            let close = 1 + c.len_utf8();
            (s.as_bytes().get(close) == Some(&b'\'')).then_some(close + 1)
        }
        None => None,
    };
    len.unwrap_or(1)
}

/// The functions a Rust file defines, and which of them carry `#[test]`.
#[derive(Debug, Default)]
struct RustFns {
    all: BTreeSet<String>,
    tests: BTreeSet<String>,
}

fn rust_fns(src: &str) -> RustFns {
    let scrubbed = scrub_rust(src);
    let tokens = tokens(&scrubbed, |c| c.is_ascii() && is_ident(c as u8));
    let mut found = RustFns::default();
    let mut test_attr = false;
    for (i, token) in tokens.iter().enumerate() {
        if tokens[i..].starts_with(&["#", "[", "test", "]"]) {
            test_attr = true;
        } else if *token == "fn" {
            if let Some(name) = tokens.get(i + 1).filter(|t| t.bytes().all(is_ident)) {
                found.all.insert((*name).to_owned());
                if test_attr {
                    found.tests.insert((*name).to_owned());
                }
            }
            test_attr = false;
        }
    }
    found
}

/// Identifier runs (by `ident`) and single punctuation characters.
fn tokens(text: &str, ident: impl Fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if ident(c) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(&text[s..i]);
        }
        if !c.is_whitespace() {
            out.push(&text[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Coq source with (nested) comments and string contents blanked.
fn scrub_coq(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut depth = 0usize;
    let mut in_string = false;
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        let blank = if c == '\n' { '\n' } else { ' ' };
        if in_string {
            if c == '"' {
                in_string = false;
                out.push('"');
            } else {
                out.push(blank);
            }
        } else if c == '(' && chars.peek() == Some(&'*') {
            chars.next();
            depth += 1;
            out.push_str("  ");
        } else if depth > 0 && c == '*' && chars.peek() == Some(&')') {
            chars.next();
            depth -= 1;
            out.push_str("  ");
        } else if depth > 0 {
            out.push(blank);
        } else if c == '"' {
            in_string = true;
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

/// Coq statements that name a proved result.
const COQ_RESULTS: &[&str] = &["Theorem", "Lemma", "Corollary", "Proposition", "Fact", "Remark"];

/// Every proved result of a Coq file by name, with its keyword.
fn coq_results(src: &str) -> BTreeMap<String, String> {
    let scrubbed = scrub_coq(src);
    let tokens = tokens(&scrubbed, |c| c.is_alphanumeric() || c == '_' || c == '\'');
    tokens.windows(2).filter(|w| COQ_RESULTS.contains(&w[0])).map(|w| (w[1].to_owned(), w[0].to_owned())).collect()
}

// ---------------------------------------------------------------- loading

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, Finding> {
    serde_yaml_ng::from_str(text).map_err(|e| Finding::Parse { file: file.to_owned(), message: e.to_string() })
}

fn load(tree: &Tree) -> (Project, Vec<Finding>) {
    let mut findings = Vec::new();
    let config = match tree.read("rivet.yaml") {
        None => {
            findings.push(Finding::Config { problem: "missing".to_owned() });
            None
        }
        Some(text) => parse::<RivetConfig>("rivet.yaml", &text).map_err(|f| findings.push(f)).ok(),
    };
    let mut files = Vec::new();
    for source in config.iter().flat_map(|c| &c.sources) {
        for path in tree.files_under(&source.path, &[".yaml", ".yml"]) {
            let text = tree.read(&path).unwrap_or_default();
            match parse::<ArtifactFile>(&path, &text) {
                Ok(file) => files.push((path, file.artifacts)),
                Err(f) => findings.push(f),
            }
        }
    }
    (Project { config, files }, findings)
}

// ---------------------------------------------------------------- checking

/// Facts read from source files once per check.
#[derive(Default)]
struct Facts {
    rust: HashMap<String, Option<Rc<RustFns>>>,
    coq: HashMap<String, Option<Rc<BTreeMap<String, String>>>>,
}

impl Facts {
    fn rust(&mut self, tree: &Tree, path: &str) -> Option<Rc<RustFns>> {
        self.rust.entry(path.to_owned()).or_insert_with(|| tree.read(path).map(|src| Rc::new(rust_fns(&src)))).clone()
    }

    fn coq(&mut self, tree: &Tree, module: &str) -> Option<Rc<BTreeMap<String, String>>> {
        self.coq
            .entry(module.to_owned())
            .or_insert_with(|| tree.read(&format!("proofs/{module}.v")).map(|src| Rc::new(coq_results(&src))))
            .clone()
    }
}

struct Checker<'a> {
    tree: &'a Tree,
    types: Vec<&'static TypeDef>,
    links: BTreeSet<&'static str>,
    by_id: BTreeMap<&'a str, &'a Artifact>,
    facts: Facts,
    findings: Vec<Finding>,
}

fn check(project: &Project, tree: &Tree) -> Vec<Finding> {
    let mut checker = Checker {
        tree,
        types: Vec::new(),
        links: BTreeSet::new(),
        by_id: BTreeMap::new(),
        facts: Facts::default(),
        findings: Vec::new(),
    };
    checker.config(project.config.as_ref());
    checker.index(project);
    for (file, artifacts) in &project.files {
        for (n, artifact) in artifacts.iter().enumerate() {
            checker.artifact(file, n, artifact);
        }
    }
    checker.requirements(project);
    checker.completeness(project);
    checker.findings.sort();
    checker.findings.dedup();
    checker.findings
}

impl<'a> Checker<'a> {
    fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn config(&mut self, config: Option<&RivetConfig>) {
        let Some(config) = config else { return };
        let project = &config.project;
        for (field, value) in [("project.name", &project.name), ("project.version", &project.version)] {
            if value.trim().is_empty() {
                self.report(Finding::Config { problem: format!("empty {field}") });
            }
        }
        for name in &project.schemas {
            match SCHEMAS.iter().find(|s| s.name == name) {
                Some(schema) => {
                    self.types.extend(schema.types);
                    self.links.extend(schema.links);
                }
                None => self.report(Finding::UnknownSchema { schema: name.clone() }),
            }
        }
        if config.sources.is_empty() {
            self.report(Finding::Config { problem: "no sources".to_owned() });
        }
        for source in &config.sources {
            if source.format != "generic-yaml" {
                self.report(Finding::Config { problem: format!("source {}: format `{}`", source.path, source.format) });
            }
            if !self.tree.root.join(&source.path).is_dir() {
                self.report(Finding::Config { problem: format!("source {}: no such directory", source.path) });
            }
        }
    }

    fn index(&mut self, project: &'a Project) {
        let mut first_file: BTreeMap<&str, &str> = BTreeMap::new();
        for (file, artifacts) in &project.files {
            for artifact in artifacts.iter().filter(|a| a.id.as_deref().is_some_and(|id| !id.trim().is_empty())) {
                match first_file.get(artifact.id()) {
                    Some(first) => {
                        let finding =
                            Finding::DuplicateId { id: artifact.id().to_owned(), first_file: (*first).to_owned() };
                        self.report(finding);
                    }
                    None => {
                        first_file.insert(artifact.id(), file);
                        self.by_id.insert(artifact.id(), artifact);
                    }
                }
            }
        }
    }

    fn type_of(&self, artifact: &Artifact) -> Option<&'static TypeDef> {
        self.types.iter().copied().find(|t| t.name == artifact.kind())
    }

    fn artifact(&mut self, file: &str, n: usize, artifact: &'a Artifact) {
        let id = match artifact.id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                let id = format!("{file}[{n}]");
                self.report(Finding::MissingField { id: id.clone(), field: "id".to_owned() });
                id
            }
        };
        let missing = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        for (field, value) in [("title", &artifact.title), ("type", &artifact.kind)] {
            if missing(value) {
                self.report(Finding::MissingField { id: id.clone(), field: field.to_owned() });
            }
        }
        for key in artifact.unknown.keys() {
            self.report(Finding::UnknownKey { id: id.clone(), key: key.clone() });
        }
        if artifact.status.as_deref() == Some("approved") && missing(&artifact.description) {
            self.report(Finding::ApprovedWithoutDescription { id: id.clone() });
        }
        let ty = self.type_of(artifact);
        match ty {
            Some(ty) => self.fields(&id, artifact, ty),
            None if artifact.kind.is_some() => {
                self.report(Finding::UnknownType { id: id.clone(), kind: artifact.kind().to_owned() });
            }
            None => {}
        }
        self.links(&id, artifact, ty);
        self.prose(&id, artifact);
        if artifact.is_verification() {
            self.verification(&id, artifact);
        }
        if let Some(paths) = self.string_or_list(&id, artifact, SOURCE_REF) {
            for path in paths {
                if !self.tree.exists(&path) {
                    self.report(Finding::MissingPath { id: id.clone(), path });
                }
            }
        }
    }

    fn fields(&mut self, id: &str, artifact: &Artifact, ty: &TypeDef) {
        for field in ty.required {
            let present = artifact.fields.get(*field).is_some_and(|v| v.as_str().is_none_or(|s| !s.trim().is_empty()));
            if !present {
                self.report(Finding::MissingField { id: id.to_owned(), field: (*field).to_owned() });
            }
        }
        for (field, value) in &artifact.fields {
            let Some((_, allowed)) = ty.fields.iter().find(|(name, _)| name == field) else {
                self.report(Finding::UnknownField { id: id.to_owned(), field: field.clone() });
                continue;
            };
            if allowed.is_empty() {
                continue;
            }
            match value.as_str() {
                Some(v) if allowed.contains(&v) => {}
                Some(v) => {
                    self.report(Finding::NotAllowed { id: id.to_owned(), field: field.clone(), value: v.to_owned() });
                }
                None => {
                    let expected = "a string";
                    self.report(Finding::FieldShape { id: id.to_owned(), field: field.clone(), expected });
                }
            }
        }
        for field in ["acceptance-criteria", TESTS, PROOFS] {
            if artifact.fields.contains_key(field) && artifact.list(field).is_none() {
                let expected = "a list of strings";
                self.report(Finding::FieldShape { id: id.to_owned(), field: field.to_owned(), expected });
            }
        }
    }

    fn string_or_list(&mut self, id: &str, artifact: &Artifact, field: &str) -> Option<Vec<String>> {
        let value = artifact.fields.get(field)?;
        if let Some(s) = value.as_str() {
            return Some(vec![s.to_owned()]);
        }
        let list = artifact.list(field);
        if list.is_none() {
            let expected = "a string or a list of strings";
            self.report(Finding::FieldShape { id: id.to_owned(), field: field.to_owned(), expected });
        }
        list.map(|l| l.into_iter().map(str::to_owned).collect())
    }

    fn links(&mut self, id: &str, artifact: &Artifact, ty: Option<&TypeDef>) {
        for link in &artifact.links {
            let (Some(kind), Some(target)) = (link.kind.as_deref(), link.target.as_deref()) else {
                self.report(Finding::MalformedLink { id: id.to_owned() });
                continue;
            };
            if !self.links.contains(kind) {
                self.report(Finding::UnknownLinkType { id: id.to_owned(), link: kind.to_owned() });
            }
            let Some(found) = self.by_id.get(target).map(|t| t.kind().to_owned()) else {
                self.report(Finding::BrokenLink {
                    id: id.to_owned(),
                    link: kind.to_owned(),
                    target: target.to_owned(),
                });
                continue;
            };
            // The schema's link-field targets; ours: verification verifies requirements.
            let expected: Option<&[&str]> = match ty.and_then(|t| t.links.iter().find(|f| f.link == kind)) {
                Some(field) => Some(field.targets),
                None if kind == VERIFIES => Some(&[REQUIREMENT]),
                None => None,
            };
            if let Some(expected) = expected.filter(|e| !e.contains(&found.as_str())) {
                let expected = expected.iter().map(|s| (*s).to_owned()).collect();
                let (link, target) = (kind.to_owned(), target.to_owned());
                self.report(Finding::LinkTargetType { id: id.to_owned(), link, target, found, expected });
            }
        }
        for field in ty.iter().flat_map(|t| t.links).filter(|f| f.required) {
            let ok = artifact
                .targets(field.link)
                .any(|t| self.by_id.get(t).is_some_and(|a| field.targets.contains(&a.kind())));
            if !ok {
                let expected = field.targets.iter().map(|s| (*s).to_owned()).collect();
                self.report(Finding::MissingRequiredLink { id: id.to_owned(), link: field.link.to_owned(), expected });
            }
        }
    }

    /// rivet's prose-mention rule: an id named in the description must also
    /// be a link target.
    fn prose(&mut self, id: &str, artifact: &Artifact) {
        let Some(description) = artifact.description.as_deref() else { return };
        let linked: BTreeSet<&str> = artifact.links.iter().filter_map(|l| l.target.as_deref()).collect();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        let mentioned: Vec<String> = self
            .by_id
            .keys()
            .filter(|other| **other != id && !linked.contains(**other))
            .filter(|other| {
                description.match_indices(**other).any(|(at, m)| {
                    boundary(description[..at].chars().next_back())
                        && boundary(description[at + m.len()..].chars().next())
                })
            })
            .map(|other| (*other).to_owned())
            .collect();
        for mentioned in mentioned {
            self.report(Finding::ProseMention { id: id.to_owned(), mentioned });
        }
    }

    fn verification(&mut self, id: &str, artifact: &Artifact) {
        if artifact.targets(VERIFIES).next().is_none() {
            self.report(Finding::VerifiesNothing { id: id.to_owned() });
        }
        let Some(method) = artifact.method() else {
            self.report(Finding::MissingField { id: id.to_owned(), field: METHOD.to_owned() });
            return;
        };
        let needed = match method {
            "automated-test" | "simulation" => Some(TESTS),
            FORMAL => Some(PROOFS),
            _ => None,
        };
        if let Some(field) = needed.filter(|f| artifact.list(f).is_none_or(|l| l.is_empty())) {
            let (method, field) = (method.to_owned(), field.to_owned());
            self.report(Finding::MissingEvidence { id: id.to_owned(), method, field });
        }
        for entry in artifact.list(TESTS).unwrap_or_default() {
            self.test_ref(id, entry);
        }
        for entry in artifact.list(PROOFS).unwrap_or_default() {
            self.proof_ref(id, artifact, method, entry);
        }
    }

    fn test_ref(&mut self, id: &str, entry: &str) {
        let parsed = entry.split_once("::").filter(|(path, name)| {
            path.ends_with(".rs") && !name.is_empty() && name.bytes().all(is_ident) && !path.starts_with('/')
        });
        let Some((path, name)) = parsed else {
            self.report(Finding::BadTestRef { id: id.to_owned(), entry: entry.to_owned() });
            return;
        };
        let (path_s, name_s) = (path.to_owned(), name.to_owned());
        match self.facts.rust(self.tree, path) {
            None => self.report(Finding::MissingTestFile { id: id.to_owned(), path: path_s }),
            Some(fns) if !fns.all.contains(name) => {
                self.report(Finding::MissingTestFn { id: id.to_owned(), path: path_s, name: name_s });
            }
            Some(fns) if self.tree.is_test_file(path) && !fns.tests.contains(name) => {
                self.report(Finding::NotATest { id: id.to_owned(), path: path_s, name: name_s });
            }
            Some(_) => {}
        }
    }

    fn proof_ref(&mut self, id: &str, artifact: &Artifact, method: &str, entry: &str) {
        let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '\'');
        let Some((module, name)) = entry.split_once('.').filter(|(m, n)| ident(m) && ident(n)) else {
            self.report(Finding::BadProofRef { id: id.to_owned(), entry: entry.to_owned() });
            return;
        };
        let theorem = entry.to_owned();
        match self.facts.coq(self.tree, module) {
            None => self.report(Finding::MissingProofFile { id: id.to_owned(), theorem, module: module.to_owned() }),
            Some(results) if !results.contains_key(name) => {
                self.report(Finding::UnknownTheorem { id: id.to_owned(), theorem })
            }
            Some(_) if method != FORMAL => {
                // A test that operationalizes a theorem traces to the proof artifact.
                let traced = artifact.targets(TRACES_TO).any(|t| {
                    self.by_id.get(t).is_some_and(|p| {
                        p.method() == Some(FORMAL) && p.list(PROOFS).unwrap_or_default().contains(&entry)
                    })
                });
                if !traced {
                    self.report(Finding::ProofNotTraced { id: id.to_owned(), theorem });
                }
            }
            Some(_) => {}
        }
    }

    fn requirements(&mut self, project: &Project) {
        for requirement in project.artifacts().filter(|a| a.kind() == REQUIREMENT && !a.id().is_empty()) {
            let id = requirement.id();
            let pointing = |link: &'static str| {
                project.artifacts().filter(move |a| a.targets(link).any(|t| t == id)).collect::<Vec<_>>()
            };
            let satisfied = pointing(SATISFIES)
                .iter()
                .any(|a| (a.kind() == "design-decision" || a.kind() == "feature") && !a.is_verification());
            if !satisfied {
                self.report(Finding::Unsatisfied { id: id.to_owned() });
            }
            let verifiers = pointing(VERIFIES);
            if verifiers.is_empty() {
                self.report(Finding::Unverified { id: id.to_owned() });
            } else if verifiers.iter().all(|a| a.method() == Some(FORMAL)) {
                self.report(Finding::ProvenOnly { id: id.to_owned() });
            }
        }
    }

    /// Nothing to trace is left out: every test file with tests, every test
    /// of a loom harness, and every Theorem of `proofs/`.
    fn completeness(&mut self, project: &Project) {
        let mut traced_tests: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut traced_proofs: BTreeSet<&str> = BTreeSet::new();
        for artifact in project.artifacts() {
            for entry in artifact.list(TESTS).unwrap_or_default() {
                if let Some((path, name)) = entry.split_once("::") {
                    traced_tests.entry(path).or_default().insert(name);
                }
            }
            if artifact.method() == Some(FORMAL) {
                traced_proofs.extend(artifact.list(PROOFS).unwrap_or_default());
            }
        }
        for path in self.tree.test_files() {
            let Some(fns) = self.facts.rust(self.tree, &path) else { continue };
            if fns.tests.is_empty() {
                continue;
            }
            let traced = traced_tests.get(path.as_str());
            if traced.is_none() {
                self.report(Finding::UntracedTestFile { path: path.clone() });
            }
            if path.rsplit('/').next().is_some_and(|file| file.starts_with("loom_")) {
                for name in fns.tests.iter().filter(|n| !traced.is_some_and(|t| t.contains(n.as_str()))) {
                    self.report(Finding::UntracedLoomTest { path: path.clone(), name: name.clone() });
                }
            }
        }
        for path in self.tree.files_under("proofs", &[".v"]) {
            let Some(module) = path.strip_prefix("proofs/").and_then(|f| f.strip_suffix(".v")) else { continue };
            let Some(results) = self.facts.coq(self.tree, module) else { continue };
            for (name, _) in results.iter().filter(|(_, keyword)| *keyword == "Theorem") {
                if !traced_proofs.contains(format!("{module}.{name}").as_str()) {
                    self.report(Finding::UntracedTheorem { module: module.to_owned(), theorem: name.clone() });
                }
            }
        }
    }
}

fn validate(tree: &Tree) -> Vec<Finding> {
    let (project, mut findings) = load(tree);
    findings.extend(check(&project, tree));
    findings
}

struct Summary<'a>(&'a Project);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        let (mut tests, mut proofs, mut links) = (0, 0, 0);
        for a in self.0.artifacts() {
            let kind = match a.method() {
                Some(method) => format!("{} ({method})", a.kind()),
                None => a.kind().to_owned(),
            };
            *kinds.entry(kind).or_default() += 1;
            tests += a.list(TESTS).map_or(0, |l| l.len());
            proofs += a.list(PROOFS).map_or(0, |l| l.len());
            links += a.links.len();
        }
        writeln!(f, "{} artifacts in {} files:", self.0.artifacts().count(), self.0.files.len())?;
        for (kind, count) in kinds {
            writeln!(f, "  {count:4} {kind}")?;
        }
        write!(f, "{links} links, {tests} test references, {proofs} theorem references")
    }
}

// ---------------------------------------------------------------- the project

#[test]
fn the_project_traceability_is_complete_and_consistent() {
    let tree = Tree::workspace();
    let (project, mut findings) = load(&tree);
    findings.extend(check(&project, &tree));
    println!("{}", Summary(&project));
    let report: Vec<String> = findings.iter().map(|f| format!("[{}] {f}", f.rivet_level())).collect();
    assert!(findings.is_empty(), "{} traceability findings:\n{}", findings.len(), report.join("\n"));
    assert!(project.artifacts().any(|a| a.kind() == REQUIREMENT), "no requirements at all");
}

// ---------------------------------------------------------------- planted defects

/// The real project, loaded cleanly, to plant defects into.
fn real() -> (Project, Tree) {
    let tree = Tree::workspace();
    let (project, findings) = load(&tree);
    assert!(findings.is_empty(), "{findings:?}");
    (project, tree)
}

/// Ids of artifacts of one kind / method, for picking plant sites.
fn first_where(project: &Project, pred: impl Fn(&Artifact) -> bool) -> String {
    project.artifacts().find(|a| pred(a)).map(|a| a.id().to_owned()).expect("an artifact to plant into")
}

fn first_requirement(project: &Project) -> String {
    first_where(project, |a| a.kind() == REQUIREMENT)
}

fn loom_artifact(project: &Project) -> String {
    first_where(project, |a| {
        a.method() == Some("automated-test")
            && a.list(TESTS).unwrap_or_default().iter().any(|t| t.contains("/loom_"))
            && a.list(PROOFS).is_some_and(|p| !p.is_empty())
    })
}

fn link(kind: &str, target: &str) -> Link {
    Link { kind: Some(kind.to_owned()), target: Some(target.to_owned()) }
}

fn findings_after(project: &Project, tree: &Tree) -> Vec<Finding> {
    check(project, tree)
}

#[track_caller]
fn assert_reported(findings: &[Finding], wanted: impl Fn(&Finding) -> bool, what: &str) {
    assert!(findings.iter().any(wanted), "{what} not reported; findings: {findings:#?}");
}

#[test]
fn an_unknown_artifact_type_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    project.artifact_mut(&id).kind = Some("sw-req".to_owned());
    let findings = findings_after(&project, &tree);
    assert_reported(
        &findings,
        |f| matches!(f, Finding::UnknownType { id: i, kind } if *i == id && kind == "sw-req"),
        "type",
    );
}

#[test]
fn an_undeclared_schema_disables_its_types_and_links() {
    let (mut project, tree) = real();
    let config = project.config.as_mut().expect("config");
    config.project.schemas = vec!["common".to_owned(), "aspice".to_owned()];
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::UnknownSchema { schema } if schema == "aspice"), "schema");
    assert_reported(&findings, |f| matches!(f, Finding::UnknownType { kind, .. } if kind == REQUIREMENT), "type");
}

#[test]
fn missing_id_title_and_rationale_are_reported() {
    let (mut project, tree) = real();
    let requirement = first_requirement(&project);
    let decision = first_where(&project, |a| a.kind() == "design-decision");
    project.artifact_mut(&requirement).title = None;
    project.artifact_mut(&decision).fields.remove("rationale");
    let verification = loom_artifact(&project);
    project.artifact_mut(&verification).id = Some("  ".to_owned());
    let findings = findings_after(&project, &tree);
    let missing = |id: &str, field: &str| {
        let (id, field) = (id.to_owned(), field.to_owned());
        move |f: &Finding| matches!(f, Finding::MissingField { id: i, field: x } if *i == id && *x == field)
    };
    assert_reported(&findings, missing(&requirement, "title"), "title");
    assert_reported(&findings, missing(&decision, "rationale"), "rationale");
    assert_reported(&findings, |f| matches!(f, Finding::MissingField { field, .. } if field == "id"), "id");
}

#[test]
fn a_duplicate_id_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    let copy = project.artifacts().find(|a| a.id() == id).cloned().expect("requirement");
    project.files.last_mut().expect("a file").1.push(copy);
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::DuplicateId { id: i, .. } if *i == id), "duplicate");
}

#[test]
fn a_broken_link_target_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    project.artifact_mut(&id).links.push(link(VERIFIES, "REQ-999"));
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::BrokenLink { target, .. } if target == "REQ-999"), "broken");
}

#[test]
fn an_unknown_or_malformed_link_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    let requirement = first_requirement(&project);
    let artifact = project.artifact_mut(&id);
    artifact.links.push(link("validates", &requirement));
    artifact.links.push(Link { kind: Some(VERIFIES.to_owned()), target: None });
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::UnknownLinkType { link, .. } if link == "validates"), "type");
    assert_reported(&findings, |f| matches!(f, Finding::MalformedLink { id: i } if *i == id), "malformed");
}

#[test]
fn a_design_decision_must_satisfy_a_requirement() {
    let (mut project, tree) = real();
    let decision = first_where(&project, |a| a.kind() == "design-decision");
    let other = first_where(&project, |a| a.kind() == "design-decision" && a.id() != decision);
    project.artifact_mut(&decision).links.retain(|l| l.kind.as_deref() != Some(SATISFIES));
    let aim = project.artifact_mut(&other);
    aim.links.retain(|l| l.kind.as_deref() != Some(SATISFIES));
    aim.links.push(link(SATISFIES, &decision));
    let findings = findings_after(&project, &tree);
    for id in [&decision, &other] {
        let wanted =
            |f: &Finding| matches!(f, Finding::MissingRequiredLink { id: i, link, .. } if i == id && link == SATISFIES);
        assert_reported(&findings, wanted, "missing satisfies");
    }
    let wrong_type =
        |f: &Finding| matches!(f, Finding::LinkTargetType { id: i, target, .. } if *i == other && *target == decision);
    assert_reported(&findings, wrong_type, "link-target-type");
}

#[test]
fn a_requirement_without_verification_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    for (_, artifacts) in &mut project.files {
        for a in artifacts {
            a.links.retain(|l| !(l.kind.as_deref() == Some(VERIFIES) && l.target.as_deref() == Some(id.as_str())));
        }
    }
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::Unverified { id: i } if *i == id), "unverified");
}

#[test]
fn a_requirement_verified_only_by_proofs_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    for (_, artifacts) in &mut project.files {
        for a in artifacts.iter_mut().filter(|a| a.method() != Some(FORMAL)) {
            a.links.retain(|l| !(l.kind.as_deref() == Some(VERIFIES) && l.target.as_deref() == Some(id.as_str())));
        }
    }
    let proof = first_where(&project, |a| a.method() == Some(FORMAL));
    project.artifact_mut(&proof).links.push(link(VERIFIES, &id));
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::ProvenOnly { id: i } if *i == id), "proofs only");
}

#[test]
fn a_requirement_nothing_satisfies_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    for (_, artifacts) in &mut project.files {
        for a in artifacts {
            a.links.retain(|l| !(l.kind.as_deref() == Some(SATISFIES) && l.target.as_deref() == Some(id.as_str())));
        }
    }
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::Unsatisfied { id: i } if *i == id), "unsatisfied");
}

#[test]
fn a_named_test_function_that_does_not_exist_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    let tests = project.artifact_mut(&id).fields.get_mut(TESTS).and_then(Value::as_sequence_mut).expect("tests");
    let real_entry = tests[0].as_str().expect("entry").to_owned();
    let (path, _) = real_entry.split_once("::").expect("path::fn");
    let helpers = rust_fns(&tree.read(path).expect("the harness"));
    let helper = helpers.all.difference(&helpers.tests).next().expect("a helper fn in the harness").clone();
    for planted in [
        format!("{path}::no_such_test_anywhere"),
        "guest/tests/no_such_file.rs::some_test".to_owned(),
        format!("{path}::{helper}"),
        "not a test reference".to_owned(),
    ] {
        tests.push(Value::String(planted));
    }
    let findings = findings_after(&project, &tree);
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingTestFn { name, .. } if name == "no_such_test_anywhere"),
        "fn",
    );
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingTestFile { path, .. } if path.ends_with("no_such_file.rs")),
        "file",
    );
    assert_reported(&findings, |f| matches!(f, Finding::NotATest { name, .. } if *name == helper), "not a test");
    assert_reported(&findings, |f| matches!(f, Finding::BadTestRef { .. }), "malformed");
}

#[test]
fn a_test_renamed_in_its_file_or_left_only_in_a_comment_is_reported() {
    let (project, tree) = real();
    let id = loom_artifact(&project);
    let entry = project.artifacts().find(|a| a.id() == id).and_then(|a| a.list(TESTS)).expect("tests")[0].to_owned();
    let (path, name) = entry.split_once("::").expect("path::fn");
    let source = tree.read(path).expect("the test file");
    let renamed = source.replace(&format!("fn {name}("), &format!("fn {name}_renamed("));
    assert_ne!(renamed, *source, "the plant must change the file");
    let mentioned = format!("{renamed}\n// fn {name}()\n/* fn {name}() */\nconst S: &str = \"fn {name}()\";\n");
    let tree = Tree::workspace().with_file(path, Some(&mentioned));
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::MissingTestFn { name: n, .. } if n == name), "renamed test");
    let gone = Tree::workspace().with_file(path, None);
    let findings = findings_after(&project, &gone);
    assert_reported(&findings, |f| matches!(f, Finding::MissingTestFile { path: p, .. } if p == path), "deleted file");
}

#[test]
fn a_theorem_name_not_defined_in_proofs_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    let proofs = project.artifact_mut(&id).fields.get_mut(PROOFS).and_then(Value::as_sequence_mut).expect("proofs");
    let (module, _) = proofs[0].as_str().expect("entry").split_once('.').expect("Module.name");
    let module = module.to_owned();
    for planted in [format!("{module}.merge_is_magic"), "NoSuchFile.merge_comm".to_owned(), "merge_comm".to_owned()] {
        proofs.push(Value::String(planted));
    }
    let findings = findings_after(&project, &tree);
    let unknown = format!("{module}.merge_is_magic");
    assert_reported(
        &findings,
        |f| matches!(f, Finding::UnknownTheorem { theorem, .. } if *theorem == unknown),
        "theorem",
    );
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingProofFile { module, .. } if module == "NoSuchFile"),
        "file",
    );
    assert_reported(
        &findings,
        |f| matches!(f, Finding::BadProofRef { entry, .. } if entry == "merge_comm"),
        "malformed",
    );
}

#[test]
fn a_theorem_left_only_in_a_coq_comment_is_reported() {
    let (project, tree) = real();
    let proof = first_where(&project, |a| a.method() == Some(FORMAL));
    let entry =
        project.artifacts().find(|a| a.id() == proof).and_then(|a| a.list(PROOFS)).expect("proofs")[0].to_owned();
    let (module, name) = entry.split_once('.').expect("Module.name");
    let path = format!("proofs/{module}.v");
    let source = tree.read(&path).expect("proof file");
    let hidden: String = source
        .lines()
        .map(|line| {
            let defines = COQ_RESULTS.iter().any(|k| line.trim_start().starts_with(&format!("{k} {name} ")))
                || COQ_RESULTS.iter().any(|k| line.trim_start() == format!("{k} {name} :"));
            if defines { format!("(* {line} *) Theorem {name}_renamed :") } else { line.to_owned() }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(hidden, *source, "the plant must change the file");
    let tree = Tree::workspace().with_file(&path, Some(&hidden));
    let findings = findings_after(&project, &tree);
    assert_reported(
        &findings,
        |f| matches!(f, Finding::UnknownTheorem { theorem, .. } if *theorem == entry),
        "theorem",
    );
}

#[test]
fn a_named_theorem_without_a_trace_to_its_proof_artifact_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    project.artifact_mut(&id).links.retain(|l| l.kind.as_deref() != Some(TRACES_TO));
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::ProofNotTraced { id: i, .. } if *i == id), "untraced proof");
}

#[test]
fn untraced_loom_tests_test_files_and_theorems_are_reported() {
    let (project, _) = real();
    let harness = "#[test]\nfn a_new_harness_test() {}\n#[cfg(loom)]\n#[test]\n#[should_panic]\nfn a_planted_bug_is_caught() {}\n";
    let tree = Tree::workspace()
        .with_file("guest/tests/loom_new_primitive.rs", Some(harness))
        .with_file("tests/tests/a_new_test_file.rs", Some("#[test]\nfn works() {}\n"))
        .with_file("guest/tests/common/helpers_only.rs", Some("pub fn helper() {}\n"))
        .with_file(
            "proofs/NewModel.v",
            Some("Lemma helper : True.\nProof. exact I. Qed.\nTheorem new_law : True.\nProof. exact I. Qed.\n"),
        );
    let findings = findings_after(&project, &tree);
    let loom = |name: &'static str| move |f: &Finding| matches!(f, Finding::UntracedLoomTest { path, name: n } if path.ends_with("loom_new_primitive.rs") && n == name);
    assert_reported(&findings, loom("a_new_harness_test"), "loom test");
    assert_reported(&findings, loom("a_planted_bug_is_caught"), "planted-bug test");
    let file =
        |f: &Finding| matches!(f, Finding::UntracedTestFile { path } if path == "tests/tests/a_new_test_file.rs");
    assert_reported(&findings, file, "test file");
    assert!(!findings.iter().any(|f| matches!(f, Finding::UntracedTestFile { path } if path.contains("helpers_only"))));
    let theorem = |f: &Finding| matches!(f, Finding::UntracedTheorem { module, theorem } if module == "NewModel" && theorem == "new_law");
    assert_reported(&findings, theorem, "theorem");
    assert!(!findings.iter().any(|f| matches!(f, Finding::UntracedTheorem { theorem, .. } if theorem == "helper")));
}

#[test]
fn yaml_typos_bad_values_and_untyped_mentions_are_reported() {
    let (mut project, tree) = real();
    let requirement = first_requirement(&project);
    let loom = loom_artifact(&project);
    let text = format!(
        "artifacts:\n  - id: REQ-PLANTED\n    type: requirement\n    title: planted\n    link:\n      - {{type: satisfies, target: {requirement}}}\n    description: refines {requirement} in prose only\n    status: approved\n    fields: {{priority: urgent, category: functional, owner: nobody}}\n"
    );
    let file: ArtifactFile = parse("artifacts/planted.yaml", &text).expect("valid yaml");
    project.files.push(("artifacts/planted.yaml".to_owned(), file.artifacts));
    project.artifact_mut(&loom).fields.insert(METHOD.to_owned(), Value::String("vibes".to_owned()));
    let findings = findings_after(&project, &tree);
    let id = "REQ-PLANTED".to_owned();
    assert_reported(&findings, |f| matches!(f, Finding::UnknownKey { id: i, key } if *i == id && key == "link"), "key");
    assert_reported(
        &findings,
        |f| matches!(f, Finding::UnknownField { id: i, field } if *i == id && field == "owner"),
        "field",
    );
    assert_reported(&findings, |f| matches!(f, Finding::NotAllowed { value, .. } if value == "urgent"), "priority");
    assert_reported(&findings, |f| matches!(f, Finding::NotAllowed { value, .. } if value == "vibes"), "method");
    assert_reported(
        &findings,
        |f| matches!(f, Finding::ProseMention { id: i, mentioned } if *i == id && *mentioned == requirement),
        "mention",
    );
    assert_reported(&findings, |f| matches!(f, Finding::Unverified { id: i } if *i == id), "unverified");
    let broken = parse::<ArtifactFile>("artifacts/broken.yaml", "artifacts:\n  - id: [unclosed\n");
    assert!(matches!(broken, Err(Finding::Parse { .. })), "{broken:?}");
}

#[test]
fn a_verification_artifact_needs_a_method_evidence_and_a_target() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    let proof = first_where(&project, |a| a.method() == Some(FORMAL));
    let artifact = project.artifact_mut(&id);
    artifact.links.retain(|l| l.kind.as_deref() != Some(VERIFIES));
    artifact.fields.insert(TESTS.to_owned(), Value::Sequence(Vec::new()));
    project.artifact_mut(&proof).fields.remove(METHOD);
    let findings = findings_after(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::VerifiesNothing { id: i } if *i == id), "verifies nothing");
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingEvidence { id: i, field, .. } if *i == id && field == TESTS),
        "evidence",
    );
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingField { id: i, field } if *i == proof && field == METHOD),
        "method",
    );
}

#[test]
fn a_source_ref_to_a_missing_path_is_reported() {
    let (mut project, tree) = real();
    let decision = first_where(&project, |a| a.kind() == "design-decision");
    project
        .artifact_mut(&decision)
        .fields
        .insert(SOURCE_REF.to_owned(), Value::String("guest/src/no_such_module.rs".to_owned()));
    let findings = findings_after(&project, &tree);
    assert_reported(
        &findings,
        |f| matches!(f, Finding::MissingPath { path, .. } if path.ends_with("no_such_module.rs")),
        "path",
    );
}

#[test]
fn the_whole_pipeline_reports_a_missing_rivet_yaml_and_a_bad_source() {
    let findings = validate(&Tree::workspace().with_file("rivet.yaml", None));
    assert!(findings.iter().any(|f| matches!(f, Finding::Config { problem } if problem == "missing")), "{findings:?}");
    let bad = "project: {name: gossip-persistence, version: \"0.1.0\", schemas: [common, dev]}\nsources: [{path: nowhere, format: reqif}]\n";
    let findings = validate(&Tree::workspace().with_file("rivet.yaml", Some(bad)));
    assert!(
        findings.iter().any(|f| matches!(f, Finding::Config { problem } if problem.contains("reqif"))),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| matches!(f, Finding::Config { problem } if problem.contains("no such directory"))));
}

#[test]
fn the_scanners_ignore_comments_and_literals() {
    let rust = "// fn in_line_comment() {}\n/* fn in_block /* nested */ fn still_comment() */\nconst A: &str = \"fn in_string()\";\nconst B: &str = r#\"fn in_raw() \"quoted\"\"#;\nconst C: char = '\"';\nfn generic<'a>(x: &'a str) -> &'a str { x }\n#[test]\n#[ignore]\nfn real_test() {}\nfn helper() {}\n";
    let fns = rust_fns(rust);
    assert_eq!(fns.all, BTreeSet::from(["generic".to_owned(), "real_test".to_owned(), "helper".to_owned()]));
    assert_eq!(fns.tests, BTreeSet::from(["real_test".to_owned()]));
    let coq = "(* Theorem in_comment : True. (* nested *) Lemma also_comment : True. *)\nDefinition s := \"Theorem in_string\".\nTheorem real' : True.\nLemma helper_1 : True.\n";
    let results = coq_results(coq);
    assert_eq!(results.keys().cloned().collect::<Vec<_>>(), vec!["helper_1".to_owned(), "real'".to_owned()]);
}
