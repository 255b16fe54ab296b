#!/usr/bin/env bash
# Runs every test of the project: installs what is missing, then the Rust
# workspace tests (which include the rivet traceability check and the
# composed-worker test), the Node host's test through jco, the loom model
# checks, and the Coq proofs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "prerequisites"
rustup target add wasm32-unknown-unknown >/dev/null
if ! command -v coqc >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends coq) >/dev/null
fi

step "workspace tests (native stores, component, conformance, simulation)"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
cargo test --workspace --locked 2>&1 | tee "$results"

step "Node host (jco transpile, node --test)"
scripts/node-test.sh

if [ -x scripts/loom.sh ]; then
  step "loom model checks"
  scripts/loom.sh
fi

if [ -f proofs/check.sh ]; then
  step "Coq proofs"
  bash proofs/check.sh
fi

# One closing line over every cargo test binary (loom and Coq above fail the
# script on their own if anything is wrong).
awk '/^test result:/ { p += $4; f += $6 } END { printf "\nsummary: %d passed, %d failed\n", p, f }' "$results"
