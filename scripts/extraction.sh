#!/usr/bin/env bash
# The executable models: extracts the Coq models' operations to OCaml,
# builds the driver, runs the Rust differential tests against it, then shows
# each planted divergence makes them fail.
#
#   1. installs what is missing (coq, ocaml) with apt-get;
#   2. compiles proofs/*.v into target/extraction/coq (proofs/ is left alone)
#      and runs proofs/extraction/Extract.v there, writing the extracted .ml
#      files to target/extraction/ml (generated every run, never checked in);
#   3. compiles them with proofs/extraction/driver.ml into
#      target/extraction/driver;
#   4. runs guest/stores/tests/extracted_models.rs (status lattice, record
#      merge, countdown) and host/exec/tests/extracted_models.rs (ring, heap)
#      with GOSSIP_EXTRACTED_DRIVER set and GOSSIP_REQUIRE_EXTRACTION=1,
#      printing the sequences and operations compared per model;
#   5. builds each planted bug (`--cfg model_planted_bug="X"`, passed to the
#      workspace crates only through a per-bug RUSTC_WORKSPACE_WRAPPER, as
#      scripts/loom.sh does) and asserts its differential test FAILS with a
#      divergence report.
#
# Only gossip-persistence and gossip-exec are built, in their own target dir
# (EXTRACTION_TARGET_DIR, default target/extraction/cargo).
# Time: about 1.5 minutes warm on 2 cores (coqc ~10 s, driver ~1 s, tests
# ~10 s, the four planted-bug rebuilds most of the rest); a cold run first
# builds the two crates' dev-dependencies (several minutes).
# Knobs: GOSSIP_EXTRACTION_SEED, GOSSIP_EXTRACTION_SEQUENCES (default 2000
# per model), EXTRACTION_SKIP_PLANTED=1 (skip step 5).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  echo "extraction: FAIL: $*" >&2
  exit 1
}
start_all=$(now)

# ---------------------------------------------------------------- 1. tools
missing=()
command -v coqc >/dev/null 2>&1 || missing+=(coq)
{ command -v ocamlopt && command -v ocamldep; } >/dev/null 2>&1 || missing+=(ocaml)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)"
  sudo_=()
  [ "$(id -u)" -eq 0 ] || sudo_=(sudo)
  "${sudo_[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "coqc $(coqc --print-version | cut -d' ' -f1), ocamlopt $(ocamlopt -version)"

# ---------------------------------------------------------------- 2. extract
build="$root/target/extraction"
rm -rf "$build/coq" "$build/ml"
mkdir -p "$build/coq" "$build/ml" "$build/logs"
cp proofs/*.v "$build/coq/"
t=$(now)
(
  cd "$build/coq"
  read -r -a order <<<"$(coqdep -sort -Q . GossipProofs ./*.v)"
  for f in "${order[@]}"; do coqc -Q . GossipProofs "$f"; done
) || fail "compiling the models"
(cd "$build/ml" && coqc -Q "$build/coq" GossipProofs "$root/proofs/extraction/Extract.v") ||
  fail "extracting (proofs/extraction/Extract.v)"
# The extraction must stay free of hand-written realizers (see Extract.v).
if grep -nE '^[[:space:]]*(Extract[[:space:]]+(Inductive|Constant|Inlined)|(From[[:space:]]+[[:alnum:]_.]+[[:space:]]+)?Require[[:space:]]+((Import|Export)[[:space:]]+)?Extr[A-Z])' \
  proofs/extraction/Extract.v; then
  fail "Extract.v maps Coq types or constants to OCaml by hand (above); keep the extraction pure"
fi
echo "extracted $(ls "$build/ml"/*.ml | wc -l) OCaml modules in $(since "$t") s"

# ---------------------------------------------------------------- 3. driver
t=$(now)
cp proofs/extraction/driver.ml "$build/ml/"
(
  cd "$build/ml"
  read -r -a units <<<"$(ocamldep -sort ./*.mli ./*.ml)"
  # Extracted code has unused bindings and the like: warnings off for it,
  # on (and fatal) for the driver.
  generated=()
  for u in "${units[@]}"; do [ "$u" = ./driver.ml ] || generated+=("$u"); done
  ocamlopt -w -a -c "${generated[@]}"
  ocamlopt -w +a-4-9-40-41-42-44-45-70 -warn-error +a -c driver.ml
  cmx=()
  for u in "${units[@]}"; do case "$u" in *.ml) cmx+=("${u%.ml}.cmx") ;; esac; done
  ocamlopt -o "$build/driver" "${cmx[@]}"
) || fail "compiling the driver"
echo "built $build/driver in $(since "$t") s"

# ---------------------------------------------------------------- 4. differential tests
export CARGO_TARGET_DIR="${EXTRACTION_TARGET_DIR:-$build/cargo}"
export GOSSIP_EXTRACTED_DRIVER="$build/driver" GOSSIP_REQUIRE_EXTRACTION=1
unset RUSTC_WORKSPACE_WRAPPER
logs="$build/logs"
wrappers="$build/planted-wrappers"
mkdir -p "$wrappers"
cargo_test=(cargo test --locked --quiet)

# quietly LOG CMD...: runs CMD into LOG; on failure shows LOG and fails.
quietly() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    fail "$* (log: $log)"
  fi
}

# build PACKAGE LOG: the differential test of PACKAGE. The guest is also a
# cdylib, whose library file is not hashed per configuration, so it is
# rebuilt each time (as scripts/loom.sh does); its dependencies stay built.
build() {
  local package=$1 log=$2
  if [ "$package" = gossip-persistence ]; then
    quietly "$log.clean" cargo clean --quiet -p "$package"
  fi
  quietly "$log" "${cargo_test[@]}" -p "$package" --test extracted_models --no-run
}

t=$(now)
for package in gossip-persistence gossip-exec; do
  build "$package" "$logs/build-$package.log"
done
echo "built the differential tests in $(since "$t") s"
t=$(now)
for package in gossip-persistence gossip-exec; do
  log="$logs/test-$package.log"
  quietly "$log" "${cargo_test[@]}" -p "$package" --test extracted_models -- --nocapture --test-threads=2
  grep -q 'SKIPPED' "$log" && fail "a differential test skipped (log: $log)"
  sed -n 's/.*extracted-model \(.*\)/  \1/p; s/.*\(mutant countdown caught: .\{0,110\}\).*/  \1/p' "$log"
done
echo "differential tests passed in $(since "$t") s"

# ---------------------------------------------------------------- 5. planted bugs
if [ "${EXTRACTION_SKIP_PLANTED:-0}" = 1 ]; then
  echo "planted bugs skipped (EXTRACTION_SKIP_PLANTED=1)"
else
  # bug -> package:test
  planted=(status_merge_flipped flipped_tie_break ring_wrap_off_by_one heap_pop_without_swap)
  declare -A planted_test=(
    [status_merge_flipped]="gossip-persistence:status_merge_and_from_rank_match_the_extracted_model"
    [flipped_tie_break]="gossip-persistence:record_merge_matches_the_extracted_model"
    [ring_wrap_off_by_one]="gossip-exec:ring_push_pop_match_the_extracted_model"
    [heap_pop_without_swap]="gossip-exec:heap_push_pop_match_the_extracted_model"
  )
  for bug in "${planted[@]}"; do
    IFS=: read -r package test <<<"${planted_test[$bug]}"
    wrapper="$wrappers/$bug"
    printf '#!/bin/sh\n# Adds the planted bug to workspace crates only.\nrustc="$1"; shift\nexec "$rustc" "$@" --cfg %s\n' \
      "'model_planted_bug=\"$bug\"'" >"$wrapper"
    chmod +x "$wrapper"
    log="$logs/planted-$bug.log"
    t=$(now)
    RUSTC_WORKSPACE_WRAPPER="$wrapper" build "$package" "$log.build"
    if RUSTC_WORKSPACE_WRAPPER="$wrapper" "${cargo_test[@]}" -p "$package" --test extracted_models -- \
      --exact "$test" --nocapture >"$log" 2>&1; then
      cat "$log"
      fail "planted bug $bug: $test passed; the differential test did not catch it"
    fi
    grep -q 'diverges from the extracted model' "$log" || {
      cat "$log"
      fail "planted bug $bug: $test failed, but not with a divergence report"
    }
    where=$(grep -m1 -o '[a-z ]*: sequence [0-9]*, step [0-9]*: `[^`]*`' "$log" | cut -c1-90)
    echo "planted $bug: $test FAILS as it must ($(since "$t") s): $where"
  done
  # Leave the guest's library built without a planted bug.
  quietly "$logs/clean-after.log" cargo clean --quiet -p gossip-persistence
fi

echo "extraction suite passed in $(since "$start_all") s"
