//! Loading the project and checking it against the schema and project rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;

use crate::finding::Finding;
use crate::model::{Artifact, ArtifactFile, Project, RivetConfig};
use crate::scan::{RustFns, coq_results, is_ident, rust_fns};
use crate::schema::{
    FORMAL, METHOD, PROOFS, REQUIREMENT, SATISFIES, SCHEMAS, SOURCE_REF, TESTS, TRACES_TO, TypeDef, VERIFIES,
};
use crate::tree::Tree;

pub fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, Finding> {
    serde_yaml_ng::from_str(text).map_err(|e| Finding::Parse { file: file.to_owned(), message: e.to_string() })
}

pub fn load(tree: &Tree) -> (Project, Vec<Finding>) {
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

/// Facts read from source files once per check.
#[derive(Default)]
pub struct Facts {
    pub rust: HashMap<String, Option<Rc<RustFns>>>,
    pub coq: HashMap<String, Option<Rc<BTreeMap<String, String>>>>,
}

impl Facts {
    pub fn rust(&mut self, tree: &Tree, path: &str) -> Option<Rc<RustFns>> {
        self.rust.entry(path.to_owned()).or_insert_with(|| tree.read(path).map(|src| Rc::new(rust_fns(&src)))).clone()
    }

    pub fn coq(&mut self, tree: &Tree, module: &str) -> Option<Rc<BTreeMap<String, String>>> {
        self.coq
            .entry(module.to_owned())
            .or_insert_with(|| tree.read(&format!("proofs/{module}.v")).map(|src| Rc::new(coq_results(&src))))
            .clone()
    }
}

pub struct Checker<'a> {
    pub tree: &'a Tree,
    pub types: Vec<&'static TypeDef>,
    pub links: BTreeSet<&'static str>,
    pub by_id: BTreeMap<&'a str, &'a Artifact>,
    pub facts: Facts,
    pub findings: Vec<Finding>,
}

pub fn check(project: &Project, tree: &Tree) -> Vec<Finding> {
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
    pub fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub fn config(&mut self, config: Option<&RivetConfig>) {
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

    pub fn index(&mut self, project: &'a Project) {
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

    pub fn type_of(&self, artifact: &Artifact) -> Option<&'static TypeDef> {
        self.types.iter().copied().find(|t| t.name == artifact.kind())
    }

    pub fn artifact(&mut self, file: &str, n: usize, artifact: &'a Artifact) {
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

    pub fn fields(&mut self, id: &str, artifact: &Artifact, ty: &TypeDef) {
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

    pub fn string_or_list(&mut self, id: &str, artifact: &Artifact, field: &str) -> Option<Vec<String>> {
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

    pub fn links(&mut self, id: &str, artifact: &Artifact, ty: Option<&TypeDef>) {
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
    pub fn prose(&mut self, id: &str, artifact: &Artifact) {
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

    pub fn verification(&mut self, id: &str, artifact: &Artifact) {
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

    pub fn test_ref(&mut self, id: &str, entry: &str) {
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

    pub fn proof_ref(&mut self, id: &str, artifact: &Artifact, method: &str, entry: &str) {
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

    pub fn requirements(&mut self, project: &Project) {
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
    pub fn completeness(&mut self, project: &Project) {
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
        // A proof speaks about the shipped code only through a differential
        // test of its extracted model (a test in an `extracted_models.rs`)
        // whose artifact traces to it.
        let differential: BTreeSet<&str> = project
            .artifacts()
            .filter(|a| {
                a.list(TESTS).unwrap_or_default().iter().any(|t| {
                    t.split_once("::").is_some_and(|(path, _)| path.rsplit('/').next() == Some("extracted_models.rs"))
                })
            })
            .flat_map(|a| a.targets(TRACES_TO))
            .collect();
        for proof in project.artifacts().filter(|a| a.method() == Some(FORMAL)) {
            if !differential.contains(proof.id()) {
                self.report(Finding::ProofWithoutDifferential { id: proof.id().to_owned() });
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

pub fn validate(tree: &Tree) -> Vec<Finding> {
    let (project, mut findings) = load(tree);
    findings.extend(check(&project, tree));
    findings
}

pub struct Summary<'a>(pub &'a Project);

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
