//! The layers point one way: the core crate at the bottom, the wasmtime
//! embedding above it, the suite above both, the CLI, tests and benches on
//! top. No library a user embeds may depend on the suite (or on the CLI)
//! except through dev-dependencies.

use std::process::Command;

use serde_yaml_ng::Value;

/// Normal (non-dev, non-build) dependencies per workspace package, from
/// `cargo metadata` (JSON, which YAML parses).
fn normal_dependencies() -> Vec<(String, Vec<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_yaml_ng::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = metadata["packages"].as_sequence().expect("packages");
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().expect("name").to_owned();
            let deps = package["dependencies"]
                .as_sequence()
                .expect("dependencies")
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .map(|dep| dep["name"].as_str().expect("dependency name").to_owned())
                .collect();
            (name, deps)
        })
        .collect()
}

#[test]
fn no_library_depends_on_the_suite_or_the_cli() {
    let packages = normal_dependencies();
    let allowed_on_top = ["gossip-cli"];
    for (name, deps) in &packages {
        if allowed_on_top.contains(&name.as_str()) {
            continue;
        }
        for forbidden in ["gossip-suite", "gossip-cli"] {
            assert!(!deps.iter().any(|d| d == forbidden), "{name} depends on {forbidden}: {deps:?}");
        }
    }
    let host = packages.iter().find(|(name, _)| name == "gossip-host").expect("the embedding crate");
    assert!(host.1.iter().any(|d| d == "wasmtime"), "the check reads the real manifests: {:?}", host.1);
}

#[test]
fn the_core_crate_depends_on_no_other_workspace_crate() {
    let packages = normal_dependencies();
    let core = packages.iter().find(|(name, _)| name == "gossip-persistence").expect("the core crate");
    let workspace: Vec<&str> = packages.iter().map(|(name, _)| name.as_str()).collect();
    let inner: Vec<&String> = core.1.iter().filter(|d| workspace.contains(&d.as_str())).collect();
    assert!(inner.is_empty(), "gossip-persistence depends on {inner:?}");
}

/// Building the guests into components is one build step
/// (`gossip-artifacts`), which the embedding library does not own: it has no
/// build script and no normal dependency on the artifacts.
#[test]
fn the_embedding_library_owns_no_build_step() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_yaml_ng::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = metadata["packages"].as_sequence().expect("packages");
    let build_scripts: Vec<&str> = packages
        .iter()
        .filter(|package| {
            package["targets"]
                .as_sequence()
                .expect("targets")
                .iter()
                .any(|target| target["kind"].as_sequence().is_some_and(|k| k.iter().any(|k| k == "custom-build")))
        })
        .map(|package| package["name"].as_str().expect("name"))
        .collect();
    // gossip-feature-pin's build script is empty: it exists so that the
    // crate's build-dependencies take part in the build, pinning the features
    // of wasmtime's build scripts' and proc-macros' dependencies too.
    assert_eq!(build_scripts, ["gossip-artifacts", "gossip-feature-pin"], "only the artifacts crate builds wasm");
    let pin = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../host/feature-pin/build.rs"))
        .expect("the pin's build script");
    let code: Vec<&str> = pin.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")).collect();
    assert_eq!(code, ["fn main() {}"], "the pin's build script must do nothing");
    let host = normal_dependencies().into_iter().find(|(name, _)| name == "gossip-host").expect("the embedding crate");
    assert!(!host.1.iter().any(|d| d == "gossip-artifacts"), "gossip-host depends on the artifacts: {:?}", host.1);
}
