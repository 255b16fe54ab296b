//! Builds the guest (and the broken test fixture) for `wasm32-unknown-unknown`
//! with a nested cargo, then encodes each core module into a component with
//! `wit-component`, so a fresh clone needs no manual step and no CLI install.
//!
//! The nested build has its own target directory (sharing the outer one
//! would block forever on cargo's build-directory lock) and an environment
//! stripped of the outer build's flags and wrappers (`--cfg loom`, clippy,
//! coverage, a native `--target`) which must not leak into the wasm build.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (package, library file stem) of every component this crate bundles.
const COMPONENTS: [(&str, &str); 2] =
    [("gossip-persistence", "gossip_persistence"), ("gossip-broken-guest", "gossip_broken_guest")];

const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let workspace = manifest_dir.parent().ok_or("host crate has no parent directory")?.to_path_buf();
    for watched in ["wit", "guest/src", "guest/Cargo.toml", "Cargo.lock", "Cargo.toml", "host/fixtures/broken-guest"] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }

    let target_root = env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    let target_root = if target_root.is_absolute() { target_root } else { workspace.join(target_root) };
    let nested_target = target_root.join("guest-wasm");
    build_wasm(&workspace, &nested_target)?;

    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let published = target_root.join("components");
    fs::create_dir_all(&published).map_err(|e| format!("cannot create {}: {e}", published.display()))?;
    for (package, stem) in COMPONENTS {
        let module_path = nested_target.join(WASM_TARGET).join("release").join(format!("{stem}.wasm"));
        let module = fs::read(&module_path).map_err(|e| format!("cannot read {}: {e}", module_path.display()))?;
        let component = encode(&module).map_err(|e| format!("cannot encode {package} as a component: {e:#}"))?;
        let file = format!("{stem}.wasm");
        write_atomically(&out_dir.join(&file), &component)?;
        let stable = published.join(&file);
        write_atomically(&stable, &component)?;
        let var = format!("GOSSIP_COMPONENT_{}", stem.to_uppercase());
        println!("cargo:rustc-env={var}={}", stable.display());
    }
    Ok(())
}

fn build_wasm(workspace: &Path, nested_target: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--release", "--locked", "--lib", "--target", WASM_TARGET, "--target-dir"])
        .arg(nested_target);
    for (package, _) in COMPONENTS {
        cmd.args(["-p", package]);
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
    let status = cmd.status().map_err(|e| format!("cannot run cargo for the wasm guest: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the wasm guest failed ({status}); is the target installed? `rustup target add {WASM_TARGET}`"
        ))
    }
}

fn encode(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default().module(module)?.validate(true).encode()
}

/// Another build (debug and release hosts, a bench) may write the same file
/// concurrently: write a sibling and rename it over the target.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension(format!("wasm.{}.tmp", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("cannot move {} into place: {e}", path.display()))
}
