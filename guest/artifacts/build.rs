//! Builds the wasm crates (the guest store, twice: with and without its
//! `testing` export; the broken test fixture; the example scanning worker)
//! for `wasm32-unknown-unknown` with nested cargo builds, encodes each core
//! module into a component with `wit-component`, and plugs the store into
//! the worker with `wac-graph`, so a fresh clone needs no manual step and no
//! CLI install.
//!
//! The nested builds share a target directory of their own (sharing the
//! outer one would block forever on cargo's build-directory lock) and run
//! in an environment stripped of the outer build's flags and wrappers
//! (`--cfg loom`, clippy, coverage, a native `--target`) which must not
//! leak into the wasm build.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// One nested cargo build.
struct WasmBuild {
    /// What it builds, for its error messages.
    what: &'static str,
    /// Every component it yields.
    components: &'static [WasmComponent],
    features: &'static [&'static str],
}

/// One library a nested build compiles, and the component it becomes.
struct WasmComponent {
    package: &'static str,
    /// The library's file stem (`<stem>.wasm` in the build's release directory).
    library: &'static str,
    /// The component's name: `<name>.wasm` in `OUT_DIR` and
    /// `<target>/components`, and the `GOSSIP_COMPONENT_<NAME>` variable
    /// holding the latter's path.
    name: &'static str,
}

/// The bundled store: the guest with `component,testing`, exporting `world
/// testable-store`.
const STORE: &str = "gossip_persistence";
/// The example worker alone, importing `world store-user`.
const WORKER: &str = "gossip_scanning_worker";

/// Three builds, one per feature set, since cargo unifies a package's
/// features across one build. They run one after another in one target
/// directory (`NESTED_TARGET`), so wit-bindgen's macro stack and the other
/// dependencies compile once, not three times (~40 s of a cold build). The
/// wasm crates' cdylib and rlib file names carry no feature hash, though, so
/// each build would overwrite the last one's files and cargo could take the
/// other feature set's file for its own: before every build those files are
/// removed (`forget_unhashed`), which makes cargo compile these crates again
/// with the build's own features, and each module is read before the next
/// build starts.
///
/// The guest is built twice, because it is two components: with
/// `component,testing` it is the bundled store (`world testable-store`: the
/// stores plus the `testing` machinery the conformance suite and the plugged
/// worker's host drive), and with `component` alone it is
/// `gossip_persistence_store_only`, the fixture of a store exporting only the
/// worker-facing `world store`. The worker links the guest as a plain
/// library, without `component` (which would make it export the store), so
/// it gets a third build.
const BUILDS: [WasmBuild; 3] = [
    WasmBuild {
        what: "the store with `testing`, and the test fixtures",
        components: &[
            WasmComponent { package: "gossip-persistence", library: "gossip_persistence", name: STORE },
            WasmComponent {
                package: "gossip-broken-guest",
                library: "gossip_broken_guest",
                name: "gossip_broken_guest",
            },
            WasmComponent { package: "gossip-hostile-guest", library: "gossip_hostile_guest", name: HOSTILE },
        ],
        // Cargo enables a plain feature name on every selected package
        // that declares it (only the guest does); the `package/feature`
        // form is silently ignored here.
        features: &["component", "testing"],
    },
    WasmBuild {
        what: "the store alone",
        components: &[WasmComponent {
            package: "gossip-persistence",
            library: "gossip_persistence",
            name: "gossip_persistence_store_only",
        }],
        features: &["component"],
    },
    WasmBuild {
        what: "the example worker",
        components: &[WasmComponent {
            package: "gossip-scanning-worker",
            library: "gossip_scanning_worker",
            name: WORKER,
        }],
        features: &[],
    },
];

/// The hostile fixture's module, stamped once per misbehaviour: its data
/// holds `MARKER` exactly once, and each component gets a copy of the module
/// with the marker's mode name (padded with `_`) rewritten; see
/// `guest/fixtures/hostile-guest/src/mode.rs`.
const HOSTILE: &str = "gossip_hostile_guest";
const MARKER: &[u8] = b"gossip-hostile-mode:none________";
const HOSTILE_MODES: [&str; 8] =
    ["spin-read", "spin-submit", "never-done", "grow-memory", "huge-lists", "short-lists", "lying", "trap-drop"];

/// The worker with the store plugged in.
const PLUGGED_WORKER: &str = "scanning_worker_with_store";

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The nested builds' shared target directory, under the outer one.
const NESTED_TARGET: &str = "guest-wasm";

/// Every wasm library whose output file names carry no feature hash: the
/// packages with a `cdylib` (their `rlib` loses the hash too).
const UNHASHED: [&str; 4] =
    ["gossip_persistence", "gossip_broken_guest", "gossip_hostile_guest", "gossip_scanning_worker"];

fn main() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let workspace = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("the artifacts crate sits two levels below the workspace root")?
        .to_path_buf();
    for watched in [
        "wit",
        "guest/stores/src",
        "guest/stores/Cargo.toml",
        "Cargo.lock",
        "Cargo.toml",
        "guest/fixtures",
        "examples/scanning-worker",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }

    let target_root = env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    let target_root = if target_root.is_absolute() { target_root } else { workspace.join(target_root) };
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let published = target_root.join("components");
    fs::create_dir_all(&published).map_err(|e| format!("cannot create {}: {e}", published.display()))?;
    let publish = |stem: &str, component: &[u8]| -> Result<(), String> {
        let file = format!("{stem}.wasm");
        write_atomically(&out_dir.join(&file), component)?;
        let stable = published.join(&file);
        write_atomically(&stable, component)?;
        let var = format!("GOSSIP_COMPONENT_{}", stem.to_uppercase());
        println!("cargo:rustc-env={var}={}", stable.display());
        Ok(())
    };

    let mut encoded = Vec::new();
    let nested_target = target_root.join(NESTED_TARGET);
    // Another outer build (debug and release hosts, a bench) may run this
    // script at the same time: hold the directory from the first removal
    // to the last module read, or one could read the other's feature set.
    fs::create_dir_all(&nested_target).map_err(|e| format!("cannot create {}: {e}", nested_target.display()))?;
    let lock_path = nested_target.join("gossip-artifacts.lock");
    let lock = fs::File::create(&lock_path).map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock().map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    for build in &BUILDS {
        forget_unhashed(&nested_target)?;
        build_wasm(&workspace, &nested_target, build)?;
        for built in build.components {
            let module_path = nested_target.join(WASM_TARGET).join("release").join(format!("{}.wasm", built.library));
            let module = fs::read(&module_path).map_err(|e| format!("cannot read {}: {e}", module_path.display()))?;
            if built.name == HOSTILE {
                for mode in HOSTILE_MODES {
                    let stamped = stamp(&module, mode)?;
                    let component = encode(&stamped)
                        .map_err(|e| format!("cannot encode {} ({mode}) as a component: {e:#}", built.package))?;
                    publish(&format!("gossip_hostile_{}", mode.replace('-', "_")), &component)?;
                }
                continue;
            }
            let component =
                encode(&module).map_err(|e| format!("cannot encode {} as a component: {e:#}", built.package))?;
            publish(built.name, &component)?;
            encoded.push((built.name, component));
        }
    }

    let component = |stem: &str| {
        encoded.iter().find(|(s, _)| *s == stem).map(|(_, c)| c.clone()).ok_or(format!("{stem} was not built"))
    };
    let plugged = plug_store(component(STORE)?, component(WORKER)?)
        .map_err(|e| format!("cannot plug the store into the scanning worker: {e:#}"))?;
    publish(PLUGGED_WORKER, &plugged)
}

fn build_wasm(workspace: &Path, nested_target: &Path, build: &WasmBuild) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--locked", "--lib", "--target", WASM_TARGET, "--target-dir"])
        .arg(nested_target);
    for built in build.components {
        cmd.args(["-p", built.package]);
    }
    if !build.features.is_empty() {
        cmd.args(["--features", &build.features.join(",")]);
    }
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = matches!(
            key,
            "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO_TARGET_DIR"
        ) || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_PROFILE_");
        if leaks {
            cmd.env_remove(key);
        }
    }
    // One codegen unit and LTO make the component smaller and its calls
    // faster; the wasm build is small enough for this to cost little.
    cmd.env("CARGO_PROFILE_RELEASE_LTO", "true").env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    let status = cmd.status().map_err(|e| format!("cannot run cargo for the wasm crates: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the wasm crates ({}) failed ({status}); is the target installed? `rustup target add {WASM_TARGET}`",
            build.what
        ))
    }
}

/// Removes the files another feature set of the wasm crates may have left
/// under the names this build writes, so cargo must rebuild them.
fn forget_unhashed(nested_target: &Path) -> Result<(), String> {
    let release = nested_target.join(WASM_TARGET).join("release");
    for dir in [release.join("deps"), release] {
        for stem in UNHASHED {
            for file in [format!("{stem}.wasm"), format!("lib{stem}.rlib")] {
                let path = dir.join(file);
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(format!("cannot remove {}: {e}", path.display()));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// The hostile module with its mode marker rewritten to `mode` (same
/// length, so the module stays valid byte for byte elsewhere).
fn stamp(module: &[u8], mode: &str) -> Result<Vec<u8>, String> {
    let at: Vec<usize> =
        module.windows(MARKER.len()).enumerate().filter(|(_, w)| *w == MARKER).map(|(i, _)| i).collect();
    let [at] = at[..] else {
        return Err(format!("the hostile fixture holds its mode marker {} times, not once", at.len()));
    };
    let prefix = b"gossip-hostile-mode:".len();
    let mut name = mode.as_bytes().to_vec();
    if name.len() > MARKER.len() - prefix {
        return Err(format!("hostile mode name `{mode}` is longer than the marker's room"));
    }
    name.resize(MARKER.len() - prefix, b'_');
    let mut stamped = module.to_vec();
    stamped[at + prefix..at + MARKER.len()].copy_from_slice(&name);
    Ok(stamped)
}

fn encode(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default().module(module)?.validate(true).encode()
}

/// The store's test machinery, which the plugged worker re-exports.
const STORE_TESTING: &str = "gossip:persistence/testing@0.2.0";

/// One component holding an instance of the store whose exports satisfy
/// every import of an instance of the worker, and exporting what the worker
/// exports, so it imports nothing. (`wac_graph::plug` does the wiring, but
/// neither reports an import it left open nor exports the store's
/// interfaces below.)
///
/// It also re-exports every interface of the store instance, in the store's
/// order (`world testable-store`): `types`, because a component may only
/// export functions whose named types it has already exported (or
/// imported), and the worker's functions take and return the store's
/// records; `testing`, so a host can reach the stores the worker constructed
/// (`live-controllers`) to delay writes and inject faults; and `done-ledger`
/// and `findings`, whose resources `testing`'s functions take (a world that
/// exports an interface either exports its dependencies too or imports them,
/// and this component imports nothing). The worker itself imports only
/// `done-ledger` and `findings` (and their `types`).
fn plug_store(store: Vec<u8>, worker: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let store = Package::from_bytes("gossip:persistence", None, store, graph.types_mut())?;
    let store = graph.register_package(store)?;
    let worker = Package::from_bytes("gossip:scanning-worker", None, worker, graph.types_mut())?;
    let worker = graph.register_package(worker)?;
    let names = |package: wac_graph::PackageId, imports: bool| {
        let world = &graph.types()[graph[package].ty()];
        let items = if imports { &world.imports } else { &world.exports };
        items.keys().cloned().collect::<Vec<_>>()
    };
    let (needed, offered) = (names(worker, true), names(worker, false));
    let store_exports = names(store, false);
    anyhow::ensure!(
        store_exports.iter().any(|name| name == STORE_TESTING),
        "the store does not export `{STORE_TESTING}`; it exports {store_exports:?}"
    );

    let store_instance = graph.instantiate(store);
    let worker_instance = graph.instantiate(worker);
    for name in &needed {
        let export = graph
            .alias_instance_export(store_instance, name)
            .map_err(|e| anyhow::anyhow!("the store does not export `{name}`, which the worker imports: {e}"))?;
        // Type-checks the store's export against the worker's import.
        graph.set_instantiation_argument(worker_instance, name, export)?;
    }
    for name in &store_exports {
        let export = graph.alias_instance_export(store_instance, name)?;
        graph.export(export, name)?;
    }
    for name in &offered {
        let export = graph.alias_instance_export(worker_instance, name)?;
        graph.export(export, name)?;
    }
    Ok(graph.encode(EncodeOptions::default())?)
}

/// Another build (debug and release hosts, a bench) may write the same file
/// concurrently: write a sibling and rename it over the target.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension(format!("wasm.{}.tmp", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("cannot move {} into place: {e}", path.display()))
}
