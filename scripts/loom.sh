#!/usr/bin/env bash
# The loom model checks: every harness on the production code under
# `--cfg loom`, then each planted bug, which its own `#[should_panic]` test
# must catch. Only the crates that use loom are built (never the host or
# wasmtime), optimised, in their own target dir; bounds are set in code.
#
# A planted bug is compiled in with `--cfg loom_planted_bug="X"`, passed to
# the workspace crates only (through a per-bug RUSTC_WORKSPACE_WRAPPER,
# which cargo hashes into their artifacts), so loom and its dependencies are
# built once for all configurations.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
export RUSTFLAGS="--cfg loom"
unset LOOM_MAX_PREEMPTIONS RUSTC_WORKSPACE_WRAPPER # bounds are set in code
cargo_test=(cargo test --release --locked)
logs="$CARGO_TARGET_DIR/loom-logs"
wrappers="$PWD/$CARGO_TARGET_DIR/planted-wrappers"
mkdir -p "$logs" "$wrappers"

packages=(gossip-persistence gossip-exec)
declare -A harnesses=(
  [gossip-persistence]="loom_store"
  [gossip-exec]="loom_atomic loom_ring_buf loom_priority_queue"
)
# bug -> package:harness:test ...
planted=(notify_one no_recheck relaxed_publish racy_claim lost_wakeup)
declare -A planted_tests=(
  [notify_one]="gossip-persistence:loom_store:planted_notify_one_is_caught"
  [no_recheck]="gossip-persistence:loom_store:planted_no_recheck_is_caught"
  [relaxed_publish]="gossip-exec:loom_atomic:planted_relaxed_publish_in_completion_is_caught gossip-exec:loom_ring_buf:planted_relaxed_publish_in_ring_is_caught"
  [racy_claim]="gossip-exec:loom_ring_buf:planted_racy_claim_is_caught"
  [lost_wakeup]="gossip-exec:loom_priority_queue:planted_lost_wakeup_is_caught"
)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
passed() { sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$1" | tail -1; }

# quietly LOG CMD...: runs CMD into LOG; on failure shows LOG and fails.
quietly() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    echo "loom: failed: $* (log: $log)" >&2
    return 1
  fi
}

# build PACKAGE LOG: every harness of PACKAGE, selected exactly as the runs
# select it, so the runs reuse these artifacts.
build() {
  local package=$1 log=$2 args=() h
  for h in ${harnesses[$package]}; do args+=(--test "$h"); done
  # The guest is also a cdylib, so its library has one unhashed file for
  # every configuration and cargo may take another configuration's file
  # for fresh: rebuild it each time (its dependencies stay built).
  if [ "$package" = gossip-persistence ]; then
    quietly "$log.clean" cargo clean --release --quiet -p "$package"
  fi
  quietly "$log" "${cargo_test[@]}" -p "$package" "${args[@]}" --no-run
}

start_all=$(now)
t=$(now)
for package in "${packages[@]}"; do build "$package" "$logs/build-$package.log"; done
echo "built the loom harnesses in $(since "$t") s"

printf '\n%-22s %6s %14s %9s\n' harness tests interleavings seconds
for package in "${packages[@]}"; do
  for harness in ${harnesses[$package]}; do
    log="$logs/$harness.log"
    t=$(now)
    quietly "$log" "${cargo_test[@]}" -p "$package" --test "$harness" -- --test-threads=1 --nocapture
    seconds=$(since "$t")
    interleavings=$(sed -n 's/.*loom-model [a-z_]*: \([0-9]*\) interleavings.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    printf '%-22s %6s %14s %9s\n' "$harness" "$(passed "$log")" "$interleavings" "$seconds"
    sed -n 's/.*loom-model \(.*\)/    \1/p' "$log"
  done
done

echo
for bug in "${planted[@]}"; do
  wrapper="$wrappers/$bug"
  printf '#!/bin/sh\n# Adds the planted bug to workspace crates only.\nrustc="$1"; shift\nexec "$rustc" "$@" --cfg %s\n' \
    "'loom_planted_bug=\"$bug\"'" >"$wrapper"
  chmod +x "$wrapper"
  for spec in ${planted_tests[$bug]}; do
    IFS=: read -r package harness test <<<"$spec"
    log="$logs/planted-$bug-$test.log"
    t=$(now)
    RUSTC_WORKSPACE_WRAPPER="$wrapper" build "$package" "$log.build"
    RUSTC_WORKSPACE_WRAPPER="$wrapper" quietly "$log" \
      "${cargo_test[@]}" -p "$package" --test "$harness" -- --test-threads=1 --nocapture --exact "$test"
    if [ "$(passed "$log")" != 1 ]; then
      cat "$log"
      echo "loom: planted bug $bug: $test did not run" >&2
      exit 1
    fi
    how=$(sed -n 's/.*\(planted bug caught.*\)/\1/p' "$log" | head -1 | cut -c1-150)
    echo "planted $bug: $harness::$test ($(since "$t") s): $how"
  done
done

echo
echo "loom suite passed in $(since "$start_all") s"
