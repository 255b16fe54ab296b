(* Heap.v

   Models the array binary min-heap of gossip-exec (host/exec/src/heap.rs,
   `Heap<K, V>`: a `Vec<(K, V)>` ordered by key alone, with its own
   `sift_up` / `sift_down`; not itself concurrent: the combiner uses it
   under its lock):
   - push x : append x at the end, then sift_up from the last index, moving
              up while strictly smaller than the parent;
   - pop    : swap the root with the last element, remove the last element
              (the old root), sift_down from index 0, descending to the right
              child only when it is strictly smaller than the left
              (`min_child`) and only while that child is strictly smaller,
              return the old root.

   Keys are modelled as nat with its total order and values are left out
   (they ride along with their key).  The combiner's keys are (class : u8,
   arrival stamp : u64) pairs compared lexicographically (type `Key` in
   host/exec/src/combiner.rs); (c, s) |-> c * 2^64 + s is an order embedding
   of that order into nat, so nat keys lose no generality (and uniqueness of
   keys is not even needed).  The extracted `push` / `pop` are run against the
   production heap on random operation sequences (host/exec/tests/
   extracted_models.rs, scripts/extraction.sh).

   The array is a list, indexed with `nth i l 0`; parent i = (i - 1) / 2 and
   the children of p are 2p+1 and 2p+2.  Recursion in sift_up / sift_down is
   bounded by an explicit fuel that is always sufficient (i for sift_up,
   length for sift_down), which the proofs account for.

   Main results:
   - heap_ok_iff_children : the parent-based heap property is equivalent to
                            the child-based one used in the proofs
   - push_heap_ok         : push preserves heap_ok
   - pop_heap_ok          : pop preserves heap_ok
   - pop_returns_min      : the popped element is <= every element of the heap
   - push_perm            : push x l is a permutation of x :: l
   - pop_perm             : pop l = Some (r, l') -> l is a permutation of r :: l'
   - pop_none_iff         : pop fails exactly on the empty heap
   - drain_sorted_perm    : popping everything yields the elements sorted
   - of_list_heap_ok_perm : repeated push from [] builds a heap of the items
   - sift_up_fuel_enough / sift_down_fuel_enough
                          : the fuel bound never cuts the loops short
*)

From Coq Require Import Arith Lia List Bool Sorting.Permutation Sorting.Sorted.
Import ListNotations.

(* ------------------------------------------------------------------ *)
(** * Array helpers: set / swap *)

Fixpoint set (l : list nat) (i v : nat) : list nat :=
  match l, i with
  | [], _ => []
  | _ :: t, 0 => v :: t
  | h :: t, S i' => h :: set t i' v
  end.

Lemma set_length : forall l i v, length (set l i v) = length l.
Proof.
  induction l as [|h t IH]; intros [|i] v; simpl; auto.
Qed.

Lemma nth_set :
  forall l i v k, i < length l ->
  nth k (set l i v) 0 = if k =? i then v else nth k l 0.
Proof.
  induction l as [|h t IH]; intros i v k Hi; simpl in *; [lia|].
  destruct i as [|i], k as [|k]; simpl; auto.
  apply IH. lia.
Qed.

Definition swap (l : list nat) (i j : nat) : list nat :=
  set (set l i (nth j l 0)) j (nth i l 0).

Lemma swap_length : forall l i j, length (swap l i j) = length l.
Proof. intros. unfold swap. rewrite !set_length. reflexivity. Qed.

Lemma nth_swap :
  forall l i j k, i < length l -> j < length l ->
  nth k (swap l i j) 0 =
  if k =? j then nth i l 0 else if k =? i then nth j l 0 else nth k l 0.
Proof.
  intros l i j k Hi Hj. unfold swap.
  rewrite nth_set by (rewrite set_length; exact Hj).
  rewrite nth_set by exact Hi. reflexivity.
Qed.

Definition ind (b : bool) : nat := if b then 1 else 0.

Lemma count_set :
  forall l i v x, i < length l ->
  count_occ Nat.eq_dec (set l i v) x + ind (nth i l 0 =? x) =
  count_occ Nat.eq_dec l x + ind (v =? x).
Proof.
  induction l as [|h t IH]; intros i v x Hi; simpl in *; [lia|].
  destruct i as [|i]; simpl.
  - unfold ind.
    destruct (Nat.eq_dec v x), (Nat.eq_dec h x),
             (Nat.eqb_spec h x), (Nat.eqb_spec v x); subst; try congruence; lia.
  - specialize (IH i v x ltac:(lia)).
    destruct (Nat.eq_dec h x); lia.
Qed.

Lemma swap_perm :
  forall l i j, i < length l -> j < length l -> Permutation l (swap l i j).
Proof.
  intros l i j Hi Hj.
  apply (Permutation_count_occ Nat.eq_dec). intros x.
  unfold swap.
  pose proof (count_set l i (nth j l 0) x Hi) as C1.
  assert (Hj' : j < length (set l i (nth j l 0))) by (rewrite set_length; exact Hj).
  pose proof (count_set (set l i (nth j l 0)) j (nth i l 0) x Hj') as C2.
  rewrite nth_set in C2 by exact Hi.
  destruct (Nat.eqb_spec j i) as [->|_]; lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * Heap property *)

Definition parent (i : nat) : nat := (i - 1) / 2.

Definition heap_ok (l : list nat) : Prop :=
  forall i, 0 < i < length l -> nth (parent i) l 0 <= nth i l 0.

Definition child (p c : nat) : Prop := c = 2 * p + 1 \/ c = 2 * p + 2.

Lemma div2_bounds : forall x, 2 * (x / 2) <= x < 2 * (x / 2) + 2.
Proof.
  intros x. pose proof (Nat.div_mod x 2 ltac:(lia)).
  pose proof (Nat.mod_upper_bound x 2 ltac:(lia)). lia.
Qed.

Lemma parent_child : forall i, 0 < i -> child (parent i) i.
Proof.
  intros i Hi. unfold child, parent.
  pose proof (div2_bounds (i - 1)). lia.
Qed.

Lemma child_parent : forall p c, child p c -> parent c = p.
Proof.
  intros p c H. unfold child, parent in *.
  pose proof (div2_bounds (c - 1)). lia.
Qed.

Lemma child_lt : forall p c, child p c -> p < c.
Proof. unfold child. lia. Qed.

Lemma child_unique : forall p q c, child p c -> child q c -> p = q.
Proof. unfold child. lia. Qed.

Definition heap_ok' (l : list nat) : Prop :=
  forall p c, child p c -> c < length l -> nth p l 0 <= nth c l 0.

Theorem heap_ok_iff_children : forall l, heap_ok l <-> heap_ok' l.
Proof.
  intros l. split.
  - intros H p c Hpc Hc.
    rewrite <- (child_parent p c Hpc). apply H.
    pose proof (child_lt p c Hpc). lia.
  - intros H i Hi. apply H; [apply parent_child|]; lia.
Qed.

(* The root of a heap is its minimum. *)
Lemma root_le_all :
  forall l, heap_ok' l -> forall j, j < length l -> nth 0 l 0 <= nth j l 0.
Proof.
  intros l H.
  assert (forall m j, j <= m -> j < length l -> nth 0 l 0 <= nth j l 0).
  { induction m as [|m IH]; intros j Hjm Hj.
    - replace j with 0 by lia. lia.
    - destruct j as [|j']; [lia|].
      pose proof (parent_child (S j') ltac:(lia)) as Hpc.
      pose proof (child_lt _ _ Hpc).
      specialize (H _ _ Hpc Hj).
      specialize (IH (parent (S j')) ltac:(lia) ltac:(lia)). lia. }
  intros j Hj. eapply H0; eauto.
Qed.

(* ------------------------------------------------------------------ *)
(** * sift_up *)

Fixpoint sift_up_f (fuel : nat) (l : list nat) (k : nat) : list nat :=
  match fuel with
  | 0 => l
  | S f =>
      if k =? 0 then l
      else let p := parent k in
           if nth k l 0 <? nth p l 0 then sift_up_f f (swap l k p) p else l
  end.

(* k steps always suffice since parent k < k. *)
Definition sift_up (l : list nat) (k : nat) : list nat := sift_up_f k l k.

(* Heap everywhere except possibly on the edge (parent k, k); moreover
   the parent of k is <= the children of k. *)
Definition up_inv (l : list nat) (k : nat) : Prop :=
  (forall i j, child i j -> j < length l -> j <> k -> nth i l 0 <= nth j l 0) /\
  (forall g j, child g k -> child k j -> j < length l -> nth g l 0 <= nth j l 0).

Lemma up_inv_step :
  forall l k p, k < length l -> child p k -> nth k l 0 < nth p l 0 ->
  up_inv l k -> up_inv (swap l k p) p.
Proof.
  intros l k p Hk Hpk Hlt [U1 U2].
  pose proof (child_lt _ _ Hpk) as Hpk'.
  unfold up_inv. rewrite swap_length. split.
  - intros i j Hij Hj Hjp.
    pose proof (child_lt _ _ Hij).
    rewrite !nth_swap by lia.
    destruct (Nat.eqb_spec j p) as [|_]; [contradiction|].
    destruct (Nat.eqb_spec j k) as [->|Hjk].
    + assert (i = p) by (eapply child_unique; eauto). subst i.
      rewrite Nat.eqb_refl. lia.
    + destruct (Nat.eqb_spec i p) as [->|Hip].
      * specialize (U1 p j Hij Hj Hjk). lia.
      * destruct (Nat.eqb_spec i k) as [->|Hik].
        -- apply U2; assumption.
        -- apply U1; assumption.
  - intros g j Hgp Hpj Hj.
    pose proof (child_lt _ _ Hgp). pose proof (child_lt _ _ Hpj).
    rewrite !nth_swap by lia.
    destruct (Nat.eqb_spec g p) as [|_]; [lia|].
    destruct (Nat.eqb_spec g k) as [|_]; [lia|].
    destruct (Nat.eqb_spec j p) as [|_]; [lia|].
    pose proof (U1 g p Hgp ltac:(lia) ltac:(lia)) as Hgp'.
    destruct (Nat.eqb_spec j k) as [->|Hjk].
    + exact Hgp'.
    + pose proof (U1 p j Hpj Hj Hjk). lia.
Qed.

Lemma up_inv_stop :
  forall l k, (k = 0 \/ exists p, child p k /\ nth p l 0 <= nth k l 0) ->
  up_inv l k -> heap_ok' l.
Proof.
  intros l k Hk [U1 _] i j Hij Hj.
  destruct (Nat.eq_dec j k) as [->|Hjk].
  - destruct Hk as [->|[p [Hpk Hle]]].
    + pose proof (child_lt _ _ Hij). lia.
    + assert (i = p) by (eapply child_unique; eauto). subst. exact Hle.
  - apply U1; assumption.
Qed.

Lemma sift_up_f_ok :
  forall fuel l k, k <= fuel -> k < length l -> up_inv l k ->
  heap_ok' (sift_up_f fuel l k).
Proof.
  induction fuel as [|f IH]; intros l k Hf Hk Hinv; simpl.
  - apply (up_inv_stop l k); [left; lia | exact Hinv].
  - destruct (Nat.eqb_spec k 0) as [->|Hk0].
    + apply (up_inv_stop l 0); [left; reflexivity | exact Hinv].
    + pose proof (parent_child k ltac:(lia)) as Hpk.
      pose proof (child_lt _ _ Hpk).
      destruct (Nat.ltb_spec (nth k l 0) (nth (parent k) l 0)) as [Hlt|Hge].
      * apply IH.
        -- lia.
        -- rewrite swap_length. lia.
        -- apply up_inv_step; assumption.
      * apply (up_inv_stop l k); [right; exists (parent k); split; assumption
                                 | exact Hinv].
Qed.

Lemma sift_up_f_perm :
  forall fuel l k, k < length l -> Permutation l (sift_up_f fuel l k).
Proof.
  induction fuel as [|f IH]; intros l k Hk; simpl; [reflexivity|].
  destruct (Nat.eqb_spec k 0) as [->|Hk0]; [reflexivity|].
  pose proof (child_lt _ _ (parent_child k ltac:(lia))).
  destruct (nth k l 0 <? nth (parent k) l 0); [|reflexivity].
  eapply perm_trans; [apply (swap_perm l k (parent k)); lia|].
  apply IH. rewrite swap_length. lia.
Qed.

(* The fuel is never exhausted: any fuel >= k gives the same result, i.e.
   sift_up is the unbounded loop of the Rust code. *)
Theorem sift_up_fuel_enough :
  forall f1 f2 l k, k <= f1 -> k <= f2 -> sift_up_f f1 l k = sift_up_f f2 l k.
Proof.
  induction f1 as [|f1 IH]; intros [|f2] l k H1 H2; cbn [sift_up_f]; auto.
  - replace k with 0 by lia. reflexivity.
  - replace k with 0 by lia. reflexivity.
  - destruct (Nat.eqb_spec k 0) as [->|Hk0]; [reflexivity|].
    pose proof (child_lt _ _ (parent_child k ltac:(lia))).
    destruct (nth k l 0 <? nth (parent k) l 0); [|reflexivity].
    apply IH; lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * sift_down *)

(* The smaller of the (existing) children of k. *)
Definition min_child (l : list nat) (k : nat) : nat :=
  if (2 * k + 2 <? length l) && (nth (2 * k + 2) l 0 <? nth (2 * k + 1) l 0)
  then 2 * k + 2 else 2 * k + 1.

Lemma min_child_spec :
  forall l k, 2 * k + 1 < length l ->
  let c := min_child l k in
  child k c /\ c < length l /\
  (forall j, child k j -> j < length l -> nth c l 0 <= nth j l 0).
Proof.
  intros l k Hk c. subst c. unfold min_child, child.
  destruct (Nat.ltb_spec (2 * k + 2) (length l)) as [H2|H2]; cbn [andb].
  - destruct (Nat.ltb_spec (nth (2 * k + 2) l 0) (nth (2 * k + 1) l 0)) as [L|L].
    + split; [right; reflexivity | split; [lia|]].
      intros j [-> | ->] _; lia.
    + split; [left; reflexivity | split; [lia|]].
      intros j [-> | ->] _; lia.
  - split; [left; reflexivity | split; [lia|]].
    intros j [-> | ->] Hj; lia.
Qed.

Fixpoint sift_down_f (fuel : nat) (l : list nat) (k : nat) : list nat :=
  match fuel with
  | 0 => l
  | S f =>
      if 2 * k + 1 <? length l then
        let c := min_child l k in
        if nth c l 0 <? nth k l 0 then sift_down_f f (swap l k c) c else l
      else l
  end.

(* length l steps always suffice since the index strictly increases. *)
Definition sift_down (l : list nat) (k : nat) : list nat :=
  sift_down_f (length l) l k.

(* Heap everywhere except possibly on the edges out of k; moreover the
   parent of k is <= the children of k. *)
Definition down_inv (l : list nat) (k : nat) : Prop :=
  (forall i j, child i j -> j < length l -> i <> k -> nth i l 0 <= nth j l 0) /\
  (forall g j, child g k -> child k j -> j < length l -> nth g l 0 <= nth j l 0).

Lemma down_inv_step :
  forall l k c, child k c -> c < length l -> nth c l 0 < nth k l 0 ->
  (forall j, child k j -> j < length l -> nth c l 0 <= nth j l 0) ->
  down_inv l k -> down_inv (swap l k c) c.
Proof.
  intros l k c Hkc Hc Hlt Hmin [D1 D2].
  pose proof (child_lt _ _ Hkc).
  unfold down_inv. rewrite swap_length. split.
  - intros i j Hij Hj Hic.
    pose proof (child_lt _ _ Hij).
    rewrite !nth_swap by lia.
    destruct (Nat.eqb_spec i c) as [|_]; [contradiction|].
    destruct (Nat.eqb_spec i k) as [->|Hik].
    + destruct (Nat.eqb_spec j c) as [->|Hjc]; [lia|].
      destruct (Nat.eqb_spec j k) as [|_]; [lia|].
      apply Hmin; assumption.
    + destruct (Nat.eqb_spec j c) as [->|Hjc].
      * exfalso. apply Hik. eapply child_unique; eauto.
      * destruct (Nat.eqb_spec j k) as [->|Hjk].
        -- apply D2; assumption.
        -- apply D1; assumption.
  - intros g j Hgc Hcj Hj.
    assert (g = k) by (eapply child_unique; eauto). subst g.
    pose proof (child_lt _ _ Hcj).
    rewrite !nth_swap by lia.
    rewrite Nat.eqb_refl.
    destruct (Nat.eqb_spec k c) as [|_]; [lia|].
    destruct (Nat.eqb_spec j c) as [|_]; [lia|].
    destruct (Nat.eqb_spec j k) as [|_]; [lia|].
    apply D1; [assumption | assumption | lia].
Qed.

Lemma down_inv_stop :
  forall l k,
  (forall j, child k j -> j < length l -> nth k l 0 <= nth j l 0) ->
  down_inv l k -> heap_ok' l.
Proof.
  intros l k Hk [D1 _] i j Hij Hj.
  destruct (Nat.eq_dec i k) as [->|Hik].
  - apply Hk; assumption.
  - apply D1; assumption.
Qed.

Lemma sift_down_f_ok :
  forall fuel l k, length l - k <= fuel -> down_inv l k ->
  heap_ok' (sift_down_f fuel l k).
Proof.
  induction fuel as [|f IH]; intros l k Hf Hinv; cbn [sift_down_f].
  - apply (down_inv_stop l k); [|exact Hinv].
    intros j Hkj Hj. pose proof (child_lt _ _ Hkj). lia.
  - destruct (Nat.ltb_spec (2 * k + 1) (length l)) as [H1|H1].
    + destruct (min_child_spec l k H1) as [Hkc [Hc Hmin]].
      pose proof (child_lt _ _ Hkc).
      destruct (Nat.ltb_spec (nth (min_child l k) l 0) (nth k l 0)) as [Hlt|Hge].
      * apply IH.
        -- rewrite swap_length. lia.
        -- apply down_inv_step; assumption.
      * apply (down_inv_stop l k); [|exact Hinv].
        intros j Hkj Hj. specialize (Hmin j Hkj Hj). lia.
    + apply (down_inv_stop l k); [|exact Hinv].
      intros j Hkj Hj. unfold child in Hkj. lia.
Qed.

Lemma sift_down_f_perm :
  forall fuel l k, Permutation l (sift_down_f fuel l k).
Proof.
  induction fuel as [|f IH]; intros l k; cbn [sift_down_f]; [reflexivity|].
  destruct (Nat.ltb_spec (2 * k + 1) (length l)) as [H1|H1]; [|reflexivity].
  destruct (min_child_spec l k H1) as [Hkc [Hc _]].
  pose proof (child_lt _ _ Hkc).
  destruct (nth (min_child l k) l 0 <? nth k l 0); [|reflexivity].
  eapply perm_trans; [apply (swap_perm l k (min_child l k)); lia|].
  apply IH.
Qed.

(* The fuel is never exhausted: any fuel >= length l - k gives the same
   result, i.e. sift_down is the unbounded loop of the Rust code. *)
Theorem sift_down_fuel_enough :
  forall f1 f2 l k, length l - k <= f1 -> length l - k <= f2 ->
  sift_down_f f1 l k = sift_down_f f2 l k.
Proof.
  induction f1 as [|f1 IH]; intros f2 l k H1 H2.
  - destruct f2 as [|f2]; cbn [sift_down_f]; [reflexivity|].
    destruct (Nat.ltb_spec (2 * k + 1) (length l)); [lia|reflexivity].
  - destruct f2 as [|f2]; cbn [sift_down_f].
    + destruct (Nat.ltb_spec (2 * k + 1) (length l)); [lia|reflexivity].
    + destruct (Nat.ltb_spec (2 * k + 1) (length l)) as [Hc1|Hc1]; [|reflexivity].
      destruct (min_child_spec l k Hc1) as [Hkc [Hc _]].
      pose proof (child_lt _ _ Hkc).
      destruct (nth (min_child l k) l 0 <? nth k l 0); [|reflexivity].
      apply IH; rewrite swap_length; lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * push and pop *)

Definition push (l : list nat) (x : nat) : list nat :=
  sift_up (l ++ [x]) (length l).

Definition pop (l : list nat) : option (nat * list nat) :=
  match l with
  | [] => None
  | r :: _ =>
      let s := removelast (swap l 0 (length l - 1)) in
      Some (r, sift_down s 0)
  end.

Theorem push_perm : forall l x, Permutation (x :: l) (push l x).
Proof.
  intros l x. unfold push, sift_up.
  eapply perm_trans; [apply Permutation_cons_append|].
  apply sift_up_f_perm. rewrite app_length. simpl. lia.
Qed.

Theorem push_heap_ok : forall l x, heap_ok l -> heap_ok (push l x).
Proof.
  intros l x H. apply heap_ok_iff_children in H. apply heap_ok_iff_children.
  unfold push, sift_up. apply sift_up_f_ok.
  - lia.
  - rewrite app_length. simpl. lia.
  - unfold up_inv. rewrite app_length. simpl. split.
    + intros i j Hij Hj Hjn.
      pose proof (child_lt _ _ Hij).
      rewrite !app_nth1 by lia. apply H; [assumption | lia].
    + intros g j _ Hnj Hj. pose proof (child_lt _ _ Hnj). lia.
Qed.

Theorem push_length : forall l x, length (push l x) = S (length l).
Proof.
  intros l x. rewrite <- (Permutation_length (push_perm l x)). reflexivity.
Qed.

Lemma removelast_length :
  forall (l : list nat), length (removelast l) = length l - 1.
Proof.
  induction l as [|a [|b t] IH]; simpl in *; auto. rewrite IH. lia.
Qed.

Lemma nth_removelast :
  forall (l : list nat) j, j < length l - 1 -> nth j (removelast l) 0 = nth j l 0.
Proof.
  induction l as [|a [|b t] IH]; intros j Hj; simpl in *; try lia.
  destruct j as [|j]; [reflexivity|].
  apply IH. simpl. lia.
Qed.

Theorem pop_none_iff : forall l, pop l = None <-> l = [].
Proof.
  intros [|a t]; simpl; split; intro H; try reflexivity; discriminate.
Qed.

Theorem pop_perm :
  forall l r l', pop l = Some (r, l') -> Permutation l (r :: l').
Proof.
  intros [|a t] r l' H; [discriminate|].
  simpl in H. injection H as <- <-.
  set (s := swap (a :: t) 0 (length (a :: t) - 1)).
  assert (Hs : Permutation (a :: t) s)
    by (apply swap_perm; simpl; lia).
  assert (Hne : s <> []).
  { intro E. apply Permutation_length in Hs. rewrite E in Hs. discriminate. }
  assert (Hlast : last s 0 = a).
  { pose proof (app_removelast_last 0 Hne) as E.
    assert (nth (length t) s 0 = a).
    { unfold s. rewrite nth_swap by (simpl; lia). simpl.
      rewrite Nat.sub_0_r, Nat.eqb_refl. reflexivity. }
    rewrite E in H.
    assert (length (removelast s) = length t).
    { rewrite removelast_length. unfold s. rewrite swap_length. simpl. lia. }
    rewrite app_nth2 in H by lia.
    replace (length t - length (removelast s)) with 0 in H by lia.
    exact H. }
  eapply perm_trans; [exact Hs|].
  rewrite (app_removelast_last 0 Hne) at 1. rewrite Hlast.
  eapply perm_trans; [apply Permutation_sym, Permutation_cons_append|].
  apply perm_skip. unfold sift_down. apply sift_down_f_perm.
Qed.

Theorem pop_heap_ok :
  forall l r l', heap_ok l -> pop l = Some (r, l') -> heap_ok l'.
Proof.
  intros l r l' H Hp.
  apply heap_ok_iff_children in H. apply heap_ok_iff_children.
  destruct l as [|a t]; [discriminate|].
  simpl in Hp. injection Hp as <- <-.
  rewrite Nat.sub_0_r.
  set (s := swap (a :: t) 0 (length t)).
  assert (Hslen : length s = S (length t))
    by (unfold s; rewrite swap_length; reflexivity).
  assert (Hn : length (removelast s) = length t)
    by (rewrite removelast_length; lia).
  unfold sift_down. apply sift_down_f_ok; [lia|].
  unfold down_inv. rewrite Hn.
  split.
  - intros i j Hij Hj Hi0.
    pose proof (child_lt _ _ Hij).
    rewrite !nth_removelast by lia.
    unfold s. rewrite !nth_swap by (simpl; lia).
    destruct (Nat.eqb_spec i (length t)) as [|_]; [lia|].
    destruct (Nat.eqb_spec i 0) as [|_]; [lia|].
    destruct (Nat.eqb_spec j (length t)) as [|_]; [lia|].
    destruct (Nat.eqb_spec j 0) as [|_]; [lia|].
    apply H; [assumption | simpl; lia].
  - intros g j Hg0. pose proof (child_lt _ _ Hg0). lia.
Qed.

Theorem pop_returns_min :
  forall l r l', heap_ok l -> pop l = Some (r, l') ->
  forall y, In y l -> r <= y.
Proof.
  intros l r l' H Hp y Hy.
  apply heap_ok_iff_children in H.
  destruct l as [|a t]; [discriminate|].
  simpl in Hp. injection Hp as <- _.
  apply (In_nth _ _ 0) in Hy. destruct Hy as [j [Hj <-]].
  apply (root_le_all _ H j Hj).
Qed.

(* Also: everything left in the heap is >= the popped element. *)
Theorem pop_rest_ge :
  forall l r l', heap_ok l -> pop l = Some (r, l') ->
  forall y, In y l' -> r <= y.
Proof.
  intros l r l' H Hp y Hy.
  apply (pop_returns_min l r l' H Hp).
  apply (Permutation_in y (Permutation_sym (pop_perm l r l' Hp))).
  right. exact Hy.
Qed.

(* ------------------------------------------------------------------ *)
(** * Draining the heap yields a sorted permutation *)

Fixpoint drain_f (fuel : nat) (l : list nat) : list nat :=
  match fuel with
  | 0 => []
  | S f => match pop l with
           | None => []
           | Some (r, l') => r :: drain_f f l'
           end
  end.

Definition drain (l : list nat) : list nat := drain_f (length l) l.

Lemma drain_f_props :
  forall fuel l, length l <= fuel -> heap_ok l ->
  Sorted le (drain_f fuel l) /\ Permutation l (drain_f fuel l).
Proof.
  induction fuel as [|f IH]; intros l Hf H; simpl.
  - destruct l; [|simpl in Hf; lia]. split; constructor.
  - destruct (pop l) as [[r l']|] eqn:Hp.
    + pose proof (pop_perm l r l' Hp) as Hperm.
      pose proof (Permutation_length Hperm) as Hlen. simpl in Hlen.
      destruct (IH l' ltac:(lia) (pop_heap_ok l r l' H Hp)) as [Hs Hp'].
      split.
      * constructor; [exact Hs|].
        destruct (drain_f f l') as [|y ys] eqn:E; constructor.
        apply (pop_rest_ge l r l' H Hp).
        apply (Permutation_in y (Permutation_sym Hp')). left. reflexivity.
      * eapply perm_trans; [exact Hperm|]. apply perm_skip. exact Hp'.
    + apply pop_none_iff in Hp. subst. split; constructor.
Qed.

Theorem drain_sorted_perm :
  forall l, heap_ok l -> Sorted le (drain l) /\ Permutation l (drain l).
Proof.
  intros l H. apply drain_f_props; [lia | exact H].
Qed.

(* Building a heap by repeated push from the empty heap is a heap. *)
Definition of_list (xs : list nat) : list nat := fold_left push xs [].

Theorem of_list_heap_ok_perm :
  forall xs, heap_ok (of_list xs) /\ Permutation xs (of_list xs).
Proof.
  intros xs. unfold of_list.
  assert (forall l, heap_ok l ->
          heap_ok (fold_left push xs l) /\ Permutation (l ++ xs) (fold_left push xs l)).
  { induction xs as [|x xs IH]; intros l H; simpl.
    - rewrite app_nil_r. split; [exact H | reflexivity].
    - destruct (IH (push l x) (push_heap_ok l x H)) as [H1 H2].
      split; [exact H1|].
      eapply perm_trans; [|exact H2].
      eapply perm_trans; [apply Permutation_sym, Permutation_middle|].
      change (x :: l ++ xs) with ((x :: l) ++ xs).
      apply Permutation_app_tail.
      apply push_perm. }
  destruct (H [] ltac:(intros i Hi; simpl in Hi; lia)) as [H1 H2].
  split; [exact H1 | exact H2].
Qed.
