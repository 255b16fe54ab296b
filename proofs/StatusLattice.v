(* StatusLattice.v

   Models the done-ledger status type of the Rust persistence layer
   (the `Status` enum with its `rank()` / `from_rank()` encoding and the
   status join used by the ledger's lattice merge).

   Ranks: FailedRetryable=1, FailedPermanent=2, Skipped=3,
          ScannedClean=10, ScannedWithFindings=11.

   Main results:
   - from_rank_rank        : from_rank (rank s) = Some s
   - from_rank_none        : from_rank n = None for every n not in {1,2,3,10,11}
   - from_rank_some_rank   : from_rank n = Some s -> rank s = n
   - rank_injective        : rank is injective
   - status_merge_comm / status_merge_assoc / status_merge_idem
   - status_merge_rank     : rank (status_merge a b) = max (rank a) (rank b)
   - status_merge_upper_l / status_merge_upper_r / status_merge_lub
                           : status_merge is the least upper bound w.r.t. rank
   - scanned_is_terminal   : every scanned status is terminal
   - terminal_merge        : merging with a terminal status stays terminal
*)

From Coq Require Import Arith Lia Bool.

Inductive status : Type :=
| FailedRetryable
| FailedPermanent
| Skipped
| ScannedClean
| ScannedWithFindings.

Definition rank (s : status) : nat :=
  match s with
  | FailedRetryable => 1
  | FailedPermanent => 2
  | Skipped => 3
  | ScannedClean => 10
  | ScannedWithFindings => 11
  end.

Definition from_rank (n : nat) : option status :=
  match n with
  | 1 => Some FailedRetryable
  | 2 => Some FailedPermanent
  | 3 => Some Skipped
  | 10 => Some ScannedClean
  | 11 => Some ScannedWithFindings
  | _ => None
  end.

Theorem from_rank_rank : forall s, from_rank (rank s) = Some s.
Proof. destruct s; reflexivity. Qed.

Theorem from_rank_none :
  forall n, n <> 1 -> n <> 2 -> n <> 3 -> n <> 10 -> n <> 11 ->
  from_rank n = None.
Proof.
  intros n H1 H2 H3 H10 H11.
  do 12 (destruct n as [|n]; [ first [reflexivity | congruence] | ]).
  reflexivity.
Qed.

Theorem from_rank_some_rank :
  forall n s, from_rank n = Some s -> rank s = n.
Proof.
  intros n s H.
  do 12 (destruct n as [|n]; [ simpl in H; try discriminate; inversion H; reflexivity | ]).
  discriminate.
Qed.

Theorem rank_injective : forall a b, rank a = rank b -> a = b.
Proof.
  intros a b H.
  assert (Some a = Some b) as E.
  { rewrite <- (from_rank_rank a), <- (from_rank_rank b), H. reflexivity. }
  inversion E; reflexivity.
Qed.

Theorem rank_pos : forall s, 1 <= rank s.
Proof. destruct s; simpl; lia. Qed.

(* The join: keep the status with the higher rank; [a] on a tie. *)
Definition status_merge (a b : status) : status :=
  if rank a <? rank b then b else a.

Theorem status_merge_rank :
  forall a b, rank (status_merge a b) = Nat.max (rank a) (rank b).
Proof.
  intros a b. unfold status_merge.
  destruct (Nat.ltb_spec (rank a) (rank b)); lia.
Qed.

Lemma status_merge_either :
  forall a b, status_merge a b = a \/ status_merge a b = b.
Proof.
  intros a b. unfold status_merge.
  destruct (rank a <? rank b); auto.
Qed.

(* rank is injective, so the merge is determined by the rank of its result;
   the lattice laws follow from those of max. *)
Theorem status_merge_comm : forall a b, status_merge a b = status_merge b a.
Proof.
  intros a b. apply rank_injective.
  rewrite !status_merge_rank. lia.
Qed.

Theorem status_merge_assoc :
  forall a b c,
    status_merge a (status_merge b c) = status_merge (status_merge a b) c.
Proof.
  intros a b c. apply rank_injective.
  rewrite !status_merge_rank. lia.
Qed.

Theorem status_merge_idem : forall a, status_merge a a = a.
Proof.
  intros a. apply rank_injective. rewrite status_merge_rank. lia.
Qed.

Theorem status_merge_upper_l : forall a b, rank a <= rank (status_merge a b).
Proof. intros. rewrite status_merge_rank. lia. Qed.

Theorem status_merge_upper_r : forall a b, rank b <= rank (status_merge a b).
Proof. intros. rewrite status_merge_rank. lia. Qed.

Theorem status_merge_lub :
  forall a b c, rank a <= rank c -> rank b <= rank c ->
  rank (status_merge a b) <= rank c.
Proof. intros. rewrite status_merge_rank. lia. Qed.

Definition is_terminal (s : status) : bool :=
  match s with
  | FailedRetryable => false
  | _ => true
  end.

Definition is_scanned (s : status) : bool :=
  match s with
  | ScannedClean | ScannedWithFindings => true
  | _ => false
  end.

Theorem scanned_is_terminal :
  forall s, is_scanned s = true -> is_terminal s = true.
Proof. destruct s; simpl; congruence. Qed.

Theorem terminal_iff_rank :
  forall s, is_terminal s = true <-> 2 <= rank s.
Proof. destruct s; simpl; split; intros; try lia; congruence. Qed.

Theorem scanned_iff_rank :
  forall s, is_scanned s = true <-> 10 <= rank s.
Proof. destruct s; simpl; split; intros; try lia; congruence. Qed.

(* Terminality and scanned-ness are upward closed, so the merge never
   "un-finishes" an entry. *)
Theorem terminal_merge :
  forall a b, is_terminal a = true \/ is_terminal b = true ->
  is_terminal (status_merge a b) = true.
Proof.
  intros a b H. apply terminal_iff_rank. rewrite status_merge_rank.
  destruct H as [H|H]; apply terminal_iff_rank in H; lia.
Qed.

Theorem scanned_merge :
  forall a b, is_scanned a = true \/ is_scanned b = true ->
  is_scanned (status_merge a b) = true.
Proof.
  intros a b H. apply scanned_iff_rank. rewrite status_merge_rank.
  destruct H as [H|H]; apply scanned_iff_rank in H; lia.
Qed.
