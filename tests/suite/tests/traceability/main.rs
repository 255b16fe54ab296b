//! rivet traceability without the rivet CLI, which cannot be installed on
//! these machines. This test parses `rivet.yaml` and
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

mod check;
mod finding;
mod model;
mod scan;
mod schema;
mod tree;

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

use check::{Summary, check, load, parse, validate};
use finding::Finding;
use model::{Artifact, ArtifactFile, Link, Project};
use scan::{COQ_RESULTS, coq_results, rust_fns};
use schema::{FORMAL, METHOD, PROOFS, REQUIREMENT, SATISFIES, SOURCE_REF, TESTS, TRACES_TO, VERIFIES};
use tree::Tree;

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

/// The real project, loaded cleanly, to plant defects into.
fn real() -> (Project, Tree) {
    let tree = Tree::workspace();
    let (project, findings) = load(&tree);
    assert!(findings.is_empty(), "{findings:?}");
    (project, tree)
}

/// The id of the first artifact matching `pred`: where a defect is planted.
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

#[track_caller]
fn assert_reported(findings: &[Finding], wanted: impl Fn(&Finding) -> bool, what: &str) {
    assert!(findings.iter().any(wanted), "{what} not reported; findings: {findings:#?}");
}

#[test]
fn an_unknown_artifact_type_is_reported() {
    let (mut project, tree) = real();
    let id = first_requirement(&project);
    project.artifact_mut(&id).kind = Some("sw-req".to_owned());
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::DuplicateId { id: i, .. } if *i == id), "duplicate");
}

#[test]
fn a_broken_link_target_is_reported() {
    let (mut project, tree) = real();
    let id = loom_artifact(&project);
    project.artifact_mut(&id).links.push(link(VERIFIES, "REQ-999"));
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
        "guest/stores/tests/no_such_file.rs::some_test".to_owned(),
        format!("{path}::{helper}"),
        "not a test reference".to_owned(),
    ] {
        tests.push(Value::String(planted));
    }
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::MissingTestFn { name: n, .. } if n == name), "renamed test");
    let gone = Tree::workspace().with_file(path, None);
    let findings = check(&project, &gone);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
    assert_reported(&findings, |f| matches!(f, Finding::ProofNotTraced { id: i, .. } if *i == id), "untraced proof");
}

#[test]
fn untraced_loom_tests_test_files_and_theorems_are_reported() {
    let (project, _) = real();
    let harness = "#[test]\nfn a_new_harness_test() {}\n#[cfg(loom)]\n#[test]\n#[should_panic]\nfn a_planted_bug_is_caught() {}\n";
    let tree = Tree::workspace()
        .with_file("guest/stores/tests/loom_new_primitive.rs", Some(harness))
        .with_file("tests/suite/tests/a_new_test_file.rs", Some("#[test]\nfn works() {}\n"))
        .with_file("guest/stores/tests/common/helpers_only.rs", Some("pub fn helper() {}\n"))
        .with_file(
            "proofs/NewModel.v",
            Some("Lemma helper : True.\nProof. exact I. Qed.\nTheorem new_law : True.\nProof. exact I. Qed.\n"),
        );
    let findings = check(&project, &tree);
    let loom = |name: &'static str| move |f: &Finding| matches!(f, Finding::UntracedLoomTest { path, name: n } if path.ends_with("loom_new_primitive.rs") && n == name);
    assert_reported(&findings, loom("a_new_harness_test"), "loom test");
    assert_reported(&findings, loom("a_planted_bug_is_caught"), "planted-bug test");
    let file =
        |f: &Finding| matches!(f, Finding::UntracedTestFile { path } if path == "tests/suite/tests/a_new_test_file.rs");
    assert_reported(&findings, file, "test file");
    assert!(!findings.iter().any(|f| matches!(f, Finding::UntracedTestFile { path } if path.contains("helpers_only"))));
    let theorem = |f: &Finding| matches!(f, Finding::UntracedTheorem { module, theorem } if module == "NewModel" && theorem == "new_law");
    assert_reported(&findings, theorem, "theorem");
    assert!(!findings.iter().any(|f| matches!(f, Finding::UntracedTheorem { theorem, .. } if theorem == "helper")));
}

#[test]
fn a_proof_no_differential_test_traces_to_is_reported() {
    let (mut project, tree) = real();
    assert!(!check(&project, &tree).iter().any(|f| matches!(f, Finding::ProofWithoutDifferential { .. })));
    // Drop the differential tests' links to one proof: it is then reported.
    let proof = "PROOF-HEAP";
    let ids: Vec<String> = project
        .artifacts()
        .filter(|a| a.list(TESTS).unwrap_or_default().iter().any(|t| t.contains("extracted_models.rs::")))
        .map(|a| a.id().to_owned())
        .collect();
    for id in &ids {
        project.artifact_mut(id).links.retain(|l| l.target.as_deref() != Some(proof));
    }
    let findings = check(&project, &tree);
    let reported = |f: &Finding| matches!(f, Finding::ProofWithoutDifferential { id } if id == proof);
    assert_reported(&findings, reported, "proof without a differential test");
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
    let findings = check(&project, &tree);
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
    let findings = check(&project, &tree);
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
        .insert(SOURCE_REF.to_owned(), Value::String("guest/stores/src/no_such_module.rs".to_owned()));
    let findings = check(&project, &tree);
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
