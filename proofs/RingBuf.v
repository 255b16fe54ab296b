(* RingBuf.v

   Models the sequential behaviour of the bounded request ring of gossip-exec
   (host/exec/src/ring.rs, `Ring<T>`): `try_push` hands the value back
   (`Err(value)`) when the ring is full, `try_pop` returns `None` when it is
   empty, and values come out in FIFO order.

   The Rust ring is a lock-free multi-producer multi-consumer queue
   (D. Vyukov's bounded queue): its capacity is a power of two >= 2 (this
   model allows any cap > 0), `head` and `tail` are monotonic positions
   claimed by CAS, and each slot carries a sequence number instead of an
   `Option`: `seq == pos + 1` means "holds the value of position pos" (the
   model's `Some`), anything else "no value for this lap yet" (`None`);
   a consumer moves the value out and stores `seq = pos + capacity`, freeing
   the slot for the next lap. The model's head, tail and size are the Rust
   `head mod cap`, `tail mod cap` and `tail - head`. What this file proves is
   the single-threaded (linearized) behaviour; the concurrent protocol is
   model-checked by loom on the production code (host/exec/tests/
   loom_ring_buf.rs), and the extracted `init` / `push` / `pop` are run
   against the production ring on random operation sequences
   (host/exec/tests/extracted_models.rs, scripts/extraction.sh).

   The state is {cap, head, tail, size, slots}, where `slots : nat -> option A`
   is the slot array.  The abstraction function `window` reads the `size`
   occupied slots starting at `head` (wrapping modulo `cap`).

   Main results:
   - init_inv, init_refines      : a fresh buffer is valid and holds []
   - push_inv, pop_inv, step_inv : operations preserve the invariant
                                   (hence all bounds: head, tail < cap,
                                   size <= cap)
   - size_plus_free              : size + free = cap
   - push_full_fails, pop_empty_fails, step_push_full, step_pop_empty
                                 : push on full / pop on empty fail and
                                   leave the state unchanged
   - push_succeeds, pop_succeeds : push when not full / pop when non-empty
                                   succeed
   - push_refines, pop_refines   : push appends at the back of the abstract
                                   queue, pop returns its front
   - ring_refines_queue          : for ANY sequence of operations, the ring
                                   buffer produces exactly the same outputs as
                                   a bounded list queue (refinement)
   - fifo_order                  : pushing xs (|xs| <= cap) then popping
                                   |xs| times returns xs in push order
*)

From Coq Require Import Arith Lia List Bool.
Import ListNotations.

(* ------------------------------------------------------------------ *)
(** * Modular arithmetic helpers *)

Lemma mod_lt_2 :
  forall x c, c <= x -> x < 2 * c -> x mod c = x - c.
Proof.
  intros x c H1 H2.
  assert (c <> 0) by lia.
  replace x with ((x - c) + 1 * c) at 1 by lia.
  rewrite Nat.mod_add by assumption.
  apply Nat.mod_small. lia.
Qed.

(* Within one lap, positions head+i and head+j collide only if i = j. *)
Lemma mod_window_inj :
  forall c h i j, h < c -> i < c -> j < c ->
  (h + i) mod c = (h + j) mod c -> i = j.
Proof.
  intros c h i j Hh Hi Hj E.
  destruct (Nat.lt_ge_cases (h + i) c) as [Li|Li];
  destruct (Nat.lt_ge_cases (h + j) c) as [Lj|Lj].
  - rewrite !Nat.mod_small in E by lia. lia.
  - rewrite Nat.mod_small in E by lia. rewrite mod_lt_2 in E by lia. lia.
  - rewrite mod_lt_2 in E by lia. rewrite Nat.mod_small in E by lia. lia.
  - rewrite !mod_lt_2 in E by lia. lia.
Qed.

(* ------------------------------------------------------------------ *)
(** * The ring buffer *)

Record ring (A : Type) : Type := mkRing {
  cap : nat;
  head : nat;
  tail : nat;
  size : nat;
  slots : nat -> option A
}.
Arguments mkRing {A}.
Arguments cap {A}.
Arguments head {A}.
Arguments tail {A}.
Arguments size {A}.
Arguments slots {A}.

Definition inv {A : Type} (r : ring A) : Prop :=
  cap r > 0 /\ head r < cap r /\ tail r < cap r /\ size r <= cap r /\
  tail r = (head r + size r) mod cap r.

Definition free {A : Type} (r : ring A) : nat := cap r - size r.

Definition upd {A : Type} (f : nat -> option A) (i : nat) (v : option A)
  : nat -> option A :=
  fun j => if j =? i then v else f j.

Definition init {A : Type} (c : nat) : ring A :=
  mkRing c 0 0 0 (fun _ => None).

Definition push {A : Type} (x : A) (r : ring A) : option (ring A) :=
  if size r =? cap r then None
  else Some (mkRing (cap r) (head r) ((tail r + 1) mod cap r) (size r + 1)
                    (upd (slots r) (tail r) (Some x))).

Definition pop {A : Type} (r : ring A) : option (A * ring A) :=
  if size r =? 0 then None
  else match slots r (head r) with
       | None => None
       | Some v =>
           Some (v, mkRing (cap r) ((head r + 1) mod cap r) (tail r) (size r - 1)
                           (upd (slots r) (head r) None))
       end.

(* Abstraction: the occupied slots, front first. *)
Definition window {A : Type} (r : ring A) : list (option A) :=
  map (fun k => slots r ((head r + k) mod cap r)) (seq 0 (size r)).

Definition refines {A : Type} (r : ring A) (q : list A) : Prop :=
  inv r /\ window r = map Some q.

(* ------------------------------------------------------------------ *)
(** * Invariant and bounds *)

Theorem init_inv : forall A c, c > 0 -> inv (@init A c).
Proof.
  intros A c Hc. unfold inv, init; simpl.
  rewrite Nat.mod_small by lia. lia.
Qed.

Theorem init_refines : forall A c, c > 0 -> refines (@init A c) [].
Proof.
  intros A c Hc. split; [apply init_inv; exact Hc | reflexivity].
Qed.

Theorem push_inv :
  forall A (x : A) r r', inv r -> push x r = Some r' -> inv r'.
Proof.
  intros A x r r' [Hc [Hh [Ht [Hs Htl]]]] Hp.
  unfold push in Hp.
  destruct (Nat.eqb_spec (size r) (cap r)) as [E|E]; [discriminate|].
  inversion Hp; subst; clear Hp. unfold inv; simpl.
  repeat split; try lia.
  - apply Nat.mod_upper_bound. lia.
  - rewrite Htl, Nat.add_mod_idemp_l by lia. f_equal. lia.
Qed.

Theorem pop_inv :
  forall A r (v : A) r', inv r -> pop r = Some (v, r') -> inv r'.
Proof.
  intros A r v r' [Hc [Hh [Ht [Hs Htl]]]] Hp.
  unfold pop in Hp.
  destruct (Nat.eqb_spec (size r) 0) as [E|E]; [discriminate|].
  destruct (slots r (head r)); [|discriminate].
  inversion Hp; subst; clear Hp. unfold inv; simpl.
  repeat split; try lia.
  - apply Nat.mod_upper_bound. lia.
  - rewrite Htl, Nat.add_mod_idemp_l by lia. f_equal. lia.
Qed.

Theorem size_plus_free : forall A (r : ring A), inv r -> size r + free r = cap r.
Proof. intros A r [_ [_ [_ [Hs _]]]]. unfold free. lia. Qed.

Theorem push_size :
  forall A (x : A) r r', inv r -> push x r = Some r' ->
  size r' = size r + 1 /\ free r' + 1 = free r /\ cap r' = cap r.
Proof.
  intros A x r r' [_ [_ [_ [Hs _]]]] Hp. unfold push in Hp.
  destruct (Nat.eqb_spec (size r) (cap r)) as [E|E]; [discriminate|].
  inversion Hp; subst. unfold free; simpl. lia.
Qed.

Theorem pop_size :
  forall A r (v : A) r', inv r -> pop r = Some (v, r') ->
  size r' + 1 = size r /\ free r' = free r + 1 /\ cap r' = cap r.
Proof.
  intros A r v r' [_ [_ [_ [Hs _]]]] Hp. unfold pop in Hp.
  destruct (Nat.eqb_spec (size r) 0) as [E|E]; [discriminate|].
  destruct (slots r (head r)); [|discriminate].
  inversion Hp; subst. unfold free; simpl. lia.
Qed.

Theorem push_full_fails :
  forall A (x : A) r, size r = cap r -> push x r = None.
Proof.
  intros A x r H. unfold push. rewrite H, Nat.eqb_refl. reflexivity.
Qed.

Theorem pop_empty_fails :
  forall A (r : ring A), size r = 0 -> pop r = None.
Proof.
  intros A r H. unfold pop. rewrite H. reflexivity.
Qed.

Theorem push_succeeds :
  forall A (x : A) r, inv r -> size r < cap r -> exists r', push x r = Some r'.
Proof.
  intros A x r _ H. unfold push.
  destruct (Nat.eqb_spec (size r) (cap r)); [lia|eauto].
Qed.

(* ------------------------------------------------------------------ *)
(** * Refinement: the ring behaves as a list queue *)

Lemma window_length : forall A (r : ring A), length (window r) = size r.
Proof. intros. unfold window. rewrite map_length, seq_length. reflexivity. Qed.

Theorem refines_size :
  forall A (r : ring A) q, refines r q -> length q = size r.
Proof.
  intros A r q [_ Hw].
  rewrite <- (window_length A r), Hw, map_length. reflexivity.
Qed.

Theorem push_refines :
  forall A (x : A) r q, refines r q -> length q < cap r ->
  exists r', push x r = Some r' /\ refines r' (q ++ [x]).
Proof.
  intros A x r q [Hi Hw] Hlen.
  pose proof (refines_size A r q (conj Hi Hw)) as Hsz.
  destruct Hi as [Hc [Hh [Ht [Hs Htl]]]].
  unfold push.
  destruct (Nat.eqb_spec (size r) (cap r)) as [E|E]; [lia|].
  eexists; split; [reflexivity|].
  split.
  - unfold inv; simpl. repeat split; try lia.
    + apply Nat.mod_upper_bound. lia.
    + rewrite Htl, Nat.add_mod_idemp_l by lia. f_equal. lia.
  - unfold window in *; simpl.
    rewrite Nat.add_1_r, seq_S, map_app, map_app. simpl.
    f_equal.
    + rewrite <- Hw. apply map_ext_in. intros k Hk.
      apply in_seq in Hk.
      unfold upd. destruct (Nat.eqb_spec ((head r + k) mod cap r) (tail r)) as [C|C];
        [|reflexivity].
      exfalso. rewrite Htl in C.
      apply mod_window_inj in C; lia.
    + unfold upd. rewrite <- Htl, Nat.eqb_refl. reflexivity.
Qed.

Theorem pop_refines :
  forall A (x : A) r q, refines r (x :: q) ->
  exists r', pop r = Some (x, r') /\ refines r' q.
Proof.
  intros A x r q [Hi Hw].
  pose proof (refines_size A r (x :: q) (conj Hi Hw)) as Hsz. simpl in Hsz.
  destruct Hi as [Hc [Hh [Ht [Hs Htl]]]].
  unfold window in Hw.
  destruct (size r) as [|n] eqn:Hn; [discriminate|].
  simpl in Hw. rewrite Nat.add_0_r, Nat.mod_small in Hw by lia.
  injection Hw as Hx Hw.
  unfold pop. rewrite Hn, Hx. simpl.
  eexists; split; [reflexivity|].
  split.
  - unfold inv; simpl. repeat split; try lia.
    + apply Nat.mod_upper_bound. lia.
    + rewrite Htl, Nat.add_mod_idemp_l by lia. f_equal. lia.
  - unfold window; simpl. rewrite Nat.sub_0_r.
    rewrite <- seq_shift, map_map in Hw. rewrite <- Hw.
    apply map_ext_in. intros k Hk. apply in_seq in Hk.
    rewrite Nat.add_mod_idemp_l by lia.
    unfold upd.
    destruct (Nat.eqb_spec ((head r + 1 + k) mod cap r) (head r)) as [C|C].
    + exfalso.
      rewrite <- (Nat.mod_small (head r) (cap r)) in C at 2 by lia.
      rewrite <- (Nat.add_0_r (head r)) in C at 2.
      rewrite <- Nat.add_assoc in C.
      apply mod_window_inj in C; lia.
    + f_equal. f_equal. lia.
Qed.

Theorem pop_succeeds :
  forall A (r : ring A) q, refines r q -> size r > 0 ->
  exists x r', pop r = Some (x, r').
Proof.
  intros A r q Hr Hpos.
  pose proof (refines_size A r q Hr) as Hsz.
  destruct q as [|x q']; [simpl in Hsz; lia|].
  destruct (pop_refines A x r q' Hr) as [r' [Hp _]]. eauto.
Qed.

(* ------------------------------------------------------------------ *)
(** * Operation sequences: ring vs. list queue *)

Inductive op (A : Type) : Type :=
| OPush (x : A)
| OPop.
Arguments OPush {A}.
Arguments OPop {A}.

Inductive out (A : Type) : Type :=
| Pushed (ok : bool)
| Popped (v : option A).
Arguments Pushed {A}.
Arguments Popped {A}.

(* One `&mut self` call: on failure the state is left as it was. *)
Definition step {A : Type} (o : op A) (r : ring A) : out A * ring A :=
  match o with
  | OPush x => match push x r with
               | Some r' => (Pushed true, r')
               | None => (Pushed false, r)
               end
  | OPop => match pop r with
            | Some (v, r') => (Popped (Some v), r')
            | None => (Popped None, r)
            end
  end.

Fixpoint run_ring {A : Type} (ops : list (op A)) (r : ring A) : list (out A) :=
  match ops with
  | [] => []
  | o :: ops' => let (res, r') := step o r in res :: run_ring ops' r'
  end.

(* Reference model: a bounded FIFO list queue. *)
Definition qstep {A : Type} (c : nat) (o : op A) (q : list A) : out A * list A :=
  match o with
  | OPush x => if length q <? c then (Pushed true, q ++ [x]) else (Pushed false, q)
  | OPop => match q with
            | [] => (Popped None, q)
            | x :: q' => (Popped (Some x), q')
            end
  end.

Fixpoint run_queue {A : Type} (c : nat) (ops : list (op A)) (q : list A)
  : list (out A) :=
  match ops with
  | [] => []
  | o :: ops' => let (res, q') := qstep c o q in res :: run_queue c ops' q'
  end.

Theorem step_push_full :
  forall A (x : A) r, size r = cap r -> step (OPush x) r = (Pushed false, r).
Proof.
  intros A x r H. simpl. rewrite push_full_fails by exact H. reflexivity.
Qed.

Theorem step_pop_empty :
  forall A (r : ring A), size r = 0 -> step OPop r = (Popped None, r).
Proof.
  intros A r H. simpl. rewrite pop_empty_fails by exact H. reflexivity.
Qed.

Theorem step_inv :
  forall A (o : op A) r, inv r -> inv (snd (step o r)).
Proof.
  intros A o r Hi. destruct o as [x|]; simpl.
  - destruct (push x r) eqn:E; simpl; [eapply push_inv; eauto | exact Hi].
  - destruct (pop r) as [[v r']|] eqn:E; simpl; [eapply pop_inv; eauto | exact Hi].
Qed.

Lemma step_cap :
  forall A (o : op A) r, cap (snd (step o r)) = cap r.
Proof.
  intros A o r. destruct o as [x|]; simpl.
  - unfold push. destruct (size r =? cap r); reflexivity.
  - unfold pop. destruct (size r =? 0); [reflexivity|].
    destruct (slots r (head r)); reflexivity.
Qed.

(* One step of the ring simulates one step of the list queue. *)
Lemma step_refines :
  forall A (o : op A) r q, refines r q ->
  fst (step o r) = fst (qstep (cap r) o q) /\
  refines (snd (step o r)) (snd (qstep (cap r) o q)).
Proof.
  intros A o r q Hr.
  pose proof (refines_size A r q Hr) as Hsz.
  destruct o as [x|]; simpl.
  - destruct (Nat.ltb_spec (length q) (cap r)) as [L|L].
    + destruct (push_refines A x r q Hr L) as [r' [-> Hr']]. simpl. auto.
    + destruct Hr as [[Hc [Hh [Ht [Hs Htl]]]] Hw].
      rewrite push_full_fails by lia. simpl. split; [reflexivity|].
      split; [repeat split; assumption | exact Hw].
  - destruct q as [|x q'].
    + rewrite pop_empty_fails by (simpl in Hsz; lia). simpl. auto.
    + destruct (pop_refines A x r q' Hr) as [r' [-> Hr']]. simpl. auto.
Qed.

Theorem ring_refines_queue :
  forall A (ops : list (op A)) r q, refines r q ->
  run_ring ops r = run_queue (cap r) ops q.
Proof.
  intros A ops. induction ops as [|o ops IH]; intros r q Hr; simpl; [reflexivity|].
  destruct (step_refines A o r q Hr) as [H1 H2].
  pose proof (step_cap A o r) as Hcap.
  destruct (step o r) as [res r']. destruct (qstep (cap r) o q) as [res' q'].
  simpl in *. subst res'. f_equal.
  rewrite <- Hcap. apply IH. exact H2.
Qed.

(* Queue-side facts used for the FIFO corollary. *)
Lemma run_queue_pushes :
  forall A c (xs : list A) q rest, length q + length xs <= c ->
  run_queue c (map OPush xs ++ rest) q =
  repeat (Pushed true) (length xs) ++ run_queue c rest (q ++ xs).
Proof.
  intros A c xs. induction xs as [|x xs IH]; intros q rest Hl; simpl.
  - rewrite app_nil_r. reflexivity.
  - simpl in Hl. destruct (Nat.ltb_spec (length q) c) as [L|L]; [|lia].
    f_equal. rewrite IH.
    + rewrite <- app_assoc. reflexivity.
    + rewrite app_length. simpl. lia.
Qed.

Lemma run_queue_pops :
  forall A c (q : list A),
  run_queue c (repeat OPop (length q)) q = map (fun x => Popped (Some x)) q.
Proof.
  intros A c q. induction q as [|x q IH]; simpl; [reflexivity|].
  f_equal. exact IH.
Qed.

(* FIFO: pushing xs into an empty buffer of capacity c >= |xs| and then
   popping |xs| times yields all pushes succeeding and the items in push
   order. *)
Theorem fifo_order :
  forall A c (xs : list A), c > 0 -> length xs <= c ->
  run_ring (map OPush xs ++ repeat OPop (length xs)) (init c) =
  repeat (Pushed true) (length xs) ++ map (fun x => Popped (Some x)) xs.
Proof.
  intros A c xs Hc Hl.
  rewrite (ring_refines_queue A _ (init c) [] (init_refines A c Hc)).
  simpl cap. rewrite run_queue_pushes by (simpl; lia).
  simpl app. rewrite run_queue_pops. reflexivity.
Qed.
