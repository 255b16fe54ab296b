(* Extract.v — the executable models.

   Extracts the operations of the Coq models in proofs/ to OCaml with Coq's
   own extraction, for the differential tests that run them against the
   production Rust (guest/stores/tests/extracted_models.rs,
   host/exec/tests/extracted_models.rs; driven by scripts/extraction.sh).

   Deliberately NO `Extract Inductive` / `Extract Constant` / `Extract
   Inlined Constant` directives, and no ExtrOcaml* library: `nat` stays
   Peano (`O | S of nat`), `Z`/`positive` stay binary, and bool, option,
   list and pairs are Coq's own inductives. The extracted code is therefore
   exactly the Coq definitions the theorems are about, with no hand-written
   OCaml realizer standing in for any of them; the trusted base is the
   extraction itself, the OCaml compiler and the driver's conversions of
   decimal and hexadecimal text to and from nat and Z (proofs/extraction/
   driver.ml). The price: nat values must stay small (they are unary), so
   the tests draw nat-typed fields (bytes, findings count, logical times,
   fence, heap keys, ring values, countdown amounts) from small ranges;
   run and shard, the fields whose signed reading matters, are Z and are
   exercised over the whole i64 range.

   This file lives outside proofs/*.v on purpose: proofs/check.sh compiles
   and audits exactly the model files, and nothing here adds to them. *)

From GossipProofs Require StatusLattice RecordMerge RingBuf Heap Countdown.
Require Extraction.
Extraction Language OCaml.

Separate Extraction
  StatusLattice.rank StatusLattice.from_rank StatusLattice.status_merge
  StatusLattice.is_scanned StatusLattice.is_terminal
  RecordMerge.merge RecordMerge.incoming_wins RecordMerge.key_cmp RecordMerge.key
  RingBuf.init RingBuf.push RingBuf.pop RingBuf.free
  Heap.push Heap.pop
  Countdown.try_take Countdown.arm Countdown.run.
