//! A fast lowering of done-ledger batches into guest memory.
//!
//! wasmtime lowers a `list<record>` field by field, re-resolving the guest
//! memory for every scalar; for 1,000 done records that was over half of the
//! component's `batch_upsert` time. `DoneRow` lowers the same
//! `types.done-record` layout with one memory lookup per batch: it writes
//! every error-code string first (each may reallocate, i.e. move, guest
//! memory), then all fixed-size fields (and `none` error codes) through a
//! single slice.
//!
//! Soundness rests on `ComponentType` being delegated to the generated
//! `wit::DoneRecord` (so wasmtime's type check is exactly the WIT record's)
//! and on the byte offsets below, which the tests check against the
//! canonical-ABI layout wasmtime computes for that generated type.

use core::mem::MaybeUninit;

use gossip_persistence::done_ledger::DoneLedgerRecord;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LowerContext, bad_type_info};
use wasmtime::component::{ComponentType, Lower};

use crate::bindings::exports::gossip::persistence::types as wit;
use crate::convert;

/// Byte offsets of `done-record` fields in the canonical ABI (32-bit memory).
pub(crate) mod layout {
    pub(crate) const KEY: usize = 0;
    pub(crate) const STATUS: usize = 96;
    pub(crate) const BYTES_SCANNED: usize = 104;
    pub(crate) const FINDINGS_COUNT: usize = 112;
    pub(crate) const PROVENANCE: usize = 120;
    pub(crate) const ERROR_CODE: usize = 160;
    pub(crate) const SIZE: usize = 176;
    /// Index of `error-code` among the record's fields.
    pub(crate) const ERROR_CODE_FIELD: usize = 5;
}

/// A native done row, lowered as a WIT `done-record` without converting it.
#[derive(Clone, Copy)]
pub(crate) struct DoneRow<'a>(pub(crate) &'a DoneLedgerRecord);

// SAFETY: the type, its ABI and its check are exactly those of the generated
// `wit::DoneRecord`, which wasmtime derived from the WIT definition.
unsafe impl ComponentType for DoneRow<'_> {
    type Lower = <wit::DoneRecord as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <wit::DoneRecord as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <wit::DoneRecord as ComponentType>::typecheck(ty, types)
    }
}

/// Digests are four little-endian words, so in memory they are the id's own bytes.
fn write_fixed(row: &DoneLedgerRecord, slot: &mut [u8]) {
    use layout::*;
    let key = row.key();
    let p = row.provenance();
    let mut put = |at: usize, bytes: &[u8]| slot[at..at + bytes.len()].copy_from_slice(bytes);
    put(KEY, key.tenant_id().as_bytes());
    put(KEY + 32, key.policy_hash().as_bytes());
    put(KEY + 64, key.ovid_hash().as_bytes());
    put(STATUS, &[row.status().rank()]);
    put(BYTES_SCANNED, &row.bytes_scanned().to_le_bytes());
    put(FINDINGS_COUNT, &row.findings_count().to_le_bytes());
    let words = [
        p.run_id().as_raw(),
        p.shard_id().as_raw(),
        p.fence_epoch().as_raw(),
        p.started_at().as_raw(),
        p.finished_at().as_raw(),
    ];
    for (i, word) in words.iter().enumerate() {
        put(PROVENANCE + 8 * i, &word.to_le_bytes());
    }
    if row.error_code().is_none() {
        put(ERROR_CODE, &[0]);
    }
}

// SAFETY: every byte written lies inside the list window wasmtime allocated
// for `items` (checked below), at the offsets of the canonical layout.
unsafe impl Lower for DoneRow<'_> {
    /// Only a record passed as a direct parameter is lowered flat; the
    /// generated type does that correctly, and it is never on a hot path.
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        convert::done_record(self.0).linear_lower_to_flat(cx, ty, dst)
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        Self::linear_store_list_to_memory(cx, ty, offset, core::slice::from_ref(self))
    }

    fn linear_store_list_to_memory<T>(
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        let code_ty = match ty {
            InterfaceType::Record(record) => {
                cx.types[record].fields.get(layout::ERROR_CODE_FIELD).map_or_else(bad_type_info, |f| f.ty)
            }
            _ => bad_type_info(),
        };
        for (i, row) in items.iter().enumerate() {
            // `none` is a single zero byte, written with the fixed fields below.
            if let Some(code) = row.0.error_code() {
                Some(code.as_str()).linear_lower_to_memory(
                    cx,
                    code_ty,
                    offset + i * layout::SIZE + layout::ERROR_CODE,
                )?;
            }
        }
        let end = items
            .len()
            .checked_mul(layout::SIZE)
            .and_then(|n| n.checked_add(offset))
            .ok_or_else(|| wasmtime::Error::msg("done-record list size overflows"))?;
        let window = cx
            .as_slice_mut()
            .get_mut(offset..end)
            .ok_or_else(|| wasmtime::Error::msg("done-record list lies outside guest memory"))?;
        for (row, slot) in items.iter().zip(window.chunks_exact_mut(layout::SIZE)) {
            write_fixed(row.0, slot);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::layout;
    use crate::bindings::exports::gossip::persistence::types as wit;
    use wasmtime::component::ComponentType;

    #[test]
    fn offsets_match_the_canonical_layout_of_the_generated_record() {
        let mut offset = 0usize;
        let mut next = |abi: wasmtime::component::__internal::CanonicalAbiInfo| abi.next_field32_size(&mut offset);
        assert_eq!(next(<wit::DoneKey as ComponentType>::ABI), layout::KEY);
        assert_eq!(next(<u8 as ComponentType>::ABI), layout::STATUS);
        assert_eq!(next(<u64 as ComponentType>::ABI), layout::BYTES_SCANNED);
        assert_eq!(next(<u32 as ComponentType>::ABI), layout::FINDINGS_COUNT);
        assert_eq!(next(<wit::Provenance as ComponentType>::ABI), layout::PROVENANCE);
        assert_eq!(next(<Option<String> as ComponentType>::ABI), layout::ERROR_CODE);
        assert_eq!(<wit::DoneRecord as ComponentType>::SIZE32, layout::SIZE);
        assert_eq!(<wit::DoneKey as ComponentType>::SIZE32, 96);
        assert_eq!(<wit::Provenance as ComponentType>::SIZE32, 40);
    }
}
