#!/usr/bin/env bash
# Mutation testing of the in-memory stores against the conformance suite
# alone (docs/mutation.md). Every mutant of the files below is built and
# judged by one test target, tests/suite/tests/mutation_oracle.rs: the
# conformance suite on NativeBackend plus `check`'s short stormy simulation
# (4 seeds × 200 ops per store). The stores' own unit and property tests
# never run, so the score measures the suite's power, nothing else.
#
# usage: scripts/mutants.sh [--sample N] [--seed S] [--shard K/N] [--in-place] [--list] [-o DIR] [-- extra cargo-mutants args]
#   (no option)   every mutant of the listed files (about 400; hours on 2 cores)
#   --sample N    every mutant of the merge code (MERGE below) plus a seeded
#                 sample of N of the others, stratified so every file gets at
#                 least one (default seed 12; the same N and seed pick the
#                 same mutants)
#   --shard K/N   cargo-mutants' own slice of the (sampled) set
#   --in-place    mutate this tree and build in its target dir instead of a
#                 copy: reuses the workspace's build (minutes saved on a
#                 first run), but edits the sources while it runs, so only
#                 for a checkout that exists solely for testing, like CI's
#   --list        print the selected mutants and stop
#   -o DIR        output directory (default mutants.out)
# Needs cargo-mutants 27.1.0: cargo install cargo-mutants --locked --version 27.1.0
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=(
  guest/stores/src/done_ledger/record.rs
  guest/stores/src/done_ledger/mod.rs
  guest/stores/src/done_ledger/receipt.rs
  guest/stores/src/findings/records.rs
  guest/stores/src/findings/mod.rs
  guest/stores/src/findings/batch.rs
  guest/stores/src/store/core.rs
  guest/stores/src/store/done_ledger.rs
  guest/stores/src/store/findings.rs
  guest/stores/src/identity/derive.rs
  guest/stores/src/identity/hashing.rs
)

# Always run whole, even in a sample: the merge rules of docs/contract.md §4, §7.3.
MERGE=(
  guest/stores/src/done_ledger/record.rs
  guest/stores/src/done_ledger/mod.rs
  guest/stores/src/done_ledger/receipt.rs
  guest/stores/src/findings/mod.rs
)

sample="" seed=12 shard="" list=0 in_place=0 out=mutants.out extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sample) sample="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --shard) shard="$2"; shift 2 ;;
    --list) list=1; shift ;;
    --in-place) in_place=1; shift ;;
    -o) out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v cargo-mutants >/dev/null || {
  echo "cargo-mutants missing: cargo install cargo-mutants --locked --version 27.1.0" >&2; exit 2; }

file_args=()
for f in "${FILES[@]}"; do file_args+=(-f "$f"); done

common=(
  -p gossip-persistence "${file_args[@]}"
  --test-package gossip-suite
  --timeout 120 --minimum-test-timeout 60 --build-timeout 600
  --no-shuffle
  # cargo-mutants 27.1 runs its baseline on the *mutated* package's tests,
  # ignoring --test-package (lab.rs run_baseline); the mutants themselves do
  # run `cargo test --package=gossip-suite --test mutation_oracle` (check
  # any mutant's log under mutants.out/log). So skip its baseline and run
  # the oracle on the unmutated tree here instead.
  --baseline skip
  # Build and run the oracle binary only: a cargo arg reaches both the
  # build (`cargo test --no-run`) and the test phase, where args after `--`
  # would reach the test phase alone and every mutant would build all of
  # gossip-suite's test targets.
  --cargo-arg=--test=mutation_oracle
)

select_args=()
if [[ -n "$sample" ]]; then
  # A seeded, stratified sample: one mutant from every file first, then the
  # rest drawn at random, each turned into an anchored, escaped regex.
  names=$(cargo mutants --list "${common[@]}")
  regex=$(SAMPLE="$sample" SEED="$seed" MERGE="${MERGE[*]}" python3 -c '
import os, random, re, sys
names = [l for l in sys.stdin.read().splitlines() if l.strip()]
n, rng = int(os.environ["SAMPLE"]), random.Random(int(os.environ["SEED"]))
merge = set(os.environ["MERGE"].split())
whole = [m for m in names if m.split(":")[0] in merge]
by_file = {}
for name in names:
    if name.split(":")[0] not in merge:
        by_file.setdefault(name.split(":")[0], []).append(name)
picked = [rng.choice(sorted(v)) for _, v in sorted(by_file.items())]
rest = sorted(set(names) - set(picked) - set(whole))
rng.shuffle(rest)
picked += rest[: max(0, n - len(picked))] + whole
esc = lambda s: re.sub(r"([\\.+*?()|\[\]{}^$#&~-])", r"\\\1", s)
print("^(" + "|".join(esc(p) for p in sorted(picked)) + ")$")
' <<<"$names")
  select_args=(-F "$regex")
fi
[[ -n "$shard" ]] && select_args+=(--shard "$shard")

# cargo-mutants refuses --jobs together with --in-place (one tree, one job).
where_args=(--jobs 1)
[[ $in_place == 1 ]] && where_args=(--in-place)

if [[ $list == 1 ]]; then
  exec cargo mutants --list "${common[@]}" "${select_args[@]}"
fi

start=$(date +%s)
echo "mutants.sh: baseline: the oracle on the unmutated tree" >&2
cargo test -q -p gossip-suite --test mutation_oracle >&2
set +e
# Each mutant builds in cargo-mutants' own copy of the tree, with its own
# target dir, unless --in-place.
env -u CARGO_TARGET_DIR cargo mutants "${common[@]}" "${where_args[@]}" "${select_args[@]}" -o "$out" "${extra[@]}"
rc=$?
set -e
echo "mutants.sh: $(( $(date +%s) - start )) s; results in $out/mutants.out (caught.txt, missed.txt, unviable.txt, timeout.txt)"
# cargo-mutants exits 2 when mutants were missed, 3 on timeouts: a
# measurement, not a script failure.
[[ $rc == 0 || $rc == 2 || $rc == 3 ]] && exit 0
exit "$rc"
