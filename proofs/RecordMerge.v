(* RecordMerge.v

   Models the done-ledger record merge of the Rust persistence layer
   (`merge(existing, incoming)` on ledger records: status join, byte count,
   findings count, provenance and error code), i.e. the lattice merge used
   to combine ledger entries coming from different runs / shards.

   A record has a status, a byte count, a findings count, a provenance
   tuple (finished, started, fence : u64 ~ nat; run, shard : u64 read as
   i64 ~ Z) and an optional error code (bytes; None for scanned records).
   The "winner" of a merge is the record with the lexicographically larger
   tuple (rank status, finished, started, fence, run, shard, code bytes);
   the incoming record wins only when its tuple is STRICTLY greater.

   Main results:
   - key_lt_irrefl, key_lt_trans, key_lt_asym, key_trichotomy,
     key_cmp_eq_iff, key_le_antisym, key_le_total
                         : the tuple comparison is a strict total order
   - key_injective       : for valid records, equal tuples imply equal
                           status, provenance and code (so ties are harmless)
   - merge_comm          : valid a -> valid b -> merge a b = merge b a
   - merge_assoc         : merge a (merge b c) = merge (merge a b) c (valid a b c)
   - merge_idem          : valid a -> merge a a = a
   - merge_preserves_valid : valid a -> valid b -> valid (merge a b)
   - fold_merge_permutation : folding merge over any permutation of a
                           nonempty list of valid records gives the same record
*)

From Coq Require Import Arith Lia List Bool ZArith Sorting.Permutation.
From GossipProofs Require Import StatusLattice.
Import ListNotations.

(* ------------------------------------------------------------------ *)
(** * Generic lexicographic comparisons *)

(* A comparison function that is a total order: [Eq] exactly on equal
   arguments, antisymmetric, and transitive on [Lt]. *)
Definition cmp_spec {A : Type} (c : A -> A -> comparison) : Prop :=
  (forall x y, c x y = Eq <-> x = y) /\
  (forall x y, c y x = CompOpp (c x y)) /\
  (forall x y z, c x y = Lt -> c y z = Lt -> c x z = Lt).

Definition lex (c1 c2 : comparison) : comparison :=
  match c1 with
  | Eq => c2
  | c => c
  end.

Definition pair_cmp {A B : Type} (cA : A -> A -> comparison)
  (cB : B -> B -> comparison) (p q : A * B) : comparison :=
  lex (cA (fst p) (fst q)) (cB (snd p) (snd q)).

Lemma pair_cmp_spec :
  forall (A B : Type) (cA : A -> A -> comparison) (cB : B -> B -> comparison),
  cmp_spec cA -> cmp_spec cB -> cmp_spec (pair_cmp cA cB).
Proof.
  intros A B cA cB [EA [SA TA]] [EB [SB TB]].
  unfold pair_cmp, lex.
  split; [| split].
  - intros [a1 b1] [a2 b2]; simpl. split.
    + intro H. destruct (cA a1 a2) eqn:E; try discriminate.
      apply EA in E. apply EB in H. subst. reflexivity.
    + intro H. inversion H; subst.
      assert (cA a2 a2 = Eq) as ->. { apply EA. reflexivity. }
      apply EB. reflexivity.
  - intros [a1 b1] [a2 b2]; simpl.
    rewrite (SA a1 a2), (SB b1 b2).
    destruct (cA a1 a2); reflexivity.
  - intros [a1 b1] [a2 b2] [a3 b3]; simpl. intros H1 H2.
    destruct (cA a1 a2) eqn:E12; try discriminate;
    destruct (cA a2 a3) eqn:E23; try discriminate.
    + apply EA in E12; apply EA in E23; subst.
      assert (cA a3 a3 = Eq) as ->. { apply EA. reflexivity. }
      eauto.
    + apply EA in E12; subst. rewrite E23. reflexivity.
    + apply EA in E23; subst. rewrite E12. reflexivity.
    + rewrite (TA _ _ _ E12 E23). reflexivity.
Qed.

Lemma nat_cmp_spec : cmp_spec Nat.compare.
Proof.
  split; [| split].
  - apply Nat.compare_eq_iff.
  - intros. apply Nat.compare_antisym.
  - intros x y z H1 H2. rewrite Nat.compare_lt_iff in *. lia.
Qed.

Lemma Z_cmp_spec : cmp_spec Z.compare.
Proof.
  split; [| split].
  - apply Z.compare_eq_iff.
  - intros. apply Z.compare_antisym.
  - intros x y z H1 H2. rewrite Z.compare_lt_iff in *. lia.
Qed.

(* Lexicographic comparison of byte strings; a proper prefix is smaller
   (this is Rust's `Ord` for `[u8]` / `Vec<u8>`). *)
Fixpoint list_cmp (l1 l2 : list nat) : comparison :=
  match l1, l2 with
  | [], [] => Eq
  | [], _ :: _ => Lt
  | _ :: _, [] => Gt
  | x :: xs, y :: ys => lex (Nat.compare x y) (list_cmp xs ys)
  end.

Lemma list_cmp_spec : cmp_spec list_cmp.
Proof.
  destruct nat_cmp_spec as [EA [SA TA]].
  split; [| split].
  - induction x as [|a xs IH]; destruct y as [|b ys]; simpl;
      split; intro H; try discriminate; try reflexivity.
    + unfold lex in H. destruct (Nat.compare a b) eqn:E; try discriminate.
      apply EA in E. apply IH in H. subst. reflexivity.
    + inversion H; subst. rewrite Nat.compare_refl. simpl. apply IH. reflexivity.
  - induction x as [|a xs IH]; destruct y as [|b ys]; simpl; try reflexivity.
    unfold lex. rewrite (SA a b), (IH ys). destruct (Nat.compare a b); reflexivity.
  - induction x as [|a xs IH]; destruct y as [|b ys]; destruct z as [|c zs];
      simpl; intros H1 H2; try discriminate; try reflexivity.
    unfold lex in *.
    destruct (Nat.compare a b) eqn:E12; try discriminate;
    destruct (Nat.compare b c) eqn:E23; try discriminate.
    + apply EA in E12; apply EA in E23; subst.
      rewrite Nat.compare_refl. eauto.
    + apply EA in E12; subst. rewrite E23. reflexivity.
    + apply EA in E23; subst. rewrite E12. reflexivity.
    + rewrite (TA _ _ _ E12 E23). reflexivity.
Qed.

(* ------------------------------------------------------------------ *)
(** * Records *)

Record provenance : Type := mkProv {
  finished : nat;
  started : nat;
  fence : nat;
  run : Z;     (* u64 reinterpreted as i64 *)
  shard : Z    (* u64 reinterpreted as i64 *)
}.

Record ledger_record : Type := mkRecord {
  st : status;
  bytes : nat;
  count : nat;                   (* findings count *)
  pv : provenance;
  code : option (list nat)       (* error code bytes; None when scanned *)
}.

Definition valid (r : ledger_record) : Prop :=
  match st r with
  | ScannedClean => count r = 0 /\ code r = None
  | ScannedWithFindings => count r > 0 /\ code r = None
  | _ => code r <> None
  end.

Definition code_bytes (c : option (list nat)) : list nat :=
  match c with
  | None => []
  | Some b => b
  end.

(* The winner tuple (rank, finished, started, fence, run, shard, code). *)
Definition key_t : Type :=
  (nat * (nat * (nat * (nat * (Z * (Z * list nat))))))%type.

Definition key (r : ledger_record) : key_t :=
  (rank (st r),
   (finished (pv r),
    (started (pv r),
     (fence (pv r),
      (run (pv r),
       (shard (pv r),
        code_bytes (code r))))))).

Definition key_cmp : key_t -> key_t -> comparison :=
  pair_cmp Nat.compare
   (pair_cmp Nat.compare
     (pair_cmp Nat.compare
       (pair_cmp Nat.compare
         (pair_cmp Z.compare
           (pair_cmp Z.compare list_cmp))))).

Lemma key_cmp_spec : cmp_spec key_cmp.
Proof.
  unfold key_cmp.
  repeat apply pair_cmp_spec;
    auto using nat_cmp_spec, Z_cmp_spec, list_cmp_spec.
Qed.

Definition key_lt (k1 k2 : key_t) : Prop := key_cmp k1 k2 = Lt.

(** ** The tuple order is a strict total order *)

Theorem key_cmp_eq_iff : forall k1 k2, key_cmp k1 k2 = Eq <-> k1 = k2.
Proof. destruct key_cmp_spec as [E _]. exact E. Qed.

Theorem key_cmp_antisym : forall k1 k2, key_cmp k2 k1 = CompOpp (key_cmp k1 k2).
Proof. destruct key_cmp_spec as [_ [S _]]. exact S. Qed.

Theorem key_lt_irrefl : forall k, ~ key_lt k k.
Proof.
  intros k H. unfold key_lt in H.
  assert (key_cmp k k = Eq) by (apply key_cmp_eq_iff; reflexivity).
  congruence.
Qed.

Theorem key_lt_trans : forall k1 k2 k3, key_lt k1 k2 -> key_lt k2 k3 -> key_lt k1 k3.
Proof. destruct key_cmp_spec as [_ [_ T]]. exact T. Qed.

Theorem key_lt_asym : forall k1 k2, key_lt k1 k2 -> ~ key_lt k2 k1.
Proof.
  unfold key_lt. intros k1 k2 H H'.
  rewrite key_cmp_antisym, H in H'. discriminate.
Qed.

Theorem key_trichotomy :
  forall k1 k2, key_lt k1 k2 \/ k1 = k2 \/ key_lt k2 k1.
Proof.
  unfold key_lt. intros k1 k2.
  destruct (key_cmp k1 k2) eqn:E.
  - right; left. apply key_cmp_eq_iff. exact E.
  - left. reflexivity.
  - right; right. rewrite key_cmp_antisym, E. reflexivity.
Qed.

Definition key_le (k1 k2 : key_t) : Prop := key_lt k1 k2 \/ k1 = k2.

Theorem key_le_antisym : forall k1 k2, key_le k1 k2 -> key_le k2 k1 -> k1 = k2.
Proof.
  intros k1 k2 [H1|H1] [H2|H2]; auto.
  exfalso. apply (key_lt_asym k1 k2); assumption.
Qed.

Theorem key_le_total : forall k1 k2, key_le k1 k2 \/ key_le k2 k1.
Proof.
  intros k1 k2. unfold key_le.
  destruct (key_trichotomy k1 k2) as [H|[H|H]]; auto.
Qed.

Lemma key_cmp_gt_lt : forall k1 k2, key_cmp k1 k2 = Gt <-> key_lt k2 k1.
Proof.
  unfold key_lt. intros k1 k2. rewrite (key_cmp_antisym k1 k2).
  destruct (key_cmp k1 k2); simpl; split; congruence.
Qed.

Lemma key_not_lt_trans :
  forall a b c, ~ key_lt a b -> ~ key_lt b c -> ~ key_lt a c.
Proof.
  intros a b c H1 H2 H3.
  destruct (key_trichotomy b c) as [H|[H|H]].
  - contradiction.
  - subst. contradiction.
  - apply H1. eapply key_lt_trans; eassumption.
Qed.

(* The rank is the first component: a greater tuple has a rank >= *)
Lemma key_cmp_gt_rank :
  forall k1 k2, key_cmp k1 k2 = Gt -> fst k2 <= fst k1.
Proof.
  intros [r1 x1] [r2 x2]. unfold key_cmp, pair_cmp, lex. simpl.
  destruct (Nat.compare_spec r1 r2); try discriminate; lia.
Qed.

Lemma key_cmp_not_gt_rank :
  forall k1 k2, key_cmp k1 k2 <> Gt -> fst k1 <= fst k2.
Proof.
  intros [r1 x1] [r2 x2]. unfold key_cmp, pair_cmp, lex. simpl.
  destruct (Nat.compare_spec r1 r2); intros; try lia; congruence.
Qed.

(* ------------------------------------------------------------------ *)
(** * The merge *)

Definition incoming_wins (e i : ledger_record) : bool :=
  match key_cmp (key i) (key e) with
  | Gt => true
  | _ => false
  end.

(* Findings count contributed by a record: only ScannedWithFindings counts. *)
Definition fcount (r : ledger_record) : nat :=
  match st r with
  | ScannedWithFindings => count r
  | _ => 0
  end.

Definition merge_count (s : status) (e i : ledger_record) : nat :=
  match s with
  | ScannedClean => 0
  | ScannedWithFindings => Nat.max 1 (Nat.max (fcount e) (fcount i))
  | _ => Nat.max (count e) (count i)
  end.

Definition merge_code (s : status) (w l : ledger_record) : option (list nat) :=
  if is_scanned s then None
  else match code w with
       | Some c => Some c
       | None => code l
       end.

Definition merge (e i : ledger_record) : ledger_record :=
  let s := status_merge (st e) (st i) in
  let w := if incoming_wins e i then i else e in
  let l := if incoming_wins e i then e else i in
  {| st := s;
     bytes := Nat.max (bytes e) (bytes i);
     count := merge_count s e i;
     pv := pv w;
     code := merge_code s w l |}.

(* ------------------------------------------------------------------ *)
(** * Invariant preservation *)

Lemma valid_not_scanned_code :
  forall r, valid r -> is_scanned (st r) = false -> code r <> None.
Proof.
  intros [s b c p cd]; unfold valid; simpl; destruct s; simpl; intros; auto;
    discriminate.
Qed.

Lemma valid_scanned_code :
  forall r, valid r -> is_scanned (st r) = true -> code r = None.
Proof.
  intros [s b c p cd]; unfold valid; simpl; destruct s; simpl; intros H Hs;
    try discriminate; tauto.
Qed.

Lemma not_scanned_merge_l :
  forall a b, is_scanned (status_merge a b) = false -> is_scanned a = false.
Proof.
  intros a b H. destruct (is_scanned a) eqn:E; auto.
  rewrite scanned_merge in H; auto.
Qed.

Lemma not_scanned_merge_r :
  forall a b, is_scanned (status_merge a b) = false -> is_scanned b = false.
Proof.
  intros a b H. destruct (is_scanned b) eqn:E; auto.
  rewrite scanned_merge in H; auto.
Qed.

Theorem merge_preserves_valid :
  forall a b, valid a -> valid b -> valid (merge a b).
Proof.
  intros a b Ha Hb.
  unfold valid at 1. unfold merge. simpl.
  remember (status_merge (st a) (st b)) as s eqn:Hs.
  destruct s; unfold merge_count, merge_code; simpl.
  all: try (split; [ reflexivity | reflexivity ]).
  all: try (split; [ destruct (Nat.max (fcount a) (fcount b)); lia
                   | reflexivity ]).
  all: assert (Hns : is_scanned (status_merge (st a) (st b)) = false)
         by (rewrite <- Hs; reflexivity).
  all: pose proof (valid_not_scanned_code a Ha (not_scanned_merge_l _ _ Hns)) as Ca.
  all: pose proof (valid_not_scanned_code b Hb (not_scanned_merge_r _ _ Hns)) as Cb.
  all: destruct (incoming_wins a b);
         [ destruct (code b); [discriminate | exact Ca]
         | destruct (code a); [discriminate | exact Cb] ].
Qed.

(* ------------------------------------------------------------------ *)
(** * Structure of the merge of valid records *)

Definition kmax (ke ki : key_t) : key_t :=
  match key_cmp ki ke with
  | Gt => ki
  | _ => ke
  end.

Lemma kmax_lt : forall x y, key_lt x y -> kmax x y = y.
Proof.
  intros x y H. unfold kmax.
  assert (key_cmp y x = Gt) as -> by (apply key_cmp_gt_lt; exact H).
  reflexivity.
Qed.

Lemma kmax_not_lt : forall x y, ~ key_lt x y -> kmax x y = x.
Proof.
  intros x y H. unfold kmax.
  destruct (key_cmp y x) eqn:E; auto.
  apply key_cmp_gt_lt in E. contradiction.
Qed.

Lemma kmax_comm : forall x y, kmax x y = kmax y x.
Proof.
  intros x y.
  destruct (key_trichotomy x y) as [H|[H|H]].
  - rewrite (kmax_lt _ _ H), (kmax_not_lt y x); auto using key_lt_asym.
  - subst. reflexivity.
  - rewrite (kmax_lt _ _ H), (kmax_not_lt x y); auto using key_lt_asym.
Qed.

Lemma kmax_assoc : forall x y z, kmax x (kmax y z) = kmax (kmax x y) z.
Proof.
  intros x y z.
  destruct (key_trichotomy x y) as [Hxy|Hxy'].
  - rewrite (kmax_lt x y Hxy).
    destruct (key_trichotomy y z) as [Hyz|Hyz'].
    + rewrite (kmax_lt y z Hyz), (kmax_lt x z (key_lt_trans _ _ _ Hxy Hyz)).
      reflexivity.
    + assert (~ key_lt y z) as Hyz
        by (destruct Hyz' as [->|H]; auto using key_lt_irrefl, key_lt_asym).
      rewrite (kmax_not_lt y z Hyz), (kmax_lt x y Hxy). reflexivity.
  - assert (~ key_lt x y) as Hxy
      by (destruct Hxy' as [->|H]; auto using key_lt_irrefl, key_lt_asym).
    rewrite (kmax_not_lt x y Hxy).
    destruct (key_trichotomy y z) as [Hyz|Hyz'].
    + rewrite (kmax_lt y z Hyz). reflexivity.
    + assert (~ key_lt y z) as Hyz
        by (destruct Hyz' as [->|H]; auto using key_lt_irrefl, key_lt_asym).
      rewrite (kmax_not_lt y z Hyz), (kmax_not_lt x y Hxy),
              (kmax_not_lt x z (key_not_lt_trans _ _ _ Hxy Hyz)).
      reflexivity.
Qed.

(* For valid inputs, status, provenance and code of the merge are exactly
   those of the winner. *)
Lemma merge_winner_fields :
  forall a b, valid a -> valid b ->
  let w := if incoming_wins a b then b else a in
  st (merge a b) = st w /\ pv (merge a b) = pv w /\ code (merge a b) = code w.
Proof.
  intros a b Ha Hb w.
  assert (Hst : status_merge (st a) (st b) = st w).
  { subst w. unfold incoming_wins, status_merge.
    destruct (key_cmp (key b) (key a)) eqn:E.
    - assert (fst (key b) <= fst (key a))
        by (apply key_cmp_not_gt_rank; congruence).
      simpl in H. destruct (rank (st a) <? rank (st b)) eqn:L; auto.
      apply Nat.ltb_lt in L. lia.
    - assert (fst (key b) <= fst (key a))
        by (apply key_cmp_not_gt_rank; congruence).
      simpl in H. destruct (rank (st a) <? rank (st b)) eqn:L; auto.
      apply Nat.ltb_lt in L. lia.
    - apply key_cmp_gt_rank in E. simpl in E.
      destruct (rank (st a) <? rank (st b)) eqn:L; auto.
      apply Nat.ltb_ge in L. apply rank_injective. lia. }
  assert (Hw : valid w) by (subst w; destruct (incoming_wins a b); auto).
  unfold merge. simpl. fold w. rewrite Hst.
  split; [reflexivity | split; [reflexivity |]].
  unfold merge_code.
  destruct (is_scanned (st w)) eqn:Hs.
  - symmetry. apply valid_scanned_code; auto.
  - pose proof (valid_not_scanned_code w Hw Hs).
    destruct (code w); [reflexivity | congruence].
Qed.

Lemma key_merge :
  forall a b, valid a -> valid b -> key (merge a b) = kmax (key a) (key b).
Proof.
  intros a b Ha Hb.
  destruct (merge_winner_fields a b Ha Hb) as [H1 [H2 H3]].
  unfold key at 1. rewrite H1, H2, H3.
  unfold kmax, incoming_wins.
  destruct (key_cmp (key b) (key a)); reflexivity.
Qed.

(* On valid records the tuple determines status, provenance and code;
   in particular an exact tie means the same provenance and code. *)
Theorem key_injective :
  forall a b, valid a -> valid b -> key a = key b ->
  st a = st b /\ pv a = pv b /\ code a = code b.
Proof.
  intros [sa ba ca [fa sta fea ra sha] da] [sb bb cb [fb stb feb rb shb] db]
         Ha Hb H.
  unfold key in H; simpl in H. inversion H as [[Hr Hf Hs Hfe Hru Hsh Hc]].
  apply rank_injective in Hr. subst.
  simpl. split; [reflexivity | split; [reflexivity |]].
  destruct (is_scanned sb) eqn:Hsc.
  - pose proof (valid_scanned_code _ Ha Hsc) as Ca.
    pose proof (valid_scanned_code _ Hb Hsc) as Cb.
    simpl in Ca, Cb. congruence.
  - pose proof (valid_not_scanned_code _ Ha Hsc) as Ca.
    pose proof (valid_not_scanned_code _ Hb Hsc) as Cb.
    simpl in Ca, Cb.
    destruct da, db; simpl in Hc; congruence.
Qed.

Lemma record_eq :
  forall a b, st a = st b -> bytes a = bytes b -> count a = count b ->
  pv a = pv b -> code a = code b -> a = b.
Proof.
  intros [] [] H1 H2 H3 H4 H5; simpl in *; subst; reflexivity.
Qed.

Lemma merge_count_comm :
  forall s a b, merge_count s a b = merge_count s b a.
Proof.
  intros s a b. unfold merge_count.
  destruct s; try reflexivity; lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * Lattice laws *)

Theorem merge_comm :
  forall a b, valid a -> valid b -> merge a b = merge b a.
Proof.
  intros a b Ha Hb.
  assert (Hk : key (merge a b) = key (merge b a)).
  { rewrite !key_merge by assumption. apply kmax_comm. }
  destruct (key_injective _ _ (merge_preserves_valid a b Ha Hb)
              (merge_preserves_valid b a Hb Ha) Hk) as [H1 [H2 H3]].
  apply record_eq; auto.
  - simpl. apply Nat.max_comm.
  - simpl. rewrite status_merge_comm. apply merge_count_comm.
Qed.

Theorem merge_idem : forall a, valid a -> merge a a = a.
Proof.
  intros a Ha.
  destruct (merge_winner_fields a a Ha Ha) as [H1 [H2 H3]].
  destruct (incoming_wins a a); apply record_eq; auto;
    simpl; try apply Nat.max_id;
    rewrite status_merge_idem; unfold merge_count, fcount;
    unfold valid in Ha; destruct (st a); lia.
Qed.

Lemma fcount_merge :
  forall a b, valid a -> valid b ->
  fcount (merge a b) =
  match status_merge (st a) (st b) with
  | ScannedWithFindings => Nat.max (fcount a) (fcount b)
  | _ => 0
  end.
Proof.
  intros a b Ha Hb. unfold fcount at 1, merge. simpl.
  unfold merge_count.
  destruct (status_merge (st a) (st b)) eqn:E; try reflexivity.
  unfold fcount. unfold valid in Ha, Hb.
  destruct (st a), (st b); simpl in E; try discriminate; lia.
Qed.

Lemma merge_count_assoc :
  forall a b c, valid a -> valid b -> valid c ->
  merge_count (status_merge (st a) (status_merge (st b) (st c))) a (merge b c) =
  merge_count (status_merge (status_merge (st a) (st b)) (st c)) (merge a b) c.
Proof.
  intros a b c Ha Hb Hc.
  rewrite <- status_merge_assoc.
  unfold merge_count.
  rewrite !fcount_merge by assumption.
  change (count (merge a b)) with (merge_count (status_merge (st a) (st b)) a b).
  change (count (merge b c)) with (merge_count (status_merge (st b) (st c)) b c).
  unfold merge_count, fcount.
  destruct (st a), (st b), (st c); cbn -[Nat.max]; lia.
Qed.

Theorem merge_assoc :
  forall a b c, valid a -> valid b -> valid c ->
  merge a (merge b c) = merge (merge a b) c.
Proof.
  intros a b c Ha Hb Hc.
  pose proof (merge_preserves_valid a b Ha Hb) as Hab.
  pose proof (merge_preserves_valid b c Hb Hc) as Hbc.
  assert (Hk : key (merge a (merge b c)) = key (merge (merge a b) c)).
  { rewrite !key_merge by assumption. apply kmax_assoc. }
  destruct (key_injective _ _ (merge_preserves_valid a _ Ha Hbc)
              (merge_preserves_valid _ c Hab Hc) Hk) as [H1 [H2 H3]].
  apply record_eq; auto.
  - simpl. apply Nat.max_assoc.
  - simpl. apply merge_count_assoc; assumption.
Qed.

(* ------------------------------------------------------------------ *)
(** * Convergence: folding in any order gives the same record *)

Lemma merge_right_comm :
  forall a x y, valid a -> valid x -> valid y ->
  merge (merge a x) y = merge (merge a y) x.
Proof.
  intros a x y Ha Hx Hy.
  rewrite <- (merge_assoc a x y), <- (merge_assoc a y x) by assumption.
  rewrite (merge_comm x y) by assumption. reflexivity.
Qed.

Lemma fold_merge_valid :
  forall l a, Forall valid l -> valid a -> valid (fold_left merge l a).
Proof.
  induction l as [|x l IH]; intros a Hl Ha; simpl; auto.
  inversion Hl; subst. apply IH; auto. apply merge_preserves_valid; auto.
Qed.

(* Folding from a fixed (valid) initial record: order does not matter. *)
Theorem fold_merge_permutation_init :
  forall l1 l2 a, Permutation l1 l2 -> Forall valid l1 -> valid a ->
  fold_left merge l1 a = fold_left merge l2 a.
Proof.
  intros l1 l2 a HP. revert a.
  induction HP as [| x l1 l2 HP IH | x y l | l1 l2 l3 HP1 IH1 HP2 IH2];
    intros a Hl Ha; simpl.
  - reflexivity.
  - inversion Hl; subst. apply IH; auto. apply merge_preserves_valid; auto.
  - inversion Hl as [|? ? Hy Hl']; subst. inversion Hl' as [|? ? Hx Hl'']; subst.
    rewrite merge_right_comm by assumption. reflexivity.
  - rewrite (IH1 a Hl Ha). apply IH2; auto.
    eapply Permutation_Forall; eassumption.
Qed.

Lemma fold_merge_pull :
  forall l a b, Forall valid l -> valid a -> valid b ->
  fold_left merge l (merge a b) = merge (fold_left merge l a) b.
Proof.
  induction l as [|x l IH]; intros a b Hl Ha Hb; simpl; auto.
  inversion Hl; subst.
  rewrite merge_right_comm by assumption.
  apply IH; auto. apply merge_preserves_valid; auto.
Qed.

Lemma fold_merge_absorb :
  forall l a x, Forall valid l -> valid a -> In x l ->
  merge (fold_left merge l a) x = fold_left merge l a.
Proof.
  induction l as [|z l IH]; intros a x Hl Ha Hin; simpl in *.
  - contradiction.
  - inversion Hl; subst.
    destruct Hin as [<- | Hin].
    + rewrite <- fold_merge_pull by (auto; apply merge_preserves_valid; auto).
      rewrite <- merge_assoc, merge_idem by auto.
      reflexivity.
    + apply IH; auto. apply merge_preserves_valid; auto.
Qed.

(* Main convergence theorem: the ledger state obtained by folding merge
   over a nonempty list of valid records does not depend on the order. *)
Theorem fold_merge_permutation :
  forall x xs y ys,
  Forall valid (x :: xs) ->
  Permutation (x :: xs) (y :: ys) ->
  fold_left merge xs x = fold_left merge ys y.
Proof.
  intros x xs y ys Hl HP.
  assert (Hl2 : Forall valid (y :: ys)) by (eapply Permutation_Forall; eassumption).
  inversion Hl as [|? ? Hx Hxs]; subst.
  inversion Hl2 as [|? ? Hy Hys]; subst.
  (* fold_left merge xs x = fold_left merge (x :: xs) x by idempotence *)
  transitivity (fold_left merge (x :: xs) x).
  { simpl. rewrite merge_idem by assumption. reflexivity. }
  rewrite (fold_merge_permutation_init _ _ x HP Hl Hx).
  simpl. rewrite merge_comm by assumption.
  rewrite fold_merge_pull by assumption.
  (* x occurs in y :: ys, so it is absorbed *)
  assert (Hin : In x (y :: ys)) by (eapply Permutation_in; [exact HP | left; reflexivity]).
  destruct Hin as [<- | Hin].
  - rewrite <- fold_merge_pull, merge_idem by assumption. reflexivity.
  - apply fold_merge_absorb; auto.
Qed.
