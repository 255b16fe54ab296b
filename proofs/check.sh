#!/usr/bin/env bash
# Machine-checks the Coq proofs in this directory.
#   1. compiles every .v file in dependency order (coqdep -sort) with
#      `coqc -Q . GossipProofs`, using only the Coq standard library;
#   2. fails if any .v file contains Admitted / admit / Axiom / Parameter
#      (or other ways of assuming things: Conjecture, Hypothesis, Variable);
#   3. runs `Print Assumptions` on every main theorem and fails unless each
#      one is "Closed under the global context".
# Usage: bash proofs/check.sh   (from anywhere)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

fail() {
  echo "check.sh: FAIL: $*" >&2
  exit 1
}

command -v coqc >/dev/null 2>&1 || fail "coqc not found (apt-get install coq)"
command -v coqdep >/dev/null 2>&1 || fail "coqdep not found (apt-get install coq)"

shopt -s nullglob
vfiles=(*.v)
shopt -u nullglob
[ "${#vfiles[@]}" -gt 0 ] || fail "no .v files found in $(pwd)"

# ---------------------------------------------------------------- 1. forbidden
# Checked first so that a stray `Admitted` is reported even if it compiles.
forbidden='Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture|Hypothesis|Hypotheses|Variable|Variables'
if grep -nwE "$forbidden" "${vfiles[@]}"; then
  fail "forbidden command(s) found above (one of: ${forbidden//|/, })"
fi

# ---------------------------------------------------------------- 2. compile
read -r -a order <<<"$(coqdep -sort -Q . GossipProofs "${vfiles[@]}")"
[ "${#order[@]}" -eq "${#vfiles[@]}" ] ||
  fail "coqdep -sort returned ${#order[@]} files, expected ${#vfiles[@]}"

for f in "${order[@]}"; do
  f="${f#./}"
  echo "coqc $f"
  coqc -Q . GossipProofs "$f" || fail "coqc $f"
done

# ---------------------------------------------------------------- 3. assumptions
# Module.theorem for every main result (see THEOREMS.md).
theorems=(
  StatusLattice.from_rank_rank
  StatusLattice.from_rank_none
  StatusLattice.from_rank_some_rank
  StatusLattice.rank_injective
  StatusLattice.status_merge_rank
  StatusLattice.status_merge_comm
  StatusLattice.status_merge_assoc
  StatusLattice.status_merge_idem
  StatusLattice.status_merge_lub
  StatusLattice.scanned_is_terminal
  StatusLattice.terminal_merge
  StatusLattice.scanned_merge
  RecordMerge.key_trichotomy
  RecordMerge.key_lt_irrefl
  RecordMerge.key_lt_trans
  RecordMerge.key_lt_asym
  RecordMerge.key_le_antisym
  RecordMerge.key_le_total
  RecordMerge.key_cmp_eq_iff
  RecordMerge.key_injective
  RecordMerge.merge_comm
  RecordMerge.merge_assoc
  RecordMerge.merge_idem
  RecordMerge.merge_preserves_valid
  RecordMerge.fold_merge_permutation_init
  RecordMerge.fold_merge_permutation
  RingBuf.init_inv
  RingBuf.init_refines
  RingBuf.push_inv
  RingBuf.pop_inv
  RingBuf.step_inv
  RingBuf.size_plus_free
  RingBuf.push_size
  RingBuf.pop_size
  RingBuf.push_full_fails
  RingBuf.pop_empty_fails
  RingBuf.step_push_full
  RingBuf.step_pop_empty
  RingBuf.push_succeeds
  RingBuf.pop_succeeds
  RingBuf.push_refines
  RingBuf.pop_refines
  RingBuf.ring_refines_queue
  RingBuf.fifo_order
  Countdown.try_take_false_iff
  Countdown.try_take_true_iff
  Countdown.try_take_checked_sub
  Countdown.takes_successes
  Countdown.takes_final
  Countdown.takes_success_prefix
  Countdown.take_on_zero_stays_zero
  Countdown.arm_then_takes
  Countdown.run_conservation
  Countdown.run_drained
  Countdown.run_then_enough_takes
  Heap.heap_ok_iff_children
  Heap.sift_up_fuel_enough
  Heap.sift_down_fuel_enough
  Heap.push_heap_ok
  Heap.push_perm
  Heap.pop_heap_ok
  Heap.pop_perm
  Heap.pop_returns_min
  Heap.pop_rest_ge
  Heap.pop_none_iff
  Heap.drain_sorted_perm
  Heap.of_list_heap_ok_perm
)

tmpdir="$(mktemp -d)"
trap 'rm -rf "$tmpdir"' EXIT
chk="$tmpdir/CheckAssumptions.v"

modules=()
for f in "${order[@]}"; do
  f="${f#./}"
  modules+=("${f%.v}")
done
{
  echo "From GossipProofs Require ${modules[*]}."
  for t in "${theorems[@]}"; do
    echo "Goal True. idtac \"CHECK $t\". Abort."
    echo "Print Assumptions $t."
  done
} >"$chk"

out="$(coqc -Q . GossipProofs "$chk" 2>&1)" || {
  echo "$out" >&2
  fail "Print Assumptions run failed"
}

bad="$(awk '
  /^CHECK / { if (cur != "" && !ok) print cur; cur = $2; ok = 0; next }
  /^Closed under the global context$/ { ok = 1; next }
  /Axioms:/ { ok = 0 }
  END { if (cur != "" && !ok) print cur }
' <<<"$out")"
n_checked="$(grep -c '^CHECK ' <<<"$out" || true)"
n_closed="$(grep -c '^Closed under the global context$' <<<"$out" || true)"

if [ -n "$bad" ] || [ "$n_checked" -ne "${#theorems[@]}" ] ||
   [ "$n_closed" -ne "${#theorems[@]}" ]; then
  echo "$out" >&2
  fail "not closed under the global context: ${bad:-<count mismatch>}"
fi

echo "OK: ${#order[@]} files compiled; ${#theorems[@]} main theorems closed under the global context."
