(* driver.ml — runs the extracted Coq models (Extract.v) on a line protocol.

   Reads one command per line on stdin and writes exactly one answer line per
   command on stdout (flushed at end of input). The differential tests in
   guest/stores/tests/extracted_models.rs and host/exec/tests/extracted_models.rs
   send the same operations to the production Rust and compare every answer.

   Numbers: nat-typed values are decimal (converted to Peano nat, so keep them
   small); Z-typed values (run, shard) are decimal i64, converted bit by bit
   to Coq's binary positive. A record is one token

     rank,bytes,count,finished,started,fence,run,shard,code

   where code is `-` (None) or `x` followed by the bytes in hex (Some bytes).

   Commands (state is per model and kept between lines):
     status_merge A B   -> rank of StatusLattice.status_merge      (A, B ranks)
     from_rank N        -> rank of the status, or `none`
     merge R1 R2        -> RecordMerge.merge R1 R2                 (existing, incoming)
     rec_set R          -> `ok`; the accumulator := R
     rec_merge R        -> accumulator := merge accumulator R; prints it
     rec_merge_rev R    -> accumulator := merge R accumulator; prints it
     ring_init C        -> `ok`; RingBuf.init C
     ring_push V        -> `ok` or `full`                          (RingBuf.push)
     ring_pop           -> the value, or `empty`                   (RingBuf.pop)
     heap_init          -> `ok`; the empty heap
     heap_push K        -> `len=N min=K`                          (Heap.push)
     heap_pop           -> `K len=N min=K|-`, or `empty len=0 min=-` (Heap.pop)
     cd_init            -> `ok`; the counter := 0
     cd_arm M           -> the counter after Countdown.arm
     cd_take            -> `true N` / `false N` from Countdown.try_take
   Anything else: `error ...` on stdout and exit status 2. *)

open Datatypes

let fail fmt = Printf.ksprintf (fun s -> print_string ("error " ^ s ^ "\n"); exit 2) fmt

(* ---------------------------------------------------------------- nat *)

let nat_of_int n =
  if n < 0 then fail "negative nat %d" n;
  let rec go acc k = if k = 0 then acc else go (S acc) (k - 1) in
  go O n

let int_of_nat n =
  let rec go acc = function O -> acc | S m -> go (acc + 1) m in
  go 0 n

let nat_of_string s =
  match int_of_string_opt s with
  | Some n when n >= 0 && n <= 1_000_000 -> nat_of_int n
  | _ -> fail "bad nat %S" s

(* ---------------------------------------------------------------- Z *)

(* A nonzero magnitude (read as unsigned 64 bits) to a positive, bit by bit. *)
let positive_of_u64 m =
  let open Int64 in
  let rec go m =
    if equal m one then BinNums.Coq_xH
    else
      let rest = go (shift_right_logical m 1) in
      if equal (logand m one) one then BinNums.Coq_xI rest else BinNums.Coq_xO rest
  in
  go m

let rec u64_of_positive = function
  | BinNums.Coq_xH -> 1L
  | BinNums.Coq_xO p -> Int64.shift_left (u64_of_positive p) 1
  | BinNums.Coq_xI p -> Int64.logor (Int64.shift_left (u64_of_positive p) 1) 1L

(* Decimal i64 text to Z; the magnitude (at most 2^63) is accumulated as an
   unsigned 64-bit number, so i64::MIN needs no special case. *)
let z_of_string s =
  let n = String.length s in
  let neg = n > 0 && s.[0] = '-' in
  let start = if neg then 1 else 0 in
  if n = start || n - start > 19 then fail "bad i64 %S" s;
  let m = ref 0L in
  for i = start to n - 1 do
    match s.[i] with
    | '0' .. '9' as c ->
        m := Int64.add (Int64.mul !m 10L) (Int64.of_int (Char.code c - 48))
    | _ -> fail "bad i64 %S" s
  done;
  if Int64.equal !m 0L then BinNums.Z0
  else if neg then BinNums.Zneg (positive_of_u64 !m)
  else BinNums.Zpos (positive_of_u64 !m)

let string_of_z = function
  | BinNums.Z0 -> "0"
  | BinNums.Zpos p -> Printf.sprintf "%Lu" (u64_of_positive p)
  | BinNums.Zneg p -> Printf.sprintf "-%Lu" (u64_of_positive p)

(* ---------------------------------------------------------------- lists, bools *)

let rec coq_list = function [] -> Coq_nil | x :: xs -> Coq_cons (x, coq_list xs)

let rec ocaml_list = function Coq_nil -> [] | Coq_cons (x, xs) -> x :: ocaml_list xs

let string_of_bool = function Coq_true -> "true" | Coq_false -> "false"

(* ---------------------------------------------------------------- status *)

let status_of_rank_string s =
  match StatusLattice.from_rank (nat_of_string s) with
  | Some st -> st
  | None -> fail "not a status rank %S" s

let rank_string st = string_of_int (int_of_nat (StatusLattice.rank st))

(* ---------------------------------------------------------------- records *)

let code_of_string s =
  if s = "-" then None
  else if String.length s >= 1 && s.[0] = 'x' && String.length s mod 2 = 1 then
    let bytes =
      Stdlib.List.init ((String.length s - 1) / 2) (fun i ->
          match int_of_string_opt ("0x" ^ String.sub s (1 + (2 * i)) 2) with
          | Some b -> nat_of_int b
          | None -> fail "bad code %S" s)
    in
    Some (coq_list bytes)
  else fail "bad code %S" s

let string_of_code = function
  | None -> "-"
  | Some bytes ->
      "x"
      ^ String.concat ""
          (Stdlib.List.map (fun b -> Printf.sprintf "%02x" (int_of_nat b)) (ocaml_list bytes))

let record_of_string s : RecordMerge.ledger_record =
  match String.split_on_char ',' s with
  | [ rank; bytes; count; finished; started; fence; run; shard; code ] ->
      {
        RecordMerge.st = status_of_rank_string rank;
        bytes = nat_of_string bytes;
        count = nat_of_string count;
        pv =
          {
            RecordMerge.finished = nat_of_string finished;
            started = nat_of_string started;
            fence = nat_of_string fence;
            run = z_of_string run;
            shard = z_of_string shard;
          };
        code = code_of_string code;
      }
  | _ -> fail "bad record %S" s

let string_of_record (r : RecordMerge.ledger_record) =
  let i n = string_of_int (int_of_nat n) in
  String.concat ","
    [
      rank_string r.st;
      i r.bytes;
      i r.count;
      i r.pv.finished;
      i r.pv.started;
      i r.pv.fence;
      string_of_z r.pv.run;
      string_of_z r.pv.shard;
      string_of_code r.code;
    ]

(* ---------------------------------------------------------------- state *)

let acc : RecordMerge.ledger_record option ref = ref None
let ring : nat RingBuf.ring option ref = ref None
let heap : nat list ref = ref Coq_nil
let counter : nat ref = ref O

let the what = function Some x -> x | None -> fail "%s used before its init command" what

let heap_summary h =
  let l = ocaml_list h in
  Printf.sprintf "len=%d min=%s" (Stdlib.List.length l)
    (match l with [] -> "-" | k :: _ -> string_of_int (int_of_nat k))

let answer line =
  match String.split_on_char ' ' (String.trim line) with
  | [ "status_merge"; a; b ] ->
      rank_string (StatusLattice.status_merge (status_of_rank_string a) (status_of_rank_string b))
  | [ "from_rank"; n ] -> (
      match StatusLattice.from_rank (nat_of_string n) with
      | Some st -> rank_string st
      | None -> "none")
  | [ "merge"; a; b ] -> string_of_record (RecordMerge.merge (record_of_string a) (record_of_string b))
  | [ "rec_set"; r ] ->
      acc := Some (record_of_string r);
      "ok"
  | [ "rec_merge"; r ] ->
      let m = RecordMerge.merge (the "rec_merge" !acc) (record_of_string r) in
      acc := Some m;
      string_of_record m
  | [ "rec_merge_rev"; r ] ->
      let m = RecordMerge.merge (record_of_string r) (the "rec_merge_rev" !acc) in
      acc := Some m;
      string_of_record m
  | [ "ring_init"; c ] ->
      ring := Some (RingBuf.init (nat_of_string c));
      "ok"
  | [ "ring_push"; v ] -> (
      match RingBuf.push (nat_of_string v) (the "ring_push" !ring) with
      | Some r ->
          ring := Some r;
          "ok"
      | None -> "full")
  | [ "ring_pop" ] -> (
      match RingBuf.pop (the "ring_pop" !ring) with
      | Some (Coq_pair (v, r)) ->
          ring := Some r;
          string_of_int (int_of_nat v)
      | None -> "empty")
  | [ "heap_init" ] ->
      heap := Coq_nil;
      "ok"
  | [ "heap_push"; k ] ->
      heap := Heap.push !heap (nat_of_string k);
      heap_summary !heap
  | [ "heap_pop" ] -> (
      match Heap.pop !heap with
      | Some (Coq_pair (k, h)) ->
          heap := h;
          string_of_int (int_of_nat k) ^ " " ^ heap_summary h
      | None -> "empty " ^ heap_summary !heap)
  | [ "cd_init" ] ->
      counter := O;
      "ok"
  | [ "cd_arm"; m ] ->
      counter := Countdown.arm !counter (nat_of_string m);
      string_of_int (int_of_nat !counter)
  | [ "cd_take" ] ->
      let (Coq_pair (b, n)) = Countdown.try_take !counter in
      counter := n;
      string_of_bool b ^ " " ^ string_of_int (int_of_nat n)
  | _ -> fail "unknown command %S" line

let () =
  let out = Buffer.create 65536 in
  (try
     while true do
       let line = input_line stdin in
       if String.trim line <> "" then begin
         Buffer.add_string out (answer line);
         Buffer.add_char out '\n';
         if Buffer.length out > 60000 then begin
           print_string (Buffer.contents out);
           Buffer.clear out
         end
       end
     done
   with End_of_file -> ());
  print_string (Buffer.contents out);
  flush stdout
