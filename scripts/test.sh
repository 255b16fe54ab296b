#!/usr/bin/env bash
# Runs every test of the project: installs what is missing, starts a
# throwaway PostgreSQL cluster (unless GOSSIP_POSTGRES_URL names a server),
# then the Rust workspace tests (which include the rivet traceability check,
# the composed-worker test and the PostgreSQL backend's tests), the Node
# host's test through jco, the loom model checks, the shuttle harnesses, and
# the Coq proofs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "prerequisites"
rustup target add wasm32-unknown-unknown >/dev/null
if ! command -v coqc >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends coq) >/dev/null
fi
# The gossip-postgres tests run against a real server (~30 s to install).
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15) >/dev/null
fi
if [ -z "${GOSSIP_POSTGRES_URL:-}" ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  step "PostgreSQL (a throwaway cluster for this run)"
  eval "$(scripts/postgres.sh start --watch $$)"
  echo "GOSSIP_POSTGRES_URL=$GOSSIP_POSTGRES_URL"
fi

# Work that needs nothing from the workspace build runs beside it at the
# lowest priority, on whatever the build and the tests leave idle of the
# cores (2 in CI): cargo-mutants' install (~3 min alone) and the Coq proofs
# (~1 min alone). Each one's output is shown at its step below.
results="$(mktemp)"
beside="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$results" "$beside"' EXIT
declare -A beside_pid=()
start_beside() {
  local name=$1
  shift
  nice -n 19 "$@" >"$beside/$name.log" 2>&1 &
  beside_pid[$name]=$!
}
finish_beside() {
  local name=$1 started
  started=$(date +%s)
  if ! wait "${beside_pid[$name]}"; then
    cat "$beside/$name.log"
    echo "test.sh: $name failed" >&2
    exit 1
  fi
  cat "$beside/$name.log"
  echo "($name: waited $(( $(date +%s) - started )) s for it here)"
}
if [ -x scripts/mutants.sh ] && ! command -v cargo-mutants >/dev/null; then
  start_beside cargo-mutants-install cargo install --quiet --locked cargo-mutants --version 27.1.0
fi
if [ -f proofs/check.sh ]; then
  start_beside coq-proofs bash proofs/check.sh
fi

step "workspace tests (native stores, component, conformance, simulation)"
cargo test --workspace --locked 2>&1 | tee "$results"

step "one wasmtime build (single packages reuse the workspace's)"
scripts/one-wasmtime.sh

step "Node host (jco transpile, node --test)"
scripts/node-test.sh

if [ -x scripts/loom.sh ]; then
  step "loom model checks"
  scripts/loom.sh
fi

if [ -x scripts/extraction.sh ]; then
  step "extracted Coq models against the Rust (differential)"
  GOSSIP_REQUIRE_EXTRACTION=1 scripts/extraction.sh
fi

if [ -x scripts/shuttle.sh ]; then
  step "shuttle randomized concurrency checks"
  scripts/shuttle.sh
fi

if [ -x scripts/mutants.sh ]; then
  # A sampled slice of the mutation measurement (docs/mutation.md): about 4
  # mutants of the merge code judged by the conformance suite alone. Time:
  # cargo-mutants' install ran beside the build; the slice mutates this
  # tree in place (a checkout that exists for testing) and so reuses the
  # workspace's build: ~1-2 min, where a copy's first build took ~5.
  step "mutation slice (cargo-mutants, conformance suite as the only test)"
  [ -n "${beside_pid[cargo-mutants-install]:-}" ] && finish_beside cargo-mutants-install
  scripts/mutants.sh --sample 0 --shard 1/16 --in-place -o target/mutants-slice
  for outcome in caught missed timeout unviable; do
    printf '%s %s\n' "$outcome" "$(wc -l <target/mutants-slice/mutants.out/$outcome.txt)"
  done
fi

if [ -f proofs/check.sh ]; then
  step "Coq proofs (checked beside the build)"
  finish_beside coq-proofs
fi

# One closing line over every cargo test binary (loom and Coq above fail the
# script on their own if anything is wrong).
awk '/^test result:/ { p += $4; f += $6 } END { printf "\nsummary: %d passed, %d failed\n", p, f }' "$results"
