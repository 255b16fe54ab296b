#!/usr/bin/env bash
# The Node host's test: installs the pinned jco (npm ci), builds the guest
# component if needed, transpiles it with jco, and runs the node:test suite
# in host/node against it (the same scenario the Rust host runs).
#
# Needs Node >= 20 and npm. Works from a fresh clone: the component comes
# from gossip-artifacts' build script, which builds every guest and depends
# on no wasmtime (so this never rebuilds the host).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
node_dir="$root/host/node"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
component="$target/components/gossip_persistence.wasm"
out="$target/node-host"

step() { printf '\n==> node host: %s\n' "$*"; }
fail() { printf 'node-test: %s\n' "$*" >&2; exit 1; }

step "prerequisites"
command -v node >/dev/null || fail "node is not installed (Node >= 20 is required)"
command -v npm >/dev/null || fail "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node >= 20 is required, found $(node --version)"
echo "node $(node --version), npm $(npm --version 2>/dev/null)"

step "jco (npm ci in host/node)"
pinned="$(node -p 'require(process.argv[1]).devDependencies["@bytecodealliance/jco"]' "$node_dir/package.json")"
installed_manifest="$node_dir/node_modules/@bytecodealliance/jco/package.json"
installed=""
if [ -f "$installed_manifest" ]; then
  installed="$(node -p 'require(process.argv[1]).version' "$installed_manifest")"
fi
# npm records what it installed in node_modules/.package-lock.json; a newer
# package-lock.json means the install is outdated.
if [ "$installed" != "$pinned" ] \
  || [ ! -f "$node_dir/node_modules/.package-lock.json" ] \
  || [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  (cd "$node_dir" && npm ci --no-audit --no-fund)
else
  echo "@bytecodealliance/jco $installed already installed"
fi
jco="$node_dir/node_modules/.bin/jco"
[ -x "$jco" ] || fail "npm ci did not install jco at $jco"

step "guest component"
# Cheap when up to date; rebuilds a component older than the guest sources.
(cd "$root" && cargo build --locked -q -p gossip-artifacts)
[ -f "$component" ] || fail "the gossip-artifacts build did not produce $component"
echo "$component"

step "transpile with jco $("$jco" --version)"
rm -rf "$out"
"$jco" transpile "$component" --name gossip_persistence --out-dir "$out" --no-typescript --quiet
[ -f "$out/gossip_persistence.js" ] || fail "jco produced no $out/gossip_persistence.js"
echo "$out"

step "node --test"
cd "$node_dir"
GOSSIP_NODE_HOST_DIR="$out" node --test scenario.test.mjs
