(* Countdown.v

   Models the fault-injection countdown counter of the Rust persistence
   layer (guest/stores/src/store/countdown.rs, `Countdown`):
   `fail_next_commits(n)` arms n failures (adds n to the counter) and
   every commit calls `try_take`, which decrements the counter if it is > 0
   (`checked_sub(1)`) and returns true ("inject a failure"), else returns
   false. The counters live in the store core's state behind its one mutex,
   so each operation is atomic and any interleaving of concurrent callers is
   a sequence of these operations, which is what the op-sequence theorems
   below quantify over. One difference: Rust's `arm` saturates at
   usize::MAX where the model's adds without bound (2^64 - 1 armed failures
   are never reached). The extracted `try_take` / `arm` are run against the
   production counter on random operation sequences
   (guest/stores/tests/extracted_models.rs, scripts/extraction.sh).

   Main results:
   - try_take_false_iff      : try_take fails exactly on 0 and then leaves 0
   - try_take_true_iff       : try_take succeeds exactly on S n', leaving n'
   - try_take_checked_sub    : try_take agrees with the checked_sub formulation
   - takes_successes         : from n, among k attempts exactly min n k succeed
   - takes_final             : after k attempts the counter is n - k
   - takes_success_prefix    : the successes are exactly the first min n k attempts
   - arm_then_takes          : arm m then k >= n+m attempts: exactly n+m successes
   - run_conservation        : for ANY sequence of arms and takes,
                               successes + final counter = initial + total armed
   - run_drained             : if the counter ends at 0, successes = initial + armed
*)

From Coq Require Import Arith Lia List Bool.
Import ListNotations.

Definition try_take (n : nat) : bool * nat :=
  match n with
  | 0 => (false, 0)
  | S m => (true, m)
  end.

Definition arm (n m : nat) : nat := n + m.

Theorem try_take_false_iff :
  forall n n', try_take n = (false, n') <-> n = 0 /\ n' = 0.
Proof.
  intros n n'. destruct n; simpl; split; intro H.
  - inversion H. auto.
  - destruct H; subst; reflexivity.
  - discriminate.
  - destruct H; discriminate.
Qed.

Theorem try_take_true_iff :
  forall n n', try_take n = (true, n') <-> n = S n'.
Proof.
  intros n n'. destruct n; simpl; split; intro H; try discriminate.
  - inversion H; reflexivity.
  - inversion H; reflexivity.
Qed.

(* Rust: `match self.0.checked_sub(1) { Some(rest) => { self.0 = rest; true } None => false }` *)
Definition checked_sub (a b : nat) : option nat :=
  if b <=? a then Some (a - b) else None.

Theorem try_take_checked_sub :
  forall n, try_take n =
            match checked_sub n 1 with
            | Some m => (true, m)
            | None => (false, n)
            end.
Proof.
  intros n. unfold checked_sub. destruct n as [|m]; simpl; [reflexivity|].
  rewrite Nat.sub_0_r. reflexivity.
Qed.

(* k consecutive attempts: the list of results and the final counter. *)
Fixpoint takes (k n : nat) : list bool * nat :=
  match k with
  | 0 => ([], n)
  | S k' => let (b, n1) := try_take n in
            let (bs, n2) := takes k' n1 in (b :: bs, n2)
  end.

Definition successes (bs : list bool) : nat := count_occ Bool.bool_dec bs true.

Theorem takes_length : forall k n, length (fst (takes k n)) = k.
Proof.
  induction k as [|k IH]; intros n; simpl; [reflexivity|].
  destruct n as [|m]; simpl;
    [ specialize (IH 0) | specialize (IH m) ];
    destruct (takes k _); simpl in *; congruence.
Qed.

Theorem takes_final : forall k n, snd (takes k n) = n - k.
Proof.
  induction k as [|k IH]; intros n; simpl; [lia|].
  destruct n as [|m]; simpl.
  - specialize (IH 0). destruct (takes k 0); simpl in *. lia.
  - specialize (IH m). destruct (takes k m); simpl in *. lia.
Qed.

Theorem takes_successes : forall k n, successes (fst (takes k n)) = Nat.min n k.
Proof.
  unfold successes.
  induction k as [|k IH]; intros n; simpl; [lia|].
  destruct n as [|m]; simpl.
  - specialize (IH 0). destruct (takes k 0); simpl in *. lia.
  - specialize (IH m). destruct (takes k m); simpl in *. lia.
Qed.

(* Moreover the successes come first: the result list is
   min n k times true followed by (k - n) times false. *)
Theorem takes_success_prefix :
  forall k n, fst (takes k n) = repeat true (Nat.min n k) ++ repeat false (k - n).
Proof.
  induction k as [|k IH]; intros n; simpl.
  - rewrite Nat.min_0_r. reflexivity.
  - destruct n as [|m]; simpl.
    + specialize (IH 0). destruct (takes k 0); simpl in *. rewrite IH.
      rewrite Nat.sub_0_r. reflexivity.
    + specialize (IH m). destruct (takes k m); simpl in *. rewrite IH. reflexivity.
Qed.

Theorem take_on_zero_stays_zero :
  forall k, takes k 0 = (repeat false k, 0).
Proof.
  induction k as [|k IH]; simpl; [reflexivity|]. rewrite IH. reflexivity.
Qed.

Theorem arm_then_takes :
  forall n m k, n + m <= k ->
  successes (fst (takes k (arm n m))) = n + m /\ snd (takes k (arm n m)) = 0.
Proof.
  intros n m k H. unfold arm. split.
  - rewrite takes_successes. lia.
  - rewrite takes_final. lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * Arbitrary interleavings of arm and take *)

Inductive op : Type :=
| Arm (m : nat)
| Take.

(* Returns (number of successful takes, final counter). *)
Fixpoint run (ops : list op) (n : nat) : nat * nat :=
  match ops with
  | [] => (0, n)
  | Arm m :: ops' => run ops' (arm n m)
  | Take :: ops' =>
      let (b, n1) := try_take n in
      let (s, n2) := run ops' n1 in ((if b then 1 else 0) + s, n2)
  end.

Fixpoint armed (ops : list op) : nat :=
  match ops with
  | [] => 0
  | Arm m :: ops' => m + armed ops'
  | Take :: ops' => armed ops'
  end.

Fixpoint attempts (ops : list op) : nat :=
  match ops with
  | [] => 0
  | Arm _ :: ops' => attempts ops'
  | Take :: ops' => S (attempts ops')
  end.

(* No injected failure is lost or invented. *)
Theorem run_conservation :
  forall ops n, fst (run ops n) + snd (run ops n) = n + armed ops.
Proof.
  induction ops as [|[m|] ops IH]; intros n; simpl.
  - lia.
  - rewrite IH. unfold arm. lia.
  - destruct n as [|p]; simpl.
    + specialize (IH 0). destruct (run ops 0); simpl in *. lia.
    + specialize (IH p). destruct (run ops p); simpl in *. lia.
Qed.

Theorem run_successes_le_attempts :
  forall ops n, fst (run ops n) <= attempts ops.
Proof.
  induction ops as [|[m|] ops IH]; intros n; simpl.
  - lia.
  - apply IH.
  - destruct n as [|p]; simpl.
    + specialize (IH 0). destruct (run ops 0); simpl in *. lia.
    + specialize (IH p). destruct (run ops p); simpl in *. lia.
Qed.

Theorem run_drained :
  forall ops n, snd (run ops n) = 0 -> fst (run ops n) = n + armed ops.
Proof.
  intros ops n H. pose proof (run_conservation ops n). lia.
Qed.

Lemma run_app :
  forall ops1 ops2 n,
  run (ops1 ++ ops2) n =
  (fst (run ops1 n) + fst (run ops2 (snd (run ops1 n))),
   snd (run ops2 (snd (run ops1 n)))).
Proof.
  induction ops1 as [|[m|] ops1 IH]; intros ops2 n; simpl.
  - destruct (run ops2 n); reflexivity.
  - apply IH.
  - destruct n as [|p]; simpl; rewrite IH;
      destruct (run ops1 _) as [s1 n1]; simpl;
      destruct (run ops2 n1); simpl; f_equal; lia.
Qed.

Lemma run_takes :
  forall k n, run (repeat Take k) n =
              (successes (fst (takes k n)), snd (takes k n)).
Proof.
  unfold successes.
  induction k as [|k IH]; intros n; simpl; [reflexivity|].
  destruct n as [|m]; simpl; rewrite IH;
    destruct (takes k _); simpl; reflexivity.
Qed.

(* Any history followed by enough attempts consumes every armed failure. *)
Theorem run_then_enough_takes :
  forall ops n k, snd (run ops n) <= k ->
  fst (run (ops ++ repeat Take k) n) = n + armed ops.
Proof.
  intros ops n k H.
  rewrite run_app, run_takes. simpl.
  rewrite takes_successes.
  pose proof (run_conservation ops n). lia.
Qed.
