#!/usr/bin/env bash
# The shuttle harnesses: the production combiner, completion cells and
# store core under `--cfg shuttle`, with more threads than the loom models
# run, each under the random and the PCT scheduler for a fixed budget
# (SHUTTLE_ITERATIONS schedules per scheduler, default 5,000; SHUTTLE_SEED
# replays a search, and a failure prints a schedule `shuttle::replay`
# replays). Then the planted bug that shows why: `fourth_entry_lost` is
# caught by shuttle and missed by the loom harnesses.
#
# Only the two crates that use the sync shims are built (never the host or
# wasmtime), optimised, in their own target dir. Time budget: about 3
# minutes cold on 2 cores (shuttle's and the test dependencies' build), 20 s
# warm.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${SHUTTLE_TARGET_DIR:-target/shuttle}"
logs="$target/shuttle-logs"
wrappers="$PWD/$target/planted-wrappers"
mkdir -p "$logs" "$wrappers"
unset RUSTC_WORKSPACE_WRAPPER

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
quietly() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    echo "shuttle: failed: $* (log: $log)" >&2
    return 1
  fi
}

shuttle_test=(env CARGO_TARGET_DIR="$target" RUSTFLAGS="--cfg shuttle" cargo test --release --locked)
start=$(now)
for spec in gossip-exec:shuttle_combiner gossip-persistence:shuttle_store; do
  IFS=: read -r package harness <<<"$spec"
  log="$logs/$harness.log"
  t=$(now)
  quietly "$log" "${shuttle_test[@]}" -p "$package" --test "$harness" -- --test-threads=1 --nocapture
  echo "$harness ($(since "$t") s):"
  sed -n 's/^shuttle \(.*executions.*\)/    \1/p' "$log"
done

# The planted bug, compiled into the workspace crates only.
bug=fourth_entry_lost
wrapper="$wrappers/$bug"
printf '#!/bin/sh\nrustc="$1"; shift\nexec "$rustc" "$@" --cfg %s\n' "'shuttle_planted_bug=\"$bug\"'" >"$wrapper"
chmod +x "$wrapper"
log="$logs/planted-$bug.log"
RUSTC_WORKSPACE_WRAPPER="$wrapper" quietly "$log" \
  "${shuttle_test[@]}" -p gossip-exec --test shuttle_combiner -- --nocapture --exact planted_fourth_entry_lost_is_caught
grep -q "test planted_fourth_entry_lost_is_caught - should panic ... ok" "$log" \
  || { cat "$log"; echo "shuttle: the planted bug $bug was not caught" >&2; exit 1; }
echo "planted $bug: caught by shuttle ($(grep -m1 -o 'dropped without running' "$log"))"

# loom, bounded to two or three callers with one request each, misses it.
log="$logs/planted-$bug-loom.log"
RUSTC_WORKSPACE_WRAPPER="$wrapper" CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}" RUSTFLAGS="--cfg loom" quietly "$log" \
  cargo test --release --locked -p gossip-exec --test loom_priority_queue -- --test-threads=1
echo "planted $bug: missed by loom (loom_priority_queue: $(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log") passed with it planted)"

echo "shuttle suite passed in $(since "$start") s"
